// Using both cores: the primary process publishes CRLs and (later) runs the other
// engines; HTTP is served by N worker processes sharing the listening socket. Each
// worker holds its own status index and OCSP cache, kept current by the change feed.
import cluster, { type Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import type { AuthboxConfig } from './config/config.js';
import { AppError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import type { RadiusListener } from './radius/server.js';
import { startDaemon, writePidFile, type Daemon, type RadiusStatus } from './daemon.js';

const MSG_READY = 'authbox:ready';
const MSG_FATAL = 'authbox:fatal';
const MSG_RADIUS = 'authbox:radius';
/** How often the primary tells the workers its RADIUS counters, for their /healthz. */
const RADIUS_STATUS_MS = 250;
const RESTART_DELAY_MS = 1000;

interface WorkerMessage {
  type: string;
  address?: AddressInfo;
  message?: string;
  radius?: RadiusStatus;
}

/** In a worker: serve HTTP, report readiness or a fatal start-up error to the primary. */
export async function runHttpWorker(config: AuthboxConfig, log: Logger): Promise<void> {
  let daemon: Daemon;
  // RADIUS runs in the primary only; its counters arrive here for /healthz.
  let radius: RadiusStatus | undefined;
  process.on('message', (m: WorkerMessage) => {
    if (m?.type === MSG_RADIUS) radius = m.radius;
  });
  try {
    daemon = await startDaemon(config, log.child({ worker: cluster.worker?.id }), {
      publishCrls: false, pidFile: false, serveRadius: false, radiusStatus: () => radius,
    });
  } catch (e) {
    process.send?.({ type: MSG_FATAL, message: (e as Error).message } satisfies WorkerMessage);
    process.exit(1);
  }
  process.send?.({ type: MSG_READY, address: daemon.http } satisfies WorkerMessage);
  // The primary disconnects us to stop: finish requests in flight, then leave.
  process.once('SIGTERM', () => void daemon.close().then(() => process.exit(0)));
  cluster.worker?.once('disconnect', () => void daemon.close().then(() => process.exit(0)));
}

export interface Supervised {
  http: AddressInfo;
  radius: RadiusListener[];
  close(): Promise<void>;
  /** SIGHUP: see Daemon.reload. */
  reload(next: AuthboxConfig): void;
}

/**
 * In the primary: start the non-HTTP daemon, fork the HTTP workers and wait until all
 * listen, then bind RADIUS here (never in a worker: one process owns the UDP sockets).
 */
export async function superviseHttpWorkers(config: AuthboxConfig, log: Logger): Promise<Supervised> {
  // Workers accept on the shared socket themselves: handing every connection over IPC
  // (round-robin) costs the primary more than the work it distributes.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  const daemon = await startDaemon(config, log, { serveHttp: false, pidFile: false, serveRadius: false });
  let stopping = false;
  const workers = new Set<Worker>();
  const recordPids = (): void => writePidFile(config.dataDir, [process.pid, ...[...workers].map((w) => w.process.pid!)]);

  const fork = (): Promise<AddressInfo> => new Promise((resolve, reject) => {
    const worker = cluster.fork();
    workers.add(worker);
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === MSG_READY && m.address) resolve(m.address);
      if (m.type === MSG_FATAL) reject(new AppError('LISTEN_FAILED', m.message ?? 'an HTTP worker failed to start'));
    });
    worker.once('exit', (code, signal) => {
      workers.delete(worker);
      reject(new AppError('INTERNAL', `an HTTP worker exited during start-up (${signal ?? code})`));
      if (stopping) return;
      log.error({ pid: worker.process.pid, code, signal }, 'HTTP worker exited; starting another');
      setTimeout(() => {
        if (stopping) return;
        fork().then(recordPids, (e: Error) => log.error({ err: e.message }, 'HTTP worker restart failed'));
      }, RESTART_DELAY_MS).unref();
    });
  });

  const stopWorkers = async (): Promise<void> => {
    stopping = true;
    await Promise.all([...workers].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.disconnect();
      setTimeout(() => w.process.kill('SIGKILL'), 10_000).unref();
    })));
  };

  let http: AddressInfo;
  try {
    const addresses = await Promise.all(Array.from({ length: config.http.workers }, fork));
    http = addresses[0]!;
    await daemon.listenRadius();
  } catch (e) {
    await stopWorkers();
    await daemon.close();
    throw e;
  }
  recordPids();
  let lastSent = '';
  const sendRadiusStatus = (force = false): void => {
    const status = daemon.radiusStatus();
    const text = JSON.stringify(status);
    if (!force && text === lastSent) return;
    lastSent = text;
    for (const w of workers) {
      if (w.isConnected()) w.send({ type: MSG_RADIUS, radius: status } satisfies WorkerMessage, (e: Error | null) => void e);
    }
  };
  sendRadiusStatus(true);
  // A restarted worker has nothing until the counters change: resend to everyone now and then.
  let ticks = 0;
  const statusTimer = setInterval(() => sendRadiusStatus(++ticks % 20 === 0), RADIUS_STATUS_MS);
  statusTimer.unref();
  return {
    http,
    radius: daemon.radiusStatus()?.listeners ?? [],
    reload: (next) => daemon.reload(next),
    close: async () => {
      clearInterval(statusTimer);
      await stopWorkers();
      await daemon.close();
    },
  };
}
