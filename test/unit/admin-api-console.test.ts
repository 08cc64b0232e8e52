// The console API added for the pages (issue 5), in-process: each new route against each
// role (the table below is what the roles are meant to allow, written out, not derived from
// routes.ts), CSRF on each state change, the session's permissions, the dashboard, a user's
// sessions and disconnects, user OTP, CAs, API tokens narrowed to a role, operators and their
// sessions, and no secret in any answer beyond the one that shows it once.
// Certificates (issue, download, reissue, lost device): admin-api-certs.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminAppDeps } from '../../src/admin-ui/app.js';
import { createAdminApp } from '../../src/admin-ui/app.js';
import { API_PREFIX, ROLE_PERMISSIONS, ROUTES, type RouteId } from '../../src/admin-ui/routes.js';
import { OPERATOR_ROLES, type OperatorRole } from '../../src/core/operators.js';
import type { Pki } from '../../src/main.js';
import { base32Decode, totp } from '../../src/core/totp.js';
import { by, expectSecretsShownOnce, startConsole, type ConsoleHarness } from '../helpers/console-api.js';

const ALL = OPERATOR_ROLES;

/** Who may call each new route: the role descriptions, written out. */
const EXPECTED: Partial<Record<RouteId, readonly OperatorRole[]>> = {
  'dashboard': ['admin', 'network', 'auditor'],
  'users.sessions': ['admin', 'helpdesk', 'auditor'],
  'users.otpBegin': ['admin', 'helpdesk'],
  'users.otpReset': ['admin', 'helpdesk'],
  'users.otpConfirm': ['admin', 'helpdesk'],
  'policies.putFactors': ['admin', 'network'],
  'policies.putGroupOtp': ['admin', 'network'],
  'devices.list': ['admin', 'helpdesk', 'auditor'],
  'disconnects': ['admin', 'helpdesk', 'auditor'],
  'certs.issue': ['admin'],
  'certs.reissue': ['admin', 'helpdesk'],
  'downloads.get': ALL,
  'lostDevice': ['admin', 'helpdesk'],
  'directory.sources': ['admin', 'auditor'],
  'directory.runs': ['admin', 'auditor'],
  'directory.test': ['admin'],
  'directory.preview': ['admin'],
  'directory.sync': ['admin'],
  'ca.list': ['admin', 'network', 'auditor'],
  'ca.chain': ['admin', 'network', 'auditor'],
  'tokens.list': ALL,
  'tokens.create': ALL,
  'tokens.revoke': ALL,
  'operators.list': ['admin'],
  'operators.add': ['admin'],
  'operators.remove': ['admin'],
  'operators.sessions': ['admin'],
  'operators.endSession': ['admin'],
  'settings.ui': ALL,
};

/** The routes of the previous stop (test/unit/admin-api.test.ts covers them). */
const BEFORE: readonly string[] = [
  'session.login', 'session.current', 'session.logout', 'session.otpBegin', 'session.otpConfirm', 'users.list', 'users.get', 'users.resetPassword',
  'users.unlock', 'users.enable', 'users.disable', 'certs.list', 'certs.expiring', 'certs.get', 'certs.revoke', 'nas.list', 'nas.add', 'nas.remove',
  'policies.get', 'policies.putGroup', 'policies.removeGroup', 'policies.putMethods', 'logs.auth', 'logs.audit', 'logs.auditCsv', 'openapi',
];

/** Everything the helpdesk may do beyond its own session and tokens, and nothing else. */
const HELPDESK_EXACTLY = [
  'users.list', 'users.get', 'users.resetPassword', 'users.unlock', 'users.enable', 'users.disable', 'users.sessions', 'users.otpBegin',
  'users.otpReset', 'users.otpConfirm', 'devices.list', 'disconnects', 'certs.list', 'certs.expiring', 'certs.get', 'certs.revoke', 'certs.reissue', 'lostDevice',
].sort();

let h: ConsoleHarness;
let pki: Pki;
let deps: AdminAppDeps;
let call: ConsoleHarness['call'];
let api: ConsoleHarness['api'];
let as: ConsoleHarness['as'];
let login: ConsoleHarness['login'];
let auditRows: ConsoleHarness['auditRows'];

beforeAll(async () => {
  h = await startConsole('authbox-console-api-');
  ({ pki, deps, call, api, as, login, auditRows } = h);
});

afterAll(async () => {
  await h?.close();
});

