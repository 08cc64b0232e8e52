import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../config/config.js';
import cluster from 'node:cluster';
import { PID_FILE } from '../../daemon-process.js';
import type { RadiusListener } from '../../radius/server.js';
import { intOption, str, type CommandSpec } from '../args.js';
import { DATA_OPTION } from '../common.js';

export const serveCommand: CommandSpec = {
  name: 'serve',
  summary: 'run the daemon: OCSP, CRLs and CA certificates over HTTP, RADIUS over UDP',
  options: {
    data: DATA_OPTION,
    http: { type: 'string', arg: 'ADDR:PORT', help: 'HTTP listener for OCSP, CRLs, CA certificates, /healthz (default 0.0.0.0:8080)' },
    'http-workers': { type: 'string', arg: 'N', help: 'processes serving HTTP; 1 serves it in the main process (default 2)' },
    radius: { type: 'string', arg: 'ADDR:PORT', help: 'RADIUS authentication over UDP, several separated by commas, e.g. 0.0.0.0:1812,[::]:1812 (default 0.0.0.0:1812)' },
    'radius-acct': { type: 'string', arg: 'ADDR:PORT', help: 'RADIUS accounting over UDP (default 0.0.0.0:1813)' },
    radsec: { type: 'string', arg: 'ADDR:PORT', help: 'RadSec, RADIUS over TLS (RFC 6614), e.g. 0.0.0.0:2083; "off" turns it off (default off)' },
    'eap-workers': { type: 'string', arg: 'N', help: 'threads running EAP (TLS handshakes); 0 runs EAP beside the RADIUS sockets (default: one per core, at most 8)' },
    admin: { type: 'string', arg: 'ADDR:PORT', help: 'HTTPS admin console and API (default 0.0.0.0:8443; "off" for none)' },
    'log-level': { type: 'string', arg: 'LEVEL', help: 'debug, info, warn or error (default info; accepted authentications are logged at debug, every decision is kept in `authbox log auth`)' },
  },
  async run(values, io) {
    const overrides = {
      ...(str(values, 'http') ? { httpListen: str(values, 'http')! } : {}),
      ...(intOption(values, 'http-workers') ? { httpWorkers: intOption(values, 'http-workers')! } : {}),
      ...(str(values, 'radius') ? { radiusListen: str(values, 'radius')! } : {}),
      ...(str(values, 'radius-acct') ? { radiusAcctListen: str(values, 'radius-acct')! } : {}),
      ...(str(values, 'radsec') ? { radsecListen: str(values, 'radsec')! } : {}),
      ...(str(values, 'log-level') ? { logLevel: str(values, 'log-level')! } : {}),
      ...(str(values, 'admin') ? { adminListen: str(values, 'admin')! } : {}),
      ...(intOption(values, 'eap-workers') !== undefined ? { eapWorkers: intOption(values, 'eap-workers')! } : {}),
    };
    const config = loadConfig(str(values, 'data')!, process.env, overrides);
    // pino: the system, auth and audit streams to stdout (the journal) and/or syslog, as config.log says.
    // Imported here, so that other commands do not load pino.
    const { pinoLogger } = await import('../../core/pino-logger.js');
    const log = pinoLogger(config.log);
    // The daemon (express, the RADIUS and EAP engines) likewise: `authbox ldap sync` and the other
    // commands start 0.1 s sooner without it.
    const { runHttpWorker, superviseHttpWorkers } = await import('../../supervisor.js');
    if (cluster.isWorker) return runHttpWorker(config, log);
    const { startDaemon } = await import('../../daemon.js');

    let http: AddressInfo;
    let radius: RadiusListener[];
    let close: () => Promise<void>;
    let reload: (next: typeof config) => void;
    if (config.http.workers > 1) {
      ({ http, radius, close, reload } = await superviseHttpWorkers(config, log));
    } else {
      const daemon = await startDaemon(config, log, { serveRadius: true });
      http = daemon.http!;
      radius = daemon.radiusStatus()?.listeners ?? [];
      close = () => daemon.close();
      reload = (next) => daemon.reload(next);
    }
    const udp = (service: string): string => radius.filter((l) => l.service === service)
      .map((l) => `${l.family === 'IPv6' ? `[${l.address}]` : l.address}:${l.port}/udp`).join('  ');
    const host = http.family === 'IPv6' ? `[${http.address}]` : http.address;
    const base = `http://${host}:${http.port}`;
    io.err([
      `authbox ${process.pid} serving ${config.dataDir} (${config.http.workers} HTTP process${config.http.workers > 1 ? 'es' : ''})`,
      `  OCSP         POST ${base}/ocsp  (certificates say ${config.publicUrl}/ocsp)`,
      `  CRLs         ${base}/crl/issuing.crl  ${base}/crl/root.crl`,
      `  CA chain     ${base}/ca/chain.pem  ${base}/ca/issuing.crt  ${base}/ca/root.crt`,
      `  health       ${base}/healthz`,
      `  RADIUS       authentication ${udp('auth')}  accounting ${udp('acct')}`,
      ...(config.radius.radsec ? [`  RadSec       ${config.radius.radsec.host.includes(':') ? `[${config.radius.radsec.host}]` : config.radius.radsec.host}:${config.radius.radsec.port}/tcp (TLS)`] : []),
      '',
    ].join('\n'));
    log.info({ pid: process.pid, dataDir: config.dataDir, http: base, radius: radius.map((l) => `${l.address}:${l.port}/${l.service}`) }, 'authbox started');
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        log.info({ signal }, 'shutting down');
        void close().then(async () => {
          rmSync(join(config.dataDir, PID_FILE), { force: true });
          await log.close();
          resolve();
        });
      };
      // SIGHUP (systemctl reload): authbox.json read again and applied where it can be while running,
      // the server certificate taken again; RADIUS keeps answering. A bad file changes nothing.
      process.on('SIGHUP', () => {
        log.info({ signal: 'SIGHUP' }, 'reloading');
        try {
          reload(loadConfig(config.dataDir, process.env, overrides));
        } catch (e) {
          log.error({ err: (e as Error).message }, 'configuration not reloaded: the running one stays');
        }
      });
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  },
};
