// One EAP worker thread (radius/eap/pool.ts): its own database connection, certificate
// status index, users and EAP engine; EAP rounds in, results out. Its caches follow the
// change events the daemon's feed passes on, so a revocation or a disabled account is
// refused here as soon as the daemon sees it.
import { parentPort, workerData } from 'node:worker_threads';
import { CertStatusIndex } from './ca/cert-status.js';
import type { AuthboxConfig } from './config/config.js';
import { PolicyEngine } from './core/policy.js';
import { pinoLogger } from './core/pino-logger.js';
import { eapEngine } from './eap-wiring.js';
import { isServerTlsSetting, ldapContext, openPki } from './main.js';
import { LdapBindAuthenticator, directoryAwareVerify, storedUserDirectory } from './ldap-sync/bind-auth.js';
import { PapCache, withPapCache } from './radius/pap-cache.js';
import { UserLookupCache, withUserLookupCache } from './radius/user-cache.js';
import { asBuffer, compactAttributes, reviveAttributes, type FromWorker, type ToWorker } from './radius/eap/pool.js';
import type { EapMethodFilter } from './radius/eap/engine.js';

export interface EapWorkerData {
  config: AuthboxConfig;
  index: number;
  ticketKeys: Uint8Array;
  dummyPasswordHash: string;
}

const port = parentPort;
if (!port) throw new Error('eap-worker.js runs as a worker thread of `authbox serve`');
const data = workerData as EapWorkerData;
const post = (m: FromWorker): void => port.postMessage(m);

try {
  const { config, index } = data;
  const log = pinoLogger(config.log, { bindings: { component: 'radius', eapWorker: index } });
  const pki = openPki(config);
  const status = new CertStatusIndex(pki.store);
  // TTLS-PAP for a user synced from a directory: an LDAP bind as the user, as on the RADIUS thread.
  const ldap = ldapContext(pki, log);
  const synced = storedUserDirectory(ldap.store);
  const verify = directoryAwareVerify(synced, new LdapBindAuthenticator({ log }), (u: { passwordHash: string | null }, pw) => pki.users.verifyPassword(u, pw));
  const papCache = new PapCache({ verify: (user, password) => verify(user as { id?: number; passwordHash: string | null }, password) });
  const userCache = new UserLookupCache((username) => pki.users.find(username));
  const users = withPapCache(withUserLookupCache(pki.users, userCache), papCache);
  // The per-kind policy (a client certificate in PEAP/TTLS), reloaded whole on any 'policy' event like the daemon's.
  const policy = new PolicyEngine(pki.policy.load());
  const engine = eapEngine(pki, status, log, users, data.dummyPasswordHash, {
    stateTag: index, ticketKeys: asBuffer(data.ticketKeys), requireTunnelClientCert: (kind) => policy.tunnelClientCertRequired(kind),
  });
  if (!engine) throw new Error('no server TLS certificate: EAP is not available');

  /** One poll's changes of a kind: per-row work per ref, whole-table reloads once. */
  const onChange = (kind: string, refs: string[]): void => {
    if (kind === 'cert') for (const ref of refs) status.refresh(ref);
    else if (kind === 'user') {
      userCache.clear();
      for (const ref of refs) papCache.invalidate(Number(ref));
    } else if (kind === 'settings') {
      if (refs.some(isServerTlsSetting)) engine.reloadTls();
    }
    else if (kind === 'ca') pki.authority.reload();
    else if (kind === 'policy') policy.replace(pki.policy.load());
  };

  port.on('message', (m: ToWorker) => {
    if (m.type === 'change') {
      onChange(m.kind, m.refs);
      return;
    }
    if (m.type === 'close') {
      engine.close();
      pki.close();
      port.close();
      return;
    }
    const allowed: EapMethodFilter | undefined = m.allowed && ((method) => m.allowed!.includes(method));
    const packet = { code: 1 as const, identifier: 0, authenticator: asBuffer(m.authenticator), attributes: reviveAttributes(m.attributes) };
    engine.handle(packet, asBuffer(m.eapMessage), asBuffer(m.secret), allowed, m.kind ? { kind: m.kind } : {}).then(
      (result) => post({ type: 'result', id: m.id, result: { ...result, attributes: compactAttributes(result.attributes) }, sessions: engine.activeSessions }),
      (e: unknown) => post({ type: 'error', id: m.id, error: (e as Error)?.message ?? String(e), sessions: engine.activeSessions }),
    );
  });
  post({ type: 'ready' });
} catch (e) {
  post({ type: 'failed', error: (e as Error)?.message ?? String(e) });
}