/** A request that reaches each new route's handler without changing what later tests use. */
function sample(id: RouteId): { method: string; path: string; body?: unknown } {
  const paths: Partial<Record<RouteId, string>> = {
    'users.sessions': '/users/bob/sessions', 'users.otpBegin': '/users/nobody-here/otp', 'users.otpReset': '/users/nobody-here/otp',
    'users.otpConfirm': '/users/nobody-here/otp/confirm', 'policies.putFactors': '/policies/factors/switch', 'policies.putGroupOtp': '/policies/group-otp/matrix-group',
    'disconnects': '/disconnects?user=bob', 'certs.reissue': '/certificates/ffff0000/reissue', 'downloads.get': '/downloads/no-such-token',
    'directory.test': '/directory/sources/none/test', 'directory.preview': '/directory/sources/none/preview', 'directory.sync': '/directory/sources/none/sync',
    'directory.runs': '/directory/sources/none/runs', 'ca.chain': '/ca/1/chain.pem', 'tokens.revoke': '/tokens/999999',
    'operators.remove': '/operators/no-such-operator', 'operators.endSession': '/operators/sessions/no-such-session',
  };
  const bodies: Partial<Record<RouteId, unknown>> = {
    'certs.issue': { username: 'nobody-here' }, 'lostDevice': { username: 'nobody-here' }, 'tokens.create': { name: 'made-by-matrix' },
    'operators.add': { username: 'x', role: 'no-such-role' },
    'users.otpConfirm': { code: '000000' }, 'policies.putFactors': { otp: 'off' }, 'policies.putGroupOtp': { required: false },
  };
  const route = ROUTES.find((r) => r.id === id)!;
  return { method: route.method.toUpperCase(), path: paths[id] ?? route.path, ...(bodies[id] !== undefined ? { body: bodies[id] } : {}) };
}

