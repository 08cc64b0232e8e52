// The running daemon: the composition root's other half (main.ts opens the PKI, this
// wires the engines to the change feed and the listeners).
import { createHash } from 'node:crypto';
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

export interface Daemon {
  http: AddressInfo;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** Publish CRLs (the primary process only). */
  publishCrls?: boolean;
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

  const crls = new Map<number, PublishedFile>();
  const loadCrl = (caId: number): void => {
    const c = store.loadCrl(caId);
    if (!c) return;
    crls.set(caId, {
      der: c.der, etag: `"${createHash('sha1').update(c.der).digest('hex')}"`, lastModified: c.thisUpdate,
      // A CRL may change within a second of a revocation: let caches keep it briefly only.
      maxAge: Math.max(0, Math.min(60, Math.floor((c.nextUpdate - clock().getTime()) / 1000))),
    });
  };

  feed.on('cert', (ref) => status.refresh(ref));
  feed.on('ca', () => {
    authority.reload();
    responder.reloadIssuers();
  });
  feed.on('crl', (ref) => loadCrl(Number(ref)));
  status.onChange((caId, serial) => responder.refresh(caId, serial));

  publisher?.start();
  for (const ca of authority.cas()) loadCrl(ca.record.id);
  feed.start();
  const refresher = setInterval(() => responder.refresh(), 60_000);
  refresher.unref();

  const startedAt = clock().toISOString();
  const content: PublicContent = {
    ocsp: (body) => responder.respond(body),
    crl: (name) => {
      const ca = authority.cas().find((c) => c.record.name === name);
      return ca && crls.get(ca.record.id);
    },
    caCertificate: (name) => authority.cas().find((c) => c.record.name === name)?.record.certDer,
    chainPem: () => authority.chain().map((d) => toPem('CERTIFICATE', d)).join(''),
    health: () => ({
      status: 'ok', startedAt, pid: process.pid,
      listeners: { http: 'up' },
      certificates: status.counts(),
      ocsp: responder.stats,
      crls: authority.cas().map((c) => ({ ca: c.record.name, number: store.loadCrl(c.record.id)?.number ?? null })),
    }),
  };
  const server = createPublicServer(content, { maxBodyBytes: config.http.maxBodyBytes }, log.child({ component: 'http' }));
  let http: AddressInfo;
  try {
    http = await listen(server, config.http.listen, 'HTTP (OCSP, CRL)');
  } catch (e) {
    feed.stop();
    publisher?.stop();
    clearInterval(refresher);
    pki.close();
    throw e;
  }

  // Lets a CLI in another process nudge us after a write, so a revocation is live at once.
  const pidFile = join(config.dataDir, PID_FILE);
  writeFileSync(pidFile, `${process.pid}\n`, { mode: 0o600 });
  const onNudge = (): void => void feed.poll();
  process.on('SIGUSR2', onNudge);

  return {
    http,
    close: async () => {
      process.off('SIGUSR2', onNudge);
      feed.stop();
      publisher?.stop();
      clearInterval(refresher);
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      try {
        if (readFileSync(pidFile, 'utf8').trim() === String(process.pid)) rmSync(pidFile);
      } catch { /* already gone */ }
      pki.close();
    },
  };
}

/** Best effort: tell a running daemon on this data folder to read the change feed now. */
export function nudgeDaemon(dataDir: string): void {
  try {
    for (const line of readFileSync(join(dataDir, PID_FILE), 'utf8').split('\n')) {
      const pid = Number(line);
      if (!Number.isInteger(pid) || pid <= 0) continue;
      // Only signal a process that is really authbox: a stale PID may belong to anything now.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes('authbox')) process.kill(pid, 'SIGUSR2');
    }
  } catch {
    /* no daemon running: it will read the feed when it starts */
  }
}
