// One function per route id (routes.ts). Each returns the JSON body, or writes the
// response itself. Nothing returned carries a secret: views are built field by field.
import { X509Certificate } from 'node:crypto';
import type { Response } from 'express';
import { CrlReason, REVOCATION_REASONS } from '../ca/crl.js';
import type { CertRecord } from '../ca/storage.js';
import { normalizeSerial } from '../ca/serial.js';
import { NAS_KINDS, type NasKind, type NasRecord } from '../core/nas.js';
import { AUTH_METHODS, FACTOR_SETTINGS, type AuthMethod, type FactorSetting } from '../core/policy.js';
import type { UserRecord } from '../core/users.js';
import type { Caller, Handler, HandlerContext } from './app.js';
import { clearedSessionCookie, readCookie, SESSION_COOKIE, sessionCookie } from './app.js';
import { ApiError } from './errors.js';
import { CERT_HANDLERS, ownedByUser } from './handlers-certs.js';
import {
  body, callerOf, certSummary, intOf, limitOf, operatorBody, optString, param, qrSvg, query, reqString, timeOf,
} from './handlers-common.js';
import { CONSOLE_HANDLERS, expiringView } from './handlers-console.js';
import { DIRECTORY_HANDLERS } from './handlers-directory.js';
import { OPERATOR_HANDLERS } from './handlers-operators.js';
import { OPENAPI } from './openapi.js';
import { ROLE_PERMISSIONS, type RouteId } from './routes.js';

const CSV_MAX_ROWS = 100_000;
const CSV_PAGE_ROWS = 1000;

/**
 * Writes a chunk and waits: for 'drain' when the client reads slower than we write, else for the
 * next turn of the event loop (RADIUS answers in between). False once the client has gone.
 */