describe('roles', () => {
  it('every new route is in the table, and the helpdesk can do exactly its list', () => {
    const fresh = ROUTES.filter((r) => !BEFORE.includes(r.id)).map((r) => r.id);
    expect(fresh.sort()).toEqual(Object.keys(EXPECTED).sort());
    const helpdesk = ROUTES.filter((r) => r.access !== 'public' && r.access !== 'operator' && ROLE_PERMISSIONS.helpdesk.includes(r.access)).map((r) => r.id);
    expect(helpdesk.sort()).toEqual(HELPDESK_EXACTLY);
  });

  for (const [id, roles] of Object.entries(EXPECTED) as [RouteId, readonly OperatorRole[]][]) {
    for (const role of ALL) {
      const allowed = roles.includes(role);
      it(`${role} ${id}: ${allowed ? 'allowed' : '403'}`, async () => {
        const s = sample(id);
        const r = await call(s.method, API_PREFIX + s.path, { token: h.tokens[role], ...(s.body !== undefined ? { body: s.body } : {}) });
        if (allowed) expect([401, 403], `${r.status} ${r.text}`).not.toContain(r.status);
        else expect([r.status, r.json?.error?.code], r.text).toEqual([403, 'FORBIDDEN']);
      });
    }
  }

  it('GET /session lists the operator\'s permissions; POST /session/otp adds an SVG QR code', async () => {
    for (const role of ['helpdesk', 'auditor'] as const) {
      const s = await login(role);
      const me = await api('GET', '/session', s);
      expect(me.json.operator.permissions).toEqual([...ROLE_PERMISSIONS[role]]);
    }
    const s = await login('network');
    const begin = await api('POST', '/session/otp', s);
    expect(begin.json.otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    expect(begin.json.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
    deps.operators.resetOtp('neta', by);
  });
});

describe('CSRF', () => {
  it('every new state change with a session cookie needs the token', async () => {
    const s = await login('admin');
    for (const route of ROUTES.filter((r) => EXPECTED[r.id] !== undefined && r.method !== 'get')) {
      const x = sample(route.id);
      const without = await call(x.method, API_PREFIX + x.path, { cookie: s.cookie, ...(x.body !== undefined ? { body: x.body } : {}) });
      expect([without.status, without.json?.error?.code], route.id).toEqual([403, 'CSRF_FAILED']);
      const withIt = await call(x.method, API_PREFIX + x.path, { cookie: s.cookie, csrf: s.csrf, ...(x.body !== undefined ? { body: x.body } : {}) });
      expect([401, 403], `${route.id}: ${withIt.text}`).not.toContain(withIt.status);
    }
  });
});

describe('dashboard, sessions, disconnects', () => {
  it('counts the last 24 hours by hour, result and method; lists failures and what expires', async () => {
    const hour = 3_600_000;
    pki.authLog.appendDecisions([
      { at: h.now() - 2 * hour, username: 'bob', nas: 'ap1', nasAddress: '192.0.2.10', method: 'pap', outcome: 'reject', reason: 'wrong password' },
      { at: h.now() - 2 * hour + 1, username: 'bob', nas: 'ap1', nasAddress: '192.0.2.10', method: 'pap', outcome: 'accept' },
      { at: h.now() - 30 * hour, username: 'old', nas: 'ap1', nasAddress: '192.0.2.10', method: 'pap', outcome: 'reject', reason: 'too old to count' },
    ]);
    const r = await api('GET', '/dashboard', as('network'));
    expect(r.status, r.text).toBe(200);
    expect(r.json.auth.buckets).toHaveLength(24);
    expect(r.json.auth.buckets[23].at).toBe(Math.floor(h.now() / hour) * hour);
    const twoAgo = r.json.auth.buckets.find((b: { at: number }) => b.at === Math.floor((h.now() - 2 * hour) / hour) * hour);
    expect(twoAgo.byResult).toEqual({ accept: 1, reject: 1 });
    expect(twoAgo.byMethod).toEqual({ pap: 2 });
    expect(r.json.auth.totals.byResult.reject).toBe(1);
    expect(r.json.failures[0]).toEqual({ at: h.now() - 2 * hour, username: 'bob', method: 'pap', client: 'ap1', nasAddress: '192.0.2.10', reason: 'wrong password' });
    expect(r.json.failures.map((f: { reason: string }) => f.reason)).toContain('too old to count');
    expect(r.json.directory).toEqual([]);
    expect(r.json.listeners).toEqual([]);
    expect(r.json.expiring).toEqual([]);
    expect(r.json.expiringCount).toBe(0);
    // With more than the dashboard lists: the soonest 20, and the count of all.
    const many = Array.from({ length: 25 }, (_, i) => ({ kind: 'certificate', name: `c${i}`, serial: `0${i}`, notAfter: Date.now() + (25 - i) * 86_400_000 }));
    const withMany = createAdminApp({ ...deps, expiring: () => many as never });
    const server = withMany.listen(0, '127.0.0.1');
    try {
      await new Promise((ok) => server.once('listening', ok));
      const port = (server.address() as { port: number }).port;
      const token = deps.operators.createToken('audrey', 'dashboard-many', by);
      const d = await (await fetch(`http://127.0.0.1:${port}${API_PREFIX}/dashboard`, { headers: { authorization: `Bearer ${token}` } })).json() as { expiring: { name: string }[]; expiringCount: number };
      expect(d.expiringCount).toBe(25);
      expect(d.expiring.map((x) => x.name)).toEqual(Array.from({ length: 20 }, (_, i) => `c${24 - i}`));
    } finally {
      server.close();
    }
  });

  it('a user\'s sessions, open first; disconnects from the CoA log when wired', async () => {
    pki.accounting.applyAccounting([
      { status: 'start', at: h.now() - 7200_000, nas: 'ap1', nasAddress: '192.0.2.10', sessionId: 's-old', username: 'bob' },
      { status: 'stop', at: h.now() - 3600_000, nas: 'ap1', nasAddress: '192.0.2.10', sessionId: 's-old', username: 'bob', sessionTime: 3600 },
      { status: 'start', at: h.now() - 600_000, nas: 'ap1', nasAddress: '192.0.2.10', sessionId: 's-new', username: 'bob', framedIp: '10.0.0.5' },
    ]);
    const r = await api('GET', '/users/bob/sessions', as('helpdesk'));
    expect(r.json.items.map((x: { sessionId: string; open: boolean }) => [x.sessionId, x.open])).toEqual([['s-new', true], ['s-old', false]]);
    expect((await api('GET', '/disconnects?user=bob', as('helpdesk'))).json).toEqual({ items: [] });
    expect((await api('GET', '/disconnects', as('helpdesk'))).status).toBe(400);
    const wired = createAdminApp({ ...deps, disconnects: (u, since) => [{ at: since + 1, nas: `nas-of-${u}`, sessionId: 's-new', outcome: 'ack', attempts: 1 }] }).listen(0, '127.0.0.1');
    await new Promise<void>((res) => wired.once('listening', res));
    const port = (wired.address() as { port: number }).port;
    const res = await fetch(`http://127.0.0.1:${port}${API_PREFIX}/disconnects?user=bob&since=1000`, { headers: { authorization: `Bearer ${h.tokens.auditor}` } });
    expect(await res.json()).toEqual({ items: [{ at: 1001, nas: 'nas-of-bob', sessionId: 's-new', outcome: 'ack', attempts: 1 }] });
    await new Promise<void>((res2) => wired.close(() => res2()));
  });
});

describe('user one-time passwords', () => {
  it('the helpdesk starts an enrolment (URI and QR code) and resets it, audited', async () => {
    const begin = await api('POST', '/users/bob/otp', as('helpdesk'));
    expect(begin.status, begin.text).toBe(200);
    expect(begin.json.uri).toMatch(/^otpauth:\/\/totp\/.*secret=[A-Z2-7]+/);
    expect(begin.json.qrSvg).toMatch(/^<svg/);
    expect(begin.json.otp.state).toBe('pending');
    expect((await api('GET', '/users/bob', as('auditor'))).json.otp.state).toBe('pending');
    const reset = await api('DELETE', '/users/bob/otp', as('helpdesk'));
    expect(reset.json).toMatchObject({ username: 'bob', changed: true, otp: { state: 'none' } });
    expect(auditRows((a) => a.target === 'bob' && a.actor === 'operator:helen').length).toBeGreaterThanOrEqual(2);
  });

  it('an enrolment is confirmed by the first code from the app; a wrong code is refused', async () => {
    const begin = await api('POST', '/users/bob/otp', as('helpdesk'));
    const secret = base32Decode(new URL(begin.json.uri).searchParams.get('secret')!);
    const wrong = totp(secret, Date.now()) === '000000' ? '111111' : '000000';
    const refused = await api('POST', '/users/bob/otp/confirm', as('helpdesk'), { code: wrong });
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect((await api('POST', '/users/bob/otp/confirm', as('helpdesk'), { code: 'abc' })).status).toBe(400);
    const ok = await api('POST', '/users/bob/otp/confirm', as('helpdesk'), { code: totp(secret, Date.now()) });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.otp.state).toBe('enrolled');
    expect(ok.text).not.toContain(new URL(begin.json.uri).searchParams.get('secret')!);
    await api('DELETE', '/users/bob/otp', as('helpdesk'));
  });
});

describe('second-factor policy', () => {
  it('network sets which kinds and groups need a one-time code or a tunnel client certificate; GET /policies shows it', async () => {
    const put = await api('PUT', '/policies/factors/vpn', as('network'), { otp: 'required', tunnelClientCert: 'required' });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ kind: 'vpn', otp: 'required', tunnelClientCert: 'required' });
    expect((await api('PUT', '/policies/factors/vpn', as('network'), { otp: 'sometimes' })).status).toBe(400);
    expect((await api('PUT', '/policies/factors/toaster', as('network'), { otp: 'off' })).status).toBe(400);
    expect((await api('PUT', '/policies/group-otp/staff', as('network'), { required: true })).status).toBe(200);
    const got = await api('GET', '/policies', as('auditor'));
    expect(got.json.factors).toContainEqual({ kind: 'vpn', otp: 'required', tunnelClientCert: 'required' });
    expect(got.json.otpGroups.map((g: string) => g.toLowerCase())).toContain('staff');
    await api('PUT', '/policies/factors/vpn', as('network'), { otp: 'off', tunnelClientCert: 'off' });
    await api('PUT', '/policies/group-otp/staff', as('network'), { required: false });
    expect(auditRows((a) => a.actor === 'operator:neta' && a.action.startsWith('policy')).length).toBeGreaterThanOrEqual(4);
  });
});

