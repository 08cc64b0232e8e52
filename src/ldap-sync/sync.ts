// One sync run: read the directory, plan, check the safety share, apply everything in one
// transaction, record the run. Any failure before the transaction commits changes nothing
// but the run record, which says what went wrong.
import type { Actor } from '../core/actor.js';
import type { Logger } from '../core/logger.js';
import { DirectoryConnection, type DirectoryTimeouts } from './directory.js';
import { LdapError, isLdapError } from './errors.js';
import { andFilter } from './filter.js';
import { readIncremental, type IncrementalRead } from './incremental.js';
import { readAdGroupChanges, readsAdGroupChanges } from './incremental-ad.js';
import { chooseMode, exceedsDisableShare, planSync, type Plan, type SyncMode } from './planner.js';
import {
  changedSinceClause, effectiveMap, ENTRY_CSN, GroupIndex, latestGroupMarker, mapEntry, OPENLDAP_GROUP_ATTRIBUTES, OPENLDAP_GROUP_FILTER,
  requestedAttributes, type DirectoryUser, type Preset,
} from './presets.js';
import type { LdapSourceRecord, LdapSourceService, LdapStorage, UserLink } from './source.js';
import type { SyncUsers } from './users-port.js';

/** Revokes a user's certificates (reason affiliationChanged); returns how many. */
export interface CertificateRevoker {
  revokeAllOf(username: string, by: Actor): number;
}

export interface SyncOptions {
  dryRun?: boolean;
  full?: boolean;
  /** Apply even when more than the source's maximum share would be disabled. */
  force?: boolean;
  /** Default: ldap-sync:<source>. */
  by?: Actor;
}

export interface SyncResult {
  source: string;
  mode: SyncMode;
  dryRun: boolean;
  applied: boolean;
  plan: Plan;
  revokedCertificates: number;
  runId: number;
}

export interface LdapSyncDeps {
  sources: LdapSourceService;
  storage: LdapStorage;
  users: SyncUsers;
  certificates: CertificateRevoker;
  log: Logger;
  clock?: () => Date;
  timeouts?: DirectoryTimeouts;
}

export const syncActor = (source: string): Actor => ({ actor: `ldap-sync:${source}`, source: 'sync' });

/** Whether the source's groups come from group entries (OpenLDAP without a mapped memberOf). */
export function readsGroupEntries(source: { preset: Preset; attributeMap: LdapSourceRecord['attributeMap'] }): boolean {
  return source.preset === 'openldap' && !effectiveMap(source.preset, source.attributeMap).groups;
}

export class LdapSync {
  private readonly clock: () => Date;

  constructor(private readonly deps: LdapSyncDeps) {
    this.clock = deps.clock ?? (() => new Date());
  }

  /** Connects, binds and counts the entries the user filter matches. */
  async test(name: string): Promise<{ url: string; count: number }> {
    const source = this.deps.sources.get(name);
    const conn = await this.open(source);
    try {
      const map = effectiveMap(source.preset, source.attributeMap);
      const entries = await conn.search(source.baseDn, source.userFilter, [map.username]);
      return { url: source.url, count: entries.length };
    } finally {
      await conn.close();
    }
  }

