// src/core/users.ts over src/store/users-store.ts, on a real data folder: names and
// password rules, scrypt for PAP, the sealed NT hash for MS-CHAPv2, the change feed and
// the audit log written with every change.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/ca/storage.js';
import { ntHash } from '../../src/core/md4.js';
import { hashPassword, validateUsername, type UserRecord } from '../../src/core/users.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { openDatabase } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { codeOf } from '../helpers/unit.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
let tmp: string;
let dataDir: string;
let pki: Pki;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-users-'));
  dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Users Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const changesFor = (id: number): number => pki.store.changes.changesSince(0).filter((c) => c.kind === 'user' && c.ref === String(id)).length;
const auditFor = (username: string) => pki.store.changes.listAudit(1000).filter((a) => a.target === username);

describe('adding users', () => {
  let alice: UserRecord;

  it('adds a user with groups, a change row and an audit row', () => {
    alice = pki.users.add({ username: 'alice', password: 'correct horse', groups: ['staff', 'wifi', 'STAFF'] }, by);
    expect(alice).toMatchObject({ username: 'alice', enabled: true, source: 'local', groups: ['staff', 'wifi'] });
    expect(alice.passwordHash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(changesFor(alice.id)).toBe(1);
    const audit = auditFor('alice');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'test:unit', source: 'cli', action: 'user.add' });
    expect(audit[0]!.detail).not.toContain('correct horse');
    expect(pki.users.get('ALICE').id).toBe(alice.id);
  });

  it('refuses a duplicate name whatever its case, writing nothing', () => {
    const before = pki.store.changes.latestSeq();
    expect(codeOf(() => pki.users.add({ username: 'Alice', password: 'another password' }, by))).toBe('USER_EXISTS');
    expect(codeOf(() => pki.users.add({ username: 'ALICE', password: 'another password' }, by))).toBe('USER_EXISTS');
    expect(pki.store.changes.latestSeq()).toBe(before);
    expect(pki.users.list().filter((u) => u.username.toLowerCase() === 'alice')).toHaveLength(1);
  });

  it('refuses bad names and passwords', () => {
    for (const name of ['', 'a'.repeat(129), 'bad\nname', 'tab\tname', 'nul\0', ' padded', 'del\u007f']) {
      expect(codeOf(() => validateUsername(name)), JSON.stringify(name)).toBe('USERNAME_INVALID');
    }
    expect(codeOf(() => validateUsername('a'.repeat(128)))).toBeUndefined();
    expect(codeOf(() => validateUsername('田中.太郎@example.jp'))).toBeUndefined();
    expect(codeOf(() => pki.users.add({ username: 'bob', password: 'short7!' }, by))).toBe('PASSWORD_POLICY');
    expect(codeOf(() => pki.users.add({ username: 'bob', password: 'x'.repeat(129) }, by))).toBe('PASSWORD_POLICY');
    expect(codeOf(() => pki.users.add({ username: 'bob', password: 'long enough', groups: ['bad\ngroup'] }, by))).toBe('BAD_INPUT');
    expect(pki.users.find('bob')).toBeUndefined();
  });

  it('verifies the right password and refuses a wrong one', async () => {
    const user = pki.users.get('alice');
    expect(await pki.users.verifyPassword(user, 'correct horse')).toBe(true);
    expect(await pki.users.verifyPassword(user, Buffer.from('correct horse'))).toBe(true);
    expect(await pki.users.verifyPassword(user, 'correct horsf')).toBe(false);
    expect(await pki.users.verifyPassword(user, 'Correct horse')).toBe(false);
    expect(await pki.users.verifyPassword(user, '')).toBe(false);
    expect(await pki.users.verifyPassword({ passwordHash: null }, 'correct horse')).toBe(false);
    expect(await pki.users.verifyPassword({ passwordHash: 'md5$abc' }, 'correct horse')).toBe(false);
    expect(await pki.users.verifyPassword({ passwordHash: 'scrypt$3$8$1$AAAA$AAAA' }, 'correct horse')).toBe(false);
  });

  it('salts each hash', () => {
    expect(hashPassword('same password')).not.toBe(hashPassword('same password'));
  });

  it('keeps the NT hash sealed, bound to the user id', () => {
    const user = pki.users.get('alice');
    expect(pki.users.ntHashOf(user)!.equals(ntHash('correct horse'))).toBe(true);
    expect(user.ntHashSealed!.includes(ntHash('correct horse'))).toBe(false);
    const other = pki.users.add({ username: 'carol', password: 'carol password' }, by);
    // A sealed value moved to another row does not open there.
    expect(codeOf(() => pki.users.ntHashOf({ id: other.id, ntHashSealed: user.ntHashSealed }))).toBe('KEY_DECRYPT_FAILED');
    expect(pki.users.ntHashOf({ id: 1, ntHashSealed: null })).toBeUndefined();
  });

  it('leaves neither the password nor the NT hash in plain in the database files', () => {
    const user = pki.users.get('alice');
    pki.db.pragma('wal_checkpoint(TRUNCATE)');
    const files = [pki.config.databaseFile, `${pki.config.databaseFile}-wal`].filter(existsSync);
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    expect(bytes.includes(user.ntHashSealed!)).toBe(true); // it is this file
    expect(bytes.includes(ntHash('correct horse'))).toBe(false);
    expect(bytes.includes(Buffer.from('correct horse'))).toBe(false);
    expect(bytes.includes(Buffer.from('correct horse', 'utf16le'))).toBe(false);
  });
});

