// Directory sources from the console API against a real slapd started by the test: list
// (never the bind password), test the connection, a dry-run preview that changes nothing, a
// sync run now in a child process as the schedule runs it (bin/authbox, so `npx tsc` first),
// the run history, a source with a wrong password; each action audited under the operator.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/actor.js';
import { createAdminApp, type AdminAppDeps } from '../../src/admin-ui/app.js';
import { API_PREFIX } from '../../src/admin-ui/routes.js';
import { adminConsoleDeps, initDataDir, ldapContext, openPkiAt, type Pki } from '../../src/main.js';
import { BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
let tmp: string;
let slapd: Slapd;
let pki: Pki;
let deps: AdminAppDeps;
let server: Server;
let base: string;
let admin: string;
let auditor: string;
const seen: string[] = [];

async function call(method: string, path: string, token: string): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + API_PREFIX + path, { method, headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  seen.push(text);
  return { status: res.status, json: JSON.parse(text) as unknown, text };
}

const audit = (action: string) => pki.store.changes.listAudit(5000).filter((a) => a.action === action);

beforeAll(async () => {
  slapd = await startSlapd({ users: 12 });
  tmp = mkdtempSync(join(tmpdir(), 'authbox-console-dir-'));
  initDataDir({ dataDir: join(tmp, 'data'), organization: 'Console Dir', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(join(tmp, 'data'));
  const ldap = ldapContext(pki);
  const common = { url: slapd.url, bindDn: ROOT_DN, baseDn: BASE_DN, groupBaseDn: GROUPS, preset: 'openldap' as const };
  ldap.sources.add({ name: 'corp', bindPassword: ROOT_PASSWORD, ...common }, by);
  ldap.sources.add({ name: 'wrongpw', bindPassword: 'not-the-root-password', ...common }, by);
  deps = adminConsoleDeps(pki);
  deps.operators.add({ username: 'root', role: 'admin', password: 'root-operator-pw-1' }, by);
  deps.operators.add({ username: 'audrey', role: 'auditor', password: 'auditor-password-1' }, by);
  admin = deps.operators.createToken('root', 'dir', by);
  auditor = deps.operators.createToken('audrey', 'dir', by);
  server = createAdminApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  pki?.close();
  await slapd?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

describe('directory sources in the console', () => {
  it('lists the sources without their bind passwords', async () => {
    const r = await call('GET', '/directory/sources', auditor);
    expect(r.status).toBe(200);
    expect(r.json.items.map((s: { name: string }) => s.name)).toEqual(['corp', 'wrongpw']);
    expect(r.json.items[0]).toMatchObject({ url: slapd.url, baseDn: BASE_DN, preset: 'openldap', schedule: 15, lastRun: null });
    expect(r.text).not.toMatch(/bindPassword|Sealed/);
  });

  it('tests a connection: the count, or why it failed', async () => {
    expect((await call('POST', '/directory/sources/corp/test', admin)).json).toEqual({ ok: true, url: slapd.url, count: 13 });
    const bad = await call('POST', '/directory/sources/wrongpw/test', admin);
    expect(bad.json).toMatchObject({ ok: false, code: 'LDAP_BIND_FAILED' });
    expect(audit('ldap.test').map((a) => [a.actor, a.target, JSON.parse(a.detail!).ok])).toEqual(
      expect.arrayContaining([['operator:root', 'corp', true], ['operator:root', 'wrongpw', false]]));
    expect((await call('POST', '/directory/sources/none/test', admin)).status).toBe(404);
  });

  it('previews a run without changing any user', async () => {
    const r = await call('POST', '/directory/sources/corp/preview', admin);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ source: 'corp', mode: 'full', counts: { added: 13, updated: 0, disabled: 0 }, disable: [] });
    expect(r.json.add).toHaveLength(13);
    expect(r.json.add.find((a: { username: string }) => a.username === 'user01').groups).toEqual(['admins', 'staff']);
    expect(pki.users.find('user01')).toBeUndefined();
    expect(audit('ldap.preview')[0]!.actor).toBe('operator:root');
    expect((await call('POST', '/directory/sources/wrongpw/preview', admin)).status).toBe(502);
  });

  it('syncs now, as the schedule does, and shows the run in the history and on the dashboard', async () => {
    const r = await call('POST', '/directory/sources/corp/sync', admin);
    expect(r.status, r.text).toBe(200);
    expect(r.json).toMatchObject({ ok: true, error: null, mode: 'full', dryRun: false, counts: { added: 13, disabled: 0 } });
    expect(pki.users.find('user01')).toMatchObject({ source: 'ldap:corp', groups: ['admins', 'staff'] });
    expect(audit('ldap.sync_requested')[0]).toMatchObject({ actor: 'operator:root', target: 'corp' });
    // The users were added by the sync, as a scheduled run adds them.
    expect(audit('user.add').filter((a) => a.actor === 'ldap-sync:corp')).toHaveLength(13);
    const runs = await call('GET', '/directory/sources/corp/runs', auditor);
    expect(runs.json.items.map((x: { dryRun: boolean; ok: boolean }) => [x.dryRun, x.ok])).toEqual([[false, true], [true, true]]);
    const failed = await call('POST', '/directory/sources/wrongpw/sync', admin);
    expect(failed.json).toMatchObject({ ok: false, dryRun: false });
    expect(failed.json.error).toMatch(/bind/i);
    const dash = await call('GET', '/dashboard', auditor);
    expect(dash.json.directory).toEqual([
      { source: 'corp', lastRun: expect.objectContaining({ ok: true, counts: { added: 13, updated: 0, disabled: 0, groups: 14 } }) },
      { source: 'wrongpw', lastRun: expect.objectContaining({ ok: false }) },
    ]);
  });

  it('the auditor reads but may not act', async () => {
    for (const action of ['test', 'preview', 'sync']) expect((await call('POST', `/directory/sources/corp/${action}`, auditor)).status).toBe(403);
  });

  it('never sent a bind password', () => {
    expect(seen.join('\n')).not.toContain(ROOT_PASSWORD);
    expect(seen.join('\n')).not.toContain('not-the-root-password');
  });
});
