import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/core/users.js';
import { andFilter, escapeFilterValue, ldapFilter, normalizeConfiguredFilter } from '../../src/ldap-sync/filter.js';
import { chooseMode, exceedsDisableShare, FULL_RUN_INTERVAL_MS, planSync } from '../../src/ldap-sync/planner.js';
import {
  firstRdnValue, formatGuid, changedSinceClause, GroupIndex, latestGroupMarker, mapEntry, markerAfter, type DirectoryUser,
} from '../../src/ldap-sync/presets.js';
import { parseMap, type UserLink } from '../../src/ldap-sync/source.js';
import { LdapSyncScheduler } from '../../src/ldap-sync/scheduler.js';
import { silentLogger } from '../../src/core/logger.js';
import { codeOf } from '../helpers/unit.js';

describe('RFC 4515 filter escaping', () => {
  it('escapes the five special characters and non-printable bytes', () => {
    expect(escapeFilterValue('*)(uid=*')).toBe('\\2a\\29\\28uid=\\2a');
    expect(escapeFilterValue('a\\b\u0000c')).toBe('a\\5cb\\00c');
    expect(escapeFilterValue('Jürgen')).toBe('J\\c3\\bcrgen');
    expect(escapeFilterValue(Buffer.from([0x01, 0x41]))).toBe('\\01A');
  });

  it('the tagged template escapes every value, never the template', () => {
    const name = '*)(|(uid=*';
    expect(ldapFilter`(&(objectClass=person)(uid=${name}))`).toBe('(&(objectClass=person)(uid=\\2a\\29\\28|\\28uid=\\2a))');
    expect(ldapFilter`(uSNChanged>=${42})`).toBe('(uSNChanged>=42)');
  });

  it('checks configured filters for balance and joins parts', () => {
    expect(normalizeConfiguredFilter('objectClass=person')).toBe('(objectClass=person)');
    expect(normalizeConfiguredFilter('(&(a=b)(c=d))')).toBe('(&(a=b)(c=d))');
    expect(normalizeConfiguredFilter('(a=b))(')).toBeUndefined();
    expect(normalizeConfiguredFilter('(a=b)(c=d)')).toBeUndefined();
    expect(normalizeConfiguredFilter('(cn=a\\29)')).toBe('(cn=a\\29)');
    expect(andFilter('(a=b)', undefined)).toBe('(a=b)');
    expect(andFilter('(a=b)', '(c=d)')).toBe('(&(a=b)(c=d))');
  });
});

describe('presets', () => {
  it('maps an Active Directory entry: disabled bit, expiry, objectGUID, memberOf', () => {
    const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const entry = {
      dn: 'CN=Ann,OU=Staff,DC=corp,DC=example', sAMAccountName: 'ann', userPrincipalName: 'ann@corp.example',
      memberOf: ['CN=Wifi Users,OU=Groups,DC=corp,DC=example', 'CN=R\\2cD,OU=Groups,DC=corp,DC=example'],
      userAccountControl: '512', accountExpires: '0', objectGUID: guid, uSNChanged: '12345',
    };
    const u = mapEntry(entry, 'ad', {}, Date.now()) as DirectoryUser;
    expect(u).toMatchObject({ username: 'ann', upn: 'ann@corp.example', groups: ['Wifi Users', 'R,D'], disabled: false, changeMarker: '12345' });
    expect(u.remoteId).toBe('33221100-5544-7766-8899-aabbccddeeff');
    expect((mapEntry({ ...entry, userAccountControl: '514' }, 'ad', {}, Date.now()) as DirectoryUser).disabled).toBe(true);
    // accountExpires in the past (2001) disables; 2^63-1 means never.
    expect((mapEntry({ ...entry, accountExpires: '126227808000000000' }, 'ad', {}, Date.now()) as DirectoryUser).disabled).toBe(true);
    expect((mapEntry({ ...entry, accountExpires: '9223372036854775807' }, 'ad', {}, Date.now()) as DirectoryUser).disabled).toBe(false);
    expect(mapEntry({ dn: 'CN=x', objectGUID: guid }, 'ad', {}, Date.now())).toHaveProperty('skip');
  });

  it('maps an OpenLDAP entry and honours --map overrides', () => {
    const entry = { dn: 'uid=bob,ou=people,dc=x', uid: 'bob', mail: 'b@x', cn: 'Bob', entryUUID: 'ABC-1', modifyTimestamp: '20260101000000Z' };
    expect(mapEntry(entry, 'openldap', {}, 0)).toMatchObject({ username: 'bob', remoteId: 'abc-1', disabled: false, displayName: 'Bob' });
    expect(mapEntry({ ...entry, pwdAccountLockedTime: '000001010000Z' }, 'openldap', {}, 0)).toMatchObject({ disabled: true });
    expect(mapEntry(entry, 'openldap', parseMap(['username=mail']), 0)).toMatchObject({ username: 'b@x' });
    expect(codeOf(() => parseMap(['password=userPassword']))).toBe('BAD_INPUT');
    expect(codeOf(() => parseMap(['username=uid)(x']))).toBe('BAD_INPUT');
  });

  it('reads membership from groupOfNames and posixGroup entries', () => {
    const idx = new GroupIndex();
    idx.add({ dn: 'cn=staff,ou=groups,dc=x', cn: 'staff', member: ['uid=bob, ou=people,dc=x', 'uid=ann,ou=people,dc=x'] });
    idx.add({ dn: 'cn=vpn,ou=groups,dc=x', cn: 'vpn', memberUid: 'BOB' });
    expect(idx.groupsOf('UID=bob,ou=people,dc=x', 'bob')).toEqual(['staff', 'vpn']);
    expect(idx.groupsOf('uid=carl,ou=people,dc=x', 'carl')).toEqual([]);
    expect(firstRdnValue('cn=a\\+b+sn=c,dc=x')).toBe('a+b');
    expect(formatGuid(Buffer.alloc(3))).toBe('000000');
    expect(markerAfter('ad', '10', '9')).toBe(true);
    expect(markerAfter('openldap', '20260102000000Z', '20260101000000Z')).toBe(true);
  });
});

