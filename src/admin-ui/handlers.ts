// One function per route id (routes.ts). Each returns the JSON body, or writes the
// response itself. Nothing returned carries a secret: views are built field by field.
import { X509Certificate } from 'node:crypto';
import { CrlReason, reasonName, REVOCATION_REASONS } from '../ca/crl.js';
import type { CertRecord } from '../ca/storage.js';
import { normalizeSerial } from '../ca/serial.js';
import { NAS_KINDS, type NasKind, type NasRecord } from '../core/nas.js';
import { viewOf } from '../core/operators.js';
import type { AuthMethod } from '../core/policy.js';
import type { UserRecord } from '../core/users.js';
import type { Caller, Handler, HandlerContext } from './app.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './app.js';
import { ApiError } from './errors.js';
import { OPENAPI } from './openapi.js';
import type { RouteId } from './routes.js';

const MAX_LIMIT = 200;
const CSV_MAX_ROWS = 100_000;

function body(ctx: HandlerContext): Record<string, unknown> {
  const b: unknown = ctx.req.body;
  if (b === undefined) return {};
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new ApiError('BAD_INPUT', 'the body must be a JSON object');
  return b as Record<string, unknown>;
}

function optString(b: Record<string, unknown>, key: string, max = 1024): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ApiError('BAD_INPUT', `"${key}" must be a string`);
  return v;
}

function reqString(b: Record<string, unknown>, key: string, max = 1024): string {
  const v = optString(b, key, max);
  if (v === undefined) throw new ApiError('BAD_INPUT', `"${key}" is required`);
  return v;
}

function query(ctx: HandlerContext, key: string): string | undefined {
  const v = ctx.req.query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 256) throw new ApiError('BAD_INPUT', `query parameter "${key}" must be given once`);
  return v;
}

function limitOf(ctx: HandlerContext, fallback = 50, max = MAX_LIMIT): number {
  const v = query(ctx, 'limit');
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ApiError('BAD_INPUT', `limit must be a whole number from 1 to ${max}`);
  return n;
}

function timeOf(ctx: HandlerContext, key: string): number | undefined {
  const v = query(ctx, key);
  if (v === undefined) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new ApiError('BAD_INPUT', `${key} must be an ISO time or milliseconds since the epoch`);
  return t;
}

function intOf(ctx: HandlerContext, key: string): number | undefined {
  const v = query(ctx, key);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new ApiError('BAD_INPUT', `${key} must be a whole number`);
  return Number(v);
}

const param = (ctx: HandlerContext, key: string): string => String(ctx.req.params[key]);
const callerOf = (ctx: HandlerContext): Caller => ctx.caller!;

function userView(u: UserRecord) {
  return {
    username: u.username, displayName: u.displayName, email: u.email, enabled: u.enabled, source: u.source, groups: u.groups,
    lockedUntil: u.lockedUntil, accountExpiresAt: u.accountExpiresAt, passwordChangedAt: u.passwordChangedAt,
    hasPassword: u.passwordHash !== null, chap: u.chapPasswordSealed !== null, createdAt: u.createdAt, updatedAt: u.updatedAt,
  };
}

function certSummary(c: CertRecord, now: number) {
  const status = c.status === 'valid' && c.notAfter <= now ? 'expired' : c.status;
  return {
    serial: c.serial, commonName: c.commonName, subject: c.subject, profile: c.profile, username: c.username, status,
    notBefore: c.notBefore, notAfter: c.notAfter, issuedAt: c.issuedAt, revokedAt: c.revokedAt, reason: reasonName(c.reason) ?? null,
  };
}

function certDecoded(c: CertRecord, now: number) {
  const x = new X509Certificate(c.der);
  return {
    ...certSummary(c, now), sans: c.sans, issuer: x.issuer, subjectAltName: x.subjectAltName ?? null, keyUsage: x.keyUsage ?? null,
    fingerprint256: x.fingerprint256, publicKey: { type: x.publicKey.asymmetricKeyType ?? null, ...x.publicKey.asymmetricKeyDetails },
    pem: x.toString(),
  };
}

function nasView(n: NasRecord) {
  return { name: n.name, address: n.address, kind: n.kind, requireMessageAuthenticator: n.requireMessageAuthenticator, radsec: n.radsec, createdAt: n.createdAt };
}

