// Ending sessions when access is withdrawn (RFC 5176 Dynamic Authorization): when a certificate
// is revoked or put on hold, or a user is disabled or locked by an operator, by any path (CLI,
// console, API, directory sync), every open accounting session of that user gets a
// Disconnect-Request at its NAS, retried with backoff, and each outcome is recorded.
// This is the engine: no sockets (a CoaTransport sends), no SQL (a CoaStorage stores).
import type { AccountingSession } from './accounting.js';
import type { Logger } from './logger.js';
import {
  Attr, Code, ErrorCause, decodePacket, encodePacket, makeAttribute, verifyResponseAuthenticator, verifyResponseMessageAuthenticator,
  type RadiusAttribute,
} from '../radius/codec/index.js';

export type CoaOutcome = 'ack' | 'nak' | 'timeout' | 'error';
/** The audit actions that end sessions (their audit row is the trigger). */
export const COA_REASONS = ['cert.revoke', 'cert.hold', 'user.disable', 'user.lock'] as const;
export type CoaReason = (typeof COA_REASONS)[number];

/** An audit row that withdrew access: `target` is a certificate serial (hex) or a username. */
export interface CoaTrigger {
  auditId: number;
  reason: CoaReason;
  target: string;
  source: string;
}

export interface CoaRequestRecord {
  id: number;
  nas: string;
  /** address:port the Disconnect-Request went to ('' when it could not be sent). */
  target: string;
  sessionId: string;
  username: string | null;
  serial: string | null;
  reason: CoaReason;
  attempts: number;
  outcome: CoaOutcome;
  /** RFC 5176 §3.5 Error-Cause of the reply, if it carried one. */
  errorCause: number | null;
  /** Why an 'error', or the Error-Cause's name. */
  detail: string | null;
  requestedAt: number;
  completedAt: number;
}

export type NewCoaRequest = Omit<CoaRequestRecord, 'id'>;

export interface CoaQuery {
  username?: string;
  /** ms since the epoch: requests made at or after. */
  since?: number;
  limit?: number;
}

/** What the CoA engine needs from storage; store/coa-store.ts implements it. */
export interface CoaStorage {
  latestAuditId(): number;
  /**
   * Audit rows past `auditId` whose action is one of COA_REASONS, oldest first, and the audit id
   * read up to (so the next read starts past the rows that were not triggers).
   */
  triggersSince(auditId: number, limit: number): { triggers: CoaTrigger[]; upTo: number };
  /** The audit id up to which triggers were planned, kept across restarts (undefined: never kept). */
  savedWatermark(): number | undefined;
  saveWatermark(auditId: number): void;
  /** Open accounting sessions whose User-Name is one of `names` (case-insensitive). */
  openSessionsOf(names: readonly string[]): AccountingSession[];
  /** One transaction with a 'coa' change row and an audit row (a system action). */
  recordCoa(row: NewCoaRequest): CoaRequestRecord;
  listCoa(query: CoaQuery): CoaRequestRecord[];
}

/** Where a client's Dynamic Authorization Server is (NasService.coaTarget). */
export interface CoaTarget {
  name: string;
  port: number;
  secret: Buffer;
  /** Configured address, or null. */
  address: string | null;
  /** The client's registered network (CIDR text). */
  network: string;
}

/** One Disconnect exchange: an Identifier held for one destination until close. */
export interface CoaExchange {
  readonly identifier: number;
  /** Sends (or re-sends) the packet; resolves with the first reply bearing the Identifier, or undefined after waitMs. */
  send(packet: Buffer, waitMs: number): Promise<Buffer | undefined>;
  close(): void;
}

export interface CoaTransport {
  /** Undefined when all 256 Identifiers towards that destination are in use. */
  open(address: string, port: number): CoaExchange | undefined;
}

/** A certificate as the engine reads it: whose it is and what it is called. */
export interface CoaCertificate {
  status: string;
  username: string | null;
  commonName: string;
  sans: readonly { kind: string; value: string }[];
}