describe('changing users', () => {
  it('disables and enables, each with a change row and an audit row', async () => {
    const dave = pki.users.add({ username: 'dave', password: 'dave password' }, by);
    expect(pki.users.setEnabled('DAVE', false, by)).toBe(true);
    expect(pki.users.get('dave').enabled).toBe(false);
    expect(pki.users.setEnabled('dave', false, by)).toBe(false); // already disabled: nothing written
    // The password still checks: refusing a disabled account is policy's job.
    expect(await pki.users.verifyPassword(pki.users.get('dave'), 'dave password')).toBe(true);
    expect(pki.users.setEnabled('dave', true, by)).toBe(true);
    expect(pki.users.get('dave').enabled).toBe(true);
    expect(changesFor(dave.id)).toBe(3);
    expect(auditFor('dave').map((a) => a.action).reverse()).toEqual(['user.add', 'user.disable', 'user.enable']);
    expect(codeOf(() => pki.users.setEnabled('nobody', false, by))).toBe('USER_NOT_FOUND');
  });

  it('passwd changes both hashes', async () => {
    const before = pki.users.get('dave');
    const after = pki.users.setPassword('dave', 'new dave password', by);
    expect(after.passwordHash).not.toBe(before.passwordHash);
    expect(after.ntHashSealed!.equals(before.ntHashSealed!)).toBe(false);
    expect(await pki.users.verifyPassword(after, 'new dave password')).toBe(true);
    expect(await pki.users.verifyPassword(after, 'dave password')).toBe(false);
    expect(pki.users.ntHashOf(after)!.equals(ntHash('new dave password'))).toBe(true);
    expect(after.updatedAt).toBeGreaterThanOrEqual(before.updatedAt);
    expect(changesFor(after.id)).toBe(4);
    const audit = auditFor('dave')[0]!;
    expect(audit.action).toBe('user.passwd');
    expect(JSON.parse(audit.detail!)).toEqual({ chap: false });
    expect(codeOf(() => pki.users.setPassword('dave', 'short', by))).toBe('PASSWORD_POLICY');
    expect(codeOf(() => pki.users.setPassword('nobody', 'long enough', by))).toBe('USER_NOT_FOUND');
  });

  it('lists users by name, with their groups, and survives reopening', () => {
    pki.close();
    pki = openPkiAt(dataDir);
    const users = pki.users.list();
    expect(users.map((u) => u.username)).toEqual(['alice', 'carol', 'dave']);
    expect(users[0]!.groups).toEqual(['staff', 'wifi']);
  });
});

describe('migration 2', () => {
  it('adds the users tables to a database made before it, keeping what was there', () => {
    const path = join(tmp, 'v1.db');
    const old = new Database(path);
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    old.exec(MIGRATIONS[0]!);
    old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)').run();
    old.prepare("INSERT INTO settings (key, value) VALUES ('kept', 'yes')").run();
    old.close();
    const db = openDatabase(path);
    try {
      const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
      // Migration 2 and every later one.
      expect(versions).toEqual(MIGRATIONS.map((_, i) => i + 1));
      expect(db.prepare("SELECT value FROM settings WHERE key = 'kept'").get()).toEqual({ value: 'yes' });
      const columns = (db.prepare('PRAGMA table_info(users)').all() as { name: string }[]).map((c) => c.name);
      expect(columns).toEqual(['id', 'username', 'password_hash', 'nt_hash_sealed', 'enabled', 'source', 'created_at', 'updated_at', 'chap_password_sealed',
        'display_name', 'email', 'account_expires_at', 'password_changed_at', 'locked_until',
        'otp_sealed', 'otp_pending', 'otp_last_step', 'otp_enrolled_at']);
    } finally {
      db.close();
    }
  });
});
