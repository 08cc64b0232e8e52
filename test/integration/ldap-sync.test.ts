// LDAP sync against a real slapd started by the test: ldap test, dry run, full and
// incremental sync, vanished users, the safety stop, unreachable server and wrong bind
// password (nothing changes), LDAPS/StartTLS with the right and a wrong CA.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, freePort, initDataDir, withDatabase } from '../helpers/authbox.js';
import {
  BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, startSlapd, TRICKY_UID, uidOf, userDn, type Slapd,
} from '../helpers/slapd.js';

let slapd: Slapd;
let data: Awaited<ReturnType<typeof initDataDir>>;
let dir: string;

const source = (name: string, url: string, extra: string[] = [], password = ROOT_PASSWORD): string[] => [
  'ldap', 'add', '--data', dir, '--name', name, '--url', url, '--bind-dn', ROOT_DN, '--bind-password', password,
  '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap', ...extra,
];

interface UserSnapshot { username: string; enabled: number; source: string; password_hash: string | null; groups: string | null }
const users = (): UserSnapshot[] => withDatabase(dir, (db) => db.prepare(`SELECT u.username, u.enabled, u.source, u.password_hash,
  (SELECT group_concat(group_name, ',') FROM (SELECT group_name FROM user_groups g WHERE g.user_id = u.id ORDER BY group_name)) AS groups
  FROM users u ORDER BY u.username`).all() as UserSnapshot[]);
const user = (name: string): UserSnapshot | undefined => users().find((u) => u.username === name);

interface SyncJson { mode: string; dryRun: boolean; applied: boolean; counts: { added: number; updated: number; disabled: number; groups: number; conflicts: number } }
const sync = (...flags: string[]): SyncJson => JSON.parse(authboxOk(['ldap', 'sync', '--data', dir, '--name', 'corp', '--json', ...flags])) as SyncJson;

beforeAll(async () => {
  slapd = await startSlapd({ users: 20 });
  data = await initDataDir();
  dir = data.dir;
  authboxOk(source('corp', slapd.url));
});

afterAll(async () => {
  await slapd?.cleanup();
  data?.cleanup();
});