export interface CoaEngineDeps {
  storage: CoaStorage;
  certificates: (serial: string) => CoaCertificate[];
  target: (nas: string) => CoaTarget | undefined;
  transport: CoaTransport;
  log: Logger;
  clock?: () => Date;
  /** How long to wait after each transmission: its length is the number of attempts. */
  waitsMs?: readonly number[];
  /** Exchanges in flight at once. */
  concurrency?: number;
}

/** RFC 5080 §2.2.1-style backoff: three transmissions, waiting 1 s, 2 s, then 4 s. */
export const COA_WAITS_MS: readonly number[] = [1000, 2000, 4000];
/** A session acknowledged as ended is not sent another Disconnect for this long (its Stop may lag). */
export const COA_ACK_MEMORY_MS = 60_000;
const COA_CONCURRENCY = 8;
const TRIGGER_PAGE = 500;

/** The console's and the CLI's view of outcomes. */
export class CoaLog {
  constructor(private readonly storage: Pick<CoaStorage, 'listCoa'>) {}

  /** Outcomes for a user (case-insensitive) since a time (ms), newest first. */
  recent(username: string, since: number): CoaRequestRecord[] {
    return this.storage.listCoa({ username, since, limit: 200 });
  }

  list(query: CoaQuery = {}): CoaRequestRecord[] {
    return this.storage.listCoa(query);
  }
}

const ERROR_CAUSE_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(ErrorCause).map(([k, v]) => [v, k.replace(/([a-z])([A-Z])/g, '$1-$2')]));
export const errorCauseName = (n: number): string => ERROR_CAUSE_NAMES.get(n) ?? `Error-Cause ${n}`;

/** RFC 5176 §3: the session's identification, Event-Timestamp (§3.5 replay protection); Message-Authenticator always. */
export function disconnectAttributes(session: AccountingSession, now: Date): RadiusAttribute[] {
  const attrs: RadiusAttribute[] = [];
  if (session.username) attrs.push(makeAttribute('User-Name', session.username));
  attrs.push(makeAttribute('Acct-Session-Id', session.sessionId));
  if (session.nasIp) attrs.push(makeAttribute('NAS-IP-Address', session.nasIp));
  if (session.nasIdentifier) attrs.push(makeAttribute('NAS-Identifier', session.nasIdentifier));
  if (session.callingStationId) attrs.push(makeAttribute('Calling-Station-Id', session.callingStationId));
  attrs.push(makeAttribute('Event-Timestamp', Math.floor(now.getTime() / 1000)));
  return attrs;
}

/**
 * A Disconnect-Request: Request Authenticator as for Accounting-Request (RFC 5176 §2.3: MD5 over
 * the packet with 16 zero octets in its place and the secret), Message-Authenticator first,
 * computed with those zero octets (RFC 5176 §3.4, RFC 3579 §3.2).
 */
export function encodeDisconnect(identifier: number, attributes: readonly RadiusAttribute[], secret: Buffer | string): Buffer {
  return encodePacket({ code: Code.DisconnectRequest, identifier, attributes, secret, messageAuthenticator: true });
}

export type DisconnectReply =
  | { kind: 'ack' | 'nak'; errorCause: number | null }
  | { kind: 'invalid'; why: string };

/** Checks a reply to `request`: code, Identifier, Response Authenticator (RFC 5176 §2.3) and any Message-Authenticator. */
export function checkDisconnectReply(reply: Buffer, request: Buffer, secret: Buffer | string): DisconnectReply {
  let packet;
  try {
    packet = decodePacket(reply);
  } catch (e) {
    return { kind: 'invalid', why: `malformed reply (${(e as Error).message})` };
  }
  if (packet.identifier !== request[1]) return { kind: 'invalid', why: 'Identifier does not match' };
  if (packet.code !== Code.DisconnectAck && packet.code !== Code.DisconnectNak) return { kind: 'invalid', why: `unexpected code ${packet.code}` };
  const requestAuthenticator = request.subarray(4, 20);
  if (!verifyResponseAuthenticator(reply, requestAuthenticator, secret)) return { kind: 'invalid', why: 'bad Response Authenticator' };
  // Many NASes send none in an ACK; one that is present must be right.
  if (verifyResponseMessageAuthenticator(reply, requestAuthenticator, secret) === 'invalid') return { kind: 'invalid', why: 'bad Message-Authenticator' };
  const cause = packet.attributes.find((a) => a.vendor === undefined && a.type === Attr.ErrorCause && a.value.length === 4);
  return { kind: packet.code === Code.DisconnectAck ? 'ack' : 'nak', errorCause: cause ? cause.value.readUInt32BE(0) : null };
}

