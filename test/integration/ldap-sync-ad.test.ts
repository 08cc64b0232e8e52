// The `ad` preset against a slapd that emulates Active Directory's attributes (not AD:
// see test/helpers/slapd-ad.ts): a full sync (sAMAccountName, mail, displayName, memberOf,
// objectGUID as remote id; the UPN as user name when mapped so), userAccountControl's
// ACCOUNTDISABLE bit and a past accountExpires disable; an incremental run after a mail
// change; membership changes, which in AD bump only the group's uSNChanged, reach the
// users in one incremental run without writing any other user; a vanished user is
// disabled by the next full run; a synced user's password is checked by an LDAP bind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryConnection } from '../../src/ldap-sync/directory.js';
import { withAllMembers } from '../../src/ldap-sync/incremental-ad.js';
import { DEFAULT_USER_FILTER } from '../../src/ldap-sync/presets.js';
import { authboxOk, freeUdpPort, initDataDir, radclient, startServe, withDatabase } from '../helpers/authbox.js';
import {
  AD_GROUPS, BASE_DN, ROOT_DN, ROOT_PASSWORD, UAC_DISABLED, guidBytes, startAdSlapd, type AdDirectory, type AdUserSpec,
} from '../helpers/slapd-ad.js';

/** A FILETIME (100 ns since 1601-01-01) for a Unix time in ms. */
const filetime = (ms: number): string => ((BigInt(ms) + 11_644_473_600_000n) * 10_000n).toString();
const DAY = 86_400_000;
const SECRET = 'radius-shared-S3cret';

const USERS: AdUserSpec[] = [
  { sam: 'alice', cn: 'Alice Smith', password: 'alice-pw-1', mail: 'alice@corp.example.org', displayName: 'Alice Smith' },
  { sam: 'bob', cn: 'Bob Jones', password: 'bob-pw-1', mail: 'bob@corp.example.org', displayName: 'Bob Jones' },
  { sam: 'carol', cn: 'Carol White', password: 'carol-pw-1', mail: 'carol@corp.example.org' },
  { sam: 'dave', cn: 'Dave Disabled', password: 'dave-pw-1', uac: UAC_DISABLED },
  { sam: 'erin', cn: 'Erin Expired', password: 'erin-pw-1', accountExpires: filetime(Date.now() - DAY) },
  { sam: 'frank', cn: 'Frank Later', password: 'frank-pw-1', accountExpires: filetime(Date.now() + 30 * DAY) },
  { sam: 'grace', cn: 'Grace Never', password: 'grace-pw-1', accountExpires: '0' },
  // A machine account is objectClass=user too; objectCategory=person leaves it out.
  { sam: 'WS01$', cn: 'WS01', password: 'machine-pw-1', category: 'computer' },
];
const GROUPS = [
  { name: 'Staff', members: ['alice', 'bob', 'carol', 'dave', 'frank'] },
  { name: 'Admins', members: ['alice'] },
  { name: 'VPN Users', members: ['bob', 'grace'] },
];

let ad: AdDirectory;
let data: Awaited<ReturnType<typeof initDataDir>>;
let dir: string;

interface Row { id: number; username: string; enabled: number; display_name: string | null; email: string | null; groups: string | null; updated_at: number }
const users = (): Row[] => withDatabase(dir, (db) => db.prepare(`SELECT u.id, u.username, u.enabled, u.display_name, u.email, u.updated_at,
  (SELECT group_concat(group_name, ',') FROM (SELECT group_name FROM user_groups g WHERE g.user_id = u.id ORDER BY group_name)) AS groups
  FROM users u ORDER BY u.username`).all() as Row[]);
const user = (name: string): Row | undefined => users().find((u) => u.username === name);
interface LinkRow { user_id: number; remote_id: string; dn: string; last_seen: number; vanished: number; sync_disabled: number }
const links = (): LinkRow[] => withDatabase(dir, (db) => db.prepare('SELECT * FROM ldap_user_links ORDER BY user_id').all() as LinkRow[]);
const lastSeq = (): number => withDatabase(dir, (db) => (db.prepare('SELECT coalesce(max(seq), 0) AS n FROM changes').get() as { n: number }).n);
const lastAudit = (): number => withDatabase(dir, (db) => (db.prepare('SELECT coalesce(max(id), 0) AS n FROM audit').get() as { n: number }).n);
const changesAfter = (seq: number): { kind: string; ref: string }[] =>
  withDatabase(dir, (db) => db.prepare('SELECT kind, ref FROM changes WHERE seq > ? ORDER BY seq').all(seq) as { kind: string; ref: string }[]);
const auditAfter = (id: number): { action: string; target: string }[] =>
  withDatabase(dir, (db) => db.prepare('SELECT action, target FROM audit WHERE id > ? ORDER BY id').all(id) as { action: string; target: string }[]);
const watermarks = (): { watermark: string | null; group_watermark: string | null } =>
  withDatabase(dir, (db) => db.prepare("SELECT watermark, group_watermark FROM ldap_sources WHERE name = 'corp'").get() as never);

