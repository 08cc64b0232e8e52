// The running daemon: the composition root's other half (main.ts opens the PKI, this
// wires the engines to the change feed and the listeners).
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { CertStatusIndex } from './ca/cert-status.js';
import { CrlPublisher } from './ca/crl-publisher.js';
import { toPem } from './ca/pem.js';
import { readCertificate } from './ca/x509.js';
import type { AuthboxConfig } from './config/config.js';
import { ChangeFeed } from './core/change-feed.js';
import { NasTable } from './core/nas.js';
import { PolicyEngine } from './core/policy.js';
import { hashPassword } from './core/users.js';
import { AppError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { createPublicServer, type PublicContent } from './http/public-server.js';
import { isServerTlsSetting, ldapContext, listenerCertificates, openPki, serverTlsCredentials } from './main.js';
import { PID_FILE, listen, syncInChildProcess, writePidFile } from './daemon-process.js';

export { PID_FILE, listen, nudgeDaemon, writePidFile } from './daemon-process.js';
import { OcspResponder } from './ocsp/responder.js';
import { RadiusAuthEngine, type RadiusStats } from './radius/auth.js';
import { startRadiusServer, type RadiusListener, type RadiusServer } from './radius/server.js';
import { RadsecClientScope, startRadsecServer, type RadsecServer, type RadsecStats } from './radius/radsec.js';
import type { NasClient } from './core/nas.js';
import { EapWorkerPool, type EapHandler, type EapPoolStats } from './radius/eap/pool.js';
import { eapEngine } from './eap-wiring.js';
import { PapCache, withPapCache } from './radius/pap-cache.js';
import { PapOtp } from './radius/pap-otp.js';
import { DeviceIndex } from './core/devices.js';
import { withDevices } from './radius/mab.js';
import { UserLookupCache, withUserLookupCache } from './radius/user-cache.js';
import { AccountingRecorder } from './radius/accounting.js';
import { DecisionLog } from './core/auth-log.js';
import { LockoutTracker } from './core/lockout.js';
import { LdapBindAuthenticator, directoryAwareVerify, storedUserDirectory } from './ldap-sync/bind-auth.js';
import { LdapSyncScheduler } from './ldap-sync/scheduler.js';
import { scheduledBackups } from './backup.js';
import { daemonMetrics } from './daemon-metrics.js';
import { AuditForwarder, logDecision } from './core/log-streams.js';
import { expiryNotifier } from './expiry.js';
import { startAdminServer } from './admin-server.js';
import { listenerStatus } from './admin-listeners.js';
import { coaWiring } from './coa-wiring.js';
import { CrlFiles } from './crl-files.js';
import { RadiusWriter } from './radius-writer.js';
import { startLoopMonitor, type LoopMonitor, type LoopStats } from './loop-monitor.js';

const OCSP_SIGNER_RENEW_BEFORE_MS = 30 * 86_400_000;

export interface Daemon {
  /** Where HTTP listens; undefined in a primary whose workers serve HTTP. */
  http?: AddressInfo;
  /** The HTTPS admin console and API, in the primary only. */
  admin?: AddressInfo;
  /** Lets a CLI in another process nudge this one after a write (SIGUSR2). */
  pollNow(): void;
  /**
   * SIGHUP: applies what can change while running from a freshly loaded configuration
   * (lockout and password policy) and takes authbox's server certificate from the store
   * again; listeners, workers and log destinations need a restart.
   */
  reload(next: AuthboxConfig): void;
  /** Binds the RADIUS sockets (the primary only) if startDaemon did not already. */
  listenRadius(): Promise<RadiusListener[]>;
  /** RADIUS listeners and counters, for the HTTP workers' /healthz; undefined where RADIUS is not served. */
  radiusStatus(): RadiusStatus | undefined;
  close(): Promise<void>;
}

export interface DaemonOptions {
  /** Publish CRLs: one process only (the primary). Default true. */
  publishCrls?: boolean;
  /** Serve HTTP in this process. Default true. */
  serveHttp?: boolean;
  /** Write the PID file (the primary only). Default true. */
  pidFile?: boolean;
  /** Serve RADIUS over UDP in this process: the primary only, never an HTTP worker. Default false. */
  serveRadius?: boolean;
  /** Where RADIUS runs in another process (the primary), its latest status for /healthz. */
  radiusStatus?: () => RadiusStatus | undefined;
  clock?: () => Date;
}

export interface RadiusStatus {
  listeners: RadiusListener[];
  stats: RadiusStats;
  /** EAP worker threads: how many, conversations in flight, rounds handled, restarts. */
  eap?: EapPoolStats;
  /** How late the RADIUS thread's event loop runs, and its stalls by cause. */
  loop?: LoopStats;
  /** RadSec (RFC 6614), when radius.radsecListen is set: where, connections, and its engine's counters. */
  radsec?: { address: string; port: number; connections: RadsecStats; stats: RadiusStats };
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

  const crls = new CrlFiles(store, clock);

  feed.on('cert', (ref) => status.refresh(ref));
  feed.on('ca', () => {
    authority.reload();
    responder.reloadIssuers();
  });
  feed.on('crl', (ref) => crls.forget(Number(ref)));
  status.onChange((caId, serial) => responder.refresh(caId, serial));

  // RADIUS: clients are held in memory (secrets unsealed once) and reloaded from the change
  // feed; users likewise (UserLookupCache), emptied on any user change.
  let radius: {
    engine: RadiusAuthEngine; server: RadiusServer; decisions: DecisionLog; writer: RadiusWriter; accounting: AccountingRecorder; eapPool?: EapWorkerPool; loop: LoopMonitor;
    /** EAP beside the sockets (radius.eapWorkers 0). */
    eapLocal?: { reloadTls(): void };
    radsec?: { engine: RadiusAuthEngine; server: RadsecServer };
  } | undefined;
  let nasTable: NasTable | undefined;
  // RadSec clients (radsec = 1) never enter the UDP table: their secret is the public "radsec".
  let radsecClients: NasClient[] = [];
  feed.on('nas', () => {
    nasTable?.replace(pki.nas.loadClients());
    if (radius?.radsec) radsecClients = pki.nas.loadRadsecClients();
  });
  // Users synced from a directory have their password checked by an LDAP bind as the user;
  // local users by scrypt. The user's link and source are read from the store at each such check.
  const ldap = ldapContext(pki, log.child({ component: 'ldap' }));
  const syncedUsers = storedUserDirectory(ldap.store);
  const bindAuth = new LdapBindAuthenticator({ log: log.child({ component: 'ldap-bind' }) });
  const verifyPassword = directoryAwareVerify(syncedUsers, bindAuth, (u: { passwordHash: string | null }, pw) => pki.users.verifyPassword(u, pw));
  // PAP passwords that passed scrypt once are re-checked with a keyed hash; any change to a user drops its entry.
  // (A synced user has no local hash, so its password goes to the directory every time.)
  const papCache = new PapCache({ verify: (user, password) => verifyPassword(user as { id?: number; passwordHash: string | null }, password) });
  const userCache = new UserLookupCache((username) => pki.users.find(username));
  feed.on('user', (ref) => papCache.invalidate(Number(ref)));
  feed.onBatch('user', () => userCache.clear());
  // The EAP workers keep their own status index, users and directory links: they get the same events.
  for (const kind of ['cert', 'user', 'ca', 'settings', 'policy']) feed.onBatch(kind, (refs) => radius?.eapPool?.broadcast(kind, refs));
  // Directory sync on each source's schedule, in the primary only (one process writes).
  const ldapScheduler = options.publishCrls === false ? undefined : new LdapSyncScheduler({
    listSources: () => ldap.sources.list(), runSync: (name) => syncInChildProcess(config, name), log: log.child({ component: 'ldap-sync' }),
  });
  const radiusUsers = withPapCache(withUserLookupCache(pki.users, userCache), papCache);
  // Registered devices for MAB, in memory, reloaded whole on any 'device' change. Only the
  // outer RADIUS path sees them: inside PEAP/TTLS a MAC is never a password.
  const devices = new DeviceIndex(pki.devices.list());
  feed.on('device', () => devices.replace(pki.devices.list()));
  // Authorization policies are held in memory, reloaded whole on any 'policy' change (a few rows).
  let policy: PolicyEngine | undefined;
  feed.on('policy', () => policy?.replace(pki.policy.load()));
  let lockout: LockoutTracker | undefined;
  const listenRadius = async (): Promise<RadiusListener[]> => {
    if (radius) return radius.server.listeners;
    nasTable = new NasTable(pki.nas.loadClients());
    policy = new PolicyEngine(pki.policy.load());
    const radiusLog = log.child({ component: 'radius' });
    // Unknown users are checked against this hash, so their refusal takes as long as a wrong password.
    const dummyPasswordHash = hashPassword(randomBytes(16).toString('hex'));
    // EAP runs on worker threads (every core for TLS handshakes), each with its own caches that
    // follow the change feed; or, with radius.eapWorkers = 0, here beside the sockets.
    let eapPool: EapWorkerPool | undefined;
    let eap: EapHandler | undefined;
    let eapLocal: ReturnType<typeof eapEngine>;
    if (config.radius.eapWorkers > 0 && serverTlsCredentials(pki)) {
      eapPool = await EapWorkerPool.start({
        workers: config.radius.eapWorkers, script: new URL('./eap-worker.js', import.meta.url), log: radiusLog,
        workerData: { config, ticketKeys: randomBytes(48), dummyPasswordHash },
      });
      eap = eapPool;
    } else {
      eapLocal = eapEngine(pki, status, radiusLog, radiusUsers, dummyPasswordHash, { requireTunnelClientCert: (kind) => policy!.tunnelClientCertRequired(kind) });
      eap = eapLocal;
    }
    // Decisions are written in batches (every 200 ms or 500 entries, one transaction each) so that no
    // authentication waits for a disk flush; accounting is committed before it is answered.
    // Both are committed by a writer thread with a connection of its own (radius-writer.ts): a
    // commit's fsync, a WAL checkpoint or a directory sync's write lock never stalls RADIUS.
    const writer = new RadiusWriter({ databaseFile: config.databaseFile, log: radiusLog.child({ component: 'writer' }) });
    const decisions = new DecisionLog({ storage: writer, log: radiusLog.child({ component: 'auth-log' }) });
    // Lockout counts the wrong-password refusals of every method and worker from the decision stream.
    lockout = new LockoutTracker({
      policy: config.lockout,
      lock: (username, until, failures) => {
        try {
          const locked = pki.users.lock(username, until, { actor: 'radius', source: 'system' }, { failures });
          if (locked) radiusLog.warn({ user: username, until: new Date(until).toISOString(), failures }, 'account locked after failed attempts');
          return locked;
        } catch (e) {
          if ((e as AppError).code !== 'USER_NOT_FOUND') radiusLog.error({ user: username, err: (e as Error).message }, 'cannot lock the account');
          return false;
        }
      },
    });
    const accounting = new AccountingRecorder(writer);
    // Each decision also goes to the auth log stream (its own stdout/syslog destination, config.log.auth).
    const authStream = log.child({ stream: 'auth' });
    const engineDeps = {
      ...(eap ? { eap } : {}), accounting,
      decisions: {
        record: (d: Parameters<DecisionLog['record']>[0]) => {
          decisions.record(d);
          lockout?.observe(d);
          logDecision(authStream, d);
        },
      },
      clients: nasTable, policy, users: withDevices(radiusUsers, devices), dummyPasswordHash, log: radiusLog,
      // One-time codes after the password where the policy requires them; challenges live in memory (60 s).
      otp: new PapOtp({ users: radiusUsers, policy }),
    };
    const engine = new RadiusAuthEngine(engineDeps);
    let server: RadiusServer;
    try {
      server = await startRadiusServer(engine, config.radius, radiusLog);
    } catch (e) {
      decisions.close();
      await writer.close();
      await eapPool?.close();
      throw e;
    }
    // RadSec (RFC 6614): a second engine sharing users, policy, EAP and decisions, whose client is the connection's.
    let radsec: { engine: RadiusAuthEngine; server: RadsecServer } | undefined;
    if (config.radius.radsec) {
      try {
        const creds = serverTlsCredentials(pki, 'radius');
        if (!creds) throw new AppError('BAD_INPUT', 'RadSec needs authbox\'s own TLS server certificate, and this data folder has none');
        radsecClients = pki.nas.loadRadsecClients();
        const scope = new RadsecClientScope();
        const radsecLog = radiusLog.child({ transport: 'radsec' });
        const radsecEngine = new RadiusAuthEngine({ ...engineDeps, clients: scope, log: radsecLog });
        const radsecServer = await startRadsecServer({
          listen: config.radius.radsec, certDer: creds.certDer, key: pki.vault.load(creds.keyId), chain: authority.chain(),
          ...(creds.imported ? { served: creds.chain } : {}),
          clients: () => radsecClients,
          status: (serial) => {
            for (const ca of authority.cas()) {
              const entry = status.get(ca.record.id, serial);
              if (entry) return entry.status;
            }
            return undefined;
          },
          engine: radsecEngine, scope, log: radsecLog,
        });
        radsec = { engine: radsecEngine, server: radsecServer };
      } catch (e) {
        await server.close();
        decisions.close();
        await writer.close();
        await eapPool?.close();
        throw e;
      }
    }
    decisions.start();
    // Stalls of the thread answering RADIUS, for /metrics (debug log: each one with its cause).
    const loop = startLoopMonitor({ onStall: (st) => radiusLog.debug(st, 'RADIUS thread stalled') });
    radius = { engine, server, decisions, writer, accounting, loop, ...(eapPool ? { eapPool } : {}), ...(eapLocal ? { eapLocal } : {}), ...(radsec ? { radsec } : {}) };
    log.info({ listeners: server.listeners, clients: nasTable.size }, 'RADIUS listening');
    if (radsec) log.info({ address: radsec.server.address, clients: radsecClients.length }, 'RadSec listening');
    return server.listeners;
  };
  const radiusStatus = (): RadiusStatus | undefined =>
    radius ? {
      listeners: radius.server.listeners, stats: radius.engine.stats, loop: radius.loop.stats(), ...(radius.eapPool ? { eap: radius.eapPool.stats } : {}),
      ...(radius.radsec ? {
        radsec: {
          address: radius.radsec.server.address.address, port: radius.radsec.server.address.port,
          connections: radius.radsec.server.stats, stats: radius.radsec.engine.stats,
        },
      } : {}),
    } : options.radiusStatus?.();

  feed.start();
  const refresher = setInterval(() => responder.refresh(), 60_000);
  refresher.unref();

  const startedAt = clock().toISOString();
  const content: PublicContent = {
    ocsp: (body) => responder.respond(body),
    crl: (name) => {
      const ca = authority.cas().find((c) => c.record.name === name);
      return ca && crls.get(ca.record.id, ca.record.name);
    },
    caCertificate: (name) => authority.cas().find((c) => c.record.name === name)?.record.certDer,
    chainPem: () => authority.chain().map((d) => toPem('CERTIFICATE', d)).join(''),
    health: () => {
      const r = radiusStatus();
      return {
        status: 'ok', startedAt, pid: process.pid,
        listeners: { http: 'up', ...(r ? { radius: r.listeners } : {}) },
        certificates: status.counts(),
        ocsp: responder.stats,
        crls: authority.cas().map((c) => ({ ca: c.record.name, number: store.crlInfo(c.record.id)?.number ?? null })),
        ...(r ? { radius: { ...r.stats, ...(r.eap ? { eap: r.eap } : {}) } } : {}),
      };
    },
    metrics: () => daemonMetrics({
      radius: radiusStatus(), ocsp: responder.stats, cas: authority.cas(),
      crlInfo: (caId) => store.crlInfo(caId), certificates: status.counts(), now: clock().getTime(),
      directory: ldap.store.listSources().map((s) => ({ source: s.name, last: ldap.store.listRuns(s.id, 20).find((r) => !r.dryRun) })),
      tls: listenerCertificates(pki),
    }),
  };
  const server = options.serveHttp === false ? undefined
    : createPublicServer(content, { maxBodyBytes: config.http.maxBodyBytes, metricsAllow: config.metrics.allow }, log.child({ component: 'http' }));
  let http: AddressInfo | undefined;
  // The HTTPS console and API: one per daemon, in the primary (sessions live in the database).
  let adminServer: Awaited<ReturnType<typeof startAdminServer>> | undefined;
  try {
    if (server) http = await listen(server, config.http.listen, 'HTTP (OCSP, CRL)');
    if (options.serveRadius) await listenRadius();
    if (options.publishCrls !== false && config.admin.listen) {
      // The dashboard's listener status, as it is at the time of asking.
      const listeners = () => listenerStatus({
        http: server && http ? { address: http, listening: server.listening } : { workers: config.http.listen },
        radius: radiusStatus()?.listeners ?? [], radsec: radius?.radsec?.server.address, admin: adminServer?.address,
      });
      adminServer = await startAdminServer(pki, log.child({ component: 'admin' }), clock, { listeners });
    }
  } catch (e) {
    if (server?.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    await radius?.server.close();
    await radius?.radsec?.server.close();
    await radius?.eapPool?.close();
    radius?.decisions.close();
    await radius?.writer.close();
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
  ldapScheduler?.start();
  // Scheduled backups in the process that publishes CRLs (one per daemon), as the LDAP sync.
  const backups = options.publishCrls === false ? undefined : scheduledBackups(config, log.child({ component: 'backup' }), clock);
  backups?.start();
  // In the primary: every audit row (written here or by the CLI) to the audit log stream, and expiry warnings hourly.
  const auditForwarder = options.publishCrls === false ? undefined : new AuditForwarder(store.changes, log.child({ stream: 'audit' }));
  auditForwarder?.start();
  const expiry = options.publishCrls === false ? undefined : expiryNotifier(pki, log.child({ component: 'expiry' }), clock);
  expiry?.start();
  // RFC 5176: a revoked certificate's or a disabled/locked user's open sessions get a Disconnect-Request
  // at their NAS, in the primary only, asynchronously (RADIUS never waits for it).
  const coa = options.publishCrls === false ? undefined : coaWiring(pki, log.child({ component: 'coa' }), clock);
  if (coa) for (const kind of ['cert', 'user']) feed.onBatch(kind, () => coa.poll());
  // authbox's own TLS server certificate (EAP, the console, RadSec), taken again from the store when it
  // changes (`authbox tls renew`) or on SIGHUP; new handshakes use it, sessions in flight keep theirs.
  // EAP workers follow the same 'settings' change through the pool.
  const reloadTls = (): void => {
    try {
      radius?.eapLocal?.reloadTls();
      adminServer?.reloadTls();
      const creds = radius?.radsec && serverTlsCredentials(pki, 'radius');
      if (creds) {
        radius!.radsec!.server.setCredentials({
          certDer: creds.certDer, key: pki.vault.load(creds.keyId), chain: authority.chain(), ...(creds.imported ? { served: creds.chain } : {}),
        });
      }
      const certs = Object.fromEntries((['admin', 'radius'] as const).map((use) => {
        const c = serverTlsCredentials(pki, use);
        return [use, c ? `${readCertificate(c.certDer).serialHex}${c.imported ? ' (imported)' : ''}` : null];
      }));
      log.info(certs, 'server certificate loaded');
    } catch (e) {
      log.error({ err: (e as Error).message }, 'cannot load the new server certificate; the previous one stays in use');
    }
  };
  feed.onBatch('settings', (refs) => {
    if (refs.some(isServerTlsSetting)) reloadTls();
  });
  const pidFile = join(config.dataDir, PID_FILE);
  if (options.pidFile !== false) writePidFile(config.dataDir, [process.pid]);
  const pollNow = (): void => void feed.poll();
  process.on('SIGUSR2', pollNow);

  return {
    ...(http ? { http } : {}),
    ...(adminServer ? { admin: adminServer.address } : {}),
    pollNow,
    reload: (next) => {
      lockout?.setPolicy(next.lockout);
      pki.users.policy = next.passwords;
      pollNow();
      reloadTls();
      log.info({ lockout: next.lockout, passwords: next.passwords }, 'configuration reloaded');
    },
    listenRadius,
    radiusStatus,
    close: async () => {
      process.off('SIGUSR2', pollNow);
      radius?.loop.stop();
      await radius?.server.close();
      await radius?.radsec?.server.close();
      await radius?.eapPool?.close();
      radius?.accounting.flush();
      radius?.decisions.close();
      await radius?.writer.close();
      ldapScheduler?.stop();
      await backups?.stop();
      auditForwarder?.stop();
      await expiry?.stop();
      await coa?.close();
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
      await adminServer?.close();
      pki.close();
    },
  };
}