function writeOrWait(res: Response, chunk: string): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  if (res.write(chunk)) return new Promise((resolve) => setImmediate(() => resolve(!res.destroyed)));
  return new Promise((resolve) => {
    const done = (ok: boolean) => () => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = done(true);
    const onClose = done(false);
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}

function userView(u: UserRecord) {
  return {
    username: u.username, displayName: u.displayName, email: u.email, enabled: u.enabled, source: u.source, groups: u.groups,
    lockedUntil: u.lockedUntil, accountExpiresAt: u.accountExpiresAt, passwordChangedAt: u.passwordChangedAt,
    hasPassword: u.passwordHash !== null, chap: u.chapPasswordSealed !== null, createdAt: u.createdAt, updatedAt: u.updatedAt,
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
  operator: operatorBody(caller.operator),
  via: caller.via,
  ...(caller.session ? { csrfToken: caller.session.csrfToken, expiresAt: ctx.deps.operators.sessionExpiry(caller.session) } : {}),
});

type CoreRouteId = Exclude<RouteId, keyof typeof CERT_HANDLERS | keyof typeof CONSOLE_HANDLERS | keyof typeof DIRECTORY_HANDLERS
  | keyof typeof OPERATOR_HANDLERS>;

const CORE_HANDLERS: Record<CoreRouteId, Handler> = {
  async 'session.login'(ctx) {
    const b = body(ctx);
    const otp = optString(b, 'otp', 16);
    const result = await ctx.deps.operators.login({ username: reqString(b, 'username', 64), password: reqString(b, 'password', 256), ...(otp !== undefined ? { otp } : {}) }, ctx.client);
    if (result.kind === 'otp-required') throw new ApiError('OTP_REQUIRED', 'enter the one-time code');
    if (result.kind === 'enrolment-required') {
      throw new ApiError('OTP_ENROLMENT_REQUIRED', 'an administrator must enrol a one-time password: add this URI to an authenticator app, then log in again with a code',
        { enrolment: { otpauthUri: result.otpauthUri, qrSvg: await qrSvg(result.otpauthUri) } });
    }
    ctx.res.set('Set-Cookie', sessionCookie(result.sessionId));
    return {
      operator: { ...result.operator, permissions: ROLE_PERMISSIONS[result.operator.role] }, csrfToken: result.session.csrfToken, expiresAt: ctx.deps.operators.sessionExpiry(result.session),
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
  async 'session.otpBegin'(ctx) {
    const caller = callerOf(ctx);
    const otpauthUri = ctx.deps.operators.beginEnrolment(caller.operator.id, caller.actor);
    return { otpauthUri, qrSvg: await qrSvg(otpauthUri) };
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
      otp: ctx.deps.users.otpStatus(u),
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
      items: expiringView(items, now),
    };
  },

  'certs.list'(ctx) {
    const now = ctx.deps.clock().getTime();
    const limit = limitOf(ctx);
    const status = query(ctx, 'status');
    if (status !== undefined && !['valid', 'revoked', 'expired', 'hold'].includes(status)) throw new ApiError('BAD_INPUT', 'status is valid, revoked, expired or hold');
    const serial = query(ctx, 'serial'); const cn = query(ctx, 'cn'); const user = query(ctx, 'user'); const cursor = query(ctx, 'cursor');
    // Filters combine; keyset paging through an index per filter (store/console-queries.ts certificatePage).
    const page = ctx.deps.queries.certificatePage({
      now, limit, ...(serial !== undefined ? { serialPrefix: normalizeSerial(serial) } : {}), ...(cn !== undefined ? { commonName: cn } : {}),
      ...(user !== undefined ? { user } : {}), ...(status !== undefined ? { status: status as 'valid' } : {}),
      ...(cursor !== undefined ? { cursor: Buffer.from(cursor, 'base64url').toString('utf8') } : {}),
    });
    const certs: CertRecord[] = page.items.map((s) => ctx.deps.authority.find(s));
    return { items: certs.map((c) => certSummary(c, now)), ...(page.nextCursor !== undefined ? { nextCursor: Buffer.from(page.nextCursor, 'utf8').toString('base64url') } : {}) };
  },
  'certs.get'(ctx) {
    const cert = ctx.deps.authority.find(param(ctx, 'serial'));
    return { ...certDecoded(cert, ctx.deps.clock().getTime()), device: ctx.deps.devices.certificateDevice(cert.serial) ?? null };
  },
  'certs.revoke'(ctx) {
    const caller = callerOf(ctx);
    const reason = optString(body(ctx), 'reason', 64) ?? 'unspecified';
    if (!(REVOCATION_REASONS as readonly string[]).includes(reason)) throw new ApiError('BAD_INPUT', `reason is one of ${REVOCATION_REASONS.join(', ')}`);
    const cert = ctx.deps.authority.find(param(ctx, 'serial'));
    // The helpdesk acts on users' certificates (and their devices'), never on servers' or authbox's own.
    if (caller.operator.role !== 'admin' && !ownedByUser(ctx, cert)) throw new ApiError('FORBIDDEN', 'only an admin revokes a certificate that belongs to no user');
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
    const snapshot = ctx.deps.policy.load();
    return {
      groups: snapshot.groups, methods: ctx.deps.policy.methodsByKind(),
      factors: Object.values(ctx.deps.policy.factorsByKind()), otpGroups: snapshot.otpGroups,
    };
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
  'policies.putFactors'(ctx) {
    const b = body(ctx);
    const setting = (k: string): FactorSetting | undefined => {
      const v = optString(b, k, 16);
      if (v !== undefined && !(FACTOR_SETTINGS as readonly string[]).includes(v)) throw new ApiError('BAD_INPUT', `"${k}" is ${FACTOR_SETTINGS.join(' or ')}`);
      return v as FactorSetting | undefined;
    };
    const otp = setting('otp'); const tunnelClientCert = setting('tunnelClientCert');
    const kind = param(ctx, 'kind') as NasKind;
    if (!NAS_KINDS.includes(kind)) throw new ApiError('BAD_INPUT', `the kind is one of ${NAS_KINDS.join(', ')}`);
    return ctx.deps.policy.setFactors(kind, { ...(otp ? { otp } : {}), ...(tunnelClientCert ? { tunnelClientCert } : {}) }, callerOf(ctx).actor);
  },
  'policies.putGroupOtp'(ctx) {
    const required = body(ctx).required;
    if (typeof required !== 'boolean') throw new ApiError('BAD_INPUT', '"required" is true or false');
    ctx.deps.policy.setGroupOtp(param(ctx, 'group'), required, callerOf(ctx).actor);
    return { group: param(ctx, 'group'), required };
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
    const method = query(ctx, 'method');
    // The log also holds 'eap' (refused before a method was chosen): any method name, checked for shape.
    if (method !== undefined && !/^[a-z0-9-]{1,32}$/.test(method)) throw new ApiError('BAD_INPUT', `method is a method name (${AUTH_METHODS.join(', ')}, eap)`);
    const since = timeOf(ctx, 'since'); const until = timeOf(ctx, 'until'); const before = intOf(ctx, 'before');
    const items = ctx.deps.queries.decisions({
      limit: limitOf(ctx), ...(user !== undefined ? { user } : {}), ...(nas !== undefined ? { nas } : {}), ...(outcome !== undefined ? { outcome } : {}),
      ...(method !== undefined ? { method } : {}),
      ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(before !== undefined ? { before } : {}),
    });
    return { items, ...(items.length > 0 ? { nextBefore: items[items.length - 1]!.id } : {}) };
  },
  'logs.audit'(ctx) {
    const items = auditRows(ctx, limitOf(ctx)).map((r) => ({ ...r, detail: r.detail === null ? null : JSON.parse(r.detail) as unknown }));
    return { items, ...(items.length > 0 ? { nextBefore: items[items.length - 1]!.id } : {}) };
  },
  async 'logs.auditCsv'(ctx) {
    // Streamed in pages by the id cursor, with a turn of the event loop between pages: the console
    // runs in the process that answers RADIUS, and 100,000 rows built at once took 0.8 s of it.
    const max = limitOf(ctx, 10_000, CSV_MAX_ROWS);
    const { res } = ctx;
    res.type('text/csv; charset=utf-8');
    res.set('Content-Disposition', 'attachment; filename="authbox-audit.csv"');
    let open = await writeOrWait(res, 'id,at,actor,source,action,target,detail\r\n');
    let before = intOf(ctx, 'before');
    for (let sent = 0; open && sent < max;) {
      const rows = auditRows(ctx, Math.min(CSV_PAGE_ROWS, max - sent), before);
      if (rows.length === 0) break;
      const text = rows.map((r) => [r.id, new Date(r.at).toISOString(), r.actor, r.source, r.action, r.target, r.detail].map(csvCell).join(',')).join('\r\n');
      sent += rows.length;
      before = rows[rows.length - 1]!.id;
      open = await writeOrWait(res, `${text}\r\n`);
      if (rows.length < CSV_PAGE_ROWS) break;
    }
    if (open) res.end();
    return undefined;
  },
  'openapi'() {
    return OPENAPI;
  },
};

export const HANDLERS: Record<RouteId, Handler> = {
  ...CORE_HANDLERS, ...CERT_HANDLERS, ...CONSOLE_HANDLERS, ...DIRECTORY_HANDLERS, ...OPERATOR_HANDLERS,
};

/** `before` overrides the query's cursor (the CSV export walks the pages itself). */
function auditRows(ctx: HandlerContext, limit: number, before = intOf(ctx, 'before')) {
  const actor = query(ctx, 'actor'); const action = query(ctx, 'action'); const target = query(ctx, 'target');
  const since = timeOf(ctx, 'since'); const until = timeOf(ctx, 'until');
  return ctx.deps.queries.audit({
    limit, ...(actor !== undefined ? { actor } : {}), ...(action !== undefined ? { action } : {}), ...(target !== undefined ? { target } : {}),
    ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), ...(before !== undefined ? { before } : {}),
  });
}
