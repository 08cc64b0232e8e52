// RadSec (RFC 6614): RADIUS over TLS on TCP port 2083, with mutual certificate authentication.
// The NAS presents a client certificate issued by authbox's CA; the connection is accepted
// only when that certificate is valid now (chain and dates by OpenSSL; clientAuth EKU,
// revocation and hold by us, from the in-memory status source every other path reads) and
// names a NAS client marked for RadSec whose network holds the peer's address.
//
// Identity binding: the certificate's subject CN, or one of its DNS subject alternative
// names, must equal the NAS client's name (case-insensitively). A name, not a serial, so
// that renewing the NAS's certificate needs no change to the client record; a stolen or
// retired certificate is refused by revoking it, which bites on the next packet.
//
// Each packet on the stream is handed to the same RADIUS engine as UDP would, as if it had
// come from the peer's address and port, with the connection's client and the fixed secret
// "radsec" (RFC 6614 §2.3): the engine's `clients` is a RadsecClientScope, which answers
// with the client of the connection the packet arrived on.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { X509Certificate, KeyObject } from 'node:crypto';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { ListenAddress } from '../config/config.js';
import { addressBytes, contains } from '../core/cidr.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { NAS_RADSEC_SECRET, type NasClient } from '../core/nas.js';
import type { Datagram, RadiusClients, RadiusService } from './auth.js';
import { Code, decodePacket, encodePacket, verifyDecodedRequestMessageAuthenticator } from './codec/index.js';

/** RFC 6614 §2.3: the shared secret of every RadSec client. */
export const RADSEC_SECRET = NAS_RADSEC_SECRET;
/** RFC 6614 §2.1 (IANA "radsec"). */
export const RADSEC_PORT = 2083;
/** RFC 2865 §3: a packet is 20 to 4096 octets. */
const MIN_PACKET = 20;
const MAX_PACKET = 4096;
const HEADER = 4;
/** RFC 5280 §4.2.1.12. */
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

export type RadsecCertStatus = 'valid' | 'revoked' | 'hold';

export interface RadsecOptions {
  listen: ListenAddress;
  /** authbox's own TLS server certificate, its key, and the CA chain (issuing first, up to the root). */
  certDer: Buffer;
  key: KeyObject;
  chain: readonly Buffer[];
  /** Sent after the server certificate when it is an imported one (`authbox tls import`); default: `chain` without its root. */
  served?: readonly Buffer[];
  /** The NAS clients marked for RadSec, read on every connection and packet (the daemon's in-memory table). */
  clients(): readonly NasClient[];
  /** A certificate's status by canonical serial (lowercase hex, no leading zeros); undefined when authbox never issued it. */
  status(serial: string): RadsecCertStatus | undefined;
  /** The RADIUS engine, constructed with `clients: scope`. */
  engine: { handle(d: Datagram, service: RadiusService): Promise<Buffer | undefined> };
  scope: RadsecClientScope;
  log: Logger;
  /** A connection with no packet for this long is closed (the NAS reconnects when it needs to). Default 5 minutes. */
  idleTimeoutMs?: number;
  /** Connections beyond this are refused at once. Default 256. */
  maxConnections?: number;
  /** A TLS handshake not done in this time is dropped. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Requests of one connection waiting for their answers before reading pauses. Default 256. */
  maxInFlight?: number;
}

export interface RadsecStats {
  connections: number;
  accepted: number;
  refused: { handshake: number; noClient: number; certificate: number; tooMany: number };
  /** Connections dropped for a Length outside 20..4096. */
  badFraming: number;
  packets: number;
  statusServer: number;
}

export interface RadsecServer {
  address: AddressInfo;
  stats: RadsecStats;
  /** New handshakes use this certificate and chain from now on; open connections keep theirs. */
  setCredentials(c: { certDer: Buffer; key: KeyObject; chain: readonly Buffer[]; served?: readonly Buffer[] }): void;
  close(): Promise<void>;
}