describe('ldap sync with a real slapd', () => {
  it('lists the source without its password, and `ldap test` counts the users', () => {
    const listed = authboxOk(['ldap', 'list', '--data', dir, '--json']);
    expect(listed).not.toContain(ROOT_PASSWORD);
    expect(JSON.parse(listed)).toMatchObject([{ name: 'corp', preset: 'openldap', url: slapd.url }]);
    expect(authboxOk(['ldap', 'test', '--data', dir, '--name', 'corp'])).toMatch(/matches 21 entries/);
  });

  it('a dry run prints the plan and changes nothing', () => {
    const plan = sync('--dry-run');
    expect(plan).toMatchObject({ dryRun: true, applied: false, mode: 'full', counts: { added: 21, updated: 0, disabled: 0 } });
    expect(plan.counts.groups).toBe(10 + 2 + 2);
    expect(users()).toEqual([]);
  });

  it('a full sync creates the users with their groups and no local password', () => {
    const r = sync();
    expect(r).toMatchObject({ applied: true, mode: 'full', counts: { added: 21, disabled: 0 } });
    expect(user('user01')).toMatchObject({ enabled: 1, source: 'ldap:corp', password_hash: null, groups: 'admins,staff' });
    expect(user('user03')?.groups).toBe('staff,vpn');
    expect(user('user15')?.groups).toBeNull();
    expect(user(TRICKY_UID)).toBeDefined();
    const audit = withDatabase(dir, (db) => db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'user.add' AND actor LIKE 'cli:%'").get() as { n: number });
    expect(audit.n).toBe(21);
    // Nothing changed since: a second run plans nothing.
    expect(sync().counts).toMatchObject({ added: 0, updated: 0, disabled: 0, groups: 0 });
  });

  it('an incremental sync picks up a change made with ldapmodify', () => {
    slapd.tool('ldapmodify', [], `dn: cn=admins,${GROUPS}\nchangetype: modify\nadd: member\nmember: ${userDn('user05')}\n\n`
      + `dn: ${userDn('user05')}\nchangetype: modify\nreplace: mail\nmail: new05@example.org\n`);
    const r = sync();
    expect(r.mode).toBe('incremental');
    expect(r.counts).toMatchObject({ added: 0, updated: 1, disabled: 0, groups: 1 });
    expect(user('user05')?.groups).toBe('admins,staff');
  });

  it('a user deleted with ldapdelete is disabled (not deleted) by a full run only', () => {
    slapd.tool('ldapdelete', [userDn('user20')]);
    expect(sync().counts.disabled).toBe(0);
    expect(user('user20')?.enabled).toBe(1);
    const r = sync('--full');
    expect(r.counts).toMatchObject({ disabled: 1 });
    expect(user('user20')).toMatchObject({ enabled: 0, source: 'ldap:corp' });
    const link = withDatabase(dir, (db) => db.prepare(`SELECT vanished FROM ldap_user_links l JOIN users u ON u.id = l.user_id WHERE u.username = 'user20'`).get() as { vanished: number });
    expect(link.vanished).toBe(1);
  });

  it('stops a run that would disable more than 10%, unless --force', () => {
    for (const i of [17, 18, 19]) slapd.tool('ldapdelete', [userDn(uidOf(i))]);
    const before = users();
    const r = authbox(['ldap', 'sync', '--data', dir, '--name', 'corp', '--full']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/safety stop: this run would disable 3 of 20 synced users \(15%\)/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(users()).toEqual(before);
    const runs = JSON.parse(authboxOk(['ldap', 'runs', '--data', dir, '--name', 'corp', '--json'])) as { error: string | null }[];
    expect(runs[0]!.error).toMatch(/safety stop/);
    expect(sync('--full', '--force').counts.disabled).toBe(3);
    expect(users().filter((u) => u.enabled === 0).map((u) => u.username)).toEqual(['user17', 'user18', 'user19', 'user20']);
  });

  it('an unreachable directory or a wrong bind password aborts with one clear line and changes nothing', async () => {
    const closed = await freePort();
    authboxOk(source('dead', `ldap://127.0.0.1:${closed}`));
    authboxOk(source('badpw', slapd.url, [], 'wrong-password'));
    const before = users();
    const auditBefore = withDatabase(dir, (db) => (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n);
    const dead = authbox(['ldap', 'sync', '--data', dir, '--name', 'dead']);
    expect(dead.status).toBe(1);
    expect(dead.stderr).toMatch(/cannot connect \(ECONNREFUSED\)/);
    const bad = authbox(['ldap', 'sync', '--data', dir, '--name', 'badpw']);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bind refused: invalid credentials/);
    expect(authbox(['ldap', 'test', '--data', dir, '--name', 'badpw']).status).toBe(1);
    expect(users()).toEqual(before);
    expect(withDatabase(dir, (db) => (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n)).toBe(auditBefore);
    const runs = JSON.parse(authboxOk(['ldap', 'runs', '--data', dir, '--name', 'dead', '--json'])) as { error: string | null }[];
    expect(runs[0]!.error).toMatch(/cannot connect/);
  });

  it('a stopped slapd aborts the sync and changes nothing', async () => {
    const before = users();
    await slapd.stop();
    try {
      const r = authbox(['ldap', 'sync', '--data', dir, '--name', 'corp', '--full', '--force']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot connect/);
      expect(users()).toEqual(before);
    } finally {
      await slapd.start();
    }
  });

  it('LDAPS and StartTLS verify the server against the configured CA', () => {
    authboxOk(source('ldaps-ok', slapd.ldapsUrl, ['--ca-file', slapd.caFile]));
    authboxOk(source('starttls-ok', slapd.url, ['--starttls', '--ca-file', slapd.caFile]));
    authboxOk(source('ldaps-wrong', slapd.ldapsUrl, ['--ca-file', slapd.otherCaFile]));
    authboxOk(source('starttls-wrong', slapd.url, ['--starttls', '--ca-file', slapd.otherCaFile]));
    authboxOk(source('ldaps-system', slapd.ldapsUrl));
    expect(authboxOk(['ldap', 'test', '--data', dir, '--name', 'ldaps-ok'])).toMatch(/matches \d+ entries/);
    expect(authboxOk(['ldap', 'test', '--data', dir, '--name', 'starttls-ok'])).toMatch(/matches \d+ entries/);
    for (const name of ['ldaps-wrong', 'starttls-wrong', 'ldaps-system']) {
      const r = authbox(['ldap', 'test', '--data', dir, '--name', name]);
      expect(r.status, name).toBe(1);
      expect(r.stderr, name).toMatch(/TLS failed, the server's certificate was not accepted/);
    }
  });

  it('usage errors exit 2, unknown sources exit 1, and every command has --help', () => {
    expect(authbox(['ldap', 'sync', '--data', dir]).status).toBe(2);
    expect(authbox(['ldap', 'add', '--data', dir, '--name', 'x', '--url', 'http://x', '--bind-dn', 'cn=a', '--bind-password', 'p', '--base-dn', 'dc=x']).status).toBe(1);
    expect(authbox(['ldap', 'add', '--data', dir, '--name', 'x', '--url', slapd.url, '--bind-dn', 'cn=a', '--bind-password', 'p', '--base-dn', 'dc=x', '--map', 'nope=uid']).status).toBe(1);
    const missing = authbox(['ldap', 'sync', '--data', dir, '--name', 'nope']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/no LDAP source "nope"/);
    for (const c of ['add', 'list', 'test', 'remove', 'sync', 'runs']) expect(authbox(['ldap', c, '--help']).status).toBe(0);
    authboxOk(['ldap', 'remove', '--data', dir, '--name', 'dead']);
    expect(authboxOk(['ldap', 'list', '--data', dir])).not.toMatch(/^dead /m);
    expect(join(dir)).toBe(dir);
  });
});