function localUser(id: number, username: string, over: Partial<UserRecord> = {}): UserRecord {
  return {
    id, username, passwordHash: null, ntHashSealed: null, chapPasswordSealed: null, enabled: true, source: 'ldap:corp', groups: [], createdAt: 0, updatedAt: 0,
    displayName: null, email: null, accountExpiresAt: null, passwordChangedAt: null, lockedUntil: null, ...over,
  };
}
const link = (userId: number, remoteId: string, over: Partial<UserLink> = {}): UserLink =>
  ({ userId, sourceId: 1, remoteId, dn: `uid=u${userId},dc=x`, lastSeen: 0, vanished: false, syncDisabled: false, ...over });
const dirUser = (username: string, remoteId: string, over: Partial<DirectoryUser> = {}): DirectoryUser =>
  ({ dn: `uid=${username},dc=x`, remoteId, username, disabled: false, groups: [], ...over });

describe('sync planner', () => {
  it('adds, updates groups, disables, and never takes over a local user', () => {
    const users = [localUser(1, 'ann', { groups: ['staff'] }), localUser(2, 'bob'), localUser(3, 'local', { source: 'local' })];
    const plan = planSync({
      mode: 'full', preset: 'openldap', watermark: null, links: [link(1, 'r1'), link(2, 'r2')], users,
      directory: [dirUser('ann', 'r1', { groups: ['staff', 'vpn'], changeMarker: '20260101000000Z' }), dirUser('carl', 'r3'), dirUser('LOCAL', 'r4')],
    });
    expect(plan.counts).toEqual({ added: 1, updated: 1, disabled: 1, groups: 1, conflicts: 1 });
    expect(plan.items.find((i) => i.action === 'disable')).toMatchObject({ username: 'bob', reason: 'vanished' });
    expect(plan.conflicts[0]!.reason).toMatch(/local user/);
    expect(plan.watermark).toBe('20260101000000Z');
  });

  it('an incremental run never disables a user it did not see', () => {
    const plan = planSync({ mode: 'incremental', preset: 'openldap', watermark: 'x', links: [link(1, 'r1')], users: [localUser(1, 'ann')], directory: [] });
    expect(plan.counts.disabled).toBe(0);
  });

  it('re-enables only what the sync disabled', () => {
    const users = [localUser(1, 'ann', { enabled: false }), localUser(2, 'bob', { enabled: false })];
    const plan = planSync({
      mode: 'full', preset: 'openldap', watermark: null, users,
      links: [link(1, 'r1', { syncDisabled: true }), link(2, 'r2')], directory: [dirUser('ann', 'r1'), dirUser('bob', 'r2')],
    });
    expect(plan.items.map((i) => `${i.action}:${i.username}`)).toEqual(['enable:ann']);
  });

  it('applies the safety share against the active synced users', () => {
    const users = Array.from({ length: 20 }, (_, i) => localUser(i + 1, `u${i + 1}`));
    const links = users.map((u) => link(u.id, `r${u.id}`));
    const keep = (n: number) => users.slice(0, 20 - n).map((u) => dirUser(u.username, `r${u.id}`));
    const two = planSync({ mode: 'full', preset: 'openldap', watermark: null, users, links, directory: keep(2) });
    const three = planSync({ mode: 'full', preset: 'openldap', watermark: null, users, links, directory: keep(3) });
    expect(exceedsDisableShare(two, 0.1)).toBe(false);
    expect(exceedsDisableShare(three, 0.1)).toBe(true);
  });

  it('an incremental run with a group delta changes only the changed groups of the users involved', () => {
    const users = [localUser(1, 'ann', { groups: ['staff', 'vpn'] }), localUser(2, 'bob', { groups: ['staff'] }), localUser(3, 'cid', { groups: ['admins'] })];
    const index = new GroupIndex();
    // admins changed: bob joined, cid left; vpn and staff did not change.
    index.add({ dn: 'cn=admins,dc=x', cn: 'admins', member: ['uid=u2,dc=x', 'uid=u9,dc=x'] });
    const plan = planSync({
      mode: 'incremental', preset: 'openldap', watermark: 'w', users, links: [link(1, 'r1'), link(2, 'r2'), link(3, 'r3')],
      directory: [dirUser('ann', 'r1', { dn: 'uid=u1,dc=x', groups: undefined, displayName: 'Ann', mail: 'not-an-address' })],
      groupDelta: { changed: new Set(['admins']), index }, recheck: [link(2, 'r2'), link(3, 'r3')], activeLinked: 3,
    });
    expect(plan.items).toEqual([
      { action: 'update', username: 'ann', userId: 1, groupChanges: 0, profile: { displayName: 'Ann', email: null } },
      { action: 'update', username: 'bob', userId: 2, groupChanges: 1, groups: ['admins', 'staff'] },
      { action: 'update', username: 'cid', userId: 3, groupChanges: 1, groups: [] },
    ]);
    expect(plan.skipped).toEqual([expect.stringMatching(/^ann: email ignored/)]);
    expect(plan.activeLinked).toBe(3);
  });

  it('marks groups by entryCSN when the server has it, else by modifyTimestamp', () => {
    const csn = (s: string): string => `20260101000000.${s}Z#000000#000#000000`;
    const groups = [{ dn: 'cn=a', entryCSN: csn('000002'), modifyTimestamp: '20260101000000Z' }, { dn: 'cn=b', entryCSN: csn('000009'), modifyTimestamp: '20260101000000Z' }];
    expect(latestGroupMarker('openldap', groups, 'modifyTimestamp', null)).toBe(csn('000009'));
    expect(latestGroupMarker('openldap', groups, 'modifyTimestamp', '20251231000000Z')).toBe(csn('000009'));
    expect(latestGroupMarker('openldap', [{ dn: 'cn=a', modifyTimestamp: '20260102000000Z' }], 'modifyTimestamp', '20260101000000Z')).toBe('20260102000000Z');
    expect(latestGroupMarker('openldap', [], 'modifyTimestamp', csn('000001'))).toBe(csn('000001'));
    expect(changedSinceClause('openldap', 'modifyTimestamp', csn('000009'))).toBe(`(entryCSN>=${csn('000009')})`);
    // Users too: entryCSN is their mark where the server has it; a CSN of the old mark's second moves it on.
    const entry = { dn: 'uid=a,dc=x', uid: 'a', entryUUID: 'u-1', modifyTimestamp: '20260101000000Z', entryCSN: csn('000003') };
    expect(mapEntry(entry, 'openldap', {}, 0)).toMatchObject({ changeMarker: csn('000003') });
    expect(mapEntry(entry, 'openldap', parseMap(['changeMarker=modifyTimestamp']), 0)).toMatchObject({ changeMarker: csn('000003') });
    expect(markerAfter('openldap', csn('000003'), '20260101000000Z')).toBe(true);
    expect(markerAfter('openldap', csn('000003'), '20260101000001Z')).toBe(false);
    expect(markerAfter('openldap', '20260101000001Z', csn('000003'))).toBe(true);
    expect(changedSinceClause('openldap', 'modifyTimestamp', '20260101000000Z')).toBe('(modifyTimestamp>=20260101000000Z)');
    expect(changedSinceClause('openldap', 'modifyTimestamp', '2026*)(x=1')).toBe('(modifyTimestamp>=2026\\2a\\29\\28x=1)');
  });

  it('chooses a full run without a watermark or after a day', () => {
    expect(chooseMode({ watermark: null, lastFullAt: null }, 0, false)).toBe('full');
    expect(chooseMode({ watermark: '1', lastFullAt: 0 }, 1000, false)).toBe('incremental');
    expect(chooseMode({ watermark: '1', lastFullAt: 0 }, FULL_RUN_INTERVAL_MS, false)).toBe('full');
    expect(chooseMode({ watermark: '1', lastFullAt: 0 }, 1000, true)).toBe('full');
    // A source that reads group entries needs a group watermark too.
    expect(chooseMode({ watermark: '1', lastFullAt: 0, groupWatermark: null }, 1000, false, true)).toBe('full');
    expect(chooseMode({ watermark: '1', lastFullAt: 0, groupWatermark: '1' }, 1000, false, true)).toBe('incremental');
  });
});

describe('scheduler', () => {
  it('runs each source when its interval has passed, one run at a time', async () => {
    let now = 0;
    const runs: string[] = [];
    const sources = [{ id: 1, name: 'a', scheduleMinutes: 15 }, { id: 2, name: 'b', scheduleMinutes: 60 }];
    const s = new LdapSyncScheduler({
      listSources: () => sources as never, now: () => now, log: silentLogger,
      runSync: async (name) => { runs.push(name); if (name === 'b') throw new Error('down'); return {} as never; },
    });
    await s.tick();
    now = 10 * 60_000; await s.tick();
    now = 15 * 60_000; await s.tick();
    now = 60 * 60_000; await s.tick();
    expect(runs).toEqual(['a', 'b', 'a', 'a', 'b']);
  });
});
