// The EAP server (RFC 3748, RFC 3579) with EAP-TLS (RFC 5216; RFC 9190 for TLS 1.3): one
// Access-Request with an EAP-Message in, the reply's code and attributes out. Conversations
// are kept by State; TLS runs in Node's own tls over memory (tls-connection.ts).
import type { SecureContext } from 'node:tls';
import type { Logger } from '../../core/logger.js';
import type { NasKind } from '../../core/nas.js';
import {
  Attr, Code, joinAttribute, type RadiusAttribute, type RadiusPacket, type Secret,
} from '../codec/index.js';
import {
  certificateBelongsTo, checkClientCertificate, checkTunnelCertificate, type CertRefusal, type ClientCertDeps,
} from './client-cert.js';
import {
  EAP_TLS_HEADER_MAX, EapCode, EapDecodeError, EapType, TlsFlag, decodeEap, decodeEapTls, encodeEap, encodeEapTls, type EapPacket,
} from './codec.js';
import type { InnerAuthenticator } from './inner-auth.js';
import { eapMtu, mppeKeyAttributes } from './link.js';
import { PeapTunnel } from './peap.js';
import { EapSessionTable } from './sessions.js';
import { TlsServerConnection } from './tls-connection.js';
import { TlsSessionCache, type TlsSessionCacheOptions } from './tls-session-cache.js';
import { TTLS_CHALLENGE_LABEL, TTLS_CHALLENGE_LENGTH, TtlsTunnel } from './ttls.js';
import type { TunnelMethod, TunnelRefusal } from './tunnel.js';

/** A TLS message larger than this from a peer is refused (no client sends such a flight). */
const MAX_TLS_MESSAGE = 64 * 1024;

/** The TLS-based methods, EAP-TLS first: the one proposed after the Identity (RFC 3748 §5.3.1). */
type TlsMethod = typeof EapType.Tls | typeof EapType.Peap | typeof EapType.Ttls;
const METHOD_NAME: Record<TlsMethod, string> = { [EapType.Tls]: 'eap-tls', [EapType.Peap]: 'peap', [EapType.Ttls]: 'eap-ttls' };
/** The names the policy gives the methods (core/policy.ts AuthMethod). */
const POLICY_NAME = { [EapType.Tls]: 'eap-tls', [EapType.Peap]: 'peap', [EapType.Ttls]: 'ttls' } as const;
export type EapPolicyMethod = (typeof POLICY_NAME)[TlsMethod];
/** Whether the client's kind allows a method (policy.methodAllowed); every method when absent. */
export type EapMethodFilter = (method: EapPolicyMethod) => boolean;
/** core/policy.ts METHOD_NOT_ALLOWED, the reason the decision log shows. */
const METHOD_NOT_ALLOWED = 'method not allowed for this client kind';

export type EapRefusal = CertRefusal | TunnelRefusal | 'EAP method refused by the peer' | 'TLS handshake failed' | 'EAP protocol error'
  | typeof METHOD_NOT_ALLOWED
  | 'unknown or expired EAP session' | 'too many EAP sessions' | 'no identity';

export interface EapResult {
  code: typeof Code.AccessChallenge | typeof Code.AccessAccept | typeof Code.AccessReject;
  attributes: RadiusAttribute[];
  /** Set on the final answer of a conversation. */
  outcome?: 'accept' | 'reject';
  reason?: EapRefusal;
  identity?: string;
  details?: Record<string, string>;
}

export interface EapEngineOptions {
  /** The server's certificate, key and the CA chain, as a secure context (see tlsContext). */
  tls: () => SecureContext;
  certificates: ClientCertDeps;
  log: Logger;
  now?: () => number;
  sessions?: { maxSessions?: number; maxAgeMs?: number; stateTag?: number };
  /** Password checks for the methods inside PEAP and EAP-TTLS (innerAuthenticator); without it only EAP-TLS runs. */
  inner?: InnerAuthenticator;
  /** TLS 1.2 session ids kept for resumption (TLS 1.3 tickets are sealed by the shared context). */
  resumption?: TlsSessionCacheOptions;
  /** A context whose sessions never resume (eapTlsContext resumable: false), for EAP-TTLS; else `tls`. */
  tlsWithoutResumption?: () => SecureContext;
  /**
   * Whether PEAP and EAP-TTLS from this kind of client need a client certificate in the
   * outer handshake (policy.tunnelClientCertRequired), read when a conversation starts.
   */
  requireTunnelClientCert?: (kind: NasKind) => boolean;
}

