// Active Directory membership changes for an incremental run. memberOf is the back-link of
// the linked attribute `member` (MS-ADTS, linked attributes): adding a user to a group
// writes the group's `member` and bumps the GROUP's uSNChanged, not the user's, so a search
// for users changed since the watermark misses it. As for OpenLDAP group entries (incremental.ts), read the
// group entries changed since the group watermark, find the linked users those groups
// gained or lost, and read only those users' entries again: their memberOf is then the
// truth the plan applies. uSNChanged comes from one per-DC counter for every object, so
// the users' mark after a full run is also a valid group mark.
import type { DirectoryConnection } from './directory.js';
import { andFilter, ldapFilter } from './filter.js';
import { membershipChanges } from './incremental.js';
import { GroupIndex, changedSinceClause, effectiveMap, latestMarker, mapEntry, requestedAttributes, type DirectoryUser, type RawEntry } from './presets.js';
import type { LdapSourceRecord, LdapStorage, UserLink } from './source.js';
import type { SyncUsers } from './users-port.js';

export const AD_GROUP_FILTER = '(objectClass=group)';
/** Users per re-read search (one equality term per user). */
const REREAD_CHUNK = 100;

export interface AdGroupChanges {
  /** Linked users whose membership changed, as the directory has them now. */
  reread: DirectoryUser[];
  /** The new group watermark: the latest uSNChanged of the groups read, else the one before. */
  groupWatermark: string | null;
  /** Entries the re-read could not map (for the run's log). */
  skipped: string[];
}

/** Whether an incremental run of this source must read AD group entries: AD with groups from memberOf and a change marker. */
export function readsAdGroupChanges(source: Pick<LdapSourceRecord, 'preset' | 'attributeMap'>): boolean {
  const map = effectiveMap(source.preset, source.attributeMap);
  return source.preset === 'ad' && !!map.groups && !!map.changeMarker;
}

export async function readAdGroupChanges(
  ctx: { conn: DirectoryConnection; source: LdapSourceRecord; storage: LdapStorage; users: SyncUsers; now: number },
  returned: readonly DirectoryUser[],
): Promise<AdGroupChanges> {
  const { conn, source, storage } = ctx;
  const map = effectiveMap(source.preset, source.attributeMap);
  const marker = map.changeMarker!;
  // A source synced before group watermarks were kept for AD: the users' mark is on the same counter.
  const since = source.groupWatermark ?? source.watermark;
  if (since === null) return { reread: [], groupWatermark: null, skipped: [] };
  const base = source.groupBaseDn ?? source.baseDn;
  // Not cn: GroupIndex then names a group by its DN's first RDN, as mapEntry reads memberOf
  // (a renamed group is thus seen too: its members' re-read memberOf carries the new name).
  const groups = await conn.search(base, andFilter(AD_GROUP_FILTER, changedSinceClause(source.preset, marker, since)), ['member', marker]);
  const groupWatermark = latestMarker(source.preset, groups, marker, since);
  const index = new GroupIndex();
  for (const g of groups) index.add(await withAllMembers(conn, source, g));
  const changed = new Set([...index.names].map((n) => n.toLowerCase()));
  const returnedIds = new Set(returned.map((d) => d.remoteId));
  const links = membershipChanges(storage, source.id, index, changed).filter((l) => !l.vanished && !returnedIds.has(l.remoteId));
  if (links.length === 0) return { reread: [], groupWatermark, skipped: [] };
  const { reread, skipped } = await rereadUsers(ctx, links, map.username);
  return { reread, groupWatermark, skipped };
}

/**
 * AD's range retrieval (MS-ADTS, LDAP policy MaxValRange): past MaxValRange values (1500
 * by default) AD returns `member;range=0-1499` and no `member`. Rather than page through the ranges, ask
 * the other side once: the users whose memberOf names the group (one search, users only,
 * no attributes: RFC 4511 §4.5.1.8's "1.1"). `member;range=0-*` is the whole list.
 */
export async function withAllMembers(conn: Pick<DirectoryConnection, 'search'>, source: Pick<LdapSourceRecord, 'baseDn' | 'userFilter'>, group: RawEntry): Promise<RawEntry> {
  const ranged = Object.keys(group).find((k) => RANGED_MEMBER.test(k));
  if (!ranged) return group;
  const { [ranged]: partial, ...rest } = group;
  if (ranged.endsWith('*')) return { ...rest, dn: group.dn, member: partial! };
  const members = await conn.search(source.baseDn, andFilter(source.userFilter, ldapFilter`(memberOf=${group.dn})`), ['1.1']);
  return { ...rest, dn: group.dn, member: members.map((m) => m.dn) };
}

const RANGED_MEMBER = /^member;range=\d+-(\d+|\*)$/i;

/**
 * The linked users' entries again, by their authbox name (the username attribute), kept only
 * when the entry is the linked one (same remote id). Their change marker is dropped: these
 * entries were read after the users' search, and moving the users' watermark to a later
 * mark would skip users changed in between.
 */
async function rereadUsers(
  ctx: { conn: DirectoryConnection; source: LdapSourceRecord; users: SyncUsers; now: number },
  links: readonly UserLink[], usernameAttribute: string,
): Promise<{ reread: DirectoryUser[]; skipped: string[] }> {
  const { conn, source } = ctx;
  const wanted = new Set(links.map((l) => l.remoteId));
  const names = ctx.users.findMany(links.map((l) => l.userId), []).map((u) => u.username);
  const reread: DirectoryUser[] = [];
  const skipped: string[] = [];
  const attributes = requestedAttributes(source.preset, source.attributeMap);
  const remoteId = effectiveMap(source.preset, source.attributeMap).remoteId;
  for (let i = 0; i < names.length; i += REREAD_CHUNK) {
    const terms = names.slice(i, i + REREAD_CHUNK).map((n) => `(${usernameAttribute}=${ldapFilter`${n}`})`).join('');
    const entries = await conn.search(source.baseDn, andFilter(source.userFilter, `(|${terms})`), attributes, { binary: [remoteId] });
    for (const e of entries) {
      const u = mapEntry(e, source.preset, source.attributeMap, ctx.now);
      if ('skip' in u) { skipped.push(u.skip); continue; }
      if (!wanted.has(u.remoteId)) continue;
      delete u.changeMarker;
      reread.push(u);
    }
  }
  return { reread, skipped };
}
