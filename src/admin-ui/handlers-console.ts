// The dashboard, a user's sessions, disconnects and one-time password, devices, the CAs and
// the console's display settings. Read-mostly; the OTP routes write through UserService.
import { toPem } from '../ca/pem.js';
import { readCertificate } from '../ca/x509.js';
import type { SyncRunRecord } from '../ldap-sync/source.js';
import type { AccountingSession } from '../core/accounting.js';
import type { ExpiringItem } from '../core/expiry-notifier.js';
import type { Handler, HandlerContext } from './app.js';
import { ApiError } from './errors.js';
import { body, callerOf, limitOf, param, qrSvg, query, timeOf } from './handlers-common.js';
import type { RouteId } from './routes.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const DEFAULT_UI = { timeZone: 'Asia/Tokyo', languages: ['ja', 'en'] };

export function runView(r: SyncRunRecord) {
  return {
    id: r.id, startedAt: r.startedAt, finishedAt: r.endedAt, ok: r.endedAt !== null && r.error === null, error: r.error, mode: r.mode, dryRun: r.dryRun,
    counts: { added: r.added, updated: r.updated, disabled: r.disabled, groups: r.groups },
  };
}

/** The latest run that changed (or would have changed) something: a dry run is a preview, not a sync. */
export function lastRealRun(ctx: HandlerContext, sourceId: number) {
  const run = ctx.deps.directory?.runs(sourceId, 20).find((r) => !r.dryRun);
  return run ? runView(run) : null;
}

/** Expiring items the dashboard lists; the rest are counted. */
const DASHBOARD_EXPIRING = 20;

export function expiringView(items: readonly ExpiringItem[], now: number) {
  return items.map((i) => ({ ...i, notAfter: new Date(i.notAfter).toISOString(), daysLeft: Math.floor((i.notAfter - now) / DAY_MS) }));
}

function sessionView(s: AccountingSession) {
  return {
    id: s.id, nas: s.nas, nasAddress: s.nasAddress, sessionId: s.sessionId, username: s.username, open: s.open, startedAt: s.startedAt,
    updatedAt: s.updatedAt, stoppedAt: s.stoppedAt, sessionTime: s.sessionTime, framedIp: s.framedIp, callingStationId: s.callingStationId,
    calledStationId: s.calledStationId, nasPort: s.nasPort, inputOctets: s.inputOctets, outputOctets: s.outputOctets, terminateCause: s.terminateCause,
  };
}

function addCount(into: Record<string, number>, key: string, n: number): void {
  into[key] = (into[key] ?? 0) + n;
}

