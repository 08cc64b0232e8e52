// Server-side TLS 1.2 session cache for EAP (RFC 5216 §2.1.3, session resumption): a
// returning client offers the session id of its last handshake, and OpenSSL resumes it
// only if the serialized session is handed back. Node asks for it through the `server`
// a TLSSocket is given ('newSession' and 'resumeSession' events, as tls.Server emits
// them); this is that server, without a listener. TLS 1.3 (and TLS 1.2 tickets) resume
// from tickets sealed with the shared SecureContext's keys and need no storage here.
//
// A resumed session carries the client certificate of the full handshake (OpenSSL keeps
// it in the session and in the ticket); the engine checks it again on every resumption,
// so a revocation or a disabled account refuses the returning client at once.
import { EventEmitter } from 'node:events';
import { TLS_SESSION_LIFETIME_SECONDS } from './tls-context.js';

export interface TlsSessionCacheOptions {
  /** Sessions kept; the oldest goes first when full. */
  maxSessions?: number;
  /** How long a session may be resumed, like the SecureContext's sessionTimeout. */
  ttlMs?: number;
  now?: () => number;
}

export const DEFAULT_SESSION_TTL_MS = TLS_SESSION_LIFETIME_SECONDS * 1000;

export class TlsSessionCache extends EventEmitter {
  private readonly sessions = new Map<string, { session: Buffer; expires: number }>();
  private readonly max: number;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(options: TlsSessionCacheOptions = {}) {
    super();
    this.max = options.maxSessions ?? 10_000;
    this.ttl = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.now = options.now ?? Date.now;
    this.on('newSession', (id: Buffer, session: Buffer, done: () => void) => {
      this.store(id, session);
      done();
    });
    this.on('resumeSession', (id: Buffer, callback: (err: Error | null, session: Buffer | null) => void) => {
      callback(null, this.lookup(id) ?? null);
    });
  }

  get size(): number {
    return this.sessions.size;
  }

  store(id: Buffer, session: Buffer): void {
    const key = id.toString('hex');
    this.sessions.delete(key);
    while (this.sessions.size >= this.max) {
      const oldest = this.sessions.keys().next().value as string;
      this.sessions.delete(oldest);
    }
    this.sessions.set(key, { session: Buffer.from(session), expires: this.now() + this.ttl });
  }

  lookup(id: Buffer): Buffer | undefined {
    const key = id.toString('hex');
    const entry = this.sessions.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.now()) {
      this.sessions.delete(key);
      return undefined;
    }
    return entry.session;
  }

  clear(): void {
    this.sessions.clear();
  }
}
