// Read-only queries the console needs over large tables: a page of users by name prefix
// (the username index, keyset paging), the audit log and the decision log with filters and
// time windows, pages of certificates by user, serial prefix, common name and status (keyset
// paging over the indexes of migration 15). Measured in bench/console-lists.mjs. No writes here.
import { AppError } from '../core/errors.js';
import type { AuditRow } from './changes.js';
import type { Db } from './db.js';
import { certStatusCondition } from './pki-store.js';

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
  /** pap, chap, mschapv2, eap-tls, peap, ttls, mab: like the result, no index of its own. */
  method?: string;
  since?: number;
  until?: number;
  before?: number;
  limit: number;
}

export interface DecisionRow {
  id: number; at: number; username: string | null; nas: string; nasAddress: string; callingStationId: string | null;
  method: string | null; outcome: string; reason: string | null; details: Record<string, string> | null;
}

export interface CertFilter {
  user?: string;
  serialPrefix?: string;
  commonName?: string;
  status?: 'valid' | 'revoked' | 'expired' | 'hold';
  now: number;
  /** The previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

export interface DeviceSummary { mac: string; name: string | null; enabled: boolean; description: string | null }

/** Escapes LIKE wildcards; used with ESCAPE '\'. */
const likePrefix = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';

/** Index entries counted, at most, to choose how a time window is read (see timeWindowByIndex). */
const WINDOW_PROBE = 20_000;

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
    if (f.before !== undefined) { where.push('id < ?'); args.push(f.before); }
    return this.newestFirst('audit', 'audit_at', where, args, f.actor === undefined && f.target === undefined, f) as AuditRow[];
  }

  decisions(f: DecisionFilter): DecisionRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.user !== undefined) { where.push('username = ?'); args.push(f.user); }
    if (f.nas !== undefined) { where.push('nas = ?'); args.push(f.nas); }
    if (f.outcome !== undefined) { where.push('outcome = ?'); args.push(f.outcome); }
    if (f.method !== undefined) { where.push('method = ?'); args.push(f.method); }
    if (f.before !== undefined) { where.push('id < ?'); args.push(f.before); }
    const rows = this.newestFirst('auth_log', 'auth_log_at', where, args, f.user === undefined && f.nas === undefined, f) as {
      id: number; at: number; username: string | null; nas: string; nas_address: string; calling_station_id: string | null;
      method: string | null; outcome: string; reason: string | null; details: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id, at: r.at, username: r.username, nas: r.nas, nasAddress: r.nas_address, callingStationId: r.calling_station_id,
      method: r.method, outcome: r.outcome, reason: r.reason, details: r.details === null ? null : JSON.parse(r.details) as Record<string, string>,
    }));
  }

  /**
   * A page of rows newest first (id descending), in the time window [since, until). With a filter
   * that has an index ordered by id (user, client; actor, target), that index is walked and the
   * time checked on the way ('+at' keeps the planner off the `at` index, which would sort the
   * whole window). Otherwise (no filter, or only result / action) see timeWindowByIndex.
   */
  private newestFirst(table: 'audit' | 'auth_log', atIndex: string, where: string[], args: unknown[], noIndexedFilter: boolean,
    f: { since?: number; until?: number; before?: number; limit: number }): unknown[] {
    const window: string[] = [];
    const windowArgs: unknown[] = [];
    if (f.since !== undefined) { window.push('at >= ?'); windowArgs.push(f.since); }
    if (f.until !== undefined) { window.push('at < ?'); windowArgs.push(f.until); }
    if (noIndexedFilter && window.length > 0 && this.timeWindowByIndex(table, atIndex, window, windowArgs, f.until)) {
      const all = [...window, ...where];
      return this.db.prepare(`SELECT * FROM ${table} WHERE id IN (SELECT id FROM ${table} INDEXED BY ${atIndex}
        WHERE ${all.join(' AND ')} ORDER BY id DESC LIMIT ?) ORDER BY id DESC`).all(...windowArgs, ...args, f.limit);
    }
    const all = [...window.map((w) => `+${w}`), ...where];
    return this.db.prepare(`SELECT * FROM ${table} ${all.length ? 'WHERE ' + all.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
      .all(...windowArgs, ...args, f.limit);
  }

  /**
   * Whether a page of a time window is cheaper read from the `at` index (every entry of the window,
   * the newest kept) than by walking ids down from the newest (every row newer than the window
   * passed first). Both counted in the `at` index (covering: no row read), the window up to
   * WINDOW_PROBE entries, the newer rows only up to the window's count; `before` is left out, so
   * every page of one query tends to take the same road.
   */
  private timeWindowByIndex(table: string, atIndex: string, window: string[], windowArgs: unknown[], until: number | undefined): boolean {
    const count = (conds: string[], condArgs: unknown[], cap: number): number => (this.db.prepare(`SELECT count(*) AS n FROM
      (SELECT 1 FROM ${table} INDEXED BY ${atIndex} WHERE ${conds.join(' AND ')} LIMIT ?)`).get(...condArgs, cap) as { n: number }).n;
    if (until === undefined) return false;
    const inWindow = count(window, windowArgs, WINDOW_PROBE);
    return count(['at >= ?'], [until], inWindow) >= inWindow;
  }

  /**
   * A page of certificate serials, newest first ((issued_at, serial) descending), or in serial
   * order for a serial prefix; every filter combines. Keyset paging: the cursor is the last row's
   * sort key, so a deep page reads only its own rows from one index (migration 15).
   */
  certificatePage(f: CertFilter): Page<string> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.user !== undefined) { where.push('username = ?'); args.push(f.user); }
    if (f.commonName !== undefined) { where.push('common_name = ?'); args.push(f.commonName); }
    if (f.status !== undefined) { const c = certStatusCondition(f.status, f.now); where.push(c.sql); args.push(...c.args); }
    const bySerial = f.serialPrefix !== undefined;
    if (bySerial) { where.push('serial >= ? AND serial < ?'); args.push(f.serialPrefix, f.serialPrefix + '\u{10FFFF}'); }
    if (f.cursor !== undefined) {
      if (bySerial) { where.push('serial > ?'); args.push(f.cursor); } else {
        const m = /^(\d{1,15})\.([0-9a-f]{1,40})$/.exec(f.cursor);
        if (!m) throw new AppError('BAD_INPUT', 'the cursor does not belong to this list');
        where.push('(issued_at, serial) < (?, ?)'); args.push(Number(m[1]), m[2]);
      }
    }
    const rows = this.db.prepare(`SELECT serial, issued_at FROM certificates ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY ${bySerial ? 'serial' : 'issued_at DESC, serial DESC'} LIMIT ?`).all(...args, f.limit + 1) as { serial: string; issued_at: number }[];
    const page = rows.slice(0, f.limit);
    const last = page[page.length - 1];
    const items = page.map((r) => r.serial);
    return rows.length > f.limit && last ? { items, nextCursor: bySerial ? last.serial : `${last.issued_at}.${last.serial}` } : { items };
  }
}
