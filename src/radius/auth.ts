// The RADIUS engine, without sockets: a datagram and where it came from in, the reply's
// bytes (or nothing: silence) out. It finds the client by source address, drops what is
// malformed or unsigned (BlastRADIUS, CVE-2024-3596), answers retransmissions from a
// cache, and decides PAP against local users. Every drop is counted by reason.
import type { NasClient } from '../core/nas.js';
import type { Logger } from '../core/logger.js';
import {
  Attr, Code, decodePacket, encodePacket, joinAttribute, unhideUserPassword, verifyAccountingRequest,
  verifyDecodedRequestMessageAuthenticator, type RadiusAttribute, type RadiusPacket,
} from './codec/index.js';
import { DropCounter } from './drops.js';
import { ReplyCache } from './reply-cache.js';
import type { EapHandler } from './eap/pool.js';
import { decidePasswordlessMethod, type MethodDecision } from './methods/index.js';
import type { PapOtp } from './pap-otp.js';
import { isMschapv2Request } from './methods/mschapv2.js';
import { isChapRequest } from './methods/chap.js';
import { mabRequest } from './mab.js';
import { METHOD_NOT_ALLOWED, type AuthMethod } from '../core/policy.js';
import { anyEapMethodAllowed, authorizeAccess, eapMethodOf, type AccessPolicy } from './authorize.js';
import { EapCode, EapType, decodeEap, encodeEap } from './eap/codec.js';
import type { EapMethodFilter, EapResult } from './eap/engine.js';
import { parseAccounting, type AccountingRecorder } from './accounting.js';
import type { AuthDecision } from '../core/auth-log.js';
import { refusalVia, type AccountRefusal } from '../core/users.js';

export interface RadiusClients {
  lookup(address: string): NasClient | undefined;
}

export interface PapUser {
  username: string;
  enabled: boolean;
  passwordHash: string | null;
  /** Read with the user, for the authorization policy. */
  groups?: readonly string[];
}

/** What PAP needs from the users engine (core/users.ts UserService fits). */
export interface PapUsers {
  find(username: string): PapUser | undefined;
  verifyPassword(user: Pick<PapUser, 'passwordHash'>, password: Uint8Array): Promise<boolean>;
  /** true when the password is known good without the slow hash (PapCache); undefined: ask verifyPassword. */
  verifyPasswordCached?(user: PapUser, password: Uint8Array): boolean | undefined;
}

export type RadiusService = 'auth' | 'acct';

import { emptyStats, type RadiusStats } from './stats.js';

export { LATENCY_BOUNDS, type LatencyHistogram, type RadiusStats } from './stats.js';

export interface Datagram {
  data: Buffer;
  address: string;
  port: number;
}

export type Outcome = 'accept' | 'reject';

/** Why a request was refused, in plain words for the log; the NAS only ever sees REJECT_MESSAGE. */
export type RejectReason = 'unknown user' | 'wrong password' | AccountRefusal | 'no user name'
  | 'no password' | 'method not supported yet' | typeof METHOD_NOT_ALLOWED;

/** The same words for every refusal: which of the name or the password was wrong is not said. */
export const REJECT_MESSAGE = 'Authentication failed';

export interface AuthEngineOptions {
  clients: RadiusClients;
  users: PapUsers;
  /** A password hash checked for unknown users, so that they cost the same time as known ones. */
  dummyPasswordHash: string;
  log: Logger;
  now?: () => number;
  retransmitCache?: { maxEntries?: number; ttlMs?: number };
  /** Unknown sources are logged at most once per this interval per address. */
  unknownClientLogIntervalMs?: number;
  /** EAP (EAP-TLS); without it, EAP requests are rejected. */
  eap?: EapHandler;
  /** Authorization (methods per client kind, reply attributes per group); without it, every method is allowed and accepts carry no policy attributes. */
  policy?: AccessPolicy;
  /** Stores accounting before it is answered; without it, accounting is acknowledged and not kept. */
  accounting?: AccountingRecorder;
  /** Receives every final decision (accept or reject, with its reason); must not block. */
  decisions?: { record(decision: AuthDecision): void };
  /** A one-time code after the password for PAP where the policy requires one (pap-otp.ts). */
  otp?: PapOtp;
}

/** An EAP round's result after the policy: a refusal may be the policy's, not the EAP engine's. */
type AuthorizedEapResult = Omit<EapResult, 'reason'> & { reason?: string };


/** A refusal carries REJECT_MESSAGE as its Reply-Message; anything else goes out as it is. */
const withRejectMessage = (outcome: Outcome | undefined, attributes: RadiusAttribute[]): RadiusAttribute[] =>
  outcome === 'reject' ? [...attributes, { type: Attr.ReplyMessage, value: Buffer.from(REJECT_MESSAGE) }] : attributes;