export const CONSOLE_HANDLERS = {
  async 'dashboard'(ctx) {
    const now = ctx.deps.clock().getTime();
    // 24 hourly buckets, the current hour last.
    const since = Math.floor(now / HOUR_MS) * HOUR_MS - 23 * HOUR_MS;
    const buckets = Array.from({ length: 24 }, (_, i) => ({ at: since + i * HOUR_MS, byResult: {} as Record<string, number>, byMethod: {} as Record<string, number> }));
    const totals = { byResult: {} as Record<string, number>, byMethod: {} as Record<string, number> };
    for (const c of ctx.deps.dashboard.decisionCounts(since)) {
      const bucket = buckets[Math.floor((c.hour - since) / HOUR_MS)];
      if (!bucket) continue;
      const method = c.method ?? 'other';
      addCount(bucket.byResult, c.outcome, c.n);
      addCount(bucket.byMethod, method, c.n);
      addCount(totals.byResult, c.outcome, c.n);
      addCount(totals.byMethod, method, c.n);
    }
    return {
      now,
      auth: { since, buckets, totals },
      failures: ctx.deps.dashboard.latestFailures(20),
      // The soonest few and how many in all: a CA with thousands of certificates expiring this month
      // would otherwise make the dashboard a download (GET /certificates/expiring has them all).
      // Sorted by time as numbers, and only the few shown turned into views (the console runs on the RADIUS
      // thread: sorting 2,292 ISO strings with localeCompare took most of the dashboard's 101 ms).
      ...((all) => ({ expiring: expiringView(all.slice(0, DASHBOARD_EXPIRING), now), expiringCount: all.length }))(
        [...(ctx.deps.expiring?.(now, 30) ?? [])].sort((a, b) => a.notAfter - b.notAfter)),
      directory: (ctx.deps.directory?.sources() ?? []).map((s) => ({ source: s.name, lastRun: lastRealRun(ctx, s.id) })),
      listeners: (await ctx.deps.listeners?.()) ?? [],
    };
  },

  'users.sessions'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const limit = limitOf(ctx);
    const open = ctx.deps.accounting.listSessions({ user: u.username, open: true, limit });
    const closed = open.length < limit ? ctx.deps.accounting.listSessions({ user: u.username, open: false, limit: limit - open.length }) : [];
    return { items: [...open, ...closed].map(sessionView) };
  },

  async 'users.otpBegin'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const { uri } = ctx.deps.users.beginOtpEnrollment(u.username, callerOf(ctx).actor);
    return { username: u.username, uri, qrSvg: await qrSvg(uri), otp: ctx.deps.users.otpStatus(u.username) };
  },

  'users.otpConfirm'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const code = body(ctx).code;
    if (typeof code !== 'string' || !/^\d{6,8}$/.test(code)) throw new ApiError('BAD_INPUT', '"code" is the 6-digit code from the app');
    return { username: u.username, otp: ctx.deps.users.confirmOtp(u.username, code, callerOf(ctx).actor) };
  },

  'users.otpReset'(ctx) {
    const u = ctx.deps.users.get(param(ctx, 'name'));
    const changed = ctx.deps.users.resetOtp(u.username, callerOf(ctx).actor);
    return { username: u.username, changed, otp: ctx.deps.users.otpStatus(u.username) };
  },

  'devices.list'(ctx) {
    const owner = query(ctx, 'owner');
    const prefix = query(ctx, 'prefix');
    const cursor = query(ctx, 'cursor');
    const limit = limitOf(ctx);
    const rows = ctx.deps.dashboard.devices({
      limit: limit + 1, ...(owner !== undefined ? { owner } : {}), ...(prefix !== undefined ? { prefix } : {}),
      ...(cursor !== undefined ? { after: Buffer.from(cursor, 'base64url').toString('utf8') } : {}),
    });
    const items = rows.slice(0, limit);
    return { items, ...(rows.length > limit ? { nextCursor: Buffer.from(items[items.length - 1]!.mac, 'utf8').toString('base64url') } : {}) };
  },

  'disconnects'(ctx) {
    const user = query(ctx, 'user');
    if (user === undefined) throw new ApiError('BAD_INPUT', 'user is required');
    const since = timeOf(ctx, 'since') ?? ctx.deps.clock().getTime() - 30 * DAY_MS;
    return { items: ctx.deps.disconnects?.(user, since) ?? [] };
  },

  'ca.list'(ctx) {
    const { urls } = ctx.deps.pki;
    return {
      items: ctx.deps.authority.cas().map((ca) => {
        const crl = ctx.deps.pki.crlInfo(ca.record.id);
        return {
          id: ca.record.id, name: ca.record.name, role: ca.record.role, parentId: ca.record.parentId, subject: ca.facts.subjectText,
          serial: ca.facts.serialHex, notBefore: ca.facts.notBefore.getTime(), notAfter: ca.facts.notAfter.getTime(),
          certificateUrl: urls.caIssuers(ca.record.name),
          crl: { number: crl?.number ?? null, thisUpdate: crl?.thisUpdate ?? null, nextUpdate: crl?.nextUpdate ?? null, url: urls.crl(ca.record.name) },
          ocsp: ca.ocsp ? { url: urls.ocsp(), signerNotAfter: readCertificate(ca.ocsp.certDer).notAfter.getTime() } : null,
        };
      }),
    };
  },

  'ca.chain'(ctx) {
    const id = param(ctx, 'id');
    const cas = ctx.deps.authority.cas();
    let ca = /^\d{1,9}$/.test(id) ? cas.find((c) => c.record.id === Number(id)) : cas.find((c) => c.record.name === id);
    if (!ca) throw new ApiError('NOT_FOUND', `no CA "${id}"`);
    const name = ca.record.name;
    const pems: string[] = [];
    // The CA, then its parents up to the root (at most a few: the walk stops at a loop).
    for (let hops = 0; ca && hops < 8; hops++) {
      pems.push(toPem('CERTIFICATE', ca.record.certDer));
      const parent: number | null = ca.record.parentId;
      ca = parent === null ? undefined : cas.find((c) => c.record.id === parent);
    }
    ctx.res.type('application/pem-certificate-chain');
    ctx.res.set('Content-Disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]+/g, '_')}-chain.pem"`);
    ctx.res.send(pems.join(''));
    return undefined;
  },

  'settings.ui'(ctx) {
    return ctx.deps.ui ?? DEFAULT_UI;
  },
} satisfies Partial<Record<RouteId, Handler>>;