/** The address of a client's Dynamic Authorization Server for one session (see `nas add --coa-address`). */
export function coaAddress(target: CoaTarget, session: AccountingSession): string | undefined {
  if (target.address) return target.address;
  if (session.nasIp) return session.nasIp;
  const [net, prefix] = target.network.split('/');
  if (net && (prefix === '32' || prefix === '128')) return net;
  return undefined;
}

interface Job {
  session: AccountingSession;
  trigger: CoaTrigger;
  serial: string | null;
}

/** Follows the triggers (woken by the change feed) and sends Disconnect-Requests, a bounded number at a time. */
export class CoaEngine {
  private watermark: number;
  private readonly queue: Job[] = [];
  private active = 0;
  private idleWaiters: (() => void)[] = [];
  private readonly clock: () => Date;
  private readonly waits: readonly number[];
  private readonly concurrency: number;
  private stopped = false;
  /** Sessions (acct_sessions.id) queued or in flight, and when each was last acknowledged: one
   *  lost-device action revoking three certificates of a user sends one Disconnect per session. */
  private readonly busy = new Set<number>();
  private readonly acked = new Map<number, number>();

  constructor(private readonly deps: CoaEngineDeps) {
    this.clock = deps.clock ?? (() => new Date());
    this.waits = deps.waitsMs ?? COA_WAITS_MS;
    this.concurrency = deps.concurrency ?? COA_CONCURRENCY;
    // A revocation confirmed while the daemon was down (or the instant before a kill -9) still ends
    // its sessions: the watch resumes where the last process planned up to. The first start begins now.
    const saved = deps.storage.savedWatermark();
    this.watermark = saved ?? deps.storage.latestAuditId();
    if (saved === undefined) deps.storage.saveWatermark(this.watermark);
  }

  /** Reads new triggers and queues a Disconnect for each open session they concern. Cheap: an indexed read. */
  poll(): void {
    if (this.stopped) return;
    for (;;) {
      const { triggers, upTo } = this.deps.storage.triggersSince(this.watermark, TRIGGER_PAGE);
      for (const t of triggers) {
        try {
          this.plan(t);
        } catch (e) {
          this.deps.log.error({ err: (e as Error).message, reason: t.reason, target: t.target }, 'cannot plan Disconnect-Requests');
        }
      }
      const before = this.watermark;
      this.watermark = Math.max(this.watermark, upTo);
      // Kept only after triggers were planned (rare), so quiet polls write nothing.
      if (triggers.length > 0 && this.watermark > before) this.deps.storage.saveWatermark(this.watermark);
      if (triggers.length < TRIGGER_PAGE) break;
    }
    this.pump();
  }

