// Incremental LDAP sync against a real slapd: display name and e-mail kept on the user; a
// run after group and name changes touches only the users concerned (change rows, audit
// rows, user rows); a run that finds nothing writes nothing; a user added to the directory
// gets the groups that hold it, even a group changed before the last run; a deleted group
// is taken off its members by the next full run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, sleep, withDatabase } from '../helpers/authbox.js';
import { BASE_DN, GROUPS, PEOPLE, ROOT_DN, ROOT_PASSWORD, startSlapd, TRICKY_UID, userDn, type Slapd } from '../helpers/slapd.js';

let slapd: Slapd;
let data: Awaited<ReturnType<typeof initDataDir>>;
let dir: string;

interface Row { id: number; username: string; enabled: number; display_name: string | null; email: string | null; groups: string | null; updated_at: number }
const users = (): Row[] => withDatabase(dir, (db) => db.prepare(`SELECT u.id, u.username, u.enabled, u.display_name, u.email, u.updated_at,
  (SELECT group_concat(group_name, ',') FROM (SELECT group_name FROM user_groups g WHERE g.user_id = u.id ORDER BY group_name)) AS groups
  FROM users u ORDER BY u.username`).all() as Row[]);
const user = (name: string): Row | undefined => users().find((u) => u.username === name);
const links = (): unknown[] => withDatabase(dir, (db) => db.prepare('SELECT * FROM ldap_user_links ORDER BY user_id').all());
const lastSeq = (): number => withDatabase(dir, (db) => (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM changes').get() as { n: number }).n);
const lastAudit = (): number => withDatabase(dir, (db) => (db.prepare('SELECT coalesce(max(id), 0) AS n FROM audit').get() as { n: number }).n);
const changesAfter = (seq: number): { kind: string; ref: string }[] =>
  withDatabase(dir, (db) => db.prepare('SELECT kind, ref FROM changes WHERE seq > ? ORDER BY seq').all(seq) as { kind: string; ref: string }[]);
const auditAfter = (id: number): { action: string; target: string }[] =>
  withDatabase(dir, (db) => db.prepare('SELECT action, target FROM audit WHERE id > ? ORDER BY id').all(id) as { action: string; target: string }[]);
const runCount = (): number => (JSON.parse(authboxOk(['ldap', 'runs', '--data', dir, '--name', 'corp', '--json'])) as unknown[]).length;

interface Item { action: string; username: string; groups?: string[]; displayName?: string | null; email?: string | null }
interface SyncJson { mode: string; counts: { added: number; updated: number; disabled: number; groups: number }; items: Item[] }
const sync = (...flags: string[]): SyncJson => JSON.parse(authboxOk(['ldap', 'sync', '--data', dir, '--name', 'corp', '--json', ...flags])) as SyncJson;
const byName = (items: Item[]): Item[] => [...items].sort((a, b) => a.username.localeCompare(b.username));

beforeAll(async () => {
  slapd = await startSlapd({ users: 20 });
  data = await initDataDir();
  dir = data.dir;
  authboxOk(['ldap', 'add', '--data', dir, '--name', 'corp', '--url', slapd.url, '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD,
    '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap']);
});

afterAll(async () => {
  await slapd?.cleanup();
  data?.cleanup();
});

describe('incremental ldap sync with a real slapd', () => {
  it('a full sync stores the display name (cn) and e-mail (mail) of each user', () => {
    expect(sync().counts.added).toBe(21);
    expect(user('user01')).toMatchObject({ display_name: 'User 1', email: 'user01@example.org', groups: 'admins,staff' });
    expect(user(TRICKY_UID)).toMatchObject({ display_name: 'Tricky', email: null });
  });

  it('after a member added, a member removed and a display name changed, it updates only those users', () => {
    const before = users();
    const seq = lastSeq();
    const auditId = lastAudit();
    slapd.tool('ldapmodify', [], [
      `dn: cn=admins,${GROUPS}\nchangetype: modify\nadd: member\nmember: ${userDn('user07')}\n-\ndelete: member\nmember: ${userDn('user02')}\n`,
      `dn: cn=vpn,${GROUPS}\nchangetype: modify\nadd: memberUid\nmemberUid: user11\n`,
      `dn: ${userDn('user09')}\nchangetype: modify\nreplace: cn\ncn: Nine Renamed\n`,
      `dn: ${userDn('user12')}\nchangetype: modify\nreplace: mail\nmail: twelve@example.org\n`,
    ].join('\n'));

    const plan = sync('--dry-run');
    expect(plan.mode).toBe('incremental');
    expect(plan.counts).toMatchObject({ added: 0, updated: 5, disabled: 0, groups: 3 });
    expect(byName(plan.items)).toEqual([
      { action: 'update', username: 'user02', groups: ['staff'] },
      { action: 'update', username: 'user07', groups: ['admins', 'staff'] },
      { action: 'update', username: 'user09', displayName: 'Nine Renamed', email: 'user09@example.org' },
      { action: 'update', username: 'user11', groups: ['vpn'] },
      { action: 'update', username: 'user12', displayName: 'User 12', email: 'twelve@example.org' },
    ]);
    expect(users()).toEqual(before);
    expect(lastSeq()).toBe(seq);

    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { updated: 5, groups: 3 } });
    const after = users();
    const changed = after.filter((u, i) => JSON.stringify(u) !== JSON.stringify(before[i])).map((u) => u.username);
    expect(changed).toEqual(['user02', 'user07', 'user09', 'user11', 'user12']);
    expect(user('user02')?.groups).toBe('staff');
    expect(user('user07')?.groups).toBe('admins,staff');
    expect(user('user09')).toMatchObject({ display_name: 'Nine Renamed', email: 'user09@example.org', groups: 'staff' });
    expect(user('user11')?.groups).toBe('vpn');
    expect(user('user12')).toMatchObject({ display_name: 'User 12', email: 'twelve@example.org' });
    // One change row and one audit row per write, for these users only.
    const ids = new Map(after.map((u) => [String(u.id), u.username]));
    expect([...new Set(changesAfter(seq).map((c) => `${c.kind}:${ids.get(c.ref)}`))].sort())
      .toEqual(['user:user02', 'user:user07', 'user:user09', 'user:user11', 'user:user12']);
    expect(auditAfter(auditId).map((a) => `${a.action}:${a.target}`).sort())
      .toEqual(['user.groups:user02', 'user.groups:user07', 'user.groups:user11', 'user.update:user09', 'user.update:user12']);
  });

  it('an incremental run that finds nothing to change writes nothing: no change, audit, user or link row', () => {
    const before = { users: users(), links: links(), seq: lastSeq(), audit: lastAudit(), runs: runCount() };
    // The entries changed in the watermark's second are read again (modifyTimestamp has a
    // one-second resolution): they must not be written again either.
    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { added: 0, updated: 0, disabled: 0, groups: 0 }, items: [] });
    expect({ users: users(), links: links(), seq: lastSeq(), audit: lastAudit(), runs: runCount() }).toEqual({ ...before, runs: before.runs + 1 });
  });

  it('a user added to the directory gets its groups, also from a group changed before the last run', async () => {
    // admins names user21 before the entry exists; a later change to staff moves the group watermark past admins.
    slapd.tool('ldapmodify', [], `dn: cn=admins,${GROUPS}\nchangetype: modify\nadd: member\nmember: ${userDn('user21')}\n`);
    expect(sync().counts).toMatchObject({ added: 0, updated: 0 });
    await sleep(1100);
    slapd.tool('ldapmodify', [], `dn: cn=staff,${GROUPS}\nchangetype: modify\nadd: member\nmember: ${userDn('user22')}\n`);
    expect(sync().counts).toMatchObject({ added: 0, updated: 0 });
    await sleep(1100);
    slapd.tool('ldapadd', [], ['user21', 'user22'].map((uid) =>
      `dn: uid=${uid},${PEOPLE}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: New ${uid}\nsn: ${uid}\nmail: ${uid}@example.org\n`).join('\n'));
    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { added: 2 } });
    expect(user('user21')).toMatchObject({ enabled: 1, groups: 'admins', display_name: 'New user21', email: 'user21@example.org' });
    expect(user('user22')).toMatchObject({ enabled: 1, groups: 'staff', display_name: 'New user22' });
  });

  it('a group deleted from the directory is taken off its members by the next full run', () => {
    slapd.tool('ldapdelete', [`cn=vpn,${GROUPS}`]);
    const r = sync('--full');
    expect(r).toMatchObject({ mode: 'full', counts: { updated: 3, disabled: 0 } });
    expect(['user03', 'user04', 'user11'].map((u) => user(u)?.groups)).toEqual(['staff', 'staff', null]);
    // And the next incremental run finds nothing more to do.
    expect(sync().counts).toMatchObject({ added: 0, updated: 0, disabled: 0, groups: 0 });
  });
});