function eapRefusal(identifier: number, reason: string, identity: string | undefined, details: Record<string, string>): AuthorizedEapResult {
  return {
    code: Code.AccessReject, outcome: 'reject', reason, details, ...(identity !== undefined ? { identity } : {}),
    attributes: [{ type: Attr.EapMessage, value: encodeEap({ code: EapCode.Failure, identifier, data: Buffer.alloc(0) }) }],
  };
}

export class RadiusAuthEngine {
  readonly stats: RadiusStats = emptyStats();
  private readonly cache: ReplyCache;
  private readonly now: () => number;
  private readonly drops: DropCounter;

  constructor(private readonly deps: AuthEngineOptions) {
    this.now = deps.now ?? Date.now;
    this.cache = new ReplyCache({
      maxEntries: deps.retransmitCache?.maxEntries ?? 16_384, ttlMs: deps.retransmitCache?.ttlMs ?? 5_000, now: this.now,
    });
    this.drops = new DropCounter(this.stats, deps.log, this.now, deps.unknownClientLogIntervalMs ?? 10_000);
  }

  /** Records how long a datagram took to answer (the transport measures it). */
  observeLatency(service: RadiusService, seconds: number): void {
    const h = this.stats.latency[service];
    let i = 0;
    while (i < h.bounds.length && seconds > h.bounds[i]!) i++;
    h.counts[i]!++;
    h.sum += seconds;
  }

  /** The reply to send back to the datagram's source, or undefined to stay silent. Never throws. */
  handle(d: Datagram, service: RadiusService): Promise<Buffer | undefined> {
    this.stats.received++;
    const client = this.deps.clients.lookup(d.address);
    if (!client) {
      this.drops.unknownClient(d.address);
      return Promise.resolve(undefined);
    }
    const key = d.data.length >= 20 ? ReplyCache.key(d.address, d.port, d.data) : undefined;
    const cached = key === undefined ? undefined : this.cache.get(key, d.data);
    if (cached) {
      this.stats.retransmissions++;
      return cached;
    }
    let work: Promise<Buffer | undefined> | undefined;
    try {
      work = this.accept(d, client, service);
    } catch (e) {
      this.drops.error(e, client);
      return Promise.resolve(undefined);
    }
    if (!work) return Promise.resolve(undefined);
    const reply = work.catch((e: unknown) => {
      if (key !== undefined) this.cache.delete(key);
      this.drops.error(e, client);
      return undefined;
    });
    if (key !== undefined) this.cache.set(key, d.data, reply);
    return reply;
  }

  /** Checks run at once; a request that passes them gets a promise of its reply, one that fails none. */
  private accept(d: Datagram, client: NasClient, service: RadiusService): Promise<Buffer | undefined> | undefined {
    const packet = decodePacket(d.data);
    if (service === 'auth' && packet.code === Code.AccessRequest) return this.accessRequest(d, packet, client);
    if (service === 'acct' && packet.code === Code.AccountingRequest) return this.accountingRequest(d, packet, client);
    this.stats.dropped.unsupportedCode++;
    return undefined;
  }