  async run(name: string, options: SyncOptions = {}): Promise<SyncResult> {
    const source = this.deps.sources.get(name);
    const by = options.by ?? syncActor(source.name);
    const startedAt = this.clock().getTime();
    const mode = chooseMode(source, startedAt, options.full ?? false, readsGroupEntries(source));
    const dryRun = options.dryRun ?? false;
    const record = (plan: Plan | undefined, error: string | null): number => this.deps.storage.recordRun({
      sourceId: source.id, startedAt, endedAt: this.clock().getTime(), mode, dryRun,
      added: plan?.counts.added ?? 0, updated: plan?.counts.updated ?? 0, disabled: plan?.counts.disabled ?? 0,
      groups: plan?.counts.groups ?? 0, error,
    });
    let plan: Plan | undefined;
    try {
      const read = await this.read(source, mode);
      plan = planSync(read.input);
      // No group entry yet: the users' mark will do, both come from the server's one clock.
      const groupWatermark = read.groupWatermark === undefined ? undefined : (read.groupWatermark ?? plan.watermark);
      if (!dryRun && !options.force && exceedsDisableShare(plan, source.maxDisableShare)) {
        const share = Math.round((100 * plan.counts.disabled) / Math.max(plan.activeLinked, 1));
        throw new LdapError('LDAP_SAFETY_STOP',
          `safety stop: this run would disable ${plan.counts.disabled} of ${plan.activeLinked} synced users (${share}%), more than the source's limit of ${Math.round(source.maxDisableShare * 100)}%; nothing was changed (check the directory and the filter, then run again with --force)`);
      }
      if (dryRun) {
        const runId = record(plan, null);
        return { source: source.name, mode, dryRun, applied: false, plan, revokedCertificates: 0, runId };
      }
      const finalPlan = plan;
      const { revoked, runId } = this.deps.storage.transaction(() => {
        const revokedCount = this.apply(source, finalPlan, mode, startedAt, by, groupWatermark);
        return { revoked: revokedCount, runId: record(finalPlan, null) };
      });
      this.deps.log.info({ source: source.name, mode, ...plan.counts, revokedCertificates: revoked }, 'ldap sync applied');
      return { source: source.name, mode, dryRun, applied: true, plan, revokedCertificates: revoked, runId };
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      try {
        record(plan, message);
      } catch (recordError) {
        this.deps.log.error({ source: source.name, error: (recordError as Error).message }, 'ldap sync run not recorded');
      }
      this.deps.log.warn({ source: source.name, mode, code: isLdapError(e) ? e.ldapCode : undefined, error: message }, 'ldap sync failed');
      throw e;
    }
  }

  private async open(source: LdapSourceRecord): Promise<DirectoryConnection> {
    const password = this.deps.sources.bindPassword(source);
    return DirectoryConnection.open(
      { url: source.url, starttls: source.starttls, caPem: source.caPem }, source.bindDn, password, this.deps.timeouts,
    );
  }

  private async read(source: LdapSourceRecord, mode: SyncMode): Promise<IncrementalRead> {
    const map = effectiveMap(source.preset, source.attributeMap);
    let filter = source.userFilter;
    if (mode === 'incremental' && source.watermark !== null && map.changeMarker) {
      filter = andFilter(source.userFilter, changedSinceClause(source.preset, map.changeMarker, source.watermark));
    }
    const conn = await this.open(source);
    try {
      const binary = source.preset === 'ad' ? [map.remoteId] : [];
      const entries = await conn.search(source.baseDn, filter, requestedAttributes(source.preset, source.attributeMap), { binary });
      const now = this.clock().getTime();
      const directory: DirectoryUser[] = [];
      for (const e of entries) {
        const u = mapEntry(e, source.preset, source.attributeMap, now);
        if ('skip' in u) this.deps.log.warn({ source: source.name, reason: u.skip }, 'ldap entry skipped');
        else directory.push(u);
      }
      const groupEntries = readsGroupEntries(source);
      const adGroups = readsAdGroupChanges(source);
      if (mode === 'incremental') {
        const ctx = { conn, source, storage: this.deps.storage, users: this.deps.users };
        // AD: a membership change bumps the group's uSNChanged only; re-read the users it touched.
        const ad = adGroups ? await readAdGroupChanges({ ...ctx, now }, directory) : undefined;
        for (const reason of ad?.skipped ?? []) this.deps.log.warn({ source: source.name, reason }, 'ldap entry skipped');
        const read = await readIncremental({ ...ctx, marker: map.changeMarker ?? '', groupEntries }, [...directory, ...(ad?.reread ?? [])]);
        return ad ? { ...read, groupWatermark: ad.groupWatermark } : read;
      }
      const input = { mode, preset: source.preset, directory, links: this.deps.storage.links(source.id), users: this.deps.users.list(), watermark: source.watermark };
      // AD: no group search on a full run; the users' uSNChanged mark becomes the group mark (one counter).
      if (adGroups) return { input, groupWatermark: null };
      if (!groupEntries) return { input };
      const groupIndex = new GroupIndex();
      const marker = map.changeMarker ? [map.changeMarker, ENTRY_CSN] : [];
      const groups = await conn.search(source.groupBaseDn ?? source.baseDn, OPENLDAP_GROUP_FILTER, [...OPENLDAP_GROUP_ATTRIBUTES, ...marker]);
      for (const g of groups) groupIndex.add(g);
      const groupWatermark = map.changeMarker ? latestGroupMarker(source.preset, groups, map.changeMarker, null) : null;
      return { input: { ...input, groupIndex }, groupWatermark };
    } finally {
      await conn.close();
    }
  }

