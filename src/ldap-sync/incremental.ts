// What an incremental run reads: the user entries changed since the watermark, the group
// entries changed since the group watermark (adding a member changes the group entry, not
// the user's), and from the database only the users and links those entries touch. The
// work is proportional to what changed, not to the size of the directory. A group deleted
// or renamed in the directory is seen by the next full run (at least daily).
import type { UserRecord } from '../core/users.js';
import type { DirectoryConnection } from './directory.js';
import { andFilter, ldapFilter } from './filter.js';
import type { GroupDelta, PlanInput } from './planner.js';
import {
  ENTRY_CSN, GroupIndex, changedSinceClause, latestGroupMarker, normalizeDn, OPENLDAP_GROUP_ATTRIBUTES, OPENLDAP_GROUP_FILTER,
  type DirectoryUser,
} from './presets.js';
import type { LdapSourceRecord, LdapStorage, UserLink } from './source.js';
import type { SyncUsers } from './users-port.js';

/** Users per group search made for users the run adds (the filter has three terms per user). */
const LOOKUP_CHUNK = 100;

export interface IncrementalRead {
  input: PlanInput;
  /** The new group watermark; undefined when groups are not read from group entries. */
  groupWatermark?: string | null;
}

interface Context {
  conn: DirectoryConnection;
  source: LdapSourceRecord;
  storage: LdapStorage;
  users: SyncUsers;
  /** The attribute holding modifyTimestamp / uSNChanged. */
  marker: string;
  /** Whether groups come from group entries (OpenLDAP) rather than from the user entry. */
  groupEntries: boolean;
}

const key = (s: string): string => s.toLowerCase();

export async function readIncremental(ctx: Context, directory: DirectoryUser[]): Promise<IncrementalRead> {
  const { source, storage } = ctx;
  const seenLinks = storage.linksByRemoteIds(source.id, directory.map((d) => d.remoteId));
  let groupDelta: GroupDelta | undefined;
  let recheck: UserLink[] = [];
  let groupWatermark: string | null | undefined;
  if (ctx.groupEntries) {
    const base = source.groupBaseDn ?? source.baseDn;
    const since = changedSinceClause(source.preset, ctx.marker, source.groupWatermark!);
    const changedEntries = await ctx.conn.search(base, andFilter(OPENLDAP_GROUP_FILTER, since), [...OPENLDAP_GROUP_ATTRIBUTES, ctx.marker, ENTRY_CSN]);
    // Only what this search saw: a group changed after it has a later marker still.
    groupWatermark = latestGroupMarker(source.preset, changedEntries, ctx.marker, source.groupWatermark);
    const index = new GroupIndex();
    for (const g of changedEntries) index.add(g);
    const changed = new Set([...index.names].map(key));
    recheck = membershipChanges(storage, source.id, index, changed);
    const linked = new Set(seenLinks.map((l) => l.remoteId));
    const fresh = directory.filter((d) => !linked.has(d.remoteId));
    const lookup = fresh.length > 0 ? await groupsHolding(ctx.conn, base, fresh) : undefined;
    groupDelta = { changed, index, ...(lookup ? { lookup } : {}) };
  }
  const links = dedupeLinks([...seenLinks, ...recheck]);
  const linkedIds = new Set(links.map((l) => l.userId));
  const users: UserRecord[] = ctx.users.findMany([...linkedIds], directory.map((d) => d.username));
  // A returned name already held by a user linked to another entry: the conflict says so.
  const byName = storage.linksOfUsers(source.id, users.filter((u) => !linkedIds.has(u.id)).map((u) => u.id));
  return {
    input: {
      mode: 'incremental', preset: source.preset, directory, links: dedupeLinks([...links, ...byName]), users,
      watermark: source.watermark, activeLinked: storage.countActiveLinks(source.id),
      ...(groupDelta ? { groupDelta, recheck } : {}),
    },
    ...(groupWatermark !== undefined ? { groupWatermark } : {}),
  };
}

/**
 * Linked users whose membership of the changed groups is not what the database holds:
 * members before (from user_groups) compared with members now, and members now that held
 * none of these groups before (found by DN or uid through the links' index).
 */
export function membershipChanges(storage: LdapStorage, sourceId: number, index: GroupIndex, changed: ReadonlySet<string>): UserLink[] {
  if (changed.size === 0) return [];
  const before = new Map<number, { link: UserLink; username: string; groups: Set<string> }>();
  for (const m of storage.linkedMembers(sourceId, [...index.names])) {
    let b = before.get(m.link.userId);
    if (!b) before.set(m.link.userId, (b = { link: m.link, username: m.username, groups: new Set() }));
    b.groups.add(key(m.group));
  }
  const out: UserLink[] = [];
  const known = { dnKeys: new Set<string>(), uids: new Set<string>() };
  for (const b of before.values()) {
    known.dnKeys.add(normalizeDn(b.link.dn));
    known.uids.add(key(b.username));
    const now = new Set(index.groupsOf(b.link.dn, b.username).map(key).filter((g) => changed.has(g)));
    if (now.size !== b.groups.size || [...now].some((g) => !b.groups.has(g))) out.push(b.link);
  }
  const members = index.memberKeys();
  const joined = [
    ...storage.linksByDnKeys(sourceId, members.dnKeys.filter((k) => !known.dnKeys.has(k))),
    ...storage.linksByUsernames(sourceId, members.uids.filter((u) => !known.uids.has(u))),
  ];
  return dedupeLinks([...out, ...joined.filter((l) => !before.has(l.userId))]);
}

/** The group entries, changed or not, that hold one of these (new) users as a member. */
async function groupsHolding(conn: DirectoryConnection, base: string, users: readonly DirectoryUser[]): Promise<GroupIndex> {
  const index = new GroupIndex();
  for (let i = 0; i < users.length; i += LOOKUP_CHUNK) {
    const terms = users.slice(i, i + LOOKUP_CHUNK)
      .map((u) => ldapFilter`(member=${u.dn})(uniqueMember=${u.dn})(memberUid=${u.username})`).join('');
    for (const g of await conn.search(base, `(&${OPENLDAP_GROUP_FILTER}(|${terms}))`, [...OPENLDAP_GROUP_ATTRIBUTES])) index.add(g);
  }
  return index;
}

function dedupeLinks(links: readonly UserLink[]): UserLink[] {
  const byUser = new Map<number, UserLink>();
  for (const l of links) if (!byUser.has(l.userId)) byUser.set(l.userId, l);
  return [...byUser.values()];
}