  private accessRequest(d: Datagram, packet: RadiusPacket, client: NasClient): Promise<Buffer> | undefined {
    // BlastRADIUS: an unsigned Access-Request can be forged from a captured reply (RFC 3579 §3.2).
    const ma = verifyDecodedRequestMessageAuthenticator(d.data, client.secret);
    if (ma === 'invalid') {
      this.stats.dropped.badMessageAuthenticator++;
      return undefined;
    }
    if (ma === 'missing' && client.requireMessageAuthenticator) {
      this.stats.dropped.missingMessageAuthenticator++;
      return undefined;
    }
    const eapMessage = this.deps.eap && joinAttribute(packet.attributes, Attr.EapMessage);
    if (eapMessage) {
      // RFC 3579 §3.2: an EAP-Message always comes with a Message-Authenticator, even from legacy clients.
      if (ma !== 'valid') {
        this.stats.dropped.missingMessageAuthenticator++;
        return undefined;
      }
      return this.eapRequest(packet, client, eapMessage, d.address);
    }
    const hidden = joinAttribute(packet.attributes, Attr.UserPassword);
    // A User-Password that cannot be unhidden is malformed (RFC 2865 §5.2): dropped like any other.
    const password = hidden && unhideUserPassword(hidden, client.secret, packet.authenticator);
    this.stats.requests++;
    // MAC authentication bypass: User-Name and User-Password both the caller's MAC, for registered devices (mab.ts).
    const mab = password ? mabRequest(packet, password, this.deps.users) : undefined;
    const method: AuthMethod | undefined = mab ? 'mab' : password ? 'pap' : isMschapv2Request(packet) ? 'mschapv2'
      : isChapRequest(packet) ? 'chap' : undefined;
    // CHAP and MS-CHAPv2 carry no User-Password; methods/ decides them, PAP stays here.
    // A method the client's kind does not allow is refused before any password is checked.
    const refused = this.refuseMethod(packet, client, method, password);
    // A one-time code after the password (pap-otp.ts): decided before the cache, which knows only passwords.
    const otp = !refused && method === 'pap' && password ? this.deps.otp?.claim(packet, client, password) : undefined;
    if (otp) {
      return otp.then((m) => (m.outcome === 'challenge' ? this.challenge(packet, client, m.attributes)
        : this.finishAccess(packet, client, d.address, method, this.authorize(m, client, method))));
    }
    // The common case, a returning PAP user whose password is in the verified-password cache,
    // is decided without waiting on anything.
    const known = !refused && method === 'pap' && password ? this.decideCachedPap(packet, password) : undefined;
    if (known) return Promise.resolve(this.finishAccess(packet, client, d.address, method, this.authorize(known, client, method)));
    const decision: Promise<MethodDecision> = refused ?? mab?.()
      ?? (password ? undefined : decidePasswordlessMethod(packet, client.secret, this.deps)) ?? this.decide(packet, password);
    return decision.then((m) => this.finishAccess(packet, client, d.address, method, this.authorize(m, client, method)));
  }

  /** PAP from the verified-password cache: a decision, or undefined to take the full path (a miss, an unknown user). */
  private decideCachedPap(packet: RadiusPacket, password: Buffer): MethodDecision | undefined {
    const check = this.deps.users.verifyPasswordCached;
    if (!check) return undefined;
    const username = joinAttribute(packet.attributes, Attr.UserName)?.toString('utf8');
    const user = username ? this.deps.users.find(username) : undefined;
    if (!user || check.call(this.deps.users, user, password) !== true) return undefined;
    password.fill(0);
    return this.papVerdict(user, true);
  }

  /** A known user's PAP decision once the password was checked: the account's standing first, then the password. */
  private papVerdict(user: PapUser, passwordOk: boolean): MethodDecision & { reason?: RejectReason } {
    const refused = refusalVia(this.deps.users, user, 'password');
    if (refused) return { outcome: 'reject', reason: refused, username: user.username };
    if (!passwordOk) return { outcome: 'reject', reason: 'wrong password', username: user.username };
    return { outcome: 'accept', username: user.username, ...(user.groups ? { groups: user.groups } : {}) };
  }

  /** The reply to a decided Access-Request, its counters and its decision record. */
  private finishAccess(packet: RadiusPacket, client: NasClient, address: string, method: AuthMethod | undefined,
    { outcome, reason, username, attributes = [], group, details }: MethodDecision & { group?: string }): Buffer {
    // Encoded first: a reply that cannot be sent (too long) is silence, not a decision.
    const bytes = this.reply(packet, client, outcome === 'accept' ? Code.AccessAccept : Code.AccessReject, withRejectMessage(outcome, attributes));
    if (outcome === 'accept') this.stats.accepts++;
    else this.stats.rejects++;
    this.recordDecision(packet, client, address, {
      outcome, method, username, reason,
      details: group !== undefined || details ? { ...details, ...(group !== undefined ? { policy: group } : {}) } : undefined,
    });
    return bytes;
  }

  /** RFC 2865 §4.4: an Access-Challenge is not a decision; the request that answers it gets one. */
  private challenge(packet: RadiusPacket, client: NasClient, attributes: RadiusAttribute[]): Buffer {
    const bytes = this.reply(packet, client, Code.AccessChallenge, attributes);
    this.stats.challenges = (this.stats.challenges ?? 0) + 1;
    return bytes;
  }

  /** One round of an EAP conversation: Access-Challenge until the method ends in Accept or Reject. */
  private eapRequest(packet: RadiusPacket, client: NasClient, eapMessage: Buffer, address: string): Promise<Buffer> {
    const refused = this.refuseEap(client, eapMessage);
    const round: Promise<AuthorizedEapResult> = refused ? Promise.resolve(refused) : this.deps.eap!.handle(packet, eapMessage, client.secret, this.eapMethodFilter(client), { kind: client.kind });
    return round.then((res) => this.authorizeEap(res, client)).then((r) => {
      const bytes = this.reply(packet, client, r.code, withRejectMessage(r.outcome, r.attributes));
      if (r.outcome) {
        this.stats.requests++;
        if (r.outcome === 'accept') this.stats.accepts++;
        else this.stats.rejects++;
        const { method, ...details } = r.details ?? {};
        this.recordDecision(packet, client, address, { outcome: r.outcome, method, username: r.identity, reason: r.reason, details });
      }
      return bytes;
    });
  }

