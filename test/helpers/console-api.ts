// An admin console app in-process for API tests: a fresh data folder with two users, a
// user's and a server's certificate, one operator per role (each with an API token), the app
// on 127.0.0.1:0 with a clock the test moves, and a fetch wrapper that keeps every answer so
// that a test can check no secret was ever sent back.
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { PROFILES } from '../../src/ca/profiles.js';
import type { Actor } from '../../src/core/actor.js';
import { OPERATOR_ROLES, type OperatorRole } from '../../src/core/operators.js';
import { base32Decode, totp } from '../../src/core/totp.js';
import { createAdminApp, type AdminAppDeps } from '../../src/admin-ui/app.js';
import { API_PREFIX } from '../../src/admin-ui/routes.js';
import { adminConsoleDeps, initDataDir, openPkiAt, type Pki } from '../../src/main.js';

export const by: Actor = { actor: 'test:unit', source: 'cli' };
export const ADMIN_PASSWORD = 'bootstrap-password-1';
export const PASSWORDS: Record<OperatorRole, string> = {
  admin: ADMIN_PASSWORD, network: 'network-password-1', helpdesk: 'helpdesk-password-1', auditor: 'auditor-password-1',
};
export const NAMES: Record<OperatorRole, string> = { admin: 'admin', network: 'neta', helpdesk: 'helen', auditor: 'audrey' };

export interface Reply { status: number; headers: Headers; text: string; bytes: Buffer; json: any }
export interface Auth { cookie?: string; csrf?: string; token?: string }

export interface ConsoleHarness {
  tmp: string;
  pki: Pki;
  deps: AdminAppDeps;
  /** Every answer's body, as text. */
  seen: string[];
  tokens: Record<OperatorRole, string>;
  aliceCert: string;
  serverCert: string;
  /** The console's clock (ms); advance() moves it. */
  now(): number;
  advance(ms: number): void;
  call(method: string, path: string, opts?: Auth & { body?: unknown }): Promise<Reply>;
  /** call() under /api/v1. */
  api(method: string, path: string, auth: Auth, body?: unknown): Promise<Reply>;
  as(role: OperatorRole): Auth;
  /** A session (cookie and CSRF token); the admin enrols and uses TOTP. */
  login(role: OperatorRole): Promise<{ cookie: string; csrf: string }>;
  auditRows(filter: (a: { actor: string; action: string; target: string | null }) => boolean): ReturnType<Pki['store']['changes']['listAudit']>;
  close(): Promise<void>;
}

export async function startConsole(prefix: string): Promise<ConsoleHarness> {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  let now = Date.now();
  let adminSecret: Buffer | undefined;
  initDataDir({ dataDir: join(tmp, 'data'), organization: 'Console API', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', adminPassword: ADMIN_PASSWORD, by });
  const pki = openPkiAt(join(tmp, 'data'));
  const deps = adminConsoleDeps(pki, () => new Date(now));
  pki.users.add({ username: 'alice', password: 'alice password 1', groups: ['staff'] }, by);
  pki.users.add({ username: 'bob', password: 'bob password 12' }, by);
  const aliceCert = pki.authority.issueWithNewKey({ profile: PROFILES.user, commonName: 'alice', username: 'alice', sans: [] }, 'ec-p256', by).cert.serial;
  const serverCert = pki.authority.issueWithNewKey({ profile: PROFILES.server, commonName: 'radius.test', sans: [{ kind: 'dns', value: 'radius.test' }] }, 'ec-p256', by).cert.serial;
  for (const role of ['network', 'helpdesk', 'auditor'] as const) deps.operators.add({ username: NAMES[role], role, password: PASSWORDS[role] }, by);
  const tokens = {} as Record<OperatorRole, string>;
  for (const role of OPERATOR_ROLES) tokens[role] = deps.operators.createToken(NAMES[role], 'console-test', by);
  const server: Server = createAdminApp(deps).listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const seen: string[] = [];

  const call: ConsoleHarness['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = {};
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const bytes = Buffer.from(await res.arrayBuffer());
    const text = bytes.toString('utf8');
    seen.push(text);
    let json: unknown;
    try { json = JSON.parse(text); } catch { json = undefined; }
    return { status: res.status, headers: res.headers, text, bytes, json };
  };
  const api: ConsoleHarness['api'] = (method, path, auth, body) => call(method, API_PREFIX + path, { ...auth, ...(body !== undefined ? { body } : {}) });

  const login: ConsoleHarness['login'] = async (role) => {
    let otp: string | undefined;
    if (role === 'admin') {
      if (!adminSecret) {
        const first = await call('POST', `${API_PREFIX}/session`, { body: { username: 'admin', password: ADMIN_PASSWORD } });
        adminSecret = base32Decode(new URL(first.json.enrolment.otpauthUri).searchParams.get('secret')!);
      }
      now += 30_000;
      otp = totp(adminSecret, now);
    }
    const r = await call('POST', `${API_PREFIX}/session`, { body: { username: NAMES[role], password: PASSWORDS[role], ...(otp ? { otp } : {}) } });
    expect(r.status, r.text).toBe(200);
    return { cookie: r.headers.get('set-cookie')!.split(';')[0]!, csrf: r.json.csrfToken as string };
  };

  return {
    tmp, pki, deps, seen, tokens, aliceCert, serverCert, call, api, login,
    now: () => now,
    advance: (ms) => { now += ms; },
    as: (role) => ({ token: tokens[role] }),
    auditRows: (filter) => pki.store.changes.listAudit(5000).filter(filter),
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      pki.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** Each one-time secret (a `password` or `token` field) appeared in exactly one answer, and no key or hash in any. */
export function expectSecretsShownOnce(seen: readonly string[], atLeast: number): void {
  expect(seen.join('\n')).not.toMatch(/PRIVATE KEY|scrypt\$|secretSealed|passwordHash|totpSealed|otpSealed|otpPending|idHash|id_hash/);
  const shown = seen.flatMap((t) => {
    try {
      const j = JSON.parse(t) as { password?: unknown; token?: unknown };
      return [j.password, j.token].filter((v): v is string => typeof v === 'string');
    } catch { return []; }
  });
  expect(shown.length).toBeGreaterThanOrEqual(atLeast);
  for (const secret of shown) expect(seen.filter((t) => t.includes(secret)), secret).toHaveLength(1);
}
