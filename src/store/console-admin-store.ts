// SQL for the console's own administration beyond core/operators.ts: every live session
// (to end one from the console) and the narrower role an API token may carry (migration 16).
// Writes are one transaction with an 'operator' change row and an audit row; no session id,
// its hash, or a token ever goes into either.
import type { Actor } from '../core/actor.js';
import type { OperatorRole } from '../core/operators.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

export interface OperatorSessionRow {
  idHash: string;
  operatorId: number;
  username: string;
  role: OperatorRole;
  createdAt: number;
  lastSeenAt: number;
  client: string | null;
}

export class ConsoleAdminStore {
  private readonly changes: ChangeLog;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
  }

  /** Runs fn in one immediate transaction (nested writes become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  listSessions(): OperatorSessionRow[] {
    return (this.db.prepare(`SELECT s.id_hash, s.operator_id, o.username, o.role, s.created_at, s.last_seen_at, s.client
      FROM operator_sessions s JOIN operators o ON o.id = s.operator_id ORDER BY s.last_seen_at DESC`).all() as {
      id_hash: string; operator_id: number; username: string; role: string; created_at: number; last_seen_at: number; client: string | null;
    }[]).map((r) => ({
      idHash: r.id_hash, operatorId: r.operator_id, username: r.username, role: r.role as OperatorRole, createdAt: r.created_at,
      lastSeenAt: r.last_seen_at, client: r.client,
    }));
  }

  /** Ends one session; false when it was already gone. */
  endSession(idHash: string, by: Actor): boolean {
    return this.transaction(() => {
      const row = this.db.prepare('SELECT s.operator_id, o.username FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id_hash = ?')
        .get(idHash) as { operator_id: number; username: string } | undefined;
      if (!row) return false;
      this.db.prepare('DELETE FROM operator_sessions WHERE id_hash = ?').run(idHash);
      this.changes.record('operator', String(row.operator_id));
      this.changes.audit(by.actor, by.source, 'operator.session_end', row.username);
      return true;
    });
  }

  /** Narrows a live token of the operator to `role` (called in the transaction that made it). */
  setTokenRole(operatorId: number, name: string, role: OperatorRole, by: Actor): void {
    this.transaction(() => {
      const op = this.db.prepare('SELECT username FROM operators WHERE id = ?').get(operatorId) as { username: string } | undefined;
      const n = this.db.prepare('UPDATE operator_tokens SET role = ? WHERE operator_id = ? AND name = ? AND revoked_at IS NULL').run(role, operatorId, name).changes;
      if (n === 0 || !op) return;
      this.changes.record('operator', String(operatorId));
      this.changes.audit(by.actor, by.source, 'operator.token_role', op.username, { name, role });
    });
  }

  /** The role a token is narrowed to, by the token's SHA-256; undefined: its operator's own. */
  tokenRole(tokenHash: string): OperatorRole | undefined {
    const r = this.db.prepare('SELECT role FROM operator_tokens WHERE token_hash = ?').get(tokenHash) as { role: string | null } | undefined;
    return (r?.role ?? undefined) as OperatorRole | undefined;
  }

  /** Token id to narrowed role, for the operator's token list. */
  tokenRoles(operatorId: number): Map<number, OperatorRole> {
    const rows = this.db.prepare('SELECT id, role FROM operator_tokens WHERE operator_id = ? AND role IS NOT NULL').all(operatorId) as { id: number; role: string }[];
    return new Map(rows.map((r) => [r.id, r.role as OperatorRole]));
  }
}
