// A server-side TLS connection over memory: TLS records from EAP fragments are pushed in,
// what OpenSSL writes is collected for the next EAP-Request. Node's own tls (OpenSSL) on an
// in-memory Duplex, as DESIGN.md records: the TLS 1.2 and 1.3 of today's supplicants.
import { Duplex } from 'node:stream';
import { TLSSocket, type SecureContext } from 'node:tls';
import type { X509Certificate } from 'node:crypto';
import type { Server } from 'node:net';
import type { TlsSessionCache } from './tls-session-cache.js';

/** How many event-loop turns without a write mean OpenSSL has said all it will for now. */
const QUIET_TURNS = 3;
const MAX_TURNS = 500;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class TlsServerConnection {
  private readonly transport: Duplex;
  private readonly socket: TLSSocket;
  private out: Buffer[] = [];
  private writes = 0;
  private isSecure = false;
  private failure: Error | undefined;
  private closed = false;
  private appData: Buffer[] = [];

  /** PEAP and EAP-TTLS ask for a client certificate only when the policy requires one (requestCert). */
  /** `sessions` lets a TLS 1.2 client resume by session id (tickets need nothing more). */
  constructor(context: SecureContext, options: { requestCert?: boolean; sessions?: TlsSessionCache } = {}) {
    const collect = (chunk: Buffer): void => {
      this.out.push(Buffer.from(chunk));
      this.writes++;
    };
    this.transport = new Duplex({
      read() { /* data is pushed by feed() */ },
      write(chunk: Buffer, _encoding, callback) {
        collect(chunk);
        callback();
      },
    });
    // The one place TLS verification is off: a bare duplex is not checked by Node
    // (`authorized` stays unset), so the caller verifies the client's certificate itself
    // (chain, validity, EKU, revocation, owner, identity) once 'secure' has fired.
    this.socket = new TLSSocket(this.transport, {
      isServer: true, secureContext: context, requestCert: options.requestCert ?? true, rejectUnauthorized: false,
      // Node emits 'newSession' and 'resumeSession' on the server it is given (tls.Server's events).
      ...(options.sessions ? { server: options.sessions as unknown as Server } : {}),
    });
    this.socket.on('secure', () => (this.isSecure = true));
    this.socket.on('error', (e: Error) => (this.failure ??= e));
    // Application data: the inner method of PEAP and EAP-TTLS (EAP-TLS expects none).
    this.socket.on('data', (d: Buffer) => this.appData.push(Buffer.from(d)));
  }

  get secure(): boolean {
    return this.isSecure;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** RFC 5216 §2.1.3: the handshake resumed an earlier session (no certificate was sent). */
  get resumed(): boolean {
    return this.socket.isSessionReused();
  }

  get protocol(): string | null {
    return this.socket.getProtocol();
  }

  /** Pushes the peer's TLS records in and waits until OpenSSL has written its answer. */
  async feed(records: Buffer): Promise<void> {
    if (this.closed) throw new Error('TLS connection closed');
    this.transport.push(records);
    await this.settle();
  }

  /** Writes application data (the TLS 1.3 commitment message) and waits for the records. */
  async writeApplicationData(data: Buffer): Promise<void> {
    this.socket.write(data);
    await this.settle();
  }

  /**
   * 'secure' fires before the last handshake bytes are written: wait until writes stop for
   * a few turns of the event loop before the reply is built.
   */
  private async settle(): Promise<void> {
    let last = -1;
    let quiet = 0;
    for (let i = 0; i < MAX_TURNS && quiet < QUIET_TURNS; i++) {
      await turn();
      if (this.writes === last) quiet++;
      else {
        quiet = 0;
        last = this.writes;
      }
    }
  }

  /** The peer's application data decrypted since the last call. */
  takeApplicationData(): Buffer {
    const b = Buffer.concat(this.appData);
    this.appData = [];
    return b;
  }

  /** Everything written since the last call. */
  takeOutput(): Buffer {
    const b = Buffer.concat(this.out);
    this.out = [];
    return b;
  }

  peerCertificate(): X509Certificate | undefined {
    return this.socket.getPeerX509Certificate();
  }

  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer {
    // Node passes no context to OpenSSL when none is given (TLS 1.2, RFC 5216 §2.3).
    return this.socket.exportKeyingMaterial(length, label, context as Buffer);
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.transport.destroy();
  }
}
