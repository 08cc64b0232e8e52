// The console's list queries over indexes (migration 15): certificate pages walked by keyset
// cursor give every row once, in order, whatever the filters (ties on issued_at included);
// decision-log and audit time windows give the same rows whichever way the window is read
// (the `at` index, or ids newest first); and no list query sorts its whole table.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/actor.js';
import { createAdminApp } from '../../src/admin-ui/app.js';
import { adminConsoleDeps, initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { ConsoleQueries, type CertFilter } from '../../src/store/console-queries.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const NOW = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
let tmp: string;
let pki: Pki;
let q: ConsoleQueries;
let server: Server;
let base: string;
let token: string;
/** SQL the queries prepared while `spy` was on. */
let prepared: string[] | undefined;

interface CertRow { serial: string; issued_at: number; username: string | null; common_name: string; status: string; not_after: number }

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-console-lists-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Lists Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  const db = pki.db;
  const caId = (db.prepare("SELECT id FROM cas WHERE role = 'issuing'").get() as { id: number }).id;
  const der = (db.prepare('SELECT der FROM certificates LIMIT 1').get() as { der: Buffer }).der;
  db.transaction(() => {
    const ins = db.prepare(`INSERT INTO certificates (ca_id, serial, profile, subject, common_name, username, not_before, not_after, issued_at, der, status)
      VALUES (?, ?, 'user', ?, ?, ?, 0, ?, ?, ?, ?)`);
    for (let i = 0; i < 600; i++) {
      const username = i % 11 === 0 ? null : i % 3 === 0 ? 'alice' : `u${i % 40}`;
      const cn = i % 5 === 0 ? 'ap-device' : username ?? `dev-${i}`;
      const status = i % 10 === 0 ? 'revoked' : i % 17 === 0 ? 'hold' : 'valid';
      // Seven issue times only: most rows tie on issued_at, the serial orders them.
      ins.run(caId, ((i * 2654435761) % 2 ** 32).toString(16), `CN=${cn}`, cn, username, i % 4 === 1 ? NOW - 1 : NOW + DAY,
        NOW - 100 * DAY + (i % 7) * 1000, der, status);
    }
    // Decisions a second apart, a little out of order (batches from several writers).
    const dec = db.prepare("INSERT INTO auth_log (at, username, nas, nas_address, outcome, method) VALUES (?, ?, ?, '10.0.0.1', ?, 'pap')");
    for (let i = 0; i < 3000; i++) dec.run(NOW - 3000_000 + i * 1000 + ((i % 3) - 1) * 1500, `u${i % 40}`, `ap-${i % 4}`, i % 7 === 0 ? 'reject' : 'accept');
    const aud = db.prepare("INSERT INTO audit (at, actor, source, action, target) VALUES (?, ?, 'api', ?, ?)");
    for (let i = 0; i < 3000; i++) aud.run(NOW - 3000_000 + i * 1000, `operator:op${i % 5}`, i % 2 ? 'user.unlock' : 'nas.add', `u${i % 40}`);
  })();
  const prepare = ((sql: string) => { prepared?.push(sql); return db.prepare(sql); }) as typeof db.prepare;
  q = new ConsoleQueries(new Proxy(db, { get: (t, k) => (k === 'prepare' ? prepare : Reflect.get(t, k, t) as unknown) }));

  const deps = adminConsoleDeps(pki, () => new Date(NOW));
  deps.operators.add({ username: 'audrey', role: 'auditor', password: 'auditor-password-1' }, by);
  token = deps.operators.createToken('audrey', 'lists', by);
  server = createAdminApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

function spy<T>(fn: () => T): { result: T; sql: string[] } {
  prepared = [];
  try { return { result: fn(), sql: prepared }; } finally { prepared = undefined; }
}

function expectIndexedPlans(sql: string[], args: unknown[][]): void {
  sql.forEach((s, i) => {
    const plan = (pki.db.prepare(`EXPLAIN QUERY PLAN ${s}`).all(...args[i]!) as { detail: string }[]).map((p) => p.detail).join(' | ');
    expect(plan, s).not.toMatch(/TEMP B-TREE/);
    expect(plan, s).not.toMatch(/^SCAN certificates$/);
  });
}

describe('certificate pages', () => {
  const all = (): CertRow[] => pki.db.prepare('SELECT serial, issued_at, username, common_name, status, not_after FROM certificates').all() as CertRow[];
  const newestFirst = (a: CertRow, b: CertRow) => b.issued_at - a.issued_at || (a.serial < b.serial ? 1 : a.serial > b.serial ? -1 : 0);

  function walk(f: Omit<CertFilter, 'cursor' | 'limit' | 'now'>): string[] {
    const out: string[] = [];
    let cursor: string | undefined;
    for (let pages = 0; pages < 100; pages++) {
      const page = q.certificatePage({ ...f, now: NOW, limit: 37, ...(cursor !== undefined ? { cursor } : {}) });
      out.push(...page.items);
      if (page.nextCursor === undefined) return out;
      expect(page.items).toHaveLength(37);
      cursor = page.nextCursor;
    }
    throw new Error('the cursor never ended');
  }

  const cases: [string, Omit<CertFilter, 'cursor' | 'limit' | 'now'>, (r: CertRow) => boolean][] = [
    ['everything', {}, () => true],
    ['by user', { user: 'alice' }, (r) => r.username === 'alice'],
    ['by common name', { commonName: 'ap-device' }, (r) => r.common_name === 'ap-device'],
    ['valid', { status: 'valid' }, (r) => r.status === 'valid' && r.not_after > NOW],
    ['expired', { status: 'expired' }, (r) => r.status === 'valid' && r.not_after <= NOW],
    ['revoked', { status: 'revoked' }, (r) => r.status === 'revoked'],
    ['user and hold', { user: 'alice', status: 'hold' }, (r) => r.username === 'alice' && r.status === 'hold'],
    ['name and expired', { commonName: 'ap-device', status: 'expired' }, (r) => r.common_name === 'ap-device' && r.status === 'valid' && r.not_after <= NOW],
  ];
  for (const [name, filter, keep] of cases) {
    it(`${name}: newest first, each row once, across pages`, () => {
      const expected = all().filter(keep).sort(newestFirst).map((r) => r.serial);
      expect(expected.length).toBeGreaterThan(0);
      expect(walk(filter)).toEqual(expected);
    });
  }

  it('a serial prefix pages in serial order, other filters too', () => {
    const expected = all().filter((r) => r.serial.startsWith('a') && r.status === 'valid' && r.not_after > NOW).map((r) => r.serial).sort();
    expect(expected.length).toBeGreaterThan(3);
    expect(walk({ serialPrefix: 'a', status: 'valid' })).toEqual(expected);
    expect(walk({ serialPrefix: 'zz' })).toEqual([]);
  });

  it('every filter reads its page from an index, without sorting the table', () => {
    const shapes: CertFilter[] = [
      { now: NOW, limit: 50 }, { now: NOW, limit: 50, cursor: `${NOW - 100 * DAY + 3000}.8` }, { now: NOW, limit: 50, user: 'alice' },
      { now: NOW, limit: 50, status: 'valid', cursor: `${NOW}.0` }, { now: NOW, limit: 50, status: 'expired' },
      { now: NOW, limit: 50, status: 'revoked', cursor: `${NOW}.0` }, { now: NOW, limit: 50, serialPrefix: 'a', cursor: 'a1' },
    ];
    for (const f of shapes) {
      const { sql } = spy(() => q.certificatePage(f));
      const args = [[...(f.user ? [f.user] : []), ...(f.status === 'expired' || f.status === 'valid' ? [NOW] : f.status ? [f.status] : []),
        ...(f.serialPrefix ? [f.serialPrefix, `${f.serialPrefix}\u{10FFFF}`] : []),
        ...(f.cursor ? (f.serialPrefix ? [f.cursor] : [Number(f.cursor.split('.')[0]), f.cursor.split('.')[1]]) : []), 51]];
      expectIndexedPlans(sql, args);
    }
  });

  it('the expiry finder walks its own covering indexes (migration 22), not the table', () => {
    // src/store/expiry-store.ts expiringCertificates: the window by not_after, the renewal check by CN and profile.
    const plan = (pki.db.prepare(`EXPLAIN QUERY PLAN SELECT c.ca_id, c.serial, c.profile, c.common_name, c.username, c.not_after FROM certificates c
      WHERE c.status = 'valid' AND c.not_after > ? AND c.not_after <= ?
        AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.common_name = c.common_name AND n.profile = c.profile
          AND n.status = 'valid' AND n.not_after > c.not_after)
      ORDER BY c.not_after`).all(NOW, NOW + 30 * DAY) as { detail: string }[]).map((p) => p.detail);
    expect(plan).toEqual([
      'SEARCH c USING COVERING INDEX certificates_valid_expiry (not_after>? AND not_after<?)',
      'CORRELATED SCALAR SUBQUERY 1',
      'SEARCH n USING COVERING INDEX certificates_valid_renewal (common_name=? AND profile=? AND not_after>?)',
    ]);
  });

  it('refuses a cursor that is not from the list', () => {
    expect(() => q.certificatePage({ now: NOW, limit: 5, cursor: 'drop table' })).toThrow(/cursor/);
  });

  it('GET /certificates pages with nextCursor, and says 400 to a foreign cursor', async () => {
    const get = async (path: string) => {
      const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: await res.json() as { items: { serial: string; status: string }[]; nextCursor?: string } };
    };
    const first = await get('/certificates?user=alice&status=revoked&limit=5');
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(5);
    expect(first.json.items.every((c) => c.status === 'revoked')).toBe(true);
    const second = await get(`/certificates?user=alice&status=revoked&limit=5&cursor=${first.json.nextCursor}`);
    const expected = all().filter((r) => r.username === 'alice' && r.status === 'revoked').sort(newestFirst).map((r) => r.serial);
    expect([...first.json.items, ...second.json.items].map((c) => c.serial)).toEqual(expected.slice(0, 10));
    expect((await get(`/certificates?limit=5&cursor=${Buffer.from('x.y').toString('base64url')}`)).status).toBe(400);
  });
});