/** What the RADIUS engine knows about the request besides its packet. */
export interface EapRequestContext {
  /** The RADIUS client's kind (policy per kind). */
  kind?: NasKind;
}

interface Conversation {
  identity: string;
  method: TlsMethod;
  /** Methods run by this engine and allowed for the client's kind, in our order of preference. */
  permitted: readonly TlsMethod[];
  /** Those not yet refused by the peer. */
  offered: TlsMethod[];
  /** PEAP or EAP-TTLS once the handshake is complete. */
  tunnel?: TunnelMethod;
  tunnelStarted?: boolean;
  /** The inner method succeeded; the peer's next (empty) answer gets the EAP-Success. */
  pendingAccept?: { username: string; inner: string };
  inner?: { username: string; inner: string };
  /** The Identifier of the last EAP-Request sent (RFC 3748 §4.1: the Response echoes it). */
  lastId: number;
  mtu: number;
  tls?: TlsServerConnection;
  /** Fragments of the peer's TLS message received so far. */
  incoming: Buffer[];
  incomingLength: number;
  /** What is left of our TLS message to send, one fragment per round. */
  outgoing?: Buffer;
  outgoingTotal: number;
  verified?: { username?: string; serial: string };
  committed: boolean;
  /** PEAP/EAP-TTLS: the kind's policy asks for a client certificate in the outer handshake. */
  requireCert: boolean;
  /** PEAP/EAP-TTLS: the outer handshake's client certificate, checked, and the users it vouches for. */
  tunnelCert?: { serial: string; owners: readonly string[]; required: boolean };
}

export class EapEngine {
  private readonly sessions: EapSessionTable<Conversation>;
  private readonly innerAuth: InnerAuthenticator | undefined;
  private readonly tlsSessions: TlsSessionCache;

