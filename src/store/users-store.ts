// SQL behind the users engine's storage interface. Each write is one transaction that
// also appends a 'user' change row and an audit row. No secret goes into an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import type { UserOtpState } from '../core/user-otp.js';
import type { ExternalUserRow, NewUserRow, ProfileChange, SealedPasswords, UserRecord, UserStorage } from '../core/users.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface UserRow {
  id: number; username: string; password_hash: string | null; nt_hash_sealed: Buffer | null;
  chap_password_sealed: Buffer | null; enabled: number; source: string; created_at: number; updated_at: number; groups: string | null;
  display_name: string | null; email: string | null; account_expires_at: number | null; password_changed_at: number | null;
  locked_until: number | null;
  otp_sealed: Buffer | null; otp_pending: Buffer | null; otp_last_step: number | null; otp_enrolled_at: number | null;
}

/** Earlier password hashes kept for the reuse rule; more than any policy may ask for. */
export const PASSWORD_HISTORY_KEPT = 24;

// Groups joined with a separator no group name can hold (control characters are refused).
const GROUP_SEPARATOR = '\u001f';
const SELECT_USERS = `SELECT u.*, (SELECT group_concat(group_name, char(31)) FROM
  (SELECT group_name FROM user_groups g WHERE g.user_id = u.id ORDER BY group_name)) AS groups FROM users u`;

const toUser = (r: UserRow): UserRecord => ({
  id: r.id, username: r.username, passwordHash: r.password_hash, ntHashSealed: r.nt_hash_sealed,
  chapPasswordSealed: r.chap_password_sealed,
  enabled: r.enabled === 1, source: r.source, groups: r.groups ? r.groups.split(GROUP_SEPARATOR) : [],
  createdAt: r.created_at, updatedAt: r.updated_at,
  displayName: r.display_name, email: r.email, accountExpiresAt: r.account_expires_at, passwordChangedAt: r.password_changed_at,
  lockedUntil: r.locked_until,
  otpSealed: r.otp_sealed, otpPending: r.otp_pending, otpLastStep: r.otp_last_step, otpEnrolledAt: r.otp_enrolled_at,
});