describe('time windows in the decision and audit logs', () => {
  const T = (s: number) => NOW - 3000_000 + s * 1000;
  const decisionIds = (where: (r: { id: number; at: number; nas: string; outcome: string }) => boolean, limit: number) =>
    (pki.db.prepare('SELECT id, at, nas, outcome FROM auth_log ORDER BY id DESC').all() as { id: number; at: number; nas: string; outcome: string }[])
      .filter(where).slice(0, limit).map((r) => r.id);

  const windows: [string, number | undefined, number | undefined, number | undefined][] = [
    ['narrow, long ago', T(100), T(160), undefined],
    ['wide, to a minute ago', T(10), T(2940), undefined],
    ['since only', T(2900), undefined, undefined],
    ['until only', undefined, T(500), undefined],
    ['wide, a deep page', T(10), T(2940), 1500],
    ['narrow, a deep page', T(100), T(160), 140],
  ];
  for (const [name, since, until, before] of windows) {
    it(`${name}: the rows a full scan finds, newest first`, () => {
      const f = { limit: 25, ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(before !== undefined ? { before } : {}) };
      const inWindow = (r: { id: number; at: number }) => (since === undefined || r.at >= since) && (until === undefined || r.at < until) && (before === undefined || r.id < before);
      expect(q.decisions(f).map((r) => r.id)).toEqual(decisionIds(inWindow, 25));
      expect(q.decisions({ ...f, nas: 'ap-1', outcome: 'reject' }).map((r) => r.id)).toEqual(decisionIds((r) => inWindow(r) && r.nas === 'ap-1' && r.outcome === 'reject', 25));
      expect(q.decisions({ ...f, outcome: 'reject' }).map((r) => r.id)).toEqual(decisionIds((r) => inWindow(r) && r.outcome === 'reject', 25));
      // Every row here is PAP: the method filter keeps them all, and another method finds none.
      expect(q.decisions({ ...f, method: 'pap' }).map((r) => r.id)).toEqual(decisionIds(inWindow, 25));
      expect(q.decisions({ ...f, method: 'peap' })).toEqual([]);
      const audits = pki.db.prepare('SELECT id, at, action, actor FROM audit ORDER BY id DESC').all() as { id: number; at: number; action: string; actor: string }[];
      expect(q.audit(f).map((r) => r.id)).toEqual(audits.filter(inWindow).slice(0, 25).map((r) => r.id));
      expect(q.audit({ ...f, action: 'user.' }).map((r) => r.id)).toEqual(audits.filter((r) => inWindow(r) && r.action.startsWith('user.')).slice(0, 25).map((r) => r.id));
      expect(q.audit({ ...f, actor: 'operator:op3' }).map((r) => r.id)).toEqual(audits.filter((r) => inWindow(r) && r.actor === 'operator:op3').slice(0, 25).map((r) => r.id));
    });
  }

  it('a narrow window long ago is read from the at index; a wide recent one by walking ids', () => {
    const narrow = spy(() => q.decisions({ since: T(100), until: T(160), limit: 25 }));
    expect(narrow.sql.at(-1)).toMatch(/INDEXED BY auth_log_at/);
    const wide = spy(() => q.decisions({ since: T(10), until: T(2940), limit: 25 }));
    expect(wide.sql.at(-1)).not.toMatch(/INDEXED BY/);
    expect(wide.sql.at(-1)).toMatch(/\+at >= \?/);
    const audit = spy(() => q.audit({ since: T(100), until: T(160), limit: 25 }));
    expect(audit.sql.at(-1)).toMatch(/INDEXED BY audit_at/);
    // A result alone has no index of its own: the window's index is still the short road.
    const rejects = spy(() => q.decisions({ since: T(100), until: T(160), outcome: 'reject', limit: 25 }));
    expect(rejects.sql.at(-1)).toMatch(/INDEXED BY auth_log_at/);
    const byClient = spy(() => q.decisions({ since: T(100), until: T(160), nas: 'ap-1', limit: 25 }));
    expect(byClient.sql.at(-1)).not.toMatch(/INDEXED BY/);
  });

  it('by client, newest first from its own index; by result, by walking ids', () => {
    for (const [f, args, index] of [[{ nas: 'ap-2', limit: 50 }, ['ap-2', 50], /USING INDEX auth_log_nas/], [{ outcome: 'reject' as const, limit: 50 }, ['reject', 50], /^SCAN auth_log$/]] as const) {
      const { sql } = spy(() => q.decisions(f));
      expectIndexedPlans(sql, [args as unknown as unknown[]]);
      const plan = (pki.db.prepare(`EXPLAIN QUERY PLAN ${sql[0]}`).all(...args) as { detail: string }[]).map((p) => p.detail).join(' ');
      expect(plan).toMatch(index);
    }
  });
});
