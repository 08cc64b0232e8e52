// The console's user search on 100,000 users inserted directly with SQL: a page by name
// prefix answers in well under 100 ms in-process, and cursors walk the pages in order.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/ca/storage.js';
import { createAdminApp } from '../../src/admin-ui/app.js';
import { adminConsoleDeps, initDataDir, openPkiAt, type Pki } from '../../src/main.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const N = 100_000;
let tmp: string;
let pki: Pki;
let server: Server;
let base: string;
let token: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-users-search-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Search Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  pki.db.pragma('synchronous = OFF');
  pki.db.exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${N})
    INSERT INTO users (username, display_name, enabled, source, created_at, updated_at)
    SELECT printf('user%06d', i), printf('User %d', i), 1, 'local', 0, 0 FROM n`);
  pki.db.exec(`INSERT INTO user_groups (user_id, group_name) SELECT id, 'staff' FROM users WHERE id % 10 = 0`);
  const deps = adminConsoleDeps(pki);
  deps.operators.add({ username: 'helen', role: 'helpdesk', password: 'helpdesk-password-1' }, by);
  token = deps.operators.createToken('helen', 'bench', by);
  server = createAdminApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}/api/v1`;
}, 60_000);

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function get(path: string): Promise<{ ms: number; json: any }> {
  const t0 = performance.now();
  const res = await fetch(base + path, { headers: { authorization: `Bearer ${token}` } });
  const json = await res.json();
  expect(res.status).toBe(200);
  return { ms: performance.now() - t0, json };
}

describe('user search over 100,000 users', () => {
  it('a page by prefix, a page of everything, a prefix matching nothing: each well under 100 ms', async () => {
    await get('/users?q=user0&limit=50');
    const times: number[] = [];
    for (const q of ['USER0999', 'user05', '', 'nobody-here', 'user1']) {
      const { ms, json } = await get(`/users?q=${encodeURIComponent(q)}&limit=50`);
      times.push(ms);
      if (q === 'USER0999') expect(json.items.map((u: { username: string }) => u.username)).toEqual(['user099900', 'user099901', 'user099902', 'user099903', 'user099904', 'user099905', 'user099906', 'user099907', 'user099908', 'user099909', 'user099910', 'user099911', 'user099912', 'user099913', 'user099914', 'user099915', 'user099916', 'user099917', 'user099918', 'user099919', 'user099920', 'user099921', 'user099922', 'user099923', 'user099924', 'user099925', 'user099926', 'user099927', 'user099928', 'user099929', 'user099930', 'user099931', 'user099932', 'user099933', 'user099934', 'user099935', 'user099936', 'user099937', 'user099938', 'user099939', 'user099940', 'user099941', 'user099942', 'user099943', 'user099944', 'user099945', 'user099946', 'user099947', 'user099948', 'user099949']);
      if (q === 'nobody-here') expect(json.items).toEqual([]);
    }
    expect(Math.max(...times)).toBeLessThan(50);
  });

  it('uses the username index (no full scan)', () => {
    const plan = pki.db.prepare("EXPLAIN QUERY PLAN SELECT id FROM users WHERE username LIKE ? ESCAPE '\\' AND username > ? ORDER BY username LIMIT 51")
      .all('user05%', 'user050000') as { detail: string }[];
    expect(plan.map((p) => p.detail).join(' ')).toMatch(/USING (COVERING )?INDEX/);
  });

  it('cursors walk the pages in order without gaps', async () => {
    const first = await get('/users?q=user0001&limit=40');
    expect(first.json.items).toHaveLength(40);
    expect(first.json.items[0]).toMatchObject({ username: 'user000100', groups: ['staff'] });
    const second = await get(`/users?q=user0001&limit=40&cursor=${first.json.nextCursor}`);
    expect(second.json.items.map((u: { username: string }) => u.username)).toEqual(
      Array.from({ length: 60 }, (_, i) => `user0001${String(i + 40).padStart(2, '0')}`).slice(0, 40));
    const third = await get(`/users?q=user0001&limit=40&cursor=${second.json.nextCursor}`);
    expect(third.json.items).toHaveLength(20);
    expect(third.json.nextCursor).toBeUndefined();
  });
});
