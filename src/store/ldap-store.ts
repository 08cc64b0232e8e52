// SQL behind the LDAP engine: directory sources, sync runs, and the links from users to
// the directory entries they came from. Writes append change and audit rows in the same
// transaction; no secret goes into an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { LdapError } from '../ldap-sync/errors.js';
import { normalizeDn, type AttributeMap, type Preset } from '../ldap-sync/presets.js';
import type { CertPolicy, LdapSourceRecord, LdapStorage, NewLdapSourceRow, SyncRunRecord, UserLink } from '../ldap-sync/source.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface SourceRow {
  id: number; name: string; url: string; starttls: number; ca_pem: string | null; bind_dn: string; bind_password_sealed: Buffer;
  base_dn: string; user_filter: string; group_base_dn: string | null; preset: string; attribute_map: string;
  schedule_minutes: number; max_disable_share: number; cert_policy: string; watermark: string | null;
  last_full_at: number | null; created_at: number; group_watermark: string | null;
}

interface RunRow {
  id: number; source_id: number; started_at: number; ended_at: number | null; mode: string; dry_run: number;
  added: number; updated: number; disabled: number; groups: number; error: string | null;
}

interface LinkRow { user_id: number; source_id: number; remote_id: string; dn: string; last_seen: number; vanished: number; sync_disabled: number }

const toSource = (r: SourceRow): LdapSourceRecord => ({
  id: r.id, name: r.name, url: r.url, starttls: r.starttls === 1, caPem: r.ca_pem, bindDn: r.bind_dn,
  bindPasswordSealed: r.bind_password_sealed, baseDn: r.base_dn, userFilter: r.user_filter, groupBaseDn: r.group_base_dn,
  preset: r.preset as Preset, attributeMap: JSON.parse(r.attribute_map) as AttributeMap, scheduleMinutes: r.schedule_minutes,
  maxDisableShare: r.max_disable_share, certPolicy: r.cert_policy as CertPolicy, watermark: r.watermark,
  groupWatermark: r.group_watermark ?? null, lastFullAt: r.last_full_at, createdAt: r.created_at,
});

const toRun = (r: RunRow): SyncRunRecord => ({
  id: r.id, sourceId: r.source_id, startedAt: r.started_at, endedAt: r.ended_at, mode: r.mode as SyncRunRecord['mode'],
  dryRun: r.dry_run === 1, added: r.added, updated: r.updated, disabled: r.disabled, groups: r.groups, error: r.error,
});

const toLink = (r: LinkRow): UserLink => ({
  userId: r.user_id, sourceId: r.source_id, remoteId: r.remote_id, dn: r.dn, lastSeen: r.last_seen,
  vanished: r.vanished === 1, syncDisabled: r.sync_disabled === 1,
});

