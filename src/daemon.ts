// The running daemon: the composition root's other half (main.ts opens the PKI, this
// wires the engines to the change feed and the listeners).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { CertStatusIndex } from './ca/cert-status.js';
import { CrlPublisher } from './ca/crl-publisher.js';
import { toPem } from './ca/pem.js';
import type { AuthboxConfig, ListenAddress } from './config/config.js';
import { ChangeFeed } from './core/change-feed.js';
import { AppError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { createPublicServer, type PublicContent, type PublishedFile } from './http/public-server.js';
import { openPki } from './main.js';
import { OcspResponder } from './ocsp/responder.js';

export const PID_FILE = 'authbox.pid';
const OCSP_SIGNER_RENEW_BEFORE_MS = 30 * 86_400_000;

export interface Daemon {
  /** Where HTTP listens; undefined in a primary whose workers serve HTTP. */
  http?: AddressInfo;
  /** Lets a CLI in another process nudge this one after a write (SIGUSR2). */
  pollNow(): void;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** Publish CRLs: one process only (the primary). Default true. */
  publishCrls?: boolean;
  /** Serve HTTP in this process. Default true. */
  serveHttp?: boolean;
  /** Write the PID file (the primary only). Default true. */
  pidFile?: boolean;
  clock?: () => Date;
}

export function listen(server: Server, addr: ListenAddress, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is already in use'
        : e.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message;
      reject(new AppError('LISTEN_FAILED', `cannot listen for ${what} on ${addr.host}:${addr.port}: ${reason}`));
    };
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startDaemon(config: AuthboxConfig, log: Logger, options: DaemonOptions = {}): Promise<Daemon> {
  const clock = options.clock ?? (() => new Date());
  const pki = openPki(config, clock);
  const { authority, store } = pki;
  const status = new CertStatusIndex(store);
  const responder = new OcspResponder(authority, status, config.ocsp, clock);
  const feed = new ChangeFeed(store.changes, config.feed.pollMs, log.child({ component: 'feed' }));
  const publisher = options.publishCrls === false ? undefined
    : new CrlPublisher(authority, status, store, config.crl, clock, log.child({ component: 'crl' }));

  // CRLs are read from the database when first asked for after a change, not on every
  // change: a 100,000-entry CRL is megabytes, and most workers are never asked.
  const crls = new Map<number, PublishedFile & { nextUpdate: number }>();
  const crlFile = (caId: number, caName: string): PublishedFile | undefined => {
    let file = crls.get(caId);
    if (!file) {
      const c = store.loadCrl(caId);
      if (!c) return undefined;
      // The CRL number names the content: the same in every process, new with every CRL.
      file = { der: c.der, etag: `"${caName}-${c.number}"`, lastModified: c.thisUpdate, nextUpdate: c.nextUpdate, maxAge: 0 };
      crls.set(caId, file);
    }
    // A CRL may change within a second of a revocation: caches keep it briefly only.
    return { ...file, maxAge: Math.max(0, Math.min(60, Math.floor((file.nextUpdate - clock().getTime()) / 1000))) };
  };

  feed.on('cert', (ref) => status.refresh(ref));
  feed.on('ca', () => {
    authority.reload();
    responder.reloadIssuers();
  });
  feed.on('crl', (ref) => crls.delete(Number(ref)));
  status.onChange((caId, serial) => responder.refresh(caId, serial));

  feed.start();
  const refresher = setInterval(() => responder.refresh(), 60_000);
  refresher.unref();

  const startedAt = clock().toISOString();
  const content: PublicContent = {
    ocsp: (body) => responder.respond(body),
    crl: (name) => {
      const ca = authority.cas().find((c) => c.record.name === name);
      return ca && crlFile(ca.record.id, ca.record.name);
    },
    caCertificate: (name) => authority.cas().find((c) => c.record.name === name)?.record.certDer,
    chainPem: () => authority.chain().map((d) => toPem('CERTIFICATE', d)).join(''),
    health: () => ({
      status: 'ok', startedAt, pid: process.pid,
      listeners: { http: 'up' },
      certificates: status.counts(),
      ocsp: responder.stats,
      crls: authority.cas().map((c) => ({ ca: c.record.name, number: store.crlInfo(c.record.id)?.number ?? null })),
    }),
  };
  const server = options.serveHttp === false ? undefined
    : createPublicServer(content, { maxBodyBytes: config.http.maxBodyBytes }, log.child({ component: 'http' }));
  let http: AddressInfo | undefined;
  try {
    if (server) http = await listen(server, config.http.listen, 'HTTP (OCSP, CRL)');
  } catch (e) {
    feed.stop();
    publisher?.stop();
    clearInterval(refresher);
    pki.close();
    throw e;
  }

  if (server) {
    const started = Date.now();
    void responder.presignAll().then((n) => log.info({ signed: n, ms: Date.now() - started }, 'OCSP answers signed ahead'));
  }
  // Publish only once the listener is up: a daemon that cannot start changes nothing.
  publisher?.start();
  // The process that publishes CRLs also keeps the OCSP signer (a year's certificate) fresh.
  const renewal = publisher && setInterval(() => renewOcspSigner(), 12 * 3_600_000);
  renewal?.unref();
  const renewOcspSigner = (): void => {
    try {
      if (authority.renewOcspSignerIfDue(config.keyType, OCSP_SIGNER_RENEW_BEFORE_MS, { actor: 'system', source: 'system' })) {
        log.info({}, 'OCSP signer certificate renewed');
        feed.poll();
      }
    } catch (e) {
      log.error({ err: (e as Error).message }, 'OCSP signer renewal failed');
    }
  };
  if (publisher) renewOcspSigner();
  const pidFile = join(config.dataDir, PID_FILE);
  if (options.pidFile !== false) writePidFile(config.dataDir, [process.pid]);
  const pollNow = (): void => void feed.poll();
  process.on('SIGUSR2', pollNow);

  return {
    ...(http ? { http } : {}),
    pollNow,
    close: async () => {
      process.off('SIGUSR2', pollNow);
      feed.stop();
      publisher?.stop();
      clearInterval(refresher);
      clearInterval(renewal);
      if (server) {
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      if (options.pidFile !== false) {
        try {
          if (readFileSync(pidFile, 'utf8').split('\n')[0] === String(process.pid)) rmSync(pidFile);
        } catch { /* already gone */ }
      }
      pki.close();
    },
  };
}

/** The daemon's processes, primary first; a CLI signals each after a write. */
export function writePidFile(dataDir: string, pids: number[]): void {
  writeFileSync(join(dataDir, PID_FILE), pids.join('\n') + '\n', { mode: 0o600 });
}

/** Best effort: tell a running daemon on this data folder to read the change feed now. */
export function nudgeDaemon(dataDir: string): void {
  let pids: number[];
  try {
    pids = readFileSync(join(dataDir, PID_FILE), 'utf8').split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return; // no daemon running: it reads the feed when it starts
  }
  for (const pid of pids) {
    try {
      // Only signal a process that is an authbox daemon: a stale PID may belong to anything now,
      // and SIGUSR2 ends a process that does not handle it.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes('serve') && argv.some((a) => a.endsWith('authbox') || a.endsWith('main.js'))) process.kill(pid, 'SIGUSR2');
    } catch {
      /* that process is gone; the others still get their signal */
    }
  }
}