describe('CAs and display settings', () => {
  it('lists the CAs with CRL and OCSP facts, and gives a chain as PEM', async () => {
    const r = await api('GET', '/ca', as('auditor'));
    const issuing = r.json.items.find((c: { role: string }) => c.role === 'issuing');
    expect(issuing).toMatchObject({ name: 'issuing', crl: { url: 'http://127.0.0.1:9/crl/issuing.crl' }, ocsp: { url: 'http://127.0.0.1:9/ocsp' } });
    expect(issuing.ocsp.signerNotAfter).toBeGreaterThan(Date.now());
    expect(issuing.subject).toContain('Console API Issuing CA 1');
    const chain = await call('GET', `${API_PREFIX}/ca/${issuing.id}/chain.pem`, as('network'));
    expect(chain.headers.get('content-type')).toMatch(/^application\/pem-certificate-chain/);
    expect(chain.text.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect((await call('GET', `${API_PREFIX}/ca/root/chain.pem`, as('network'))).text.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect((await api('GET', '/ca/99/chain.pem', as('network'))).status).toBe(404);
    expect((await api('GET', '/settings/ui', as('helpdesk'))).json).toEqual({ timeZone: 'Asia/Tokyo', languages: ['ja', 'en'] });
  });
});

describe('API tokens and operators', () => {
  it('a token narrowed to a role acts with that role; shown once; revocable', async () => {
    const made = await api('POST', '/tokens', as('admin'), { name: 'reader', role: 'auditor' });
    expect(made.status, made.text).toBe(201);
    expect(made.json).toMatchObject({ name: 'reader', role: 'auditor' });
    const reader = made.json.token as string;
    expect((await api('GET', '/nas', { token: reader })).status).toBe(200);
    expect((await api('POST', '/nas', { token: reader }, { name: 'x', address: '192.0.2.99' })).status).toBe(403);
    // A narrowed token cannot make a wider one.
    expect((await api('POST', '/tokens', { token: reader }, { name: 'wider', role: 'admin' })).status).toBe(403);
    expect((await api('POST', '/tokens', as('helpdesk'), { name: 'up', role: 'admin' })).status).toBe(403);
    const list = await api('GET', '/tokens', as('admin'));
    const listed = list.json.items.find((t: { name: string }) => t.name === 'reader');
    expect(listed).toMatchObject({ role: 'auditor', revokedAt: null });
    expect(list.text).not.toContain(reader);
    expect((await api('DELETE', `/tokens/${listed.id}`, as('admin'))).status).toBe(204);
    expect((await api('GET', '/nas', { token: reader })).status).toBe(401);
    expect(auditRows((a) => a.action === 'operator.token_role').length).toBeGreaterThan(0);
  });

  it('a narrowed token whose operator no longer has all of its role is refused, not widened', async () => {
    deps.operators.add({ username: 'nadia', role: 'admin', password: 'nadia-password-1' }, by);
    const cli = deps.operators.createToken('nadia', 'full', by);
    const made = await api('POST', '/tokens', { token: cli }, { name: 'ro', role: 'auditor' });
    expect(made.status, made.text).toBe(201);
    expect((await api('GET', '/logs/audit', { token: made.json.token })).status).toBe(200);
    pki.db.prepare("UPDATE operators SET role = 'network' WHERE username = 'nadia'").run();
    expect((await api('GET', '/logs/audit', { token: made.json.token })).status).toBe(401);
    expect((await api('GET', '/nas', { token: cli })).status).toBe(200);
  });

  it('admins add and disable operators, list and end sessions', async () => {
    const added = await api('POST', '/operators', as('admin'), { username: 'olga', role: 'helpdesk' });
    expect(added.status, added.text).toBe(201);
    expect(added.json.password).toMatch(/^.{16,}$/);
    const olgaLogin = await call('POST', `${API_PREFIX}/session`, { body: { username: 'olga', password: added.json.password } });
    expect(olgaLogin.status).toBe(200);
    const olga = { cookie: olgaLogin.headers.get('set-cookie')!.split(';')[0]! };
    const admin = await login('admin');
    const sessions = await api('GET', '/operators/sessions', admin);
    const mine = sessions.json.items.find((s: { current: boolean }) => s.current);
    expect(mine.username).toBe('admin');
    const hers = sessions.json.items.find((s: { username: string }) => s.username === 'olga');
    expect(hers.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await api('DELETE', `/operators/sessions/${hers.id}`, admin)).status).toBe(204);
    expect((await api('GET', '/session', olga)).status).toBe(401);
    expect((await api('DELETE', '/operators/admin', admin)).status).toBe(400);
    const off = await api('DELETE', '/operators/olga', admin);
    expect(off.json).toMatchObject({ username: 'olga', changed: true });
    expect((await call('POST', `${API_PREFIX}/session`, { body: { username: 'olga', password: added.json.password } })).status).toBe(401);
    const ops = await api('GET', '/operators', as('admin'));
    expect(ops.json.items.find((o: { username: string }) => o.username === 'olga')).toMatchObject({ enabled: false, role: 'helpdesk' });
    expect(auditRows((a) => a.target === 'olga').map((a) => a.action)).toEqual(expect.arrayContaining(['operator.add', 'operator.session_end', 'operator.disable']));
  });
});

describe('no secret in any response', () => {
  it('no private key or hash; each new token and generated password was sent exactly once', () => {
    expectSecretsShownOnce(h.seen, 5);
  });
});