export class SqliteLdapStore implements LdapStorage {
  private readonly changes: ChangeLog;
  private readonly byName: Statement;
  private readonly byId: Statement;
  private readonly upsert: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.upsert = db.prepare(`INSERT INTO ldap_user_links (user_id, source_id, remote_id, dn, dn_key, last_seen, vanished, sync_disabled)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET source_id = excluded.source_id, remote_id = excluded.remote_id,
      dn = excluded.dn, dn_key = excluded.dn_key, last_seen = excluded.last_seen, vanished = excluded.vanished, sync_disabled = excluded.sync_disabled`);
    this.byName = db.prepare('SELECT * FROM ldap_sources WHERE name = ?');
    this.byId = db.prepare('SELECT * FROM ldap_sources WHERE id = ?');
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertSource(row: NewLdapSourceRow, by: Actor): LdapSourceRecord {
    return this.transaction(() => {
      const taken = this.byName.get(row.name) as SourceRow | undefined;
      if (taken) throw new LdapError('LDAP_SOURCE_EXISTS', `an LDAP source named "${taken.name}" already exists`);
      const id = Number(this.db.prepare(`INSERT INTO ldap_sources (name, url, starttls, ca_pem, bind_dn, bind_password_sealed, base_dn,
        user_filter, group_base_dn, preset, attribute_map, schedule_minutes, max_disable_share, cert_policy, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
        row.name, row.url, row.starttls ? 1 : 0, row.caPem, row.bindDn, row.bindPasswordSealed, row.baseDn, row.userFilter,
        row.groupBaseDn, row.preset, JSON.stringify(row.attributeMap), row.scheduleMinutes, row.maxDisableShare, row.certPolicy, row.at,
      ).lastInsertRowid);
      this.changes.record('settings', `ldap:${id}`);
      this.changes.audit(by.actor, by.source, 'ldap.add', row.name, {
        url: row.url, starttls: row.starttls, bindDn: row.bindDn, baseDn: row.baseDn, userFilter: row.userFilter,
        groupBaseDn: row.groupBaseDn, preset: row.preset, map: row.attributeMap, certPolicy: row.certPolicy,
      });
      return toSource(this.byId.get(id) as SourceRow);
    });
  }

  deleteSource(name: string, by: Actor): boolean {
    return this.transaction(() => {
      const row = this.byName.get(name) as SourceRow | undefined;
      if (!row) return false;
      const links = (this.db.prepare('DELETE FROM ldap_user_links WHERE source_id = ?').run(row.id)).changes;
      this.db.prepare('DELETE FROM ldap_sync_runs WHERE source_id = ?').run(row.id);
      this.db.prepare('DELETE FROM ldap_sources WHERE id = ?').run(row.id);
      this.changes.record('settings', `ldap:${row.id}`);
      this.changes.audit(by.actor, by.source, 'ldap.remove', row.name, { url: row.url, unlinkedUsers: links });
      return true;
    });
  }

  findSource(name: string): LdapSourceRecord | undefined {
    const row = this.byName.get(name) as SourceRow | undefined;
    return row && toSource(row);
  }

  sourceById(id: number): LdapSourceRecord | undefined {
    const row = this.byId.get(id) as SourceRow | undefined;
    return row && toSource(row);
  }

  listSources(): LdapSourceRecord[] {
    return (this.db.prepare('SELECT * FROM ldap_sources ORDER BY name').all() as SourceRow[]).map(toSource);
  }

  setWatermark(sourceId: number, watermark: string | null, fullAt: number | null, groupWatermark?: string | null): void {
    if (groupWatermark === undefined) {
      this.db.prepare('UPDATE ldap_sources SET watermark = ?, last_full_at = coalesce(?, last_full_at) WHERE id = ?').run(watermark, fullAt, sourceId);
      return;
    }
    this.db.prepare('UPDATE ldap_sources SET watermark = ?, last_full_at = coalesce(?, last_full_at), group_watermark = ? WHERE id = ?')
      .run(watermark, fullAt, groupWatermark, sourceId);
  }

  recordRun(run: Omit<SyncRunRecord, 'id'>): number {
    return Number(this.db.prepare(`INSERT INTO ldap_sync_runs (source_id, started_at, ended_at, mode, dry_run, added, updated, disabled, groups, error)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(run.sourceId, run.startedAt, run.endedAt, run.mode, run.dryRun ? 1 : 0,
      run.added, run.updated, run.disabled, run.groups, run.error).lastInsertRowid);
  }

  listRuns(sourceId: number, limit = 50): SyncRunRecord[] {
    return (this.db.prepare('SELECT * FROM ldap_sync_runs WHERE source_id = ? ORDER BY id DESC LIMIT ?').all(sourceId, limit) as RunRow[]).map(toRun);
  }

  links(sourceId: number): UserLink[] {
    return (this.db.prepare('SELECT * FROM ldap_user_links WHERE source_id = ?').all(sourceId) as LinkRow[]).map(toLink);
  }

  allLinks(): UserLink[] {
    return (this.db.prepare('SELECT * FROM ldap_user_links').all() as LinkRow[]).map(toLink);
  }

  linkOfUser(userId: number): UserLink | undefined {
    const row = this.db.prepare('SELECT * FROM ldap_user_links WHERE user_id = ?').get(userId) as LinkRow | undefined;
    return row && toLink(row);
  }

  upsertLink(l: UserLink): void {
    this.upsert.run(l.userId, l.sourceId, l.remoteId, l.dn, normalizeDn(l.dn), l.lastSeen, l.vanished ? 1 : 0, l.syncDisabled ? 1 : 0);
  }

  // The lookups of an incremental run: each takes a JSON array (one bound value, whatever its length).
  // CROSS JOIN keeps SQLite starting from the array: without statistics it would rather scan every link.

  linksByRemoteIds(sourceId: number, remoteIds: readonly string[]): UserLink[] {
    if (remoteIds.length === 0) return [];
    return (this.db.prepare('SELECT * FROM ldap_user_links WHERE source_id = ? AND remote_id IN (SELECT value FROM json_each(?))')
      .all(sourceId, JSON.stringify(remoteIds)) as LinkRow[]).map(toLink);
  }

  linksByDnKeys(sourceId: number, dnKeys: readonly string[]): UserLink[] {
    if (dnKeys.length === 0) return [];
    return (this.db.prepare('SELECT * FROM ldap_user_links WHERE source_id = ? AND dn_key IN (SELECT value FROM json_each(?))')
      .all(sourceId, JSON.stringify(dnKeys)) as LinkRow[]).map(toLink);
  }

  linksByUsernames(sourceId: number, usernames: readonly string[]): UserLink[] {
    if (usernames.length === 0) return [];
    return (this.db.prepare(`SELECT l.* FROM json_each(?) j CROSS JOIN users u ON u.username = j.value
      CROSS JOIN ldap_user_links l ON l.user_id = u.id WHERE l.source_id = ?`).all(JSON.stringify(usernames), sourceId) as LinkRow[]).map(toLink);
  }

  linksOfUsers(sourceId: number, userIds: readonly number[]): UserLink[] {
    if (userIds.length === 0) return [];
    return (this.db.prepare('SELECT l.* FROM json_each(?) j CROSS JOIN ldap_user_links l ON l.user_id = j.value WHERE l.source_id = ?')
      .all(JSON.stringify(userIds), sourceId) as LinkRow[]).map(toLink);
  }

  linkedMembers(sourceId: number, groups: readonly string[]): { link: UserLink; username: string; group: string }[] {
    if (groups.length === 0) return [];
    return (this.db.prepare(`SELECT l.*, u.username AS member_username, g.group_name AS member_group FROM json_each(?) j
      CROSS JOIN user_groups g ON g.group_name = j.value CROSS JOIN ldap_user_links l ON l.user_id = g.user_id
      CROSS JOIN users u ON u.id = g.user_id WHERE l.source_id = ?`).all(JSON.stringify(groups), sourceId) as
      (LinkRow & { member_username: string; member_group: string })[])
      .map((r) => ({ link: toLink(r), username: r.member_username, group: r.member_group }));
  }

  countActiveLinks(sourceId: number): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM ldap_user_links l JOIN users u ON u.id = l.user_id
      WHERE l.source_id = ? AND u.enabled = 1`).get(sourceId) as { n: number }).n;
  }

}