  constructor(private readonly deps: EapEngineOptions) {
    this.innerAuth = deps.inner;
    this.tlsSessions = new TlsSessionCache({ ...deps.resumption, ...(deps.now && !deps.resumption?.now ? { now: deps.now } : {}) });
    this.sessions = new EapSessionTable<Conversation>({
      ...deps.sessions, ...(deps.now ? { now: deps.now } : {}),
      dispose: (c) => (c as Conversation).tls?.destroy(),
    });
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  close(): void {
    this.sessions.clear();
    this.tlsSessions.clear();
  }

  /** `eapMessage` is the joined EAP-Message; secret and authenticator hide the MPPE keys. */
  /** `allowed` filters the methods by the client's kind (policy.methodAllowed): what is proposed, and what a Nak may choose. */
  async handle(packet: RadiusPacket, eapMessage: Buffer, secret: Secret, allowed?: EapMethodFilter, context: EapRequestContext = {}): Promise<EapResult> {
    let eap: EapPacket;
    try {
      eap = decodeEap(eapMessage);
    } catch (e) {
      if (e instanceof EapDecodeError) return this.failure(undefined, 0, 'EAP protocol error', { detail: e.message });
      throw e;
    }
    const state = joinAttribute(packet.attributes, Attr.State);
    const conv = state && this.sessions.get(state);
    if (!conv || !state) {
      if (eap.code === EapCode.Response && eap.type === EapType.Identity) return this.start(packet, eap, allowed, context);
      return this.failure(undefined, eap.identifier, 'unknown or expired EAP session');
    }
    const end = (r: EapResult): EapResult => {
      if (r.outcome) this.sessions.delete(state);
      return r;
    };
    if (eap.code !== EapCode.Response || eap.identifier !== conv.lastId) {
      return end(this.failure(conv, eap.identifier, 'EAP protocol error', { detail: `unexpected code ${eap.code} id ${eap.identifier}` }));
    }
    if (eap.type === EapType.Nak) return end(this.nak(conv, state, eap));
    if (eap.type !== conv.method) {
      return end(this.failure(conv, eap.identifier, 'EAP protocol error', { detail: `type ${eap.type} during ${METHOD_NAME[conv.method]}` }));
    }
    try {
      return end(await this.tlsRound(conv, state, eap, packet, secret));
    } catch (e) {
      if (e instanceof EapDecodeError) return end(this.failure(conv, eap.identifier, 'EAP protocol error', { detail: e.message }));
      throw e;
    }
  }

  /** The TLS-based methods this engine runs (PEAP and EAP-TTLS need the inner authenticator), EAP-TLS first. */
  private runnable(): TlsMethod[] {
    return this.innerAuth ? [EapType.Tls, EapType.Peap, EapType.Ttls] : [EapType.Tls];
  }

  /**
   * RFC 3748 §5.1 and RFC 5216 §2.1.1: the Identity Response starts the first method the
   * client's kind allows (EAP-TLS, else PEAP, else EAP-TTLS) with the S flag.
   */
  private start(packet: RadiusPacket, eap: EapPacket, allowed: EapMethodFilter | undefined, context: EapRequestContext): EapResult {
    const identity = eap.data.toString('utf8').replace(/\0+$/, '');
    if (!identity) return this.failure(undefined, eap.identifier, 'no identity');
    const offered = this.runnable().filter((m) => allowed?.(POLICY_NAME[m]) ?? true);
    const method = offered[0];
    if (method === undefined) return this.failure(undefined, eap.identifier, METHOD_NOT_ALLOWED, { method: 'eap' }, identity);
    const conv: Conversation = {
      identity, method, permitted: offered, offered: [...offered], lastId: eap.identifier, mtu: eapMtu(packet), incoming: [], incomingLength: 0,
      outgoingTotal: 0, committed: false,
      requireCert: context.kind !== undefined && (this.deps.requireTunnelClientCert?.(context.kind) ?? false),
    };
    const state = this.sessions.create(conv);
    if (!state) return this.failure(undefined, eap.identifier, 'too many EAP sessions', {}, identity);
    return this.challenge(conv, state, encodeEapTls({ flags: TlsFlag.Start, tls: Buffer.alloc(0) }));
  }

  /**
   * RFC 3748 §5.3.1: a Nak to our proposal lists the methods the peer wants, in its order
   * of preference; the first one still on offer (run here and allowed for the client's
   * kind, never the one just refused) starts afresh. A Nak only answers a proposal: once
   * TLS has begun it ends the conversation.
   */
  private nak(conv: Conversation, state: Buffer, eap: EapPacket): EapResult {
    conv.offered = conv.offered.filter((m) => m !== conv.method);
    const wants = [...eap.data];
    const wanted = wants.find((t): t is TlsMethod => conv.offered.includes(t as TlsMethod));
    if (conv.tls || wanted === undefined) {
      // The peer wants only a method we run but the client's kind does not allow: say so in the log.
      const forbidden = !conv.tls && wants.some((t) => this.runnable().includes(t as TlsMethod) && !conv.permitted.includes(t as TlsMethod));
      return this.failure(conv, eap.identifier, forbidden ? METHOD_NOT_ALLOWED : 'EAP method refused by the peer', { wanted: wants.join(',') });
    }
    conv.method = wanted;
    // PEAPv0 (version bits 0) and TTLSv0 start like EAP-TLS: the S flag, no data.
    return this.challenge(conv, state, encodeEapTls({ flags: TlsFlag.Start, tls: Buffer.alloc(0) }));
  }

  private async tlsRound(conv: Conversation, state: Buffer, eap: EapPacket, packet: RadiusPacket, secret: Secret): Promise<EapResult> {
    const frag = decodeEapTls(eap.data);
    // RFC 5216 §2.1.5: while we are sending a fragmented message, the peer ACKs each piece.
    if (conv.outgoing) {
      if (frag.tls.length !== 0) return this.failure(conv, eap.identifier, 'EAP protocol error', { detail: 'data instead of an ACK' });
      return this.sendNext(conv, state);
    }
    if (frag.tls.length > 0) {
      conv.incoming.push(Buffer.from(frag.tls));
      conv.incomingLength += frag.tls.length;
      if (conv.incomingLength > MAX_TLS_MESSAGE) return this.failure(conv, eap.identifier, 'EAP protocol error', { detail: 'TLS message too long' });
      // More fragments to come: ACK with an empty EAP-TLS Request.
      if (frag.flags & TlsFlag.More) return this.challenge(conv, state, encodeEapTls({ flags: 0, tls: Buffer.alloc(0) }));
      const records = Buffer.concat(conv.incoming);
      conv.incoming = [];
      conv.incomingLength = 0;
      return this.feedTls(conv, state, records, packet, secret);
    }
    // An empty Response that is not an ACK of ours: the peer acknowledges our last flight.
    if (conv.verified && conv.tls?.secure) return this.success(conv, eap.identifier, packet, secret);
    if (conv.tunnel && conv.tls?.secure) {
      if (conv.pendingAccept) return this.tunnelAccept(conv, eap.identifier, packet, secret, conv.pendingAccept);
      // PEAP over TLS 1.2: the peer has ACKed our Finished; the inner conversation begins.
      if (!conv.tunnelStarted) return this.tunnelStart(conv, state);
    }
    if (conv.tls?.error) return this.tlsFailure(conv, eap.identifier);
    return this.failure(conv, eap.identifier, 'EAP protocol error', { detail: 'empty response before the handshake completed' });
  }

  private async feedTls(conv: Conversation, state: Buffer, records: Buffer, packet: RadiusPacket, secret: Secret): Promise<EapResult> {
    const tls = (conv.tls ??= this.openTls(conv));
    const wasSecure = tls.secure;
    await tls.feed(records);
    if (tls.error) return this.tlsFailure(conv, conv.lastId);
    if (tls.secure && !wasSecure && conv.method !== EapType.Tls) {
      const refused = this.checkTunnelCertificate(conv, tls);
      if (refused) return refused;
      conv.tunnel = this.openTunnel(conv, tls);
      // TLS 1.3: our handshake is over once the client's Finished is in; the first inner
      // request goes out with the session tickets. TLS 1.2: after the peer ACKs our Finished.
      if (tls.protocol === 'TLSv1.3') {
        const first = conv.tunnel.start();
        conv.tunnelStarted = true;
        if (first) await tls.writeApplicationData(first);
      }
    }
    if (conv.tunnel && tls.secure) {
      const data = tls.takeApplicationData();
      if (data.length > 0) {
        const r = await this.tunnelData(conv, data, packet, secret);
        if (r) return r;
      }
    }
    if (tls.secure && !wasSecure && conv.method === EapType.Tls) {
      // RFC 5216 §2.1.3: a resumed session brings back the certificate of its full handshake
      // (OpenSSL keeps it in the session and the ticket); it is checked again as if new, so
      // revocation, hold, expiry, the owner's account and the identity bite on resumption too.
      const callingStationId = joinAttribute(packet.attributes, Attr.CallingStationId)?.toString('utf8');
      const checked = checkClientCertificate(tls.peerCertificate(), conv.identity, this.deps.certificates, { callingStationId });
      if (!checked.ok) {
        return this.failure(conv, conv.lastId, checked.reason, {
          ...(checked.serial ? { serial: checked.serial } : {}), ...(checked.subject ? { subject: checked.subject } : {}),
          ...(tls.resumed ? { resumed: 'yes' } : {}),
        });
      }
      conv.verified = { serial: checked.serial, ...(checked.username ? { username: checked.username } : {}) };
      // RFC 9190 §2.5: in TLS 1.3 the server commits to sending no more handshake messages
      // with one octet of application data, 0x00, after its last handshake message.
      if (tls.protocol === 'TLSv1.3' && !conv.committed) {
        conv.committed = true;
        await tls.writeApplicationData(Buffer.of(0));
      }
    }
    const out = tls.takeOutput();
    if (out.length > 0) {
      conv.outgoing = out;
      conv.outgoingTotal = out.length;
      return this.sendNext(conv, state);
    }
    if (conv.verified && tls.secure) return this.success(conv, conv.lastId, packet, secret);
    // A resumed handshake ends with the peer's Finished (RFC 5246 §7.3 abbreviated handshake),
    // and a resumed TLS 1.3 one may bring no new ticket: nothing of ours is pending, so the
    // tunnel begins here. The inner method runs again: there is no fast reconnect.
    if (conv.tunnel && tls.secure && !conv.pendingAccept) {
      if (!conv.tunnelStarted) return this.tunnelStart(conv, state);
      if (!wasSecure) return this.challenge(conv, state, encodeEapTls({ flags: 0, tls: Buffer.alloc(0) }));
    }
    return this.failure(conv, conv.lastId, 'TLS handshake failed', { detail: 'no TLS answer to send' });
  }

  /**
   * EAP-TLS and PEAP resume (the certificate is checked again; PEAP runs its inner method
   * again). EAP-TTLS never resumes: supplicants skip the inner method on a resumed tunnel
   * (RFC 5281 §10.1), and there would be nobody left to check.
   */
  private openTls(conv: Conversation): TlsServerConnection {
    // PEAP and EAP-TTLS send a CertificateRequest only when the kind's policy requires a
    // certificate (FreeRADIUS's require_client_cert; its default, no, asks for none).
    const requestCert = conv.method === EapType.Tls || conv.requireCert;
    if (conv.method === EapType.Ttls) return new TlsServerConnection((this.deps.tlsWithoutResumption ?? this.deps.tls)(), { requestCert });
    return new TlsServerConnection(this.deps.tls(), { requestCert, sessions: this.tlsSessions });
  }

  /**
   * PEAP/EAP-TTLS once the outer handshake is over (DESIGN.md: Node checks nothing on a
   * duplex): a certificate the policy requires must be there and pass every EAP-TLS check,
   * and its owner is compared with the inner user at the end (tunnelAccept). One present
   * when not required (a resumed session whose first handshake carried one) passes the same
   * checks, as FreeRADIUS verifies any certificate it is given, but is not matched against
   * the inner user: the password alone authenticates then. Returns the refusal, or undefined.
   */
  private checkTunnelCertificate(conv: Conversation, tls: TlsServerConnection): EapResult | undefined {
    const cert = tls.peerCertificate();
    if (!cert && !conv.requireCert) return undefined;
    const checked = checkTunnelCertificate(cert, this.deps.certificates);
    if (!checked.ok) {
      return this.failure(conv, conv.lastId, checked.reason, {
        ...(checked.serial ? { serial: checked.serial } : {}), ...(checked.subject ? { subject: checked.subject } : {}),
        ...(tls.resumed ? { resumed: 'yes' } : {}),
      });
    }
    conv.tunnelCert = { serial: checked.serial, owners: checked.owners, required: conv.requireCert };
    return undefined;
  }

  /** The inner method accepted: with a client certificate in the outer handshake, the inner user must be its owner. */
  private tunnelAccept(conv: Conversation, identifier: number, packet: RadiusPacket, secret: Secret, inner: { username: string; inner: string }): EapResult {
    conv.inner = inner;
    const cert = conv.tunnelCert;
    if (cert?.required && !certificateBelongsTo(cert.owners, inner.username)) {
      return this.failure(conv, identifier, 'client certificate of another user', { inner: inner.inner, serial: cert.serial });
    }
    return this.success(conv, identifier, packet, secret);
  }

  private openTunnel(conv: Conversation, tls: TlsServerConnection): TunnelMethod {
    const inner = this.innerAuth!;
    return conv.method === EapType.Peap
      ? new PeapTunnel(inner)
      : new TtlsTunnel(inner, () => tls.exportKeyingMaterial(TTLS_CHALLENGE_LENGTH, TTLS_CHALLENGE_LABEL));
  }

  /** The server speaks first inside PEAP (the inner Identity request); in EAP-TTLS the peer does. */
  private async tunnelStart(conv: Conversation, state: Buffer): Promise<EapResult> {
    conv.tunnelStarted = true;
    const first = conv.tunnel!.start();
    // EAP-TTLS: the peer speaks first inside the tunnel (RFC 5281 §7.1); an empty Request gives it the turn.
    if (!first) return this.challenge(conv, state, encodeEapTls({ flags: 0, tls: Buffer.alloc(0) }));
    return this.sendTunnel(conv, state, first);
  }

  private async sendTunnel(conv: Conversation, state: Buffer, data: Buffer): Promise<EapResult> {
    await conv.tls!.writeApplicationData(data);
    const out = conv.tls!.takeOutput();
    conv.outgoing = out;
    conv.outgoingTotal = out.length;
    return this.sendNext(conv, state);
  }

  /** One piece of the peer's application data: the answer is written into the TLS connection, or the conversation ends. */
  private async tunnelData(conv: Conversation, data: Buffer, packet: RadiusPacket, secret: Secret): Promise<EapResult | undefined> {
    const step = await conv.tunnel!.receive(data, (conv.lastId + 1) & 0xff);
    if (step.kind === 'reject') {
      return this.failure(conv, conv.lastId, step.reason, { ...(step.detail ? { detail: step.detail } : {}) }, step.username);
    }
    if (step.kind === 'accept') return this.tunnelAccept(conv, conv.lastId, packet, secret, { username: step.username, inner: step.inner });
    if (step.done) conv.pendingAccept = step.done;
    await conv.tls!.writeApplicationData(step.data);
    return undefined;
  }

  /** RFC 5216 §2.1.5: fragments sized to the link; the first carries L and the total length. */
  private sendNext(conv: Conversation, state: Buffer): EapResult {
    const out = conv.outgoing!;
    const first = out.length === conv.outgoingTotal;
    // Only the first fragment carries the four-octet TLS Message Length.
    const room = conv.mtu - EAP_TLS_HEADER_MAX + (first ? 0 : 4);
    const piece = out.subarray(0, room);
    const rest = out.subarray(piece.length);
    conv.outgoing = rest.length > 0 ? rest : undefined;
    const flags = rest.length > 0 ? TlsFlag.More : 0;
    return this.challenge(conv, state, encodeEapTls({ flags, tls: piece, ...(first ? { totalLength: conv.outgoingTotal } : {}) }));
  }

  private challenge(conv: Conversation, state: Buffer, typeData: Buffer): EapResult {
    // Each new Request takes the next Identifier; the Response echoes it (RFC 3748 §4.1).
    const identifier = (conv.lastId + 1) & 0xff;
    conv.lastId = identifier;
    const eap = encodeEap({ code: EapCode.Request, identifier, type: conv.method, data: typeData });
    return {
      code: Code.AccessChallenge, identity: conv.identity,
      attributes: [{ type: Attr.EapMessage, value: eap }, { type: Attr.State, value: state }],
    };
  }

  /** The Access-Accept: EAP-Success, the name, and the MS-MPPE keys (link.ts). */
  private success(conv: Conversation, identifier: number, packet: RadiusPacket, secret: Secret): EapResult {
    const tls = conv.tls!;
    const name = conv.inner?.username ?? conv.verified?.username ?? conv.identity;
    return {
      code: Code.AccessAccept, outcome: 'accept', identity: name,
      details: conv.inner
        ? {
          method: METHOD_NAME[conv.method], inner: conv.inner.inner, tls: tls.protocol ?? '',
          ...(conv.tunnelCert ? { serial: conv.tunnelCert.serial } : {}),
          // The certificate the policy required, of the inner user: a second factor (pap-otp.ts may count it).
          ...(conv.tunnelCert?.required ? { factor: 'client-cert' } : {}), ...(tls.resumed ? { resumed: 'yes' } : {}),
        }
        : { method: 'eap-tls', tls: tls.protocol ?? '', serial: conv.verified?.serial ?? '', ...(tls.resumed ? { resumed: 'yes' } : {}) },
      attributes: [
        { type: Attr.EapMessage, value: encodeEap({ code: EapCode.Success, identifier, data: Buffer.alloc(0) }) },
        { type: Attr.UserName, value: Buffer.from(name, 'utf8') },
        ...mppeKeyAttributes(tls, conv.method, secret, packet.authenticator),
      ],
    };
  }

  private tlsFailure(conv: Conversation, identifier: number): EapResult {
    return this.failure(conv, identifier, 'TLS handshake failed', { detail: conv.tls?.error?.message ?? '' });
  }

  private failure(conv: Conversation | undefined, identifier: number, reason: EapRefusal, details: Record<string, string> = {}, identity?: string): EapResult {
    // The inner method's user when the tunnel got that far, else the outer identity.
    const who = identity ?? conv?.inner?.username ?? conv?.identity;
    return {
      code: Code.AccessReject, outcome: 'reject', reason, details: { method: METHOD_NAME[conv?.method ?? EapType.Tls], ...details },
      ...(who !== undefined ? { identity: who } : {}),
      attributes: [{ type: Attr.EapMessage, value: encodeEap({ code: EapCode.Failure, identifier, data: Buffer.alloc(0) }) }],
    };
  }
}