  private async decide(packet: RadiusPacket, password: Buffer | undefined):
    Promise<{ outcome: Outcome; reason?: RejectReason; username?: string; groups?: readonly string[] }> {
    const nameBytes = joinAttribute(packet.attributes, Attr.UserName);
    const username = nameBytes?.toString('utf8');
    try {
      if (!username) return { outcome: 'reject', reason: 'no user name' };
      if (!password) {
        const other = packet.attributes.some((a) => a.vendor === undefined && (a.type === Attr.ChapPassword || a.type === Attr.EapMessage));
        return { outcome: 'reject', reason: other ? 'method not supported yet' : 'no password', username };
      }
      const user = this.deps.users.find(username);
      if (!user) {
        await this.deps.users.verifyPassword({ passwordHash: this.deps.dummyPasswordHash }, password);
        return { outcome: 'reject', reason: 'unknown user', username };
      }
      // The password is checked even for a disabled account, so that its state does not show in the timing.
      return this.papVerdict(user, await this.deps.users.verifyPassword(user, password));
    } finally {
      password?.fill(0);
    }
  }

  /** The refusal of a method the client's kind does not allow, or undefined to go on. */
  private refuseMethod(packet: RadiusPacket, client: NasClient, method: AuthMethod | undefined, password: Buffer | undefined):
    Promise<MethodDecision> | undefined {
    const policy = this.deps.policy;
    if (!policy || !method || policy.methodAllowed(client.kind, method)) return undefined;
    password?.fill(0);
    const username = joinAttribute(packet.attributes, Attr.UserName)?.toString('utf8');
    return Promise.resolve({ outcome: 'reject', reason: METHOD_NOT_ALLOWED, ...(username ? { username } : {}) });
  }

  /** Every accept of PAP and MS-CHAPv2 passes here: the policy may still refuse it, or adds its attributes. */
  private authorize(d: MethodDecision, client: NasClient, method: AuthMethod | undefined): MethodDecision & { group?: string } {
    const policy = this.deps.policy;
    if (!policy || d.outcome !== 'accept') return d;
    const groups = d.groups ?? (d.username ? this.deps.users.find(d.username)?.groups : undefined) ?? [];
    const a = authorizeAccess(policy, { kind: client.kind, method, groups });
    if (a.outcome === 'reject') return { outcome: 'reject', reason: a.reason, ...(d.username ? { username: d.username } : {}) };
    // A password alone (CHAP, MS-CHAPv2) where the policy requires a one-time code (pap-otp.ts).
    const noCode = this.deps.otp?.refusal(client.kind, groups, method, d.details);
    if (noCode) return { outcome: 'reject', reason: noCode, ...(d.username ? { username: d.username } : {}) };
    return { ...d, attributes: [...(d.attributes ?? []), ...a.attributes], ...(a.group !== undefined ? { group: a.group } : {}) };
  }

  /** RFC 3748 §4.2: a kind that allows no EAP method is refused at the first EAP packet, before any handshake. */
  /** What the EAP engine may propose to this client, and what a Nak may switch to. */
  private eapMethodFilter(client: NasClient): EapMethodFilter | undefined {
    const policy = this.deps.policy;
    return policy ? (m) => policy.methodAllowed(client.kind, m) : undefined;
  }

  private refuseEap(client: NasClient, eapMessage: Buffer): AuthorizedEapResult | undefined {
    const policy = this.deps.policy;
    if (!policy || anyEapMethodAllowed(policy, client.kind)) return undefined;
    let identifier = eapMessage[1] ?? 0;
    let identity: string | undefined;
    try {
      const eap = decodeEap(eapMessage);
      identifier = eap.identifier;
      if (eap.type === EapType.Identity) identity = eap.data.toString('utf8').replace(/\0+$/, '');
    } catch { /* the refusal stands whatever the packet holds */ }
    return eapRefusal(identifier, METHOD_NOT_ALLOWED, identity, { method: 'eap' });
  }

