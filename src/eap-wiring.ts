// The EAP engine as the daemon runs it, wired from the PKI: used by the daemon itself (one
// engine in the main thread) and by every EAP worker thread (src/eap-worker.ts).
import type { CertStatusIndex } from './ca/cert-status.js';
import type { Logger } from './core/logger.js';
import type { NasKind } from './core/nas.js';
import { refusalVia, type UserRecord } from './core/users.js';
import { serverTlsCredentials, type openPki } from './main.js';
import { withDeviceCertificates, type ClientCertDeps } from './radius/eap/client-cert.js';
import { EapEngine } from './radius/eap/engine.js';
import { innerAuthenticator, type InnerUsers } from './radius/eap/inner-auth.js';
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { eapTlsContext } from './radius/eap/tls-context.js';

export interface EapWiringOptions {
  /** The worker's index, put in front of every State it makes (sessions.ts stateTag). */
  stateTag?: number;
  /** Ticket keys shared by every worker, so that a client resumes on any of them. */
  ticketKeys?: Buffer;
  /** The policy's per-kind rule for a client certificate in PEAP/EAP-TTLS (PolicyEngine.tunnelClientCertRequired). */
  requireTunnelClientCert?: (kind: NasKind) => boolean;
}

/**
 * EAP-TLS with authbox's own server certificate (or the one imported for RADIUS); certificate status from memory, owners
 * from the store. PEAP and EAP-TTLS check inner passwords against `users` (the PAP cache
 * in front). Undefined when authbox has no server certificate.
 */
export function eapEngine(
  pki: ReturnType<typeof openPki>, status: CertStatusIndex, log: Logger, users: InnerUsers<UserRecord>, dummyPasswordHash: string,
  options: EapWiringOptions = {},
): (EapEngine & { reloadTls(): void }) | undefined {
  // The ticket keys are the engine's for its life (or the daemon's, shared by every worker):
  // a new certificate does not end the sessions returning clients resume with.
  const ticketKeys = options.ticketKeys ?? randomBytes(48);
  const contexts = (): { context: SecureContext; withoutResumption: SecureContext } | undefined => {
    const creds = serverTlsCredentials(pki, 'radius');
    if (!creds) return undefined;
    // Client certificates are always checked against authbox's CAs; an imported server certificate brings its own chain.
    const tlsCreds = {
      certDer: creds.certDer, key: pki.vault.load(creds.keyId), chain: pki.authority.chain(), ...(creds.imported ? { served: creds.chain } : {}),
    };
    return {
      context: eapTlsContext(tlsCreds, { ticketKeys }),
      withoutResumption: eapTlsContext(tlsCreds, { resumable: false }),
    };
  };
  let current: ReturnType<typeof contexts>;
  current = contexts();
  if (!current) {
    log.warn({}, 'no server TLS certificate: EAP-TLS is not available');
    return undefined;
  }
  const engine = new EapEngine({
    inner: innerAuthenticator(users, dummyPasswordHash),
    tls: () => current!.context,
    tlsWithoutResumption: () => current!.withoutResumption,
    log: log.child({ method: 'eap' }),
    certificates: withDeviceCertificates(eapCertificateSource(pki, status, users, Date.now), pki.devices),
    ...(options.stateTag !== undefined ? { sessions: { stateTag: options.stateTag } } : {}),
    ...(options.requireTunnelClientCert ? { requireTunnelClientCert: options.requireTunnelClientCert } : {}),
  });
  // New conversations use the certificate in the store from now on; those in flight keep theirs.
  return Object.assign(engine, { reloadTls: () => { current = contexts() ?? current; } });
}

/**
 * What the EAP-TLS certificate check reads: authbox's CAs, the in-memory status index,
 * the issued certificate's record, and the owner through the same users the RADIUS path
 * uses (held in memory by the daemon).
 */
export function eapCertificateSource(
  pki: ReturnType<typeof openPki>, status: CertStatusIndex, users: Pick<InnerUsers<UserRecord>, 'find'>, now: () => number,
): ClientCertDeps {
  return {
    cas: () => pki.authority.cas().map((c) => ({ id: c.record.id, certDer: c.record.certDer })),
    status: (caId, serial) => status.get(caId, serial),
    record: (serial) => {
      try {
        return pki.authority.find(serial);
      } catch {
        return undefined;
      }
    },
    user: (username) => {
      const u = users.find(username);
      return u && { username: u.username, enabled: u.enabled, refusal: refusalVia(users, u, 'certificate') };
    },
    now,
  };
}