  /** Inside the one transaction. Returns the number of certificates revoked. */
  private apply(source: LdapSourceRecord, plan: Plan, mode: SyncMode, at: number, by: Actor, groupWatermark: string | null | undefined): number {
    const { users, storage, certificates } = this.deps;
    let revoked = 0;
    const ids = new Map<string, number>();
    const syncDisabled = new Set<number>();
    // Maps, not searches per item: a first sync adds tens of thousands of users.
    const newlySeen = new Map(plan.seen.filter((s) => s.userId === undefined).map((s) => [s.username, s]));
    const enabledByPlan = new Set(plan.items.filter((i) => i.action === 'enable' && i.userId !== undefined).map((i) => i.userId!));
    // New users in one call (a first sync adds tens of thousands).
    const adds = plan.items.filter((i) => i.action === 'add');
    const added = adds.length === 0 ? [] : users.addSynced(adds.map((item) => ({
      username: item.username, groups: item.groups ?? [], enabled: newlySeen.get(item.username)!.enabledInDirectory, source: `ldap:${source.name}`, ...item.profile,
    })), by);
    adds.forEach((item, i) => {
      ids.set(item.username, added[i]!);
      if (!newlySeen.get(item.username)!.enabledInDirectory) syncDisabled.add(added[i]!);
    });
    for (const item of plan.items) {
      if (item.action === 'add') continue;
      if (item.groups) users.setGroups(item.username, item.groups, by);
      if (item.profile) users.setProfile(item.username, item.profile, by);
      if (item.action === 'disable') {
        users.setEnabled(item.username, false, by);
        syncDisabled.add(item.userId!);
        if (source.certPolicy === 'revoke') revoked += certificates.revokeAllOf(item.username, by);
      } else if (item.action === 'enable') {
        users.setEnabled(item.username, true, by);
      }
    }
    for (const s of plan.seen) {
      const userId = s.userId ?? ids.get(s.username)!;
      const before = s.before;
      const wasSyncDisabled = (before?.syncDisabled ?? false) || (before?.vanished ?? false);
      const enabledItem = enabledByPlan.has(userId);
      const link = {
        userId, sourceId: source.id, remoteId: s.remoteId, dn: s.dn, lastSeen: at, vanished: false,
        syncDisabled: syncDisabled.has(userId) || (wasSyncDisabled && !enabledItem && !s.enabledInDirectory),
      };
      // An incremental run writes only what changed (it re-reads the last second's entries, as
      // modifyTimestamp has a resolution of one second); a full run also records when it saw each.
      if (mode === 'incremental' && before && sameLink(before, link)) continue;
      storage.upsertLink(link);
    }
    for (const link of plan.vanished) {
      storage.upsertLink({ ...link, vanished: true, syncDisabled: link.syncDisabled || syncDisabled.has(link.userId) });
    }
    const groupMarkChanged = groupWatermark !== undefined && groupWatermark !== source.groupWatermark;
    if (mode === 'full' || plan.watermark !== source.watermark || groupMarkChanged) {
      storage.setWatermark(source.id, plan.watermark, mode === 'full' ? at : null, groupWatermark);
    }
    return revoked;
  }
}

function sameLink(a: UserLink, b: UserLink): boolean {
  return a.sourceId === b.sourceId && a.remoteId === b.remoteId && a.dn === b.dn && a.vanished === b.vanished && a.syncDisabled === b.syncDisabled;
}
