// `authbox cert revoke | unhold | list | show`, serials as operators type them, and the
// audit log every one of these writes leaves in the database.
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, tempDir } from '../helpers/authbox.js';
import { expectRefusal, listCerts, serialOf, type CertRow } from './ca-common.js';

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;
let n = 0;

/** Issues a certificate and returns its serial as `openssl x509 -serial` prints it (uppercase hex). */
function issue(profile: string, cn: string, extra: string[] = []): string {
  const cert = join(work.path, `c${++n}.pem`);
  authboxOk(['cert', 'issue', '--data', data.dir, '--profile', profile, '--cn', cn, ...extra,
    '--out-cert', cert, '--out-key', join(work.path, `c${n}.key`)]);
  return serialOf(cert);
}

const show = (serial: string): CertRow & { pem: string } =>
  JSON.parse(authboxOk(['cert', 'show', '--data', data.dir, '--serial', serial, '--json'])) as CertRow & { pem: string };

const colons = (hex: string): string => hex.match(/../g)!.join(':');

interface AuditRow { id: number; at: number; actor: string; source: string; action: string; target: string | null; detail: string | null }

function auditRows(): AuditRow[] {
  const db = new Database(join(data.dir, 'authbox.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT * FROM audit ORDER BY id').all() as AuditRow[];
  } finally {
    db.close();
  }
}

const serials: Record<string, string> = {};

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-ca-life-');
  // A certificate's --user must be a user.
  for (const u of ['alice', 'bob', 'carol', 'dave']) authboxOk(['user', 'add', '--data', data.dir, '--username', u, '--password', `${u}-Passw0rd`]);
  serials.alice1 = issue('user', 'alice laptop', ['--user', 'alice', '--upn', 'alice@corp.example']);
  serials.alice2 = issue('user', 'alice phone', ['--user', 'alice']);
  serials.bob = issue('user', 'bob laptop', ['--user', 'bob']);
  serials.held = issue('user', 'carol laptop', ['--user', 'carol']);
  serials.device = issue('device', 'printer-3', ['--dns', 'printer-3.corp.example']);
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('serials as operators type them', () => {
  it('accepts openssl -serial (uppercase), colons, lowercase, leading zeros and 0x', () => {
    const s = serials.bob!;
    expect(s).toMatch(/^[0-9A-F]{32}$/);
    const canonical = s.toLowerCase();
    for (const form of [s, colons(s), colons(s).toLowerCase(), canonical, `00${canonical}`, `00:${colons(s)}`, `0x${canonical}`, ` ${s} `]) {
      const c = show(form);
      expect(c.serial, form).toBe(canonical);
      expect(c.commonName, form).toBe('bob laptop');
    }
    expect(show(s).serialColons).toBe(colons(s));
  });

  it('says so, with exit 1, for an unknown serial or one that is not hex', () => {
    const unknown = '7' + '0'.repeat(31);
    for (const cmd of [['cert', 'show'], ['cert', 'revoke'], ['cert', 'unhold']]) {
      const r = authbox([...cmd, '--data', data.dir, '--serial', unknown]);
      expectRefusal(r, 1, new RegExp(`no certificate with serial ${unknown}`));
    }
    expectRefusal(authbox(['cert', 'revoke', '--data', data.dir, '--serial', 'not-a-serial']), 1, /not a hexadecimal serial number: "not-a-serial"/);
  });
});

