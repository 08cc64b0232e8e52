// The sync plan: a pure function of what the directory returned and what authbox holds.
// A user that vanished is disabled, never deleted, and only a full run can see that; an
// incremental run reads only entries changed since the watermark, and is given only the
// users and links those entries touch. A name already used by a local user, or by another
// source, is never taken over: it is reported as a conflict.
import { validateGroupName, validateProfile, validateUsername, type UserRecord } from '../core/users.js';
import type { DirectoryUser, GroupIndex, Preset } from './presets.js';
import { markerAfter } from './presets.js';
import type { UserLink } from './source.js';
import type { DirectoryProfile } from './users-port.js';

export type SyncMode = 'full' | 'incremental';
export const FULL_RUN_INTERVAL_MS = 24 * 60 * 60 * 1000;

export interface PlanItem {
  action: 'add' | 'update' | 'enable' | 'disable';
  username: string;
  /** Absent for 'add'. */
  userId?: number;
  /** The new group set, when it changes (always for 'add'). */
  groups?: string[];
  /** Group memberships added plus removed. */
  groupChanges: number;
  /** Display name and e-mail from the directory, when they change (always for 'add'). */
  profile?: DirectoryProfile;
  reason?: 'vanished' | 'directory';
}

export interface SeenLink {
  userId: number | undefined;
  username: string;
  remoteId: string;
  dn: string;
  enabledInDirectory: boolean;
  /** The link before this run; absent for a user the run adds. */
  before?: UserLink;
}

export interface Plan {
  mode: SyncMode;
  items: PlanItem[];
  /** Links to refresh: every user the directory returned and authbox keeps. */
  seen: SeenLink[];
  /** Links of users not returned by a full run. */
  vanished: UserLink[];
  conflicts: { username: string; reason: string }[];
  skipped: string[];
  watermark: string | null;
  counts: { added: number; updated: number; disabled: number; groups: number; conflicts: number };
  /** Linked users enabled before this run: the base of the safety share. */
  activeLinked: number;
}

/**
 * An incremental run's group entries (OpenLDAP): only those changed since the last run. A
 * linked user keeps its stored groups but for the changed ones, which the delta decides.
 */
export interface GroupDelta {
  /** The changed groups' names, lower case. */
  changed: ReadonlySet<string>;
  /** The changed groups, with their members. */
  index: GroupIndex;
  /** Groups, changed or not, holding a user the run adds (found by a search on member). */
  lookup?: GroupIndex;
}

export interface PlanInput {
  mode: SyncMode;
  preset: Preset;
  directory: DirectoryUser[];
  /** From every group entry (OpenLDAP); fills users' groups when the preset reads them there. */
  groupIndex?: GroupIndex;
  /** Instead of groupIndex on an incremental run: only the changed groups. */
  groupDelta?: GroupDelta;
  /** With groupDelta: linked users the run did not return whose membership of a changed group changed. */
  recheck?: UserLink[];
  /** Every link of the source on a full run; on an incremental one, at least those of the users involved. */
  links: UserLink[];
  /** Every user on a full run; on an incremental one, at least the linked ones and those with a returned name. */
  users: UserRecord[];
  watermark: string | null;
  /** Enabled linked users of the source, when `links` holds only some of them. */
  activeLinked?: number;
}

/**
 * Full when asked, when there is no watermark yet (for group entries too, when the source
 * reads them), or when the last full run is a day old.
 */
export function chooseMode(
  source: { watermark: string | null; lastFullAt: number | null; groupWatermark?: string | null },
  now: number, forceFull: boolean, readsGroupEntries = false,
): SyncMode {
  if (forceFull || source.watermark === null || source.lastFullAt === null) return 'full';
  if (readsGroupEntries && (source.groupWatermark ?? null) === null) return 'full';
  return now - source.lastFullAt >= FULL_RUN_INTERVAL_MS ? 'full' : 'incremental';
}

const key = (s: string): string => s.toLowerCase();

function validGroups(groups: readonly string[], skipped: string[], who: string): string[] {
  const out = new Map<string, string>();
  for (const g of groups) {
    try {
      validateGroupName(g);
      if (!out.has(key(g))) out.set(key(g), g);
    } catch {
      skipped.push(`${who}: group "${g}" ignored (not a valid group name)`);
    }
  }
  return [...out.values()].sort();
}

/** Added plus removed, comparing case-insensitively as the store does. */
function groupDelta(before: readonly string[], after: readonly string[]): number {
  const a = new Set(before.map(key));
  const b = new Set(after.map(key));
  let n = 0;
  for (const g of a) if (!b.has(g)) n++;
  for (const g of b) if (!a.has(g)) n++;
  return n;
}

