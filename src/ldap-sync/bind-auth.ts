// Password checks for synced users (PAP, EAP-TTLS/PAP): a simple bind as the user's DN
// (RFC 4513 §5.1.3) against the user's source. A directory gives out no NT hash, so this
// cannot serve MS-CHAPv2 or PEAP. Binds per source are limited in number; a server that
// fails to answer is marked down and not tried again until a delay has passed, so a dead
// directory costs RADIUS one quick answer, not a timeout per request.
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { DirectoryConnection, type DirectoryEndpoint, type DirectoryTimeouts } from './directory.js';
import { isLdapError } from './errors.js';

export type BindOutcome = 'accept' | 'reject' | 'down';

/** Where a synced user's password is checked: its source's endpoint and its DN. */
export interface BindTarget {
  sourceId: number;
  endpoint: DirectoryEndpoint;
  dn: string;
}

export interface BindAuthOptions {
  log: Logger;
  timeouts?: DirectoryTimeouts;
  /** Concurrent binds per source; more wait in line. */
  maxConcurrent?: number;
  /** Requests waiting beyond this are answered 'down' at once. */
  maxQueued?: number;
  /** How long a source stays marked down after a failure. */
  retryAfterMs?: number;
  now?: () => number;
}

export const BIND_DEFAULTS = { maxConcurrent: 8, maxQueued: 256, retryAfterMs: 30_000, connectTimeoutMs: 3_000, operationTimeoutMs: 5_000 } as const;

interface SourceState {
  active: number;
  queue: (() => void)[];
  downUntil: number;
}

export class LdapBindAuthenticator {
  private readonly states = new Map<number, SourceState>();
  private readonly maxConcurrent: number;
  private readonly maxQueued: number;
  private readonly retryAfterMs: number;
  private readonly now: () => number;
  private readonly timeouts: DirectoryTimeouts;

  constructor(private readonly options: BindAuthOptions) {
    this.maxConcurrent = options.maxConcurrent ?? BIND_DEFAULTS.maxConcurrent;
    this.maxQueued = options.maxQueued ?? BIND_DEFAULTS.maxQueued;
    this.retryAfterMs = options.retryAfterMs ?? BIND_DEFAULTS.retryAfterMs;
    this.now = options.now ?? Date.now;
    this.timeouts = options.timeouts ?? { connectTimeoutMs: BIND_DEFAULTS.connectTimeoutMs, operationTimeoutMs: BIND_DEFAULTS.operationTimeoutMs };
  }

  /** True only when the directory accepted the bind. A down server is false (see `check` for why). */
  async verify(target: BindTarget, password: string | Uint8Array): Promise<boolean> {
    return (await this.check(target, password)) === 'accept';
  }

  /** 'down': the server did not answer, refused TLS, or is marked down; the password was not judged. */
  async check(target: BindTarget, password: string | Uint8Array): Promise<BindOutcome> {
    const text = typeof password === 'string' ? password : Buffer.from(password).toString('utf8');
    // RFC 4513 §5.1.2: an empty password is an unauthenticated bind that servers accept.
    if (text === '' || text.includes('\u0000')) return 'reject';
    const state = this.state(target.sourceId);
    if (state.downUntil > this.now()) return 'down';
    if (state.active >= this.maxConcurrent) {
      if (state.queue.length >= this.maxQueued) return 'down';
      await new Promise<void>((resolve) => state.queue.push(resolve));
    }
    state.active++;
    try {
      const conn = await DirectoryConnection.open(target.endpoint, target.dn, text, this.timeouts);
      await conn.close();
      return 'accept';
    } catch (e) {
      if (isLdapError(e, 'LDAP_BIND_FAILED')) return 'reject';
      state.downUntil = this.now() + this.retryAfterMs;
      this.options.log.warn({ sourceId: target.sourceId, url: target.endpoint.url, error: (e as Error).message }, 'directory marked down for password checks');
      return 'down';
    } finally {
      state.active--;
      state.queue.shift()?.();
    }
  }

  /** Whether the source is marked down now. */
  isDown(sourceId: number): boolean {
    return this.state(sourceId).downUntil > this.now();
  }

  private state(sourceId: number): SourceState {
    let s = this.states.get(sourceId);
    if (!s) this.states.set(sourceId, (s = { active: 0, queue: [], downUntil: 0 }));
    return s;
  }
}

/** What the password check needs to find a synced user's directory. */
export interface SyncedUserDirectory {
  linkOfUser(userId: number): { sourceId: number; dn: string; vanished: boolean } | undefined;
  sourceById(id: number): { id: number; url: string; starttls: boolean; caPem: string | null } | undefined;
}

/**
 * The directory of a synced user, read from the store when a password is checked (a bind
 * follows, so one indexed read costs nothing in comparison), rather than a copy of every
 * link held by each thread: 100,000 synced users would be 100,000 objects per EAP worker.
 */
export function storedUserDirectory(store: {
  linkOfUser(userId: number): { sourceId: number; dn: string; vanished: boolean } | undefined;
  sourceById(id: number): { id: number; url: string; starttls: boolean; caPem: string | null } | undefined;
}): SyncedUserDirectory {
  return { linkOfUser: (id) => store.linkOfUser(id), sourceById: (id) => store.sourceById(id) };
}

/**
 * A PAP password check that sends synced users to their directory and everyone else to
 * the local check: `verifyPassword(user, password)` has the shape RADIUS already calls.
 * A user without an id (the dummy hash RADIUS checks for unknown names) goes to the local check.
 */
export function directoryAwareVerify<U extends { id?: number; passwordHash: string | null }>(
  directory: SyncedUserDirectory,
  auth: LdapBindAuthenticator,
  local: (user: U, password: Uint8Array) => Promise<boolean>,
): (user: U, password: Uint8Array) => Promise<boolean> {
  return async (user, password) => {
    const link = typeof user.id === 'number' ? directory.linkOfUser(user.id) : undefined;
    if (!link) return local(user, password);
    if (link.vanished) return false;
    const source = directory.sourceById(link.sourceId);
    if (!source) return false;
    const outcome = await auth.check({ sourceId: source.id, endpoint: { url: source.url, starttls: source.starttls, caPem: source.caPem }, dn: link.dn }, password);
    // Not a wrong password (no lockout count, no refusal): the request gets no answer, and the
    // NAS asks its other RADIUS server, as with any backend failure.
    if (outcome === 'down') throw new AppError('DIRECTORY_UNAVAILABLE', 'the directory that checks this user\'s password does not answer');
    return outcome === 'accept';
  };
}