  /** Every EAP accept (EAP-TLS, and PEAP and TTLS by their details.method) passes here. */
  private authorizeEap(r: AuthorizedEapResult, client: NasClient): AuthorizedEapResult {
    const policy = this.deps.policy;
    if (!policy || r.outcome !== 'accept') return r;
    const groups = (r.identity !== undefined ? this.deps.users.find(r.identity)?.groups : undefined) ?? [];
    const a = authorizeAccess(policy, { kind: client.kind, method: eapMethodOf(r.details?.method), groups });
    if (a.outcome === 'reject') {
      // The EAP-Success becomes an EAP-Failure with the same Identifier (RFC 3748 §4.2); no keys go out.
      const success = r.attributes.find((x) => x.vendor === undefined && x.type === Attr.EapMessage)?.value;
      return eapRefusal(success?.[1] ?? 0, a.reason, r.identity, r.details ?? {});
    }
    // PEAP and TTLS without a joined code where the policy requires one (pap-otp.ts); EAP-TLS passes.
    const noCode = this.deps.otp?.refusal(client.kind, groups, eapMethodOf(r.details?.method), r.details);
    if (noCode) {
      const success = r.attributes.find((x) => x.vendor === undefined && x.type === Attr.EapMessage)?.value;
      return eapRefusal(success?.[1] ?? 0, noCode, r.identity, r.details ?? {});
    }
    return {
      ...r, attributes: [...r.attributes, ...a.attributes],
      ...(a.group !== undefined ? { details: { ...r.details, policy: a.group } } : {}),
    };
  }

  private accountingRequest(d: Datagram, packet: RadiusPacket, client: NasClient): Promise<Buffer> | undefined {
    // RFC 2866 §3: the Request Authenticator is an MD5 over the packet and the secret.
    if (!verifyAccountingRequest(d.data, client.secret)) {
      this.stats.dropped.badAuthenticator++;
      return undefined;
    }
    if (verifyDecodedRequestMessageAuthenticator(d.data, client.secret) === 'invalid') {
      this.stats.dropped.badMessageAuthenticator++;
      return undefined;
    }
    const recorder = this.deps.accounting;
    const parsed = recorder && parseAccounting(packet, client.name, d.address, this.now());
    if (parsed?.kind === 'invalid') {
      this.stats.dropped.invalidAccounting++;
      return undefined;
    }
    this.stats.accounting.requests++;
    // RFC 2866 §2: the Accounting-Response goes out only once the record is committed; a failed write is silence, and the NAS retries.
    const stored = parsed?.kind === 'event' ? recorder!.record(parsed.event) : Promise.resolve();
    return stored.then(() => {
      this.stats.accounting.responses++;
      return this.reply(packet, client, Code.AccountingResponse, []);
    });
  }

  /** Hands a final decision to the decision log; passwords and secrets are never part of one. */
  private recordDecision(packet: RadiusPacket, client: NasClient, address: string, d: {
    outcome: Outcome; method?: string | undefined; username?: string | undefined; reason?: string | undefined;
    details?: Record<string, string> | undefined;
  }): void {
    const key = `${d.method ?? 'none'}|${client.name}|${d.outcome}`;
    this.stats.decisions[key] = (this.stats.decisions[key] ?? 0) + 1;
    const callingStationId = joinAttribute(packet.attributes, Attr.CallingStationId)?.toString('utf8');
    const details = d.details && Object.keys(d.details).length > 0 ? d.details : undefined;
    // The journal gets refusals at info; accepts at debug (the decision log below holds every one, as FreeRADIUS's `auth = no` default).
    const line = {
      nas: client.name, user: d.username, outcome: d.outcome, ...(d.reason ? { reason: d.reason } : {}),
      ...(d.method ? { method: d.method } : {}), ...details,
    };
    if (d.outcome === 'reject') this.deps.log.info(line, 'access decision');
    else this.deps.log.debug(line, 'access decision');
    const log = this.deps.decisions;
    if (!log) return;
    log.record({
      at: this.now(), nas: client.name, nasAddress: address, outcome: d.outcome,
      ...(d.username ? { username: d.username } : {}), ...(callingStationId ? { callingStationId } : {}),
      ...(d.method ? { method: d.method } : {}), ...(d.reason ? { reason: d.reason } : {}), ...(details ? { details } : {}),
    });
  }

  /** RFC 2865 §5.33: Proxy-State is copied into the reply unchanged, in order. */
  private reply(packet: RadiusPacket, client: NasClient, code: (typeof Code)[keyof typeof Code], attributes: RadiusAttribute[]): Buffer {
    const proxyState = packet.attributes.filter((a) => a.vendor === undefined && a.type === Attr.ProxyState);
    return encodePacket({
      code, identifier: packet.identifier, requestAuthenticator: packet.authenticator,
      attributes: [...attributes, ...proxyState], secret: client.secret,
    });
  }

}