/** The engine's clients for RadSec: the client of the connection whose packet is being handled. */
export class RadsecClientScope implements RadiusClients {
  private readonly current = new AsyncLocalStorage<NasClient>();

  lookup(): NasClient | undefined {
    return this.current.getStore();
  }

  run<T>(client: NasClient, fn: () => T): T {
    return this.current.run(client, fn);
  }
}

const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

const serialOf = (cert: X509Certificate): string => cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

/** The names a certificate may be bound to a NAS client by: its subject CN and DNS SANs. */
export function certificateNames(cert: X509Certificate): string[] {
  const cn = cert.subject.split('\n').filter((l) => l.startsWith('CN=')).map((l) => l.slice(3));
  const dns = (cert.subjectAltName ?? '').split(', ').filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4));
  return [...cn, ...dns].map((n) => n.toLowerCase());
}

export type RadsecRefusal = 'no client certificate' | 'certificate not for client authentication' | 'unknown certificate'
  | 'certificate revoked' | 'certificate on hold' | 'no RadSec client for this certificate and address';

/** Whether this certificate, from this address, is a RadSec client now; chain and dates were checked by OpenSSL. */
export function radsecClientFor(
  cert: X509Certificate | undefined, address: string, deps: Pick<RadsecOptions, 'clients' | 'status'>,
): { ok: true; client: NasClient; serial: string } | { ok: false; reason: RadsecRefusal; serial?: string } {
  if (!cert) return { ok: false, reason: 'no client certificate' };
  const serial = serialOf(cert);
  // Node gives the EKU OIDs, or undefined when the extension is absent (any use allowed).
  const eku = cert.keyUsage;
  if (eku && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) return { ok: false, reason: 'certificate not for client authentication', serial };
  const status = deps.status(serial);
  if (!status) return { ok: false, reason: 'unknown certificate', serial };
  if (status === 'revoked') return { ok: false, reason: 'certificate revoked', serial };
  if (status === 'hold') return { ok: false, reason: 'certificate on hold', serial };
  const names = certificateNames(cert);
  const from = addressBytes(address);
  const client = from && deps.clients().find((c) => names.includes(c.name.toLowerCase()) && contains(c.network, from));
  if (!client) return { ok: false, reason: 'no RadSec client for this certificate and address', serial };
  return { ok: true, client: { ...client, secret: Buffer.from(RADSEC_SECRET) }, serial };
}

/** RFC 5997 §3: Status-Server (with a valid Message-Authenticator) is answered with an Access-Accept. */
function statusServerReply(data: Buffer): Buffer | undefined {
  if (verifyDecodedRequestMessageAuthenticator(data, Buffer.from(RADSEC_SECRET)) !== 'valid') return undefined;
  const packet = decodePacket(data);
  return encodePacket({
    code: Code.AccessAccept, identifier: packet.identifier, requestAuthenticator: packet.authenticator, attributes: [],
    secret: Buffer.from(RADSEC_SECRET),
  });
}