  /** Resolves once nothing is queued or in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops what is queued; exchanges in flight finish (at most the sum of the waits). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const job of this.queue) this.busy.delete(job.session.id);
    this.queue.length = 0;
    await this.idle();
  }

  private plan(t: CoaTrigger): void {
    // An account locked by failed attempts (source 'system') must not let a stranger end its owner's sessions.
    if (t.reason === 'user.lock' && t.source === 'system') return;
    let names: string[];
    let serial: string | null = null;
    if (t.reason === 'cert.revoke' || t.reason === 'cert.hold') {
      serial = t.target;
      const certs = this.deps.certificates(t.target).filter((c) => c.status === 'revoked' || c.status === 'hold');
      names = certs.flatMap((c) => [
        ...(c.username ? [c.username] : []), c.commonName, ...c.sans.filter((s) => s.kind === 'email' || s.kind === 'upn').map((s) => s.value),
      ]);
    } else {
      names = [t.target];
    }
    const unique = [...new Map(names.filter((n) => n !== '').map((n) => [n.toLowerCase(), n])).values()];
    if (unique.length === 0) return;
    const sessions = this.deps.storage.openSessionsOf(unique);
    if (sessions.length > 0) this.deps.log.info({ reason: t.reason, target: t.target, sessions: sessions.length }, 'ending sessions with Disconnect-Request');
    const now = this.clock().getTime();
    for (const [id, at] of this.acked) if (now - at >= COA_ACK_MEMORY_MS) this.acked.delete(id);
    for (const session of sessions) {
      if (this.busy.has(session.id) || this.acked.has(session.id)) continue;
      this.busy.add(session.id);
      this.queue.push({ session, trigger: t, serial });
    }
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.active++;
      void this.run(job).finally(() => {
        this.busy.delete(job.session.id);
        this.active--;
        this.pump();
        if (this.active === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    const { session, trigger } = job;
    const requestedAt = this.clock().getTime();
    const base = {
      nas: session.nas, sessionId: session.sessionId, username: session.username, serial: job.serial, reason: trigger.reason, requestedAt,
    };
    const record = (r: Pick<NewCoaRequest, 'target' | 'attempts' | 'outcome' | 'errorCause' | 'detail'>): void => {
      try {
        const row = this.deps.storage.recordCoa({ ...base, ...r, completedAt: this.clock().getTime() });
        this.deps.log.info({
          nas: row.nas, target: row.target, sessionId: row.sessionId, user: row.username, outcome: row.outcome,
          attempts: row.attempts, ...(row.errorCause !== null ? { errorCause: row.errorCause } : {}), ...(row.detail ? { detail: row.detail } : {}),
        }, 'Disconnect-Request outcome');
      } catch (e) {
        this.deps.log.error({ err: (e as Error).message, nas: session.nas, sessionId: session.sessionId }, 'cannot record a Disconnect-Request outcome');
      }
    };
    const target = this.deps.target(session.nas);
    if (!target) return record({ target: '', attempts: 0, outcome: 'error', errorCause: null, detail: 'CoA is not enabled for this RADIUS client' });
    const address = coaAddress(target, session);
    if (!address) return record({ target: '', attempts: 0, outcome: 'error', errorCause: null, detail: 'no CoA address: set --coa-address' });
    const where = address.includes(':') ? `[${address}]:${target.port}` : `${address}:${target.port}`;
    const exchange = this.deps.transport.open(address, target.port);
    if (!exchange) return record({ target: where, attempts: 0, outcome: 'error', errorCause: null, detail: 'no RADIUS Identifier free for this NAS' });
    let attempts = 0;
    let invalid: string | undefined;
    try {
      // The same bytes each time (RFC 5080 §2.2.1): a retransmission, not a new request.
      const packet = encodeDisconnect(exchange.identifier, disconnectAttributes(session, this.clock()), target.secret);
      for (const wait of this.waits) {
        // Shutting down: the session stays open here and nothing is recorded for it.
        if (this.stopped) return;
        attempts++;
        const reply = await exchange.send(packet, wait);
        if (!reply) continue;
        const checked = checkDisconnectReply(reply, packet, target.secret);
        if (checked.kind === 'invalid') {
          invalid = checked.why;
          this.deps.log.warn({ nas: target.name, target: where, why: checked.why }, 'Disconnect reply ignored');
          continue;
        }
        const cause = checked.errorCause;
        if (checked.kind === 'ack') this.acked.set(session.id, this.clock().getTime());
        return record({
          target: where, attempts, outcome: checked.kind, errorCause: cause,
          detail: cause === null ? null : errorCauseName(cause),
        });
      }
      record({ target: where, attempts, outcome: invalid ? 'error' : 'timeout', errorCause: null, detail: invalid ? `reply ${invalid}` : null });
    } catch (e) {
      record({ target: where, attempts, outcome: 'error', errorCause: null, detail: (e as Error).message });
    } finally {
      exchange.close();
    }
  }
}