interface Item { action: string; username: string; groups?: string[]; displayName?: string | null; email?: string | null; reason?: string }
interface SyncJson { mode: string; counts: { added: number; updated: number; disabled: number; groups: number }; items: Item[] }
const sync = (...flags: string[]): SyncJson => JSON.parse(authboxOk(['ldap', 'sync', '--data', dir, '--name', 'corp', '--json', ...flags])) as SyncJson;
const byName = (items: Item[]): Item[] => [...items].sort((a, b) => a.username.localeCompare(b.username));
const addSource = (name: string, extra: string[] = []): string => authboxOk(['ldap', 'add', '--data', dir, '--name', name, '--url', ad.slapd.url,
  '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD, '--base-dn', BASE_DN, '--group-base-dn', AD_GROUPS, '--preset', 'ad', '--max-disable-percent', '50', ...extra]);

/** Who changed between two snapshots of users(). */
const changedUsers = (before: Row[], after: Row[]): string[] =>
  after.filter((u) => JSON.stringify(u) !== JSON.stringify(before.find((b) => b.id === u.id))).map((u) => u.username);

beforeAll(async () => {
  ad = await startAdSlapd({ users: USERS, groups: GROUPS });
  data = await initDataDir();
  dir = data.dir;
  addSource('corp');
}, 60_000);

afterAll(async () => {
  await ad?.cleanup();
  data?.cleanup();
});

describe('the ad preset against an AD-like slapd', () => {
  it('the default user filter (objectCategory=person, objectClass=user) leaves out groups and machine accounts', () => {
    expect(authboxOk(['ldap', 'test', '--data', dir, '--name', 'corp'])).toMatch(/matches 7 entries/);
  });

  it('a full sync: sAMAccountName, mail, displayName, groups from memberOf, objectGUID as remote id', () => {
    const r = sync();
    expect(r).toMatchObject({ mode: 'full', counts: { added: 7, disabled: 0 } });
    expect(user('alice')).toMatchObject({ enabled: 1, display_name: 'Alice Smith', email: 'alice@corp.example.org', groups: 'Admins,Staff' });
    expect(user('bob')).toMatchObject({ enabled: 1, groups: 'Staff,VPN Users' });
    expect(user('carol')).toMatchObject({ display_name: null, email: 'carol@corp.example.org', groups: 'Staff' });
    expect(user('WS01$')).toBeUndefined();
    const alice = links().find((l) => l.user_id === user('alice')!.id)!;
    // The text form reverses the first three fields of the bytes on the wire (MS-DTYP 2.3.4.3).
    expect(alice.remote_id).toBe(ad.guidOf('alice'));
    expect(guidBytes(ad.guidOf('alice')).subarray(0, 4).toString('hex')).not.toBe(ad.guidOf('alice').slice(0, 8));
    expect(alice.dn).toBe(ad.userDn('alice'));
    // The AD watermark is the highest uSNChanged seen; the group mark starts from it (one counter).
    const marks = watermarks();
    expect(marks.watermark).toBe(ad.read(ad.userDn('grace'), 'uSNChanged')[0]);
    expect(marks.group_watermark).toBe(marks.watermark);
  });

  it('ACCOUNTDISABLE and a past accountExpires disable; a future one, 0 and "never" do not', () => {
    expect(['dave', 'erin', 'frank', 'grace', 'alice'].map((u) => user(u)?.enabled)).toEqual([0, 0, 1, 1, 1]);
  });

  it('the UPN as the user name when mapped so (--map username=userPrincipalName)', () => {
    addSource('upn', ['--map', 'username=userPrincipalName']);
    const plan = JSON.parse(authboxOk(['ldap', 'sync', '--data', dir, '--name', 'upn', '--json', '--dry-run'])) as SyncJson;
    // Their sAMAccountName users belong to corp: the UPNs are new names, none taken over.
    expect(plan.items.map((i) => i.username).sort()).toEqual(
      ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace'].map((u) => `${u}@corp.example.org`));
    authboxOk(['ldap', 'remove', '--data', dir, '--name', 'upn']);
  });

  it('an incremental run after a mail change updates that user only', () => {
    const before = users();
    const seq = lastSeq();
    ad.modifyUser('bob', { mail: 'robert@corp.example.org' });
    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { added: 0, updated: 1, disabled: 0, groups: 0 } });
    expect(r.items).toEqual([{ action: 'update', username: 'bob', displayName: 'Bob Jones', email: 'robert@corp.example.org' }]);
    expect(changedUsers(before, users())).toEqual(['bob']);
    expect(changesAfter(seq).map((c) => c.ref)).toEqual([String(user('bob')!.id)]);
    expect(watermarks().watermark).toBe(String(ad.usn()));
  });

  it('a member added and a member removed (group uSNChanged only) reach exactly those two users in one incremental run', () => {
    const carolUsn = ad.read(ad.userDn('carol'), 'uSNChanged');
    const bobUsn = ad.read(ad.userDn('bob'), 'uSNChanged');
    ad.addMember('Admins', 'carol');
    ad.removeMember('VPN Users', 'bob');
    // As in AD: the users' memberOf changed, their uSNChanged did not.
    expect(ad.read(ad.userDn('carol'), 'memberOf').sort()).toEqual([ad.groupDn('Admins'), ad.groupDn('Staff')]);
    expect(ad.read(ad.userDn('carol'), 'uSNChanged')).toEqual(carolUsn);
    expect(ad.read(ad.userDn('bob'), 'uSNChanged')).toEqual(bobUsn);
    expect(ad.read(ad.groupDn('Admins'), 'uSNChanged')).toEqual([String(ad.usn() - 1)]);

    const before = { users: users(), links: links(), seq: lastSeq(), audit: lastAudit() };
    const plan = sync('--dry-run');
    expect(plan.mode).toBe('incremental');
    expect(byName(plan.items)).toEqual([
      { action: 'update', username: 'bob', groups: ['Staff'] },
      { action: 'update', username: 'carol', groups: ['Admins', 'Staff'] },
    ]);
    expect(users()).toEqual(before.users);

    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { added: 0, updated: 2, disabled: 0, groups: 2 } });
    const after = users();
    expect(changedUsers(before.users, after)).toEqual(['bob', 'carol']);
    expect(user('bob')?.groups).toBe('Staff');
    expect(user('carol')?.groups).toBe('Admins,Staff');
    // No link row written (the users were not returned as changed, their links are as they were).
    expect(links()).toEqual(before.links);
    const ids = new Map(after.map((u) => [String(u.id), u.username]));
    expect(changesAfter(before.seq).map((c) => `${c.kind}:${ids.get(c.ref)}`).sort()).toEqual(['user:bob', 'user:carol']);
    expect(auditAfter(before.audit).map((a) => `${a.action}:${a.target}`).sort()).toEqual(['user.groups:bob', 'user.groups:carol']);
    expect(watermarks().group_watermark).toBe(String(ad.usn()));

    // The next run reads no group again and writes nothing.
    const seq = lastSeq();
    expect(sync()).toMatchObject({ mode: 'incremental', counts: { added: 0, updated: 0, disabled: 0, groups: 0 }, items: [] });
    expect(lastSeq()).toBe(seq);
  });

  it('a group change together with a user change: the user is read once, with its new memberOf', () => {
    ad.addMember('VPN Users', 'alice');
    ad.modifyUser('alice', { displayName: 'Alice Smith-Jones' });
    const r = sync();
    expect(r.items).toEqual([{ action: 'update', username: 'alice', groups: ['Admins', 'Staff', 'VPN Users'], displayName: 'Alice Smith-Jones', email: 'alice@corp.example.org' }]);
  });

  it('a member list AD would give in ranges is completed from memberOf, a filter the directory answers', async () => {
    const conn = await DirectoryConnection.open({ url: ad.slapd.url, starttls: false, caPem: null }, ROOT_DN, ROOT_PASSWORD);
    try {
      const partial = { dn: ad.groupDn('Staff'), 'member;range=0-1': [ad.userDn('alice'), ad.userDn('bob')] };
      const whole = await withAllMembers(conn, { baseDn: BASE_DN, userFilter: DEFAULT_USER_FILTER.ad }, partial);
      expect(whole.member).toEqual(expect.arrayContaining(GROUPS[0]!.members.map((u) => ad.userDn(u))));
      expect(whole.member).toHaveLength(GROUPS[0]!.members.length);
    } finally {
      await conn.close();
    }
  });

  it('ACCOUNTDISABLE set later is seen by an incremental run', () => {
    ad.modifyUser('frank', { userAccountControl: String(UAC_DISABLED) });
    const r = sync();
    expect(r).toMatchObject({ mode: 'incremental', counts: { disabled: 1 } });
    expect(user('frank')?.enabled).toBe(0);
  });

  it('a user deleted from the directory is disabled by the next full run, not by an incremental one', () => {
    ad.deleteUser('grace');
    // Her group changed (it lost her); she cannot be read again, and nothing is written.
    expect(sync().counts).toMatchObject({ updated: 0, disabled: 0 });
    expect(user('grace')?.enabled).toBe(1);
    const r = sync('--full');
    expect(r).toMatchObject({ mode: 'full', counts: { disabled: 1 } });
    expect(r.items).toEqual([expect.objectContaining({ action: 'disable', username: 'grace', reason: 'vanished' })]);
    expect(user('grace')?.enabled).toBe(0);
  });

  it('PAP through radclient: a synced AD user is checked by a bind as its DN', async () => {
    const authPort = await freeUdpPort();
    authboxOk(['nas', 'add', '--data', dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
    const daemon = await startServe(dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
    try {
      const auth = async (u: string, password: string): Promise<string | undefined> => {
        const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET,
          `User-Name = "${u}", User-Password = "${password}", Message-Authenticator = 0x00\n`, ['-r', '1', '-t', '5']);
        return /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
      };
      expect(await auth('carol', 'carol-pw-1')).toBe('Access-Accept');
      expect(await auth('carol', 'not-the-password')).toBe('Access-Reject');
      // Disabled by accountExpires: refused although the directory would accept the bind.
      expect(await auth('erin', 'erin-pw-1')).toBe('Access-Reject');
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