function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : String(v);
  // A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const sessionBody = (ctx: HandlerContext, caller: Caller) => ({
  operator: viewOf(caller.operator),
  via: caller.via,
  ...(caller.session ? { csrfToken: caller.session.csrfToken, expiresAt: ctx.deps.operators.sessionExpiry(caller.session) } : {}),
});

export const HANDLERS: Record<RouteId, Handler> = {
  async 'session.login'(ctx) {
    const b = body(ctx);
    const otp = optString(b, 'otp', 16);
    const result = await ctx.deps.operators.login({ username: reqString(b, 'username', 64), password: reqString(b, 'password', 256), ...(otp !== undefined ? { otp } : {}) }, ctx.client);
    if (result.kind === 'otp-required') throw new ApiError('OTP_REQUIRED', 'enter the one-time code');
    if (result.kind === 'enrolment-required') {
      throw new ApiError('OTP_ENROLMENT_REQUIRED', 'an administrator must enrol a one-time password: add this URI to an authenticator app, then log in again with a code',
        { enrolment: { otpauthUri: result.otpauthUri } });
    }
    ctx.res.set('Set-Cookie', sessionCookie(result.sessionId));
    return {
      operator: result.operator, csrfToken: result.session.csrfToken, expiresAt: ctx.deps.operators.sessionExpiry(result.session),
    };
  },
  'session.current'(ctx) {
    return sessionBody(ctx, callerOf(ctx));
  },
  'session.logout'(ctx) {
    const caller = callerOf(ctx);
    if (caller.via !== 'session') throw new ApiError('BAD_INPUT', 'an API token has no session; revoke it with `authbox admin token-revoke`');
    const id = readCookie(ctx.req.get('cookie'), SESSION_COOKIE)!;
    ctx.deps.operators.logout(id, caller.actor);
    ctx.res.set('Set-Cookie', clearedSessionCookie());
    ctx.res.status(204).end();
    return undefined;
  },
  'session.otpBegin'(ctx) {
    const caller = callerOf(ctx);
    return { otpauthUri: ctx.deps.operators.beginEnrolment(caller.operator.id, caller.actor) };
  },
  'session.otpConfirm'(ctx) {
    const caller = callerOf(ctx);
    ctx.deps.operators.confirmEnrolment(caller.operator.id, reqString(body(ctx), 'otp', 16), caller.actor);
    return { otpEnrolled: true };
  },

  'users.list'(ctx) {
    const q = query(ctx, 'q') ?? '';
    const cursor = query(ctx, 'cursor');
    let after: string | undefined;
    if (cursor !== undefined) after = Buffer.from(cursor, 'base64url').toString('utf8');
    const page = ctx.deps.queries.searchUsers(q, after, limitOf(ctx));
    return { items: page.items, ...(page.nextCursor !== undefined ? { nextCursor: Buffer.from(page.nextCursor, 'utf8').toString('base64url') } : {}) };
  },
  'users.get'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const now = ctx.deps.clock().getTime();
    return {
      ...userView(u),
      certificates: ctx.deps.certificates.queryCertificates({ username: u.username, now, limit: 100 }).map((c) => certSummary(c, now)),
      devices: ctx.deps.queries.devicesOwnedBy(u.username),
      recentDecisions: ctx.deps.queries.decisions({ user: u.username, limit: 20 }),
    };
  },
  'users.resetPassword'(ctx) {
    const { user, password } = ctx.deps.users.resetPassword(param(ctx, 'name'), callerOf(ctx).actor);
    return { username: user.username, temporaryPassword: password };
  },
  'users.unlock'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const changed = u.lockedUntil !== null && ctx.deps.users.unlock(u.username, callerOf(ctx).actor);
    return { username: u.username, changed };
  },
  'users.enable'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    return { username: u.username, changed: ctx.deps.users.setEnabled(u.username, true, callerOf(ctx).actor) };
  },
  'users.disable'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    return { username: u.username, changed: ctx.deps.users.setEnabled(u.username, false, callerOf(ctx).actor) };
  },

  'certs.expiring'(ctx) {
    const raw = query(ctx, 'days') ?? '30';
    if (!/^\d{1,4}$/.test(raw)) throw new ApiError('BAD_INPUT', 'days is a whole number of days (0-9999)');
    const now = ctx.deps.clock().getTime();
    const items = ctx.deps.expiring?.(now, Number(raw)) ?? [];
    return {
      days: Number(raw),
      items: items.map((i) => ({ ...i, notAfter: new Date(i.notAfter).toISOString(), daysLeft: Math.floor((i.notAfter - now) / 86_400_000) })),
    };
  },

  'certs.list'(ctx) {
    const now = ctx.deps.clock().getTime();
    const limit = limitOf(ctx);
    const status = query(ctx, 'status');
    if (status !== undefined && !['valid', 'revoked', 'expired', 'hold'].includes(status)) throw new ApiError('BAD_INPUT', 'status is valid, revoked, expired or hold');
    const serial = query(ctx, 'serial');
    const cn = query(ctx, 'cn');
    let certs: CertRecord[];
    if (serial !== undefined || cn !== undefined) {
      const serials = ctx.deps.queries.certificateSerials(serial !== undefined ? { serialPrefix: normalizeSerial(serial) } : { commonName: cn! }, limit);
      certs = serials.map((s) => ctx.deps.authority.find(s));
      if (status !== undefined) certs = certs.filter((c) => certSummary(c, now).status === status);
    } else {
      const user = query(ctx, 'user');
      certs = ctx.deps.certificates.queryCertificates({
        now, limit, ...(user !== undefined ? { username: user } : {}), ...(status !== undefined ? { status: status as 'valid' } : {}),
      });
    }
    return { items: certs.map((c) => certSummary(c, now)) };
  },
  'certs.get'(ctx) {
    return certDecoded(ctx.deps.authority.find(param(ctx, 'serial')), ctx.deps.clock().getTime());
  },
  'certs.revoke'(ctx) {
    const caller = callerOf(ctx);
    const reason = optString(body(ctx), 'reason', 64) ?? 'unspecified';
    if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) throw new ApiError('BAD_INPUT', `reason is one of ${REVOCATION_REASONS.join(', ')}`);
    const cert = ctx.deps.authority.find(param(ctx, 'serial'));
    // The helpdesk acts on users' certificates, never on servers' or authbox's own.
    if (caller.operator.role !== 'admin' && cert.username === null) throw new ApiError('FORBIDDEN', 'only an admin revokes a certificate that belongs to no user');
    const done = ctx.deps.authority.revoke(cert.serial, CrlReason[reason as keyof typeof CrlReason], caller.actor);
    return certSummary(done, ctx.deps.clock().getTime());
  },

  'nas.list'(ctx) {
    return { items: ctx.deps.nas.list().map(nasView) };
  },
  'nas.add'(ctx) {
    const b = body(ctx);
    const kind = optString(b, 'kind', 16);
    if (kind !== undefined && !(NAS_KINDS as readonly string[]).includes(kind)) throw new ApiError('BAD_INPUT', `kind is one of ${NAS_KINDS.join(', ')}`);
    const secret = optString(b, 'secret', 256);
    const rma = b.requireMessageAuthenticator;
    if (rma !== undefined && typeof rma !== 'boolean') throw new ApiError('BAD_INPUT', '"requireMessageAuthenticator" is true or false');
    const radsec = b.radsec;
    if (radsec !== undefined && typeof radsec !== 'boolean') throw new ApiError('BAD_INPUT', '"radsec" is true or false');
    const n = ctx.deps.nas.add({
      name: reqString(b, 'name', 64), address: reqString(b, 'address', 64), ...(secret !== undefined ? { secret } : {}),
      ...(kind !== undefined ? { kind: kind as NasKind } : {}), ...(rma !== undefined ? { requireMessageAuthenticator: rma } : {}),
      ...(radsec !== undefined ? { radsec } : {}),
    }, callerOf(ctx).actor);
    ctx.res.status(201);
    return nasView(n);
  },
  'nas.remove'(ctx) {
    ctx.deps.nas.remove(param(ctx, 'name'), callerOf(ctx).actor);
    ctx.res.status(204).end();
    return undefined;
  },

  'policies.get'(ctx) {
    return { groups: ctx.deps.policy.load().groups, methods: ctx.deps.policy.methodsByKind() };
  },
  'policies.putGroup'(ctx) {
    const b = body(ctx);
    const num = (k: string): number | undefined => {
      const v = b[k];
      if (v === undefined || v === null) return undefined;
      if (typeof v !== 'number') throw new ApiError('BAD_INPUT', `"${k}" must be a number`);
      return v;
    };
    const unset = b.unset;
    if (unset !== undefined && (!Array.isArray(unset) || !unset.every((u) => ['vlan', 'sessionTimeout', 'filterId', 'class'].includes(u as string)))) {
      throw new ApiError('BAD_INPUT', '"unset" lists vlan, sessionTimeout, filterId or class');
    }
    const vlan = optString(b, 'vlan', 64); const filterId = optString(b, 'filterId', 253); const cls = optString(b, 'class', 253);
    const sessionTimeout = num('sessionTimeout'); const priority = num('priority');
    return ctx.deps.policy.set({
      group: param(ctx, 'group'), ...(vlan !== undefined ? { vlan } : {}), ...(filterId !== undefined ? { filterId } : {}),
      ...(cls !== undefined ? { class: cls } : {}), ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
      ...(priority !== undefined ? { priority } : {}), ...(unset !== undefined ? { unset: unset as ('vlan')[] } : {}),
    }, callerOf(ctx).actor);
  },
  'policies.removeGroup'(ctx) {
    ctx.deps.policy.remove(param(ctx, 'group'), callerOf(ctx).actor);
    ctx.res.status(204).end();
    return undefined;
  },
  'policies.putMethods'(ctx) {
    const methods = body(ctx).methods;
    if (methods !== null && (!Array.isArray(methods) || !methods.every((m) => typeof m === 'string'))) {
      throw new ApiError('BAD_INPUT', '"methods" is a list of method names, or null for all');
    }
    ctx.deps.policy.setMethods(param(ctx, 'kind') as NasKind, methods === null ? undefined : methods as AuthMethod[], callerOf(ctx).actor);
    return { kind: param(ctx, 'kind'), methods: ctx.deps.policy.methodsByKind()[param(ctx, 'kind') as NasKind] };
  },

  'logs.auth'(ctx) {
    const outcome = query(ctx, 'outcome');
    if (outcome !== undefined && outcome !== 'accept' && outcome !== 'reject') throw new ApiError('BAD_INPUT', 'outcome is accept or reject');
    const user = query(ctx, 'user'); const nas = query(ctx, 'nas');
    const since = timeOf(ctx, 'since'); const until = timeOf(ctx, 'until'); const before = intOf(ctx, 'before');
    const items = ctx.deps.queries.decisions({
      limit: limitOf(ctx), ...(user !== undefined ? { user } : {}), ...(nas !== undefined ? { nas } : {}), ...(outcome !== undefined ? { outcome } : {}),
      ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(before !== undefined ? { before } : {}),
    });
    return { items, ...(items.length > 0 ? { nextBefore: items[items.length - 1]!.id } : {}) };
  },
  'logs.audit'(ctx) {
    const items = auditRows(ctx, limitOf(ctx)).map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) as unknown }));
    return { items, ...(items.length > 0 ? { nextBefore: items[items.length - 1]!.id } : {}) };
  },
  'logs.auditCsv'(ctx) {
    const rows = auditRows(ctx, limitOf(ctx, 10_000, CSV_MAX_ROWS));
    const lines = ['id,at,actor,source,action,target,detail'];
    for (const r of rows) lines.push([r.id, new Date(r.at).toISOString(), r.actor, r.source, r.action, r.target, r.detail].map(csvCell).join(','));
    ctx.res.type('text/csv; charset=utf-8');
    ctx.res.set('Content-Disposition', 'attachment; filename="authbox-audit.csv"');
    ctx.res.send(lines.join('\r\n') + '\r\n');
    return undefined;
  },
  'openapi'() {
    return OPENAPI;
  },
};

function auditRows(ctx: HandlerContext, limit: number) {
  const actor = query(ctx, 'actor'); const action = query(ctx, 'action'); const target = query(ctx, 'target');
  const since = timeOf(ctx, 'since'); const until = timeOf(ctx, 'until'); const before = intOf(ctx, 'before');
  return ctx.deps.queries.audit({
    limit, ...(actor !== undefined ? { actor } : {}), ...(action !== undefined ? { action } : {}), ...(target !== undefined ? { target } : {}),
    ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(before !== undefined ? { before } : {}),
  });
}
