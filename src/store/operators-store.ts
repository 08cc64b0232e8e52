// SQL behind console operators, their sessions and API tokens. Each write is one
// transaction with an 'operator' change row and an audit row; no hash, secret, session id
// or token ever goes into either.
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import {
  BOOTSTRAP_OPERATOR, type OperatorRecord, type OperatorRole, type OperatorStorage, type SessionRecord, type TokenRecord, type TotpState,
} from '../core/operators.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface OperatorRow {
  id: number; username: string; password_hash: string; role: string; totp_sealed: Buffer | null; totp_pending: Buffer | null;
  totp_last_step: number | null; enabled: number; failed_count: number; failed_since: number | null; locked_until: number | null;
  created_at: number; updated_at: number;
}
interface SessionRow { id_hash: string; operator_id: number; csrf_token: string; created_at: number; last_seen_at: number; client: string | null }
interface TokenRow { id: number; operator_id: number; name: string; created_at: number; last_used_at: number | null; revoked_at: number | null }

const toOperator = (r: OperatorRow): OperatorRecord => ({
  id: r.id, username: r.username, passwordHash: r.password_hash, role: r.role as OperatorRole, totpSealed: r.totp_sealed,
  totpPending: r.totp_pending, totpLastStep: r.totp_last_step, enabled: r.enabled === 1, failedCount: r.failed_count,
  failedSince: r.failed_since, lockedUntil: r.locked_until, createdAt: r.created_at, updatedAt: r.updated_at,
});
const toSession = (r: SessionRow): SessionRecord => ({
  idHash: r.id_hash, operatorId: r.operator_id, csrfToken: r.csrf_token, createdAt: r.created_at, lastSeenAt: r.last_seen_at, client: r.client,
});
const toToken = (r: TokenRow): TokenRecord => ({
  id: r.id, operatorId: r.operator_id, name: r.name, createdAt: r.created_at, lastUsedAt: r.last_used_at, revokedAt: r.revoked_at,
});

export const BOOTSTRAP_SETTING = 'admin.bootstrap';