describe('revoke, hold, unhold', () => {
  it('revokes with a reason given as openssl prints the serial; show --json has status, reason, revokedAt', () => {
    const t0 = Date.now();
    const out = authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', serials.alice1!, '--reason', 'keyCompromise']);
    expect(out).toMatch(new RegExp(`revoked ${serials.alice1!.toLowerCase()} .*keyCompromise`));
    const c = show(serials.alice1!);
    expect(c).toMatchObject({ status: 'revoked', reason: 'keyCompromise' });
    const at = Date.parse(c.revokedAt!);
    expect(at).toBeGreaterThanOrEqual(t0 - 1000);
    expect(at).toBeLessThanOrEqual(Date.now());
    // Other certificates, even of the same user, are untouched.
    expect(show(serials.alice2!)).not.toHaveProperty('revokedAt');
    expect(show(serials.alice2!).status).toBe('valid');
  });

  it('refuses to revoke twice (exit 1), keeping the first reason and time', () => {
    const first = show(serials.alice1!);
    const r = authbox(['cert', 'revoke', '--data', data.dir, '--serial', colons(serials.alice1!), '--reason', 'superseded']);
    expectRefusal(r, 1, /already revoked/);
    const after = show(serials.alice1!);
    expect(after).toMatchObject({ status: 'revoked', reason: 'keyCompromise', revokedAt: first.revokedAt });
  });

  it('revokes with the default reason, unspecified', () => {
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', serials.device!.toLowerCase()]);
    expect(show(serials.device!)).toMatchObject({ status: 'revoked', reason: 'unspecified' });
  });

  it('puts a certificate on hold and releases it with unhold', () => {
    const s = serials.held!;
    expect(authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', s, '--reason', 'certificateHold'])).toMatch(/put on hold/);
    expect(show(s)).toMatchObject({ status: 'hold', reason: 'certificateHold' });
    expect(listCerts(data.dir, ['--status', 'hold']).map((c) => c.serial)).toEqual([s.toLowerCase()]);
    // A second hold is refused.
    expectRefusal(authbox(['cert', 'revoke', '--data', data.dir, '--serial', s, '--reason', 'certificateHold']), 1, /already on hold/);
    expect(authboxOk(['cert', 'unhold', '--data', data.dir, '--serial', colons(s)])).toMatch(/released .* from hold/);
    const c = show(s);
    expect(c.status).toBe('valid');
    expect(c).not.toHaveProperty('revokedAt');
    expect(c).not.toHaveProperty('reason');
  });

  it('refuses to unhold a certificate that is not on hold (valid or revoked) with exit 1', () => {
    expectRefusal(authbox(['cert', 'unhold', '--data', data.dir, '--serial', serials.bob!]), 1, /is not on hold/);
    expectRefusal(authbox(['cert', 'unhold', '--data', data.dir, '--serial', serials.alice1!]), 1, /is not on hold/);
    expect(show(serials.alice1!).status).toBe('revoked');
    expect(show(serials.bob!).status).toBe('valid');
  });

  it('turns a hold into a revocation that keeps the time of the hold (RFC 5280 §5.3.1)', async () => {
    const s = issue('user', 'dave laptop', ['--user', 'dave']);
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', s, '--reason', 'certificateHold']);
    const held = show(s);
    await new Promise((r) => setTimeout(r, 20));
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', s, '--reason', 'cessationOfOperation']);
    expect(show(s)).toMatchObject({ status: 'revoked', reason: 'cessationOfOperation', revokedAt: held.revokedAt });
    // Once revoked, not even unhold brings it back.
    expectRefusal(authbox(['cert', 'unhold', '--data', data.dir, '--serial', s]), 1, /is not on hold/);
  });
});

describe('cert list and show', () => {
  it('filters by --status and --user', () => {
    const lower = Object.fromEntries(Object.entries(serials).map(([k, v]) => [k, v.toLowerCase()]));
    const revoked = listCerts(data.dir, ['--status', 'revoked']).map((c) => c.serial);
    expect(revoked).toContain(lower.alice1);
    expect(revoked).toContain(lower.device);
    expect(revoked).not.toContain(lower.bob);
    expect(revoked).not.toContain(lower.held);
    for (const c of listCerts(data.dir, ['--status', 'revoked'])) expect(c.status).toBe('revoked');

    const valid = listCerts(data.dir, ['--status', 'valid']);
    expect(valid.map((c) => c.serial)).toEqual(expect.arrayContaining([lower.alice2, lower.bob, lower.held]));
    expect(valid.map((c) => c.serial)).not.toContain(lower.alice1);
    for (const c of valid) expect(c.status).toBe('valid');

    const alice = listCerts(data.dir, ['--user', 'alice']);
    expect(alice.map((c) => c.serial).sort()).toEqual([lower.alice1, lower.alice2].sort());
    expect(listCerts(data.dir, ['--user', 'alice', '--status', 'valid']).map((c) => c.serial)).toEqual([lower.alice2]);
    expect(listCerts(data.dir, ['--user', 'alice', '--status', 'revoked']).map((c) => c.serial)).toEqual([lower.alice1]);
    expect(listCerts(data.dir, ['--user', 'nobody'])).toEqual([]);
    expect(listCerts(data.dir, ['--status', 'expired'])).toEqual([]);
  });

  it('prints a table without --json, and the PEM with show', () => {
    const table = authboxOk(['cert', 'list', '--data', data.dir, '--user', 'alice']).trim().split('\n');
    expect(table[0]).toMatch(/^SERIAL\s+STATUS\s+PROFILE\s+COMMON NAME\s+USER\s+NOT AFTER$/);
    expect(table).toHaveLength(3);
    expect(table.find((l) => l.startsWith(serials.alice1!.toLowerCase()))).toMatch(/revoked\s+user\s+alice laptop\s+alice/);
    const text = authboxOk(['cert', 'show', '--data', data.dir, '--serial', serials.alice1!]);
    expect(text).toMatch(/status\s+revoked/);
    expect(text).toMatch(/othername:UPN::alice@corp.example|UPN/);
    expect(text).toMatch(/-----BEGIN CERTIFICATE-----/);
    expect(show(serials.bob!).pem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n$/);
  });
});

describe('the audit log', () => {
  it('has a row by a cli: actor for init, each issue, revoke, hold and unhold', () => {
    const rows = auditRows();
    const actions = rows.map((r) => r.action);
    expect(actions).toContain('init');
    expect(actions.filter((a) => a === 'ca.create')).toHaveLength(2);
    for (const r of rows) {
      expect(r.actor, JSON.stringify(r)).toMatch(/^cli:\S+/);
      expect(r.source).toBe('cli');
      expect(r.at).toBeGreaterThan(Date.now() - 600_000);
    }
    const about = (serial: string): string[] => rows.filter((r) => r.target === serial.toLowerCase()).map((r) => r.action);
    expect(about(serials.alice1!)).toEqual(['cert.issue', 'cert.revoke']);
    expect(about(serials.device!)).toEqual(['cert.issue', 'cert.revoke']);
    expect(about(serials.held!)).toEqual(['cert.issue', 'cert.hold', 'cert.unhold']);
    expect(about(serials.bob!)).toEqual(['cert.issue']);
    const revoke = rows.find((r) => r.target === serials.alice1!.toLowerCase() && r.action === 'cert.revoke')!;
    expect(JSON.parse(revoke.detail!)).toMatchObject({ status: 'revoked', reason: 1 });
    // Ids only grow, and so does time.
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.at).toBeGreaterThanOrEqual(rows[i - 1]!.at);
  });

  it('records nothing for a refused action', () => {
    const before = auditRows().length;
    authbox(['cert', 'revoke', '--data', data.dir, '--serial', serials.alice1!]);
    authbox(['cert', 'unhold', '--data', data.dir, '--serial', serials.bob!]);
    authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--days', '99999',
      '--out-cert', join(work.path, 'never.pem'), '--out-key', join(work.path, 'never.key')]);
    expect(auditRows().length).toBe(before);
  });

  it('refuses UPDATE and DELETE on audit rows (trigger), while INSERT works', () => {
    // On a copy: the triggers are part of the schema, so they travel with it.
    const copy = join(work.path, 'audit-copy.db');
    copyFileSync(join(data.dir, 'authbox.db'), copy);
    if (existsSync(join(data.dir, 'authbox.db-wal'))) copyFileSync(join(data.dir, 'authbox.db-wal'), `${copy}-wal`);
    const db = new Database(copy);
    try {
      const count = (): number => (db.prepare('SELECT count(*) AS n FROM audit').get() as { n: number }).n;
      const before = count();
      expect(before).toBeGreaterThan(5);
      expect(() => db.prepare("UPDATE audit SET actor = 'cli:mallory'").run()).toThrow(/immutable/);
      expect(() => db.prepare("UPDATE audit SET detail = NULL WHERE action = 'cert.revoke'").run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM audit').run()).toThrow(/immutable/);
      expect(() => db.prepare('DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)').run()).toThrow(/immutable/);
      expect(count()).toBe(before);
      expect((db.prepare("SELECT count(*) AS n FROM audit WHERE actor = 'cli:mallory'").get() as { n: number }).n).toBe(0);
      db.prepare("INSERT INTO audit (at, actor, source, action) VALUES (0, 'test', 'test', 'probe')").run();
      expect(count()).toBe(before + 1);
    } finally {
      db.close();
    }
  });
});
