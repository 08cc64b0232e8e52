// The admin console's express app, built from its dependencies (no global state) and
// tested in-process. Every response carries the security headers; errors are JSON
// {error: {code, message}}; a cookie session needs the CSRF token on every state change;
// an API token (Authorization: Bearer) acts with its operator's role and needs none.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { KeyObject } from 'node:crypto';
import type { IssueRequest, LoadedCa, PublicUrls } from '../ca/authority.js';
import type { KeyType } from '../ca/keys.js';
import type { CertQuery, CertRecord } from '../ca/storage.js';
import type { AccountingSession, SessionQuery } from '../core/accounting.js';
import type { Actor } from '../core/actor.js';
import { withAuditContext } from '../core/audit-context.js';
import type { DeviceService } from '../core/devices.js';
import { isAppError } from '../core/errors.js';
import type { NasService } from '../core/nas.js';
import { sha256Hex, type OperatorRecord, type OperatorService, type SessionRecord } from '../core/operators.js';
import type { PolicyService } from '../core/policy.js';
import type { UserService } from '../core/users.js';
import type { LdapSourceRecord, SyncRunRecord } from '../ldap-sync/source.js';
import type { ConsoleAdminStore } from '../store/console-admin-store.js';
import type { ConsoleQueries } from '../store/console-queries.js';
import type { DashboardQueries } from '../store/dashboard-queries.js';
import { DownloadStore } from './downloads.js';
import { ApiError, statusOf } from './errors.js';
import { HANDLERS } from './handlers.js';
import { API_PREFIX, allowed, ROUTES, withinRole, type RouteSpec } from './routes.js';
import { serveConsole } from './static.js';
import type { ExpiringItem } from '../core/expiry-notifier.js';

export const SESSION_COOKIE = 'authbox_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface AdminAppDeps {
  operators: OperatorService;
  users: UserService;
  /** ca/authority.ts CertificateAuthority: find, revoke, issue with a key made here, the CAs. */
  authority: {
    find(serial: string): CertRecord;
    revoke(serial: string, reason: number, by: Actor): CertRecord;
    issueWithNewKey(req: Omit<IssueRequest, 'subjectSpki'>, keyType: KeyType, by: Actor): { cert: CertRecord; key: KeyObject };
    chain(): Buffer[];
    cas(): readonly LoadedCa[];
  };
  certificates: { queryCertificates(q: CertQuery): CertRecord[] };
  nas: NasService;
  policy: PolicyService;
  devices: DeviceService;
  /** Users search, devices, audit and decision log readers. */
  queries: ConsoleQueries;
  /** Dashboard counts, last uses of certificates, device search. */
  dashboard: DashboardQueries;
  /** Operator sessions and token roles. */
  admin: ConsoleAdminStore;
  accounting: { listSessions(q: SessionQuery): AccountingSession[] };
  /** Runs fn in one database transaction (issuance with its device binding, lost-device revocations). */
  transaction<T>(fn: () => T): T;
  /** An audit row on its own (downloads, directory actions), in a transaction of its own. */
  audit(by: Actor, action: string, target: string | null, detail?: unknown): void;
  /** CRL facts per CA, the published URLs, the key type of new keys. */
  pki: { crlInfo(caId: number): { number: number; thisUpdate: number; nextUpdate: number } | undefined; urls: PublicUrls; keyType: KeyType };
  clock: () => Date;
  /** Largest JSON body accepted (bytes); 16 KiB by default. */
  maxBodyBytes?: number;
  /** What expires within `days` (src/expiry.ts listExpiring). */
  expiring?(now: number, days: number): readonly ExpiringItem[];
  /** Directory sources: the same engine the `authbox ldap` CLI uses; absent: no sources. */
  directory?: {
    sources(): LdapSourceRecord[];
    runs(sourceId: number, limit?: number): SyncRunRecord[];
    test(name: string): Promise<{ url: string; count: number }>;
    /** A dry run, in a child process like syncNow (it reads and plans as much as a sync). */
    preview(name: string): Promise<DirectoryPreview>;
    /** A sync as the schedule runs it (daemon-process.ts syncInChildProcess); resolves when it ends. */
    syncNow(name: string): Promise<void>;
  };
  /** Disconnect-Requests sent for a user since a time (core/coa.ts); absent: none. */
  disconnects?(username: string, since: number): {
    at: number; nas: string; sessionId: string; outcome: string; attempts: number; reason?: string; serial?: string | null; detail?: string | null;
  }[];
  /** The daemon's listeners and whether each is up; absent: none reported. */
  listeners?(): { name: string; address: string; up: boolean }[] | Promise<{ name: string; address: string; up: boolean }[]>;
  /** Console display settings; default Asia/Tokyo, Japanese and English. */
  ui?: { timeZone: string; languages: string[] };
  /** One-time PKCS#12 downloads; createAdminApp makes one when absent. */
  downloads?: DownloadStore;
}

