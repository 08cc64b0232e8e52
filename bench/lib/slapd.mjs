// A private OpenLDAP slapd for the benchmarks, as test/helpers/slapd.ts starts one for the
// tests (plain ldap:// only): a slapd.conf (mdb) in a folder, entries loaded offline with
// slapadd, `slapd -d 0` on a loopback port, stopped by PID.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep, startServer, waitListening } from './common.mjs';

export const BASE_DN = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const ROOT_PASSWORD = 'bench-root-secret';
export const PEOPLE = `ou=people,${BASE_DN}`;
export const GROUPS = `ou=groups,${BASE_DN}`;

export const uidOf = (i) => `user${String(i).padStart(6, '0')}`;
export const userDn = (uid) => `uid=${uid},${PEOPLE}`;

/**
 * `users` inetOrgPerson entries (uid, cn, sn, mail, userPassword) and `groups` groupOfNames:
 * user i is in group i mod G, plus (i mod 3 >= 1) group (i*7+1) mod G, plus (i mod 3 = 2)
 * group (i*13+2) mod G: each user in 1 to 3 groups, members spread over every group.
 * Written to `file` in chunks (100,000 users make a 25 MB LDIF).
 */
export function writeDirectoryLdif(file, users, groups) {
  const out = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  ];
  const members = Array.from({ length: groups }, () => []);
  for (let i = 1; i <= users; i++) {
    const uid = uidOf(i);
    out.push(`dn: ${userDn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: User ${i}\nsn: ${i}\nmail: ${uid}@example.org\nuserPassword: pass-${uid}\n`);
    if (groups > 0) {
      const mine = new Set([i % groups]);
      if (i % 3 >= 1) mine.add((i * 7 + 1) % groups);
      if (i % 3 === 2) mine.add((i * 13 + 2) % groups);
      for (const g of mine) members[g].push(userDn(uid));
    }
  }
  for (let g = 0; g < groups; g++) {
    // groupOfNames needs at least one member (RFC 4519 §3.5).
    const m = members[g].length ? members[g] : [userDn(uidOf(1))];
    out.push(`dn: cn=group${g},${GROUPS}\nobjectClass: groupOfNames\ncn: group${g}\n${m.map((d) => `member: ${d}`).join('\n')}\n`);
  }
  writeFileSync(file, out.join('\n'));
}

/** slapd.conf, slapadd of the LDIF, slapd on 127.0.0.1:port; resolves once it listens. */
export async function startSlapd(dir, { port, ldif }) {
  mkdirSync(join(dir, 'db'), { recursive: true });
  const rootHash = run('slappasswd', ['-s', ROOT_PASSWORD]).trim();
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/nis.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    'sizelimit unlimited',
    'database mdb',
    'maxsize 1073741824',
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootHash}`,
    `directory ${join(dir, 'db')}`,
    'index objectClass eq',
    'index uid eq',
    '',
  ].join('\n'));
  const t0 = performance.now();
  run('slapadd', ['-q', '-f', conf, '-l', ldif]);
  const slapaddS = (performance.now() - t0) / 1000;
  const server = startServer('slapd', ['-d', '0', '-h', `ldap://127.0.0.1:${port}/`, '-f', conf], { log: join(dir, 'slapd.log') });
  await waitListening(port, 10_000, server.proc);
  await sleep(50);
  const url = `ldap://127.0.0.1:${port}`;
  return {
    ...server, url, slapaddS,
    /** An ldap-utils command bound as the root DN. */
    tool(cmd, args, input) {
      const r = spawnSync(cmd, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, ...args], { encoding: 'utf8', input, maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
      return r.stdout;
    },
  };
}