export class SqliteUserStore implements UserStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly insertGroup: Statement;
  private readonly seal: Statement;
  private readonly byName: Statement;
  private readonly byId: Statement;
  private readonly all: Statement;
  private readonly takeStep: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO users (username, password_hash, enabled, source, created_at, updated_at,
      display_name, email, account_expires_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.insertGroup = db.prepare('INSERT OR IGNORE INTO user_groups (user_id, group_name) VALUES (?, ?)');
    this.seal = db.prepare('UPDATE users SET nt_hash_sealed = ?, chap_password_sealed = ? WHERE id = ?');
    this.byName = db.prepare(`${SELECT_USERS} WHERE u.username = ?`);
    this.byId = db.prepare(`${SELECT_USERS} WHERE u.id = ?`);
    this.all = db.prepare(`${SELECT_USERS} ORDER BY u.username`);
    this.takeStep = db.prepare(`UPDATE users SET otp_last_step = ? WHERE id = ? AND otp_sealed IS NOT NULL
      AND (otp_last_step IS NULL OR otp_last_step < ?)`);
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertUser(row: NewUserRow, sealPasswords: (id: number) => SealedPasswords, by: Actor): UserRecord {
    return this.tx(() => {
      let id: number;
      try {
        id = this.insertRow(row.username, row.passwordHash, row.enabled, 'local', row);
      } catch (e) {
        throw uniqueToExists(e, row.username);
      }
      const sealed = sealPasswords(id);
      this.seal.run(sealed.ntHash, sealed.chapPassword, id);
      for (const group of row.groups) this.insertGroup.run(id, group);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.add', row.username, {
        groups: row.groups, enabled: row.enabled, chap: sealed.chapPassword !== null, ...profileDetail(row),
      });
      return toUser(this.byId.get(id) as UserRow);
    });
  }

  /**
   * Directory users in one transaction, ids in order: a first sync adds thousands, and one
   * savepoint and read-back per user was a third of its run. A taken name is USER_EXISTS.
   */
  insertExternalUsers(rows: readonly ExternalUserRow[], by: Actor): number[] {
    return this.tx(() => rows.map((row) => {
      let id: number;
      try {
        id = this.insertRow(row.username, null, row.enabled, row.source, row);
      } catch (e) {
        throw uniqueToExists(e, row.username);
      }
      for (const group of row.groups) this.insertGroup.run(id, group);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.add', row.username, {
        groups: row.groups, enabled: row.enabled, source: row.source, ...profileDetail(row),
      });
      return id;
    }));
  }

  setGroups(id: number, groups: readonly string[], at: number, by: Actor): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      this.db.prepare('DELETE FROM user_groups WHERE user_id = ?').run(id);
      for (const group of groups) this.insertGroup.run(id, group);
      this.db.prepare('UPDATE users SET updated_at = ? WHERE id = ?').run(at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.groups', username, { groups });
    });
  }

  updateProfile(id: number, change: ProfileChange, at: number, by: Actor): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      const columns: [string, string | number | null][] = [];
      if (change.displayName !== undefined) columns.push(['display_name', change.displayName]);
      if (change.email !== undefined) columns.push(['email', change.email]);
      if (change.accountExpiresAt !== undefined) columns.push(['account_expires_at', change.accountExpiresAt]);
      if (columns.length === 0) return;
      this.db.prepare(`UPDATE users SET ${columns.map(([c]) => `${c} = ?`).join(', ')}, updated_at = ? WHERE id = ?`)
        .run(...columns.map(([, v]) => v), at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.update', username, profileDetail(change));
    });
  }

  setLockedUntil(id: number, until: number | null, at: number, by: Actor, detail?: Record<string, unknown>): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      this.db.prepare('UPDATE users SET locked_until = ?, updated_at = ? WHERE id = ?').run(until, at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, until === null ? 'user.unlock' : 'user.lock', username,
        until === null ? detail : { until: new Date(until).toISOString(), ...detail });
    });
  }

  passwordHistory(id: number, n: number): string[] {
    if (n <= 0) return [];
    return (this.db.prepare('SELECT password_hash AS h FROM user_password_history WHERE user_id = ? ORDER BY changed_at DESC, rowid DESC LIMIT ?')
      .all(id, n) as { h: string }[]).map((r) => r.h);
  }

  private insertRow(username: string, passwordHash: string | null, enabled: boolean, source: string,
    row: { at: number; displayName?: string | null; email?: string | null; accountExpiresAt?: number | null }): number {
    return Number(this.insert.run(username, passwordHash, enabled ? 1 : 0, source, row.at, row.at, row.displayName ?? null, row.email ?? null,
      row.accountExpiresAt ?? null, passwordHash === null ? null : row.at).lastInsertRowid);
  }

  updatePassword(id: number, passwordHash: string, sealed: SealedPasswords, at: number, by: Actor, options: { reset?: boolean } = {}): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      const old = this.db.prepare('SELECT password_hash AS h, password_changed_at AS t FROM users WHERE id = ?').get(id) as { h: string | null; t: number | null };
      if (old.h) {
        this.db.prepare('INSERT INTO user_password_history (user_id, password_hash, changed_at) VALUES (?, ?, ?)').run(id, old.h, old.t ?? at);
        this.db.prepare(`DELETE FROM user_password_history WHERE user_id = ? AND rowid NOT IN
          (SELECT rowid FROM user_password_history WHERE user_id = ? ORDER BY changed_at DESC, rowid DESC LIMIT ?)`).run(id, id, PASSWORD_HISTORY_KEPT);
      }
      // A new password also ends a lockout (the helpdesk's reset is the usual way out of one).
      this.db.prepare(`UPDATE users SET password_hash = ?, nt_hash_sealed = ?, chap_password_sealed = ?, password_changed_at = ?,
        locked_until = NULL, updated_at = ? WHERE id = ?`).run(passwordHash, sealed.ntHash, sealed.chapPassword, at, at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, options.reset ? 'user.reset_password' : 'user.passwd', username, { chap: sealed.chapPassword !== null });
    });
  }

  setEnabled(id: number, enabled: boolean, at: number, by: Actor): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      this.db.prepare('UPDATE users SET enabled = ?, updated_at = ? WHERE id = ?').run(enabled ? 1 : 0, at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, enabled ? 'user.enable' : 'user.disable', username);
    });
  }

  setOtp(id: number, state: UserOtpState, at: number, by: Actor, action: string): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      this.db.prepare('UPDATE users SET otp_sealed = ?, otp_pending = ?, otp_last_step = ?, otp_enrolled_at = ?, updated_at = ? WHERE id = ?')
        .run(state.otpSealed, state.otpPending, state.otpLastStep, state.otpEnrolledAt, at, id);
      this.changes.record('user', String(id));
      // The audit row says what happened, never the secret.
      this.changes.audit(by.actor, by.source, action, username);
    });
  }

  takeOtpStep(id: number, step: number): boolean {
    // One conditional write: of two requests with the same code, one changes the row.
    return this.takeStep.run(step, id, step).changes === 1;
  }

  findUser(username: string): UserRecord | undefined {
    const row = this.byName.get(username) as UserRow | undefined;
    return row && toUser(row);
  }

  findUsers(ids: readonly number[], usernames: readonly string[]): UserRecord[] {
    // JSON arrays: one bound value whatever the count; username's NOCASE collation applies to IN.
    return (this.db.prepare(`${SELECT_USERS} WHERE u.id IN (SELECT value FROM json_each(?)) OR u.username IN (SELECT value FROM json_each(?))`)
      .all(JSON.stringify(ids), JSON.stringify(usernames)) as UserRow[]).map(toUser);
  }

  listUsers(): UserRecord[] {
    return (this.all.all() as UserRow[]).map(toUser);
  }

  private usernameOf(id: number): string {
    const row = this.db.prepare('SELECT username FROM users WHERE id = ?').get(id) as { username: string } | undefined;
    if (!row) throw new AppError('USER_NOT_FOUND', `no user with id ${id}`);
    return row.username;
  }
}

function uniqueToExists(e: unknown, username: string): unknown {
  return (e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE' ? new AppError('USER_EXISTS', `user "${username}" already exists`) : e;
}

/** What an audit row says of a profile: never a secret, dates as ISO text. */
function profileDetail(p: { displayName?: string | null; email?: string | null; accountExpiresAt?: number | null }): Record<string, unknown> {
  return {
    ...(p.displayName !== undefined && p.displayName !== null ? { displayName: p.displayName } : {}),
    ...(p.email !== undefined && p.email !== null ? { email: p.email } : {}),
    ...(p.accountExpiresAt !== undefined ? { expires: p.accountExpiresAt === null ? 'never' : new Date(p.accountExpiresAt).toISOString() } : {}),
  };
}
