// A private OpenLDAP slapd for tests: a slapd.conf (mdb) in a temp dir, users loaded
// offline with slapadd, TLS with a test CA made by openssl, listening on loopback ports
// (ldap:// with StartTLS, and ldaps://), stopped by PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, openssl, sleep, tempDir } from './authbox.js';

export const BASE_DN = 'dc=example,dc=org';
export const ROOT_DN = `cn=admin,${BASE_DN}`;
export const ROOT_PASSWORD = 'root-secret-1';
export const PEOPLE = `ou=people,${BASE_DN}`;
export const GROUPS = `ou=groups,${BASE_DN}`;
/** A user whose name is an LDAP filter injection attempt. */
export const TRICKY_UID = '*)(uid=*';
export const TRICKY_DN = `cn=Tricky,${PEOPLE}`;
export const TRICKY_PASSWORD = 'tricky-pass-1';

export const uidOf = (i: number): string => `user${String(i).padStart(2, '0')}`;
export const passwordOf = (uid: string): string => `pass-${uid}`;
export const userDn = (uid: string): string => `uid=${uid},${PEOPLE}`;

export interface Slapd {
  dir: string;
  port: number;
  tlsPort: number;
  url: string;
  ldapsUrl: string;
  caFile: string;
  /** A CA that did not sign the server's certificate. */
  otherCaFile: string;
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs an ldap-utils command (ldapmodify, ldapdelete, ldapadd, ldapsearch) as the root DN. */
  tool(command: 'ldapmodify' | 'ldapdelete' | 'ldapadd' | 'ldapsearch', args: string[], input?: string): string;
  cleanup(): Promise<void>;
}

function must(r: { status: number | null; stdout: string; stderr: string }, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  must(openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']), `openssl ${name}`);
  return { cert, key };
}

function makeServerCert(dir: string, ca: { cert: string; key: string }): { cert: string; key: string } {
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n');
  must(openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', '/CN=localhost']), 'openssl server csr');
  must(openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]), 'openssl server cert');
  return { cert, key };
}

export function usersLdif(count: number): string {
  const out: string[] = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  ];
  for (let i = 1; i <= count; i++) {
    const uid = uidOf(i);
    out.push(`dn: ${userDn(uid)}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: User ${i}\nsn: ${i}\nmail: ${uid}@example.org\nuserPassword: ${passwordOf(uid)}\n`);
  }
  out.push(`dn: ${TRICKY_DN}\nobjectClass: inetOrgPerson\nuid: ${TRICKY_UID}\ncn: Tricky\nsn: Tricky\nuserPassword: ${TRICKY_PASSWORD}\n`);
  const members = (ids: number[]): string => ids.map((i) => `member: ${userDn(uidOf(i))}`).join('\n');
  out.push(`dn: cn=staff,${GROUPS}\nobjectClass: groupOfNames\ncn: staff\n${members(Array.from({ length: Math.min(10, count) }, (_, k) => k + 1))}\n`);
  out.push(`dn: cn=admins,${GROUPS}\nobjectClass: groupOfNames\ncn: admins\n${members([1, 2])}\n`);
  out.push(`dn: cn=vpn,${GROUPS}\nobjectClass: posixGroup\ncn: vpn\ngidNumber: 5000\nmemberUid: ${uidOf(3)}\nmemberUid: ${uidOf(4)}\n`);
  return out.join('\n');
}

function waitForPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

export interface SlapdOptions {
  users?: number;
  /** Extra schema files to include (after the core ones), e.g. slapd-ad.ts's. */
  schemas?: string[];
  /** The LDIF loaded offline instead of usersLdif(users). */
  ldif?: string;
  /** Extra `index` lines, e.g. 'sAMAccountName eq'. */
  indexes?: string[];
}

export async function startSlapd(options: SlapdOptions = {}): Promise<Slapd> {
  const tmp = tempDir('authbox-slapd-');
  const dir = tmp.path;
  mkdirSync(join(dir, 'db'));
  const ca = makeCa(dir, 'test-ca');
  const other = makeCa(dir, 'other-ca');
  const server = makeServerCert(dir, ca);
  const rootHash = must(spawnSync('slappasswd', ['-s', ROOT_PASSWORD], { encoding: 'utf8' }) as never, 'slappasswd').trim();
  const conf = join(dir, 'slapd.conf');
  writeFileSync(conf, [
    'include /etc/ldap/schema/core.schema',
    'include /etc/ldap/schema/cosine.schema',
    'include /etc/ldap/schema/nis.schema',
    'include /etc/ldap/schema/inetorgperson.schema',
    ...(options.schemas ?? []).map((f) => `include ${f}`),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    `pidfile ${join(dir, 'slapd.pid')}`,
    `argsfile ${join(dir, 'slapd.args')}`,
    `TLSCACertificateFile ${ca.cert}`,
    `TLSCertificateFile ${server.cert}`,
    `TLSCertificateKeyFile ${server.key}`,
    'database mdb',
    'maxsize 104857600',
    `suffix "${BASE_DN}"`,
    `rootdn "${ROOT_DN}"`,
    `rootpw ${rootHash}`,
    `directory ${join(dir, 'db')}`,
    'index objectClass eq',
    'index uid eq',
    ...(options.indexes ?? []).map((i) => `index ${i}`),
    '',
  ].join('\n'));
  const ldif = join(dir, 'users.ldif');
  writeFileSync(ldif, options.ldif ?? usersLdif(options.users ?? 20));
  must(spawnSync('slapadd', ['-q', '-f', conf, '-l', ldif], { encoding: 'utf8' }) as never, 'slapadd');
  const port = await freePort();
  const tlsPort = await freePort();
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  const url = `ldap://127.0.0.1:${port}`;

  const slapd: Slapd = {
    dir, port, tlsPort, url, ldapsUrl: `ldaps://127.0.0.1:${tlsPort}`, caFile: ca.cert, otherCaFile: other.cert,
    pid: () => proc?.pid,
    async start() {
      if (proc) return;
      const child = spawn('slapd', ['-d', '0', '-h', `ldap://127.0.0.1:${port}/ ldaps://127.0.0.1:${tlsPort}/`, '-f', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = child;
      child.stdout!.on('data', (d: Buffer) => (log += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      exited = new Promise((res) => child.once('exit', () => { if (proc === child) proc = undefined; res(); }));
      const deadline = Date.now() + 10_000;
      while (!(await waitForPort(port)) || !(await waitForPort(tlsPort))) {
        if (child.exitCode !== null) throw new Error(`slapd exited ${child.exitCode}: ${log}`);
        if (Date.now() > deadline) throw new Error(`slapd did not start: ${log}`);
        await sleep(50);
      }
    },
    async stop() {
      const p = proc;
      if (!p?.pid) return;
      process.kill(p.pid, 'SIGTERM');
      await exited;
      proc = undefined;
    },
    tool(command, args, input) {
      const r = spawnSync(command, ['-x', '-H', url, '-D', ROOT_DN, '-w', ROOT_PASSWORD, ...args], { encoding: 'utf8', input, timeout: 20_000 });
      return must({ status: r.status, stdout: r.stdout, stderr: r.stderr }, command);
    },
    async cleanup() {
      await slapd.stop();
      tmp.cleanup();
    },
  };
  await slapd.start();
  return slapd;
}

export function readCa(slapd: Slapd): string {
  return readFileSync(slapd.caFile, 'utf8');
}