/** A dry run's plan, as `authbox ldap sync --dry-run --json` prints it. */
export interface DirectoryPreview {
  source: string;
  mode: 'full' | 'incremental';
  runId: number;
  counts: { added: number; updated: number; disabled: number; groups: number; conflicts: number };
  items: {
    action: 'add' | 'update' | 'enable' | 'disable'; username: string; groups?: string[]; reason?: string; displayName?: string | null; email?: string | null;
  }[];
  conflicts: { username: string; reason: string }[];
  skipped: string[];
}

/** Who is calling, set by the authentication middleware. */
export interface Caller {
  /** With a token narrowed to a role, the operator as that role. */
  operator: OperatorRecord;
  /** Absent for an API token. */
  session?: SessionRecord;
  via: 'session' | 'token';
  actor: Actor;
  client: string;
}

export interface HandlerContext {
  deps: AdminAppDeps;
  req: Request;
  res: Response;
  caller: Caller | undefined;
  client: string;
}

export type Handler = (ctx: HandlerContext) => unknown;

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': "default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'Strict-Transport-Security': 'max-age=31536000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(value: string): string {
  return `${SESSION_COOKIE}=${value}; HttpOnly; Secure; SameSite=Strict; Path=/`;
}

export function clearedSessionCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0`;
}

/** Equal strings, compared in constant time (over their SHA-256, so lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  const h = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(h(a), h(b));
}

function clientOf(req: Request): string {
  // No proxy is trusted: the address is the peer of the TCP connection.
  return req.socket.remoteAddress ?? 'unknown';
}

function authenticate(deps: AdminAppDeps, req: Request): Caller | undefined {
  const client = clientOf(req);
  const auth = req.get('authorization');
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    const op = m ? deps.operators.tokenOperator(m[1]!) : undefined;
    if (!op) throw new ApiError('UNAUTHENTICATED', 'the API token is unknown or revoked');
    // A token narrowed to a role acts with that role, never with more than its operator's: one whose
    // operator can no longer do all that role does is refused rather than widened or narrowed by guess.
    const narrowed = deps.admin.tokenRole(sha256Hex(m![1]!));
    if (narrowed !== undefined && !withinRole(narrowed, op.role)) throw new ApiError('UNAUTHENTICATED', 'the API token\'s role exceeds its operator\'s');
    return { operator: { ...op, role: narrowed ?? op.role }, via: 'token', actor: { actor: `operator:${op.username}`, source: 'api' }, client };
  }
  const id = readCookie(req.get('cookie'), SESSION_COOKIE);
  if (id === undefined) return undefined;
  const found = deps.operators.session(id);
  if (!found) return undefined;
  return {
    operator: found.operator, session: found.session, via: 'session', actor: { actor: `operator:${found.operator.username}`, source: 'console' }, client,
  };
}

export function createAdminApp(given: AdminAppDeps): express.Express {
  const deps: AdminAppDeps = { ...given, downloads: given.downloads ?? new DownloadStore(given.clock) };
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);
  app.set('query parser', 'simple');

  app.use((_req, res, next) => {
    res.set(SECURITY_HEADERS);
    res.set('Cache-Control', 'no-store');
    next();
  });

  app.use((req, _res, next) => {
    // A body that is not JSON is refused before parsing: HTML forms from another site cannot send JSON.
    const hasBody = req.get('content-length') !== undefined ? Number(req.get('content-length')) > 0 : req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is('application/json')) return next(new ApiError('UNSUPPORTED_MEDIA_TYPE', 'request bodies are JSON (Content-Type: application/json)'));
    next();
  });
  app.use(express.json({ limit: deps.maxBodyBytes ?? 16 * 1024, strict: true, type: 'application/json' }));

  const router = express.Router({ caseSensitive: true, strict: false });
  for (const route of ROUTES as readonly RouteSpec[]) {
    const handler = HANDLERS[route.id as keyof typeof HANDLERS];
    router[route.method](route.path, (req: Request, res: Response, next: NextFunction) => {
      void (async () => {
        const client = clientOf(req);
        const caller = route.access === 'public' ? undefined : authenticate(deps, req);
        if (route.access !== 'public') {
          if (!caller) throw new ApiError('UNAUTHENTICATED', 'log in first');
          if (caller.via === 'session' && STATE_CHANGING.has(req.method)) {
            const given = req.get(CSRF_HEADER);
            if (given === undefined || !sameSecret(given, caller.session!.csrfToken)) throw new ApiError('CSRF_FAILED', 'missing or wrong X-CSRF-Token');
          }
          if (!allowed(caller.operator.role, route.access)) throw new ApiError('FORBIDDEN', `the ${caller.operator.role} role may not do this`);
        }
        const body = await withAuditContext({ client }, () => handler({ deps, req, res, caller, client }));
        if (!res.headersSent && body !== undefined) res.json(body);
      })().catch(next);
    });
  }
  app.use(API_PREFIX, router);
  app.use(serveConsole());

  app.use((_req, _res, next) => next(new ApiError('NOT_FOUND', 'no such route')));
  // Express recognises an error handler by its four parameters.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const { status, code, message } = statusOf(err);
    if (res.headersSent) return;
    res.status(status).json({ error: { code, message }, ...(err instanceof ApiError && err.extra ? err.extra : {}) });
  });
  return app;
}

export { isAppError };
