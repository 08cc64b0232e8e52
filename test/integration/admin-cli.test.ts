// `authbox admin ...` end to end: the bootstrap admin from `init --admin-password`, adding
// operators (a generated password printed once), passwd, disable/enable, otp-reset, API
// tokens; hashes and tokens stored as hashes only; an audit row for every change.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, withDatabase } from '../helpers/authbox.js';

let data: Awaited<ReturnType<typeof initDataDir>>;
const outputs: string[] = [];
const ok = (args: string[]): string => {
  const out = authboxOk(args);
  outputs.push(out);
  return out;
};

beforeAll(async () => {
  data = await initDataDir(['--admin-password', 'first-admin-password']);
});
afterAll(() => data?.cleanup());

describe('authbox admin', () => {
  it('admin list adopts the bootstrap admin', () => {
    expect(ok(['admin', 'list', '--data', data.dir])).toMatch(/^admin\s+admin\s+enabled\s+no-otp$/m);
    withDatabase(data.dir, (db) => {
      expect(db.prepare("SELECT value FROM settings WHERE key = 'admin.bootstrap'").get()).toBeUndefined();
      expect((db.prepare("SELECT action FROM audit WHERE action = 'operator.bootstrap'").all())).toHaveLength(1);
    });
  });

  it('adds an operator with a generated password, shown once', () => {
    const out = ok(['admin', 'add', '--data', data.dir, '--username', 'helen', '--role', 'helpdesk']);
    const pw = /password \(shown once\): (\S+)/.exec(out)![1]!;
    expect(pw.length).toBeGreaterThanOrEqual(20);
    withDatabase(data.dir, (db) => {
      const row = db.prepare("SELECT password_hash, role FROM operators WHERE username = 'helen'").get() as { password_hash: string; role: string };
      expect(row.role).toBe('helpdesk');
      expect(row.password_hash).toMatch(/^scrypt\$/);
      expect(JSON.stringify(db.prepare('SELECT * FROM audit').all())).not.toContain(pw);
    });
    const dup = authbox(['admin', 'add', '--data', data.dir, '--username', 'HELEN', '--role', 'auditor']);
    expect(dup.status).toBe(1);
    const badRole = authbox(['admin', 'add', '--data', data.dir, '--username', 'x', '--role', 'root']);
    expect(badRole.status).toBe(1);
    expect(badRole.stderr).toMatch(/admin, network, helpdesk, auditor/);
  });

  it('passwd from a file, disable, enable, otp-reset, token and token-revoke, each audited', () => {
    const file = join(data.dir, '..', 'pw.txt');
    writeFileSync(file, 'a-new-long-password\n');
    ok(['admin', 'passwd', '--data', data.dir, '--username', 'helen', '--password-file', file]);
    expect(ok(['admin', 'disable', '--data', data.dir, '--username', 'helen'])).toMatch(/disabled operator "helen"/);
    expect(ok(['admin', 'list', '--data', data.dir])).toMatch(/^helen\s+helpdesk\s+disabled/m);
    ok(['admin', 'enable', '--data', data.dir, '--username', 'helen']);
    ok(['admin', 'otp-reset', '--data', data.dir, '--username', 'admin']);
    const token = ok(['admin', 'token', '--data', data.dir, '--username', 'helen', '--name', 'script']).trim();
    expect(token).toMatch(/^abx_[A-Za-z0-9_-]{43}$/);
    ok(['admin', 'token-revoke', '--data', data.dir, '--username', 'helen', '--name', 'script']);
    withDatabase(data.dir, (db) => {
      const actions = (db.prepare("SELECT action FROM audit WHERE action LIKE 'operator.%' ORDER BY id").all() as { action: string }[]).map((r) => r.action);
      expect(actions).toEqual(['operator.bootstrap', 'operator.add', 'operator.passwd', 'operator.disable', 'operator.enable', 'operator.otp_reset',
        'operator.token_add', 'operator.token_revoke']);
      const stored = db.prepare('SELECT token_hash FROM operator_tokens').get() as { token_hash: string };
      expect(stored.token_hash).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(db.prepare('SELECT * FROM audit').all())).not.toContain(token);
    });
    expect(authbox(['admin', 'passwd', '--data', data.dir, '--username', 'nobody', '--password-file', file]).status).toBe(1);
  });
});