export function planSync(input: PlanInput): Plan {
  const usersById = new Map(input.users.map((u) => [u.id, u]));
  const usersByName = new Map(input.users.map((u) => [key(u.username), u]));
  const linkByRemote = new Map(input.links.map((l) => [l.remoteId, l]));
  const linkByUser = new Map(input.links.map((l) => [l.userId, l]));
  const plan: Plan = {
    mode: input.mode, items: [], seen: [], vanished: [], conflicts: [], skipped: [], watermark: input.watermark,
    counts: { added: 0, updated: 0, disabled: 0, groups: 0, conflicts: 0 },
    activeLinked: input.activeLinked ?? input.links.filter((l) => usersById.get(l.userId)?.enabled).length,
  };
  const seenRemote = new Set<string>();
  const seenNames = new Set<string>();

  for (const d of input.directory) {
    if (d.changeMarker && markerAfter(input.preset, d.changeMarker, plan.watermark ?? undefined)) plan.watermark = d.changeMarker;
    if (seenRemote.has(d.remoteId)) continue;
    seenRemote.add(d.remoteId);
    try {
      validateUsername(d.username);
    } catch {
      plan.skipped.push(`${d.dn}: "${d.username}" is not a valid user name`);
      continue;
    }
    if (seenNames.has(key(d.username))) {
      plan.conflicts.push({ username: d.username, reason: `two directory entries have this name (${d.dn})` });
      continue;
    }
    seenNames.add(key(d.username));
    const link = linkByRemote.get(d.remoteId);
    const linked = link ? usersById.get(link.userId) : undefined;
    const groups = validGroups(groupsFrom(input, d.dn, d.username, linked?.groups) ?? d.groups ?? [], plan.skipped, d.username);
    const profile = directoryProfile(d, plan.skipped);
    if (!linked) {
      const taken = usersByName.get(key(d.username));
      if (taken) {
        const other = linkByUser.get(taken.id);
        plan.conflicts.push({
          username: d.username,
          reason: other ? 'the name belongs to a user linked to another directory entry' : 'a local user has this name; it is not taken over',
        });
        continue;
      }
      plan.items.push({
        action: 'add', username: d.username, groups, groupChanges: groups.length, profile, ...(d.disabled ? { reason: 'directory' as const } : {}),
      });
      plan.seen.push({ userId: undefined, username: d.username, remoteId: d.remoteId, dn: d.dn, enabledInDirectory: !d.disabled });
      continue;
    }
    if (key(linked.username) !== key(d.username)) {
      plan.conflicts.push({ username: d.username, reason: `renamed in the directory from "${linked.username}"; authbox does not rename users, so it is left as it is` });
      continue;
    }
    plan.seen.push({ userId: linked.id, username: linked.username, remoteId: d.remoteId, dn: d.dn, enabledInDirectory: !d.disabled, before: link! });
    addChange(plan, linked, link!, groups, !d.disabled, 'directory', profile);
  }

  // Incremental runs with groups from group entries: a membership change touches the
  // group, not the user, so recheck the linked users the run did not return: those of the
  // changed groups' members that came or went (groupDelta), or every one (groupIndex).
  const recheck = input.mode !== 'incremental' ? [] : input.groupDelta ? (input.recheck ?? []) : input.groupIndex ? input.links : [];
  for (const link of recheck) {
    if (seenRemote.has(link.remoteId) || link.vanished) continue;
    seenRemote.add(link.remoteId);
    const user = usersById.get(link.userId);
    if (!user) continue;
    const groups = validGroups(groupsFrom(input, link.dn, user.username, user.groups) ?? [], plan.skipped, user.username);
    addChange(plan, user, link, groups, undefined, 'directory');
  }

  if (input.mode === 'full') {
    for (const link of input.links) {
      if (seenRemote.has(link.remoteId)) continue;
      const user = usersById.get(link.userId);
      if (!user) continue;
      plan.vanished.push(link);
      if (user.enabled) plan.items.push({ action: 'disable', username: user.username, userId: user.id, groupChanges: 0, reason: 'vanished' });
    }
  }

  for (const item of plan.items) {
    plan.counts.groups += item.groupChanges;
    if (item.action === 'add') plan.counts.added++;
    else if (item.action === 'disable') plan.counts.disabled++;
    else plan.counts.updated++;
  }
  plan.counts.conflicts = plan.conflicts.length;
  return plan;
}

/** Groups from group entries (full index, or the delta over the stored ones); undefined: the preset reads them on the user. */
function groupsFrom(input: PlanInput, dn: string, username: string, stored: readonly string[] | undefined): string[] | undefined {
  if (input.groupIndex) return input.groupIndex.groupsOf(dn, username);
  const delta = input.groupDelta;
  if (!delta) return undefined;
  const kept = (stored ?? []).filter((g) => !delta.changed.has(key(g)));
  return [...kept, ...delta.index.groupsOf(dn, username), ...(delta.lookup?.groupsOf(dn, username) ?? [])];
}

/** What the directory says of name and e-mail; a value authbox would refuse is left out (and reported), not a failed run. */
function directoryProfile(d: DirectoryUser, skipped: string[]): DirectoryProfile {
  const checked = (field: 'displayName' | 'email', value: string | undefined): string | null => {
    if (value === undefined) return null;
    try {
      validateProfile({ [field]: value });
      return value;
    } catch (e) {
      skipped.push(`${d.username}: ${field} ignored (${(e as Error).message})`);
      return null;
    }
  };
  return { displayName: checked('displayName', d.displayName), email: checked('email', d.mail) };
}

/** enabled: what the directory says (undefined: not known in this run); profile likewise. */
function addChange(plan: Plan, user: UserRecord, link: UserLink, groups: string[], enabled: boolean | undefined, reason: 'directory', profile?: DirectoryProfile): void {
  const delta = groupDelta(user.groups, groups);
  const profileChanged = profile !== undefined && (profile.displayName !== user.displayName || profile.email !== user.email);
  let action: PlanItem['action'] | undefined;
  if (enabled === false && user.enabled) action = 'disable';
  // Only what the sync disabled is enabled again; an administrator's disable stands.
  else if (enabled === true && !user.enabled && (link.syncDisabled || link.vanished)) action = 'enable';
  else if (delta > 0 || profileChanged) action = 'update';
  if (!action) return;
  plan.items.push({
    action, username: user.username, userId: user.id, groupChanges: delta,
    ...(delta > 0 ? { groups } : {}), ...(profileChanged ? { profile } : {}), ...(action === 'disable' ? { reason } : {}),
  });
}

/** Whether the plan disables more than the allowed share of the source's active users. */
export function exceedsDisableShare(plan: Plan, maxShare: number): boolean {
  if (plan.counts.disabled === 0) return false;
  return plan.counts.disabled > maxShare * Math.max(plan.activeLinked, 1);
}