export class SqliteOperatorStore implements OperatorStorage {
  private readonly changes: ChangeLog;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
  }

  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private nameOf(id: number): string {
    const row = this.db.prepare('SELECT username FROM operators WHERE id = ?').get(id) as { username: string } | undefined;
    if (!row) throw new AppError('NOT_FOUND', 'no such operator');
    return row.username;
  }

  insertOperator(row: { username: string; passwordHash: string; role: OperatorRole; at: number }, by: Actor): OperatorRecord {
    return this.write(() => {
      if (this.findOperator(row.username)) throw new AppError('CONFLICT', `operator "${row.username}" already exists`);
      const id = Number(this.db.prepare(`INSERT INTO operators (username, password_hash, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`)
        .run(row.username, row.passwordHash, row.role, row.at, row.at).lastInsertRowid);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, 'operator.add', row.username, { role: row.role });
      return this.operatorById(id)!;
    });
  }

  adoptBootstrap(at: number, by: Actor): boolean {
    // Read first without a write lock: the common case is that there is nothing to do.
    const pending = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(BOOTSTRAP_SETTING) as { value: string } | undefined;
    if (!pending) return false;
    return this.write(() => {
      const hash = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(BOOTSTRAP_SETTING) as { value: string } | undefined;
      if (!hash) return false;
      this.db.prepare('DELETE FROM settings WHERE key = ?').run(BOOTSTRAP_SETTING);
      const count = (this.db.prepare('SELECT count(*) AS n FROM operators').get() as { n: number }).n;
      if (count > 0) {
        this.changes.record('settings', BOOTSTRAP_SETTING);
        this.changes.audit(by.actor, by.source, 'operator.bootstrap_discarded', BOOTSTRAP_SETTING, { reason: 'operators exist' });
        return false;
      }
      const id = Number(this.db.prepare(`INSERT INTO operators (username, password_hash, role, created_at, updated_at) VALUES (?, ?, 'admin', ?, ?)`)
        .run(BOOTSTRAP_OPERATOR, hash.value, at, at).lastInsertRowid);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, 'operator.bootstrap', BOOTSTRAP_OPERATOR, { role: 'admin' });
      return true;
    });
  }

  findOperator(username: string): OperatorRecord | undefined {
    const r = this.db.prepare('SELECT * FROM operators WHERE username = ?').get(username) as OperatorRow | undefined;
    return r && toOperator(r);
  }

  operatorById(id: number): OperatorRecord | undefined {
    const r = this.db.prepare('SELECT * FROM operators WHERE id = ?').get(id) as OperatorRow | undefined;
    return r && toOperator(r);
  }

  listOperators(): OperatorRecord[] {
    return (this.db.prepare('SELECT * FROM operators ORDER BY username').all() as OperatorRow[]).map(toOperator);
  }

  private endSessions(id: number): number {
    return this.db.prepare('DELETE FROM operator_sessions WHERE operator_id = ?').run(id).changes;
  }

  setPassword(id: number, passwordHash: string, at: number, by: Actor): void {
    this.write(() => {
      const name = this.nameOf(id);
      this.db.prepare('UPDATE operators SET password_hash = ?, failed_count = 0, failed_since = NULL, locked_until = NULL, updated_at = ? WHERE id = ?')
        .run(passwordHash, at, id);
      const ended = this.endSessions(id);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, 'operator.passwd', name, { sessionsEnded: ended });
    });
  }

  setEnabled(id: number, enabled: boolean, at: number, by: Actor): void {
    this.write(() => {
      const name = this.nameOf(id);
      this.db.prepare('UPDATE operators SET enabled = ?, updated_at = ? WHERE id = ?').run(enabled ? 1 : 0, at, id);
      const ended = enabled ? 0 : this.endSessions(id);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, enabled ? 'operator.enable' : 'operator.disable', name, enabled ? undefined : { sessionsEnded: ended });
    });
  }

  setTotp(id: number, state: TotpState, at: number, by: Actor, action: string): void {
    this.write(() => {
      const name = this.nameOf(id);
      this.db.prepare('UPDATE operators SET totp_sealed = ?, totp_pending = ?, totp_last_step = ?, updated_at = ? WHERE id = ?')
        .run(state.totpSealed, state.totpPending, state.totpLastStep, at, id);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, action, name);
    });
  }

  recordFailure(id: number, count: number, since: number, lockedUntil: number | null, at: number, by: Actor): void {
    this.write(() => {
      const name = this.nameOf(id);
      this.db.prepare('UPDATE operators SET failed_count = ?, failed_since = ?, locked_until = ? WHERE id = ?')
        .run(count, since, lockedUntil ?? null, id);
      this.changes.record('operator', String(id));
      this.changes.audit(by.actor, by.source, 'operator.login_failed', name);
      if (lockedUntil !== null) this.changes.audit('system', 'system', 'operator.lock', name, { until: lockedUntil });
    });
  }

  insertSession(s: SessionRecord, totpLastStep: number | null, by: Actor): void {
    this.write(() => {
      const name = this.nameOf(s.operatorId);
      this.db.prepare('INSERT INTO operator_sessions (id_hash, operator_id, csrf_token, created_at, last_seen_at, client) VALUES (?, ?, ?, ?, ?, ?)')
        .run(s.idHash, s.operatorId, s.csrfToken, s.createdAt, s.lastSeenAt, s.client);
      this.db.prepare('UPDATE operators SET failed_count = 0, failed_since = NULL, locked_until = NULL, totp_last_step = ? WHERE id = ?')
        .run(totpLastStep, s.operatorId);
      this.changes.record('operator', String(s.operatorId));
      this.changes.audit(by.actor, by.source, 'operator.login', name);
    });
  }

  findSession(idHash: string): SessionRecord | undefined {
    const r = this.db.prepare('SELECT * FROM operator_sessions WHERE id_hash = ?').get(idHash) as SessionRow | undefined;
    return r && toSession(r);
  }

  /** Not audited, no change row: the time of last use is bookkeeping, not configuration. */
  touchSession(idHash: string, at: number): void {
    this.db.prepare('UPDATE operator_sessions SET last_seen_at = ? WHERE id_hash = ?').run(at, idHash);
  }

  deleteSession(idHash: string, by: Actor, action: string): void {
    this.write(() => {
      const row = this.db.prepare('SELECT operator_id FROM operator_sessions WHERE id_hash = ?').get(idHash) as { operator_id: number } | undefined;
      if (!row) return;
      this.db.prepare('DELETE FROM operator_sessions WHERE id_hash = ?').run(idHash);
      this.changes.record('operator', String(row.operator_id));
      this.changes.audit(by.actor, by.source, action, this.nameOf(row.operator_id));
    });
  }

  insertToken(operatorId: number, name: string, tokenHash: string, at: number, by: Actor): void {
    this.write(() => {
      const op = this.nameOf(operatorId);
      this.db.prepare('INSERT INTO operator_tokens (operator_id, name, token_hash, created_at) VALUES (?, ?, ?, ?)').run(operatorId, name, tokenHash, at);
      this.changes.record('operator', String(operatorId));
      this.changes.audit(by.actor, by.source, 'operator.token_add', op, { name });
    });
  }

  findToken(tokenHash: string): TokenRecord | undefined {
    const r = this.db.prepare('SELECT id, operator_id, name, created_at, last_used_at, revoked_at FROM operator_tokens WHERE token_hash = ?')
      .get(tokenHash) as TokenRow | undefined;
    return r && toToken(r);
  }

  touchToken(id: number, at: number): void {
    this.db.prepare('UPDATE operator_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  revokeToken(operatorId: number, name: string, at: number, by: Actor): boolean {
    return this.write(() => {
      const op = this.nameOf(operatorId);
      const n = this.db.prepare('UPDATE operator_tokens SET revoked_at = ? WHERE operator_id = ? AND name = ? AND revoked_at IS NULL')
        .run(at, operatorId, name).changes;
      if (n === 0) return false;
      this.changes.record('operator', String(operatorId));
      this.changes.audit(by.actor, by.source, 'operator.token_revoke', op, { name });
      return true;
    });
  }

  listTokens(operatorId: number): TokenRecord[] {
    return (this.db.prepare('SELECT id, operator_id, name, created_at, last_used_at, revoked_at FROM operator_tokens WHERE operator_id = ? ORDER BY id')
      .all(operatorId) as TokenRow[]).map(toToken);
  }
}
