// SQL behind Dynamic Authorization (RFC 5176): the audit rows that withdraw access (the
// CoA engine's triggers), the open sessions they concern, and one row per Disconnect
// exchange, written with a 'coa' change row and an audit row (a system action).
import type { Statement } from 'better-sqlite3';
import type { AccountingSession } from '../core/accounting.js';
import {
  COA_REASONS, type CoaOutcome, type CoaQuery, type CoaReason, type CoaRequestRecord, type CoaStorage, type CoaTrigger, type NewCoaRequest,
} from '../core/coa.js';
import { SqliteAccountingStore } from './accounting-store.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface CoaRow {
  id: number; nas: string; target: string; session_id: string; username: string | null; serial: string | null; reason: string;
  attempts: number; outcome: string; error_cause: number | null; detail: string | null; requested_at: number; completed_at: number;
}

const toRecord = (r: CoaRow): CoaRequestRecord => ({
  id: r.id, nas: r.nas, target: r.target, sessionId: r.session_id, username: r.username, serial: r.serial, reason: r.reason as CoaReason,
  attempts: r.attempts, outcome: r.outcome as CoaOutcome, errorCause: r.error_cause, detail: r.detail, requestedAt: r.requested_at,
  completedAt: r.completed_at,
});

/** The engine's own actor in the audit log. */
const COA_ACTOR = { actor: 'coa', source: 'system' } as const;
/** settings key: the audit id up to which Disconnect-Requests were planned (core/coa.ts CoaEngine). */
const WATERMARK_KEY = 'coa.auditWatermark';

export class SqliteCoaStore implements CoaStorage {
  private readonly changes: ChangeLog;
  private readonly accounting: SqliteAccountingStore;
  private readonly maxAudit: Statement;
  private readonly triggers: Statement;
  private readonly insert: Statement;
  private readonly byId: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.accounting = new SqliteAccountingStore(db);
    this.maxAudit = db.prepare('SELECT coalesce(max(id), 0) AS id FROM audit');
    this.triggers = db.prepare(`SELECT id, action, target, source FROM audit
      WHERE id > ? AND id <= ? AND action IN (${COA_REASONS.map(() => '?').join(', ')}) AND target IS NOT NULL ORDER BY id LIMIT ?`);
    this.insert = db.prepare(`INSERT INTO coa_requests (nas, target, session_id, username, serial, reason, attempts, outcome, error_cause,
        detail, requested_at, completed_at)
      VALUES (@nas, @target, @session_id, @username, @serial, @reason, @attempts, @outcome, @error_cause, @detail, @requested_at, @completed_at)`);
    this.byId = db.prepare('SELECT * FROM coa_requests WHERE id = ?');
  }

  savedWatermark(): number | undefined {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(WATERMARK_KEY) as { value: string } | undefined;
    return row === undefined ? undefined : Number(row.value);
  }

  /** No change row: the mark is the engine's own bookkeeping, nothing another process reacts to. */
  saveWatermark(auditId: number): void {
    this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(WATERMARK_KEY, String(auditId));
  }

  latestAuditId(): number {
    return (this.maxAudit.get() as { id: number }).id;
  }

  triggersSince(auditId: number, limit: number): { triggers: CoaTrigger[]; upTo: number } {
    const max = this.latestAuditId();
    const rows = this.triggers.all(auditId, max, ...COA_REASONS, limit) as { id: number; action: string; target: string; source: string }[];
    const triggers = rows.map((r) => ({ auditId: r.id, reason: r.action as CoaReason, target: r.target, source: r.source }));
    return { triggers, upTo: rows.length === limit ? rows[rows.length - 1]!.id : max };
  }

  openSessionsOf(names: readonly string[]): AccountingSession[] {
    // acct_sessions.username is COLLATE NOCASE: one indexed lookup per name.
    const seen = new Set<number>();
    const out: AccountingSession[] = [];
    for (const name of names) {
      for (const s of this.accounting.listSessions({ user: name, open: true, limit: 1000 })) {
        if (!seen.has(s.id)) {
          seen.add(s.id);
          out.push(s);
        }
      }
    }
    return out;
  }

  recordCoa(row: NewCoaRequest): CoaRequestRecord {
    return this.db.transaction(() => {
      const id = Number(this.insert.run({
        nas: row.nas, target: row.target, session_id: row.sessionId, username: row.username, serial: row.serial, reason: row.reason,
        attempts: row.attempts, outcome: row.outcome, error_cause: row.errorCause, detail: row.detail, requested_at: row.requestedAt,
        completed_at: row.completedAt,
      }).lastInsertRowid);
      this.changes.record('coa', String(id));
      this.changes.audit(COA_ACTOR.actor, COA_ACTOR.source, 'coa.disconnect', row.username, {
        nas: row.nas, target: row.target, acctSessionId: row.sessionId, reason: row.reason, ...(row.serial ? { serial: row.serial } : {}),
        outcome: row.outcome, attempts: row.attempts, ...(row.errorCause !== null ? { errorCause: row.errorCause } : {}),
        ...(row.detail ? { detail: row.detail } : {}),
      });
      return toRecord(this.byId.get(id) as CoaRow);
    }).immediate();
  }

  listCoa(query: CoaQuery): CoaRequestRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.username !== undefined) {
      where.push('username = ?');
      args.push(query.username);
    }
    if (query.since !== undefined) {
      where.push('requested_at >= ?');
      args.push(query.since);
    }
    args.push(query.limit ?? 100);
    const sql = `SELECT * FROM coa_requests ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args) as CoaRow[]).map(toRecord);
  }
}
