// The change feed's table and the audit log: both written inside the caller's transaction.
import { currentAuditContext } from '../core/audit-context.js';
import type { Db } from './db.js';

export type ChangeKind = 'ca' | 'cert' | 'crl' | 'settings' | 'user' | 'nas' | 'policy' | 'acct' | 'authlog' | 'device' | 'operator' | 'coa';

export interface ChangeRow {
  seq: number;
  kind: ChangeKind;
  ref: string;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  source: string;
  action: string;
  target: string | null;
  detail: string | null;
}

export class ChangeLog {
  private readonly append: import('better-sqlite3').Statement;
  private readonly since: import('better-sqlite3').Statement;
  private readonly latest: import('better-sqlite3').Statement;
  private readonly auditInsert: import('better-sqlite3').Statement;

  constructor(private readonly db: Db) {
    this.append = db.prepare('INSERT INTO changes (kind, ref, at) VALUES (?, ?, ?)');
    // Pages of 500: a feed that reads a burst (a directory sync's 10,000 users) takes it a page
    // (or what its time budget allows, see core/change-feed.ts) per turn of the event loop, so
    // RADIUS on the same thread answers in between.
    this.since = db.prepare('SELECT seq, kind, ref FROM changes WHERE seq > ? ORDER BY seq LIMIT 500');
    this.latest = db.prepare('SELECT coalesce(max(seq), 0) AS seq FROM changes');
    this.auditInsert = db.prepare(
      'INSERT INTO audit (at, actor, source, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)',
    );
  }

  record(kind: ChangeKind, ref: string): void {
    this.append.run(kind, ref, Date.now());
  }

  changesSince(seq: number): ChangeRow[] {
    return this.since.all(seq) as ChangeRow[];
  }

  latestSeq(): number {
    return (this.latest.get() as { seq: number }).seq;
  }

  audit(actor: string, source: string, action: string, target: string | null, detail?: unknown): void {
    // An API request's client address joins the detail (see core/audit-context.ts).
    const client = currentAuditContext()?.client;
    const full = client === undefined ? detail
      : detail !== null && typeof detail === 'object' && !Array.isArray(detail) ? { ...(detail as object), client } : { client, ...(detail === undefined ? {} : { detail }) };
    this.auditInsert.run(Date.now(), actor, source, action, target, full === undefined ? null : JSON.stringify(full));
  }

  /** Audit rows after `id`, oldest first: the daemon forwards them to the audit log stream. */
  auditSince(id: number, limit = 1000): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?').all(id, limit) as AuditRow[];
  }

  latestAuditId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS id FROM audit').get() as { id: number }).id;
  }

  listAudit(limit = 100): AuditRow[] {
    return this.db.prepare('SELECT * FROM audit ORDER BY id DESC LIMIT ?').all(limit) as AuditRow[];
  }
}
