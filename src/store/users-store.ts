// SQL behind the users engine's storage interface. Each write is one transaction that
// also appends a 'user' change row and an audit row. No secret goes into an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import type { NewUserRow, SealedPasswords, UserRecord, UserStorage } from '../core/users.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface UserRow {
  id: number; username: string; password_hash: string | null; nt_hash_sealed: Buffer | null;
  chap_password_sealed: Buffer | null; enabled: number; source: string; created_at: number; updated_at: number; groups: string | null;
}

// Groups joined with a separator no group name can hold (control characters are refused).
const GROUP_SEPARATOR = '\u001f';
const SELECT_USERS = `SELECT u.*, (SELECT group_concat(group_name, char(31)) FROM
  (SELECT group_name FROM user_groups g WHERE g.user_id = u.id ORDER BY group_name)) AS groups FROM users u`;

const toUser = (r: UserRow): UserRecord => ({
  id: r.id, username: r.username, passwordHash: r.password_hash, ntHashSealed: r.nt_hash_sealed,
  chapPasswordSealed: r.chap_password_sealed,
  enabled: r.enabled === 1, source: r.source, groups: r.groups ? r.groups.split(GROUP_SEPARATOR) : [],
  createdAt: r.created_at, updatedAt: r.updated_at,
});

export class SqliteUserStore implements UserStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly insertGroup: Statement;
  private readonly seal: Statement;
  private readonly byName: Statement;
  private readonly byId: Statement;
  private readonly all: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO users (username, password_hash, enabled, source, created_at, updated_at)
      VALUES (?, ?, ?, 'local', ?, ?)`);
    this.insertGroup = db.prepare('INSERT OR IGNORE INTO user_groups (user_id, group_name) VALUES (?, ?)');
    this.seal = db.prepare('UPDATE users SET nt_hash_sealed = ?, chap_password_sealed = ? WHERE id = ?');
    this.byName = db.prepare(`${SELECT_USERS} WHERE u.username = ?`);
    this.byId = db.prepare(`${SELECT_USERS} WHERE u.id = ?`);
    this.all = db.prepare(`${SELECT_USERS} ORDER BY u.username`);
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertUser(row: NewUserRow, sealPasswords: (id: number) => SealedPasswords, by: Actor): UserRecord {
    return this.tx(() => {
      let id: number;
      try {
        id = Number(this.insert.run(row.username, row.passwordHash, row.enabled ? 1 : 0, row.at, row.at).lastInsertRowid);
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          throw new AppError('USER_EXISTS', `user "${row.username}" already exists`);
        }
        throw e;
      }
      const sealed = sealPasswords(id);
      this.seal.run(sealed.ntHash, sealed.chapPassword, id);
      for (const group of row.groups) this.insertGroup.run(id, group);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.add', row.username, {
        groups: row.groups, enabled: row.enabled, chap: sealed.chapPassword !== null,
      });
      return toUser(this.byId.get(id) as UserRow);
    });
  }

  updatePassword(id: number, passwordHash: string, sealed: SealedPasswords, at: number, by: Actor): void {
    this.tx(() => {
      const username = this.usernameOf(id);
      this.db.prepare('UPDATE users SET password_hash = ?, nt_hash_sealed = ?, chap_password_sealed = ?, updated_at = ? WHERE id = ?')
        .run(passwordHash, sealed.ntHash, sealed.chapPassword, at, id);
      this.changes.record('user', String(id));
      this.changes.audit(by.actor, by.source, 'user.passwd', username, { chap: sealed.chapPassword !== null });
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

  findUser(username: string): UserRecord | undefined {
    const row = this.byName.get(username) as UserRow | undefined;
    return row && toUser(row);
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