export async function startRadsecServer(opts: RadsecOptions): Promise<RadsecServer> {
  const stats: RadsecStats = {
    connections: 0, accepted: 0, refused: { handshake: 0, noClient: 0, certificate: 0, tooMany: 0 }, badFraming: 0, packets: 0, statusServer: 0,
  };
  const idleMs = opts.idleTimeoutMs ?? 300_000;
  const maxConnections = opts.maxConnections ?? 256;
  const maxInFlight = opts.maxInFlight ?? 256;
  const sockets = new Set<TLSSocket>();
  const server: Server = createServer({
    cert: pem(opts.certDer) + (opts.served ?? opts.chain.slice(0, -1)).map(pem).join(''),
    key: opts.key.export({ type: 'pkcs8', format: 'pem' }),
    ca: opts.chain.map(pem),
    // Mutual authentication (RFC 6614 §2.3): no certificate, or one from another CA, ends the handshake.
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    handshakeTimeout: opts.handshakeTimeoutMs ?? 10_000,
  });
  server.on('tlsClientError', (e, socket) => {
    stats.refused.handshake++;
    opts.log.info({ address: socket.remoteAddress, err: e.message }, 'RadSec handshake refused');
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    const address = (socket.remoteAddress ?? '').replace(/^::ffff:(?=\d+\.)/, '');
    const port = socket.remotePort ?? 0;
    if (sockets.size >= maxConnections) {
      stats.refused.tooMany++;
      opts.log.warn({ address, maxConnections }, 'RadSec connection refused: too many connections');
      socket.destroy();
      return;
    }
    const peer = socket.getPeerX509Certificate();
    const check = (): ReturnType<typeof radsecClientFor> => radsecClientFor(peer, address, opts);
    const first = check();
    if (!first.ok) {
      if (first.reason === 'no RadSec client for this certificate and address') stats.refused.noClient++;
      else stats.refused.certificate++;
      opts.log.info({ address, serial: first.serial, reason: first.reason }, 'RadSec connection refused');
      socket.destroy();
      return;
    }
    stats.accepted++;
    stats.connections++;
    sockets.add(socket);
    opts.log.info({ address, port, client: first.client.name, serial: first.serial }, 'RadSec connection');
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () => {
      opts.log.debug({ address, port, client: first.client.name }, 'RadSec connection idle: closed');
      socket.end();
    });
    socket.on('close', () => {
      sockets.delete(socket);
      stats.connections--;
    });
    socket.on('error', (e) => opts.log.debug({ address, port, err: e.message }, 'RadSec connection error'));

    let pending: Buffer = Buffer.alloc(0);
    let inFlight = 0;
    const handlePacket = (data: Buffer): void => {
      // Revocation, a hold, or the client's removal bites on the next packet, not at the next connection.
      const now = check();
      if (!now.ok) {
        opts.log.info({ address, serial: now.serial, reason: now.reason }, 'RadSec connection closed');
        socket.destroy();
        return;
      }
      stats.packets++;
      const code = data[0];
      if (code === Code.StatusServer) {
        stats.statusServer++;
        let reply: Buffer | undefined;
        try {
          reply = statusServerReply(data);
        } catch {
          reply = undefined; // malformed: silence, as for any other packet
        }
        if (reply && !socket.destroyed) socket.write(reply);
        return;
      }
      const service: RadiusService = code === Code.AccountingRequest ? 'acct' : 'auth';
      inFlight++;
      if (inFlight >= maxInFlight) socket.pause();
      void opts.scope.run(now.client, () => opts.engine.handle({ data, address, port }, service)).then((reply) => {
        inFlight--;
        if (inFlight < maxInFlight && socket.isPaused()) socket.resume();
        if (reply && !socket.destroyed && socket.writable) socket.write(reply);
      });
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      // RFC 6614 §2.3: packets follow each other on the stream, each as long as its Length field says.
      while (pending.length >= HEADER && !socket.destroyed) {
        const length = pending.readUInt16BE(2);
        if (length < MIN_PACKET || length > MAX_PACKET) {
          stats.badFraming++;
          opts.log.info({ address, port, length }, 'RadSec connection closed: a packet length outside 20..4096');
          socket.destroy();
          return;
        }
        if (pending.length < length) break;
        const data = Buffer.from(pending.subarray(0, length));
        pending = pending.subarray(length);
        handlePacket(data);
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is already in use'
        : e.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message;
      reject(new AppError('LISTEN_FAILED', `cannot listen for RadSec on ${opts.listen.host}:${opts.listen.port}/tcp: ${reason}`));
    };
    server.once('error', onError);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (e) => opts.log.error({ err: e.message }, 'RadSec listener error'));
  return {
    address: server.address() as AddressInfo,
    stats,
    setCredentials: (c) => server.setSecureContext({
      cert: pem(c.certDer) + (c.served ?? c.chain.slice(0, -1)).map(pem).join(''), key: c.key.export({ type: 'pkcs8', format: 'pem' }), ca: c.chain.map(pem),
      minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3',
    }),
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
