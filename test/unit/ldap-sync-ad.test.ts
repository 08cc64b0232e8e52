// The AD parts of an incremental run that need no directory: which sources read group
// entries for membership changes, and a group's member list when AD hands it out in
// ranges (member;range=0-1499, AD's MaxValRange). The rest runs against an AD-like slapd
// (test/integration/ldap-sync-ad.test.ts).
import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/core/users.js';
import type { DirectoryConnection } from '../../src/ldap-sync/directory.js';
import { readAdGroupChanges, readsAdGroupChanges, withAllMembers } from '../../src/ldap-sync/incremental-ad.js';
import { DEFAULT_USER_FILTER, type RawEntry } from '../../src/ldap-sync/presets.js';
import { parseMap, type LdapSourceRecord, type LdapStorage, type UserLink } from '../../src/ldap-sync/source.js';
import type { SyncUsers } from '../../src/ldap-sync/users-port.js';

const source = { baseDn: 'DC=corp,DC=example', userFilter: '(&(objectCategory=person)(objectClass=user))' };
const GROUP = 'CN=Sales\\, EMEA,OU=Groups,DC=corp,DC=example';

function fakeConn(answer: RawEntry[]): { search: (base: string, filter: string, attributes: string[]) => Promise<RawEntry[]>; calls: unknown[][] } {
  const calls: unknown[][] = [];
  return { calls, search: async (...args) => { calls.push(args); return answer; } };
}

describe('AD membership changes', () => {
  it('are read for the ad preset with memberOf and uSNChanged, not for openldap or without a marker', () => {
    expect(readsAdGroupChanges({ preset: 'ad', attributeMap: {} })).toBe(true);
    expect(readsAdGroupChanges({ preset: 'openldap', attributeMap: {} })).toBe(false);
    expect(readsAdGroupChanges({ preset: 'openldap', attributeMap: parseMap(['groups=memberOf']) })).toBe(false);
    expect(readsAdGroupChanges({ preset: 'ad', attributeMap: { changeMarker: '' } })).toBe(false);
  });

  it('a group with its whole member list is used as it is, with no search', async () => {
    const conn = fakeConn([]);
    const g = { dn: GROUP, member: ['CN=A,DC=corp,DC=example'] };
    expect(await withAllMembers(conn, source, g)).toBe(g);
    expect(conn.calls).toEqual([]);
  });

  it('member;range=0-* is the whole list', async () => {
    const conn = fakeConn([]);
    expect(await withAllMembers(conn, source, { dn: GROUP, 'member;range=0-*': ['CN=A,DC=corp,DC=example'], uSNChanged: '9' }))
      .toEqual({ dn: GROUP, member: ['CN=A,DC=corp,DC=example'], uSNChanged: '9' });
    expect(conn.calls).toEqual([]);
  });

  it('a truncated range (member;range=0-1499) is completed by one search on memberOf, the DN escaped (RFC 4515)', async () => {
    const conn = fakeConn([{ dn: 'CN=A,DC=corp,DC=example' }, { dn: 'CN=B,DC=corp,DC=example' }]);
    const r = await withAllMembers(conn, source, { dn: GROUP, 'Member;Range=0-1499': ['CN=A,DC=corp,DC=example'] });
    expect(r).toEqual({ dn: GROUP, member: ['CN=A,DC=corp,DC=example', 'CN=B,DC=corp,DC=example'] });
    expect(conn.calls).toEqual([[source.baseDn, `(&${source.userFilter}(memberOf=CN=Sales\\5c, EMEA,OU=Groups,DC=corp,DC=example))`, ['1.1']]]);
  });
});

describe('readAdGroupChanges', () => {
  const CAROL = 'CN=Carol,CN=Users,DC=corp,DC=example';
  const ADMINS = 'CN=Admins,OU=Groups,DC=corp,DC=example';
  const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
  const carolLink: UserLink = { userId: 3, sourceId: 1, remoteId: '33221100-5544-7766-8899-aabbccddeeff', dn: CAROL, lastSeen: 0, vanished: false, syncDisabled: false };
  // A source from before AD group marks were kept: no group watermark, a users' one.
  const src = { id: 1, preset: 'ad', attributeMap: {}, baseDn: 'DC=corp,DC=example', groupBaseDn: 'OU=Groups,DC=corp,DC=example',
    userFilter: DEFAULT_USER_FILTER.ad, watermark: '100', groupWatermark: null } as unknown as LdapSourceRecord;
  const storage = {
    linkedMembers: () => [],
    linksByDnKeys: (_: number, keys: readonly string[]) => (keys.includes(CAROL.toLowerCase()) ? [carolLink] : []),
    linksByUsernames: () => [],
  } as unknown as LdapStorage;
  const users = { findMany: (ids: readonly number[]) => (ids.includes(3) ? [{ id: 3, username: 'carol' } as UserRecord] : []) } as unknown as SyncUsers;

  it('reads groups changed since the users\' mark, and re-reads a user one gained, without moving the users\' mark', async () => {
    const calls: { base: string; filter: string }[] = [];
    const conn = {
      search: async (base: string, filter: string): Promise<RawEntry[]> => {
        calls.push({ base, filter });
        if (filter.includes('objectClass=group')) return [{ dn: ADMINS, member: [CAROL], uSNChanged: '105' }];
        return [{ dn: CAROL, sAMAccountName: 'carol', objectGUID: guid, memberOf: [ADMINS], uSNChanged: '104' }];
      },
    } as unknown as DirectoryConnection;
    const r = await readAdGroupChanges({ conn, source: src, storage, users, now: Date.now() }, []);
    expect(calls).toEqual([
      { base: 'OU=Groups,DC=corp,DC=example', filter: '(&(objectClass=group)(uSNChanged>=101))' },
      { base: 'DC=corp,DC=example', filter: `(&${DEFAULT_USER_FILTER.ad}(|(sAMAccountName=carol)))` },
    ]);
    expect(r.groupWatermark).toBe('105');
    expect(r.reread).toEqual([{ dn: CAROL, remoteId: carolLink.remoteId, username: 'carol', disabled: false, groups: ['Admins'] }]);
  });

  it('a user the users\' search returned is not read again', async () => {
    const conn = { search: async (): Promise<RawEntry[]> => [{ dn: ADMINS, member: [CAROL], uSNChanged: '105' }] } as unknown as DirectoryConnection;
    const returned = [{ dn: CAROL, remoteId: carolLink.remoteId, username: 'carol', disabled: false, groups: ['Admins'] }];
    expect(await readAdGroupChanges({ conn, source: src, storage, users, now: Date.now() }, returned)).toEqual({ reread: [], groupWatermark: '105', skipped: [] });
  });
});
