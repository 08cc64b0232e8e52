// Read-only queries the console needs over large tables: a page of users by name prefix
// (the username index, keyset paging), the audit log and the decision log with filters,
// certificates by serial or common name. No writes here.
import type { AuditRow } from './changes.js';
import type { Db } from './db.js';

export interface UserSummary {
  username: string;
  displayName: string | null;
  email: string | null;
  enabled: boolean;
  source: string;
  lockedUntil: number | null;
  accountExpiresAt: number | null;
  groups: string[];
}

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; absent on the last page. */
  nextCursor?: string;
}

export interface AuditFilter {
  actor?: string;
  action?: string;
  target?: string;
  since?: number;
  until?: number;
  /** Rows with a smaller id (newest first paging). */
  before?: number;
  limit: number;
}

export interface DecisionFilter {
  user?: string;
  nas?: string;
  outcome?: 'accept' | 'reject';
  since?: number;
  until?: number;
  before?: number;
  limit: number;
}

export interface DecisionRow {
  id: number; at: number; username: string | null; nas: string; nasAddress: string; callingStationId: string | null;
  method: string | null; outcome: string; reason: string | null; details: Record<string, string> | null;
}

export interface DeviceSummary { mac: string; name: string | null; enabled: boolean; description: string | null }

/** Escapes LIKE wildcards; used with ESCAPE '\'. */
const likePrefix = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';

export class ConsoleQueries {
  constructor(private readonly db: Db) {}

  /**
   * Users whose name starts with `q` (case-insensitive), in name order, after `after`. The
   * column is NOCASE, so LIKE with a constant prefix walks the unique username index.
   */
  searchUsers(q: string, after: string | undefined, limit: number): Page<UserSummary> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q !== '') { where.push("username LIKE ? ESCAPE '\\'"); args.push(likePrefix(q)); }
    if (after !== undefined) { where.push('username > ?'); args.push(after); }
    const rows = this.db.prepare(`SELECT id, username, display_name, email, enabled, source, locked_until, account_expires_at FROM users
      ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY username LIMIT ?`).all(...args, limit + 1) as {
      id: number; username: string; display_name: string | null; email: string | null; enabled: number; source: string;
      locked_until: number | null; account_expires_at: number | null;
    }[];
    const more = rows.length > limit;
    const page = rows.slice(0, limit);
    const groups = new Map<number, string[]>();
    if (page.length > 0) {
      const ids = page.map((r) => r.id);
      const g = this.db.prepare(`SELECT user_id, group_name FROM user_groups WHERE user_id IN (${ids.map(() => '?').join(',')}) ORDER BY group_name`)
        .all(...ids) as { user_id: number; group_name: string }[];
      for (const r of g) groups.set(r.user_id, [...(groups.get(r.user_id) ?? []), r.group_name]);
    }
    const items = page.map((r) => ({
      username: r.username, displayName: r.display_name, email: r.email, enabled: r.enabled === 1, source: r.source,
      lockedUntil: r.locked_until, accountExpiresAt: r.account_expires_at, groups: groups.get(r.id) ?? [],
    }));
    return more ? { items, nextCursor: page[page.length - 1]!.username } : { items };
  }

  devicesOwnedBy(username: string): DeviceSummary[] {
    return (this.db.prepare('SELECT mac, name, enabled, description FROM devices WHERE owner = ? ORDER BY mac').all(username) as
      { mac: string; name: string | null; enabled: number; description: string | null }[])
      .map((r) => ({ mac: r.mac, name: r.name, enabled: r.enabled === 1, description: r.description }));
  }

  audit(f: AuditFilter): AuditRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.actor !== undefined) { where.push('actor = ?'); args.push(f.actor); }
    if (f.action !== undefined) { where.push("action LIKE ? ESCAPE '\\'"); args.push(likePrefix(f.action)); }
    if (f.target !== undefined) { where.push('target = ?'); args.push(f.target); }
    if (f.since !== undefined) { where.push('at >= ?'); args.push(f.since); }
    if (f.until !== undefined) { where.push('at < ?'); args.push(f.until); }
    if (f.before !== undefined) { where.push('id < ?'); args.push(f.before); }
    return this.db.prepare(`SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
      .all(...args, f.limit) as AuditRow[];
  }

  decisions(f: DecisionFilter): DecisionRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.user !== undefined) { where.push('username = ?'); args.push(f.user); }
    if (f.nas !== undefined) { where.push('nas = ?'); args.push(f.nas); }
    if (f.outcome !== undefined) { where.push('outcome = ?'); args.push(f.outcome); }
    if (f.since !== undefined) { where.push('at >= ?'); args.push(f.since); }
    if (f.until !== undefined) { where.push('at < ?'); args.push(f.until); }
    if (f.before !== undefined) { where.push('id < ?'); args.push(f.before); }
    const rows = this.db.prepare(`SELECT * FROM auth_log ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
      .all(...args, f.limit) as {
      id: number; at: number; username: string | null; nas: string; nas_address: string; calling_station_id: string | null;
      method: string | null; outcome: string; reason: string | null; details: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id, at: r.at, username: r.username, nas: r.nas, nasAddress: r.nas_address, callingStationId: r.calling_station_id,
      method: r.method, outcome: r.outcome, reason: r.reason, details: r.details === null ? null : JSON.parse(r.details) as Record<string, string>,
    }));
  }

  /** Serials of certificates whose serial or common name starts with `text` (the serial and CN indexes). */
  certificateSerials(by: { serialPrefix?: string; commonName?: string }, limit: number): string[] {
    if (by.serialPrefix !== undefined) {
      return (this.db.prepare("SELECT serial FROM certificates WHERE serial >= ? AND serial < ? ORDER BY serial LIMIT ?")
        .all(by.serialPrefix, by.serialPrefix + '\u{10FFFF}', limit) as { serial: string }[]).map((r) => r.serial);
    }
    return (this.db.prepare('SELECT serial FROM certificates WHERE common_name = ? ORDER BY issued_at DESC LIMIT ?')
      .all(by.commonName ?? '', limit) as { serial: string }[]).map((r) => r.serial);
  }
}
