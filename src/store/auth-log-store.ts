// SQL behind the decision log: batches appended in one transaction with one 'authlog' change
// row (so one commit, one fsync, per batch), pruned by age, read newest first.
import type { Statement } from 'better-sqlite3';
import type { AuthDecision, DecisionQuery, DecisionStorage, StoredDecision } from '../core/auth-log.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface DecisionRow {
  id: number; at: number; username: string | null; nas: string; nas_address: string; calling_station_id: string | null;
  method: string | null; outcome: string; reason: string | null; details: string | null;
}

const toDecision = (r: DecisionRow): StoredDecision => ({
  id: r.id, at: r.at, nas: r.nas, nasAddress: r.nas_address, outcome: r.outcome as StoredDecision['outcome'],
  ...(r.username !== null ? { username: r.username } : {}),
  ...(r.calling_station_id !== null ? { callingStationId: r.calling_station_id } : {}),
  ...(r.method !== null ? { method: r.method } : {}),
  ...(r.reason !== null ? { reason: r.reason } : {}),
  ...(r.details !== null ? { details: JSON.parse(r.details) as Record<string, string> } : {}),
});

export class SqliteAuthLogStore implements DecisionStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly prune: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO auth_log (at, username, nas, nas_address, calling_station_id, method, outcome, reason, details)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.prune = db.prepare('DELETE FROM auth_log WHERE at < ?');
  }

  appendDecisions(rows: readonly AuthDecision[]): void {
    if (rows.length === 0) return;
    this.db.transaction(() => {
      let last = 0;
      for (const d of rows) {
        const details = d.details && Object.keys(d.details).length > 0 ? JSON.stringify(d.details) : null;
        last = Number(this.insert.run(d.at, d.username ?? null, d.nas, d.nasAddress, d.callingStationId ?? null, d.method ?? null,
          d.outcome, d.reason ?? null, details).lastInsertRowid);
      }
      this.changes.record('authlog', String(last));
    }).immediate();
  }

  pruneDecisions(before: number): number {
    return this.db.transaction(() => {
      const n = this.prune.run(before).changes;
      if (n > 0) this.changes.record('authlog', `pruned:${n}`);
      return n;
    }).immediate();
  }

  listDecisions(query: DecisionQuery = {}): StoredDecision[] {
    const byUser = query.user !== undefined;
    const sql = `SELECT * FROM auth_log ${byUser ? 'WHERE username = ?' : ''} ORDER BY id DESC LIMIT ?`;
    const args: unknown[] = byUser ? [query.user, query.limit ?? 50] : [query.limit ?? 50];
    return (this.db.prepare(sql).all(...args) as DecisionRow[]).map(toDecision);
  }
}
