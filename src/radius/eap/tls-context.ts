// The TLS configuration EAP-TLS runs with: authbox's own server certificate and key, the
// authbox CA chain as the CAs whose client certificates are asked for, TLS 1.2 and 1.3.
import { constants, createHash, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export interface EapTlsCredentials {
  certDer: Buffer;
  key: KeyObject;
  /** Issuing CA first, up to the root (CertificateAuthority.chain()): the CAs client certificates are checked against. */
  chain: readonly Buffer[];
  /** Sent after the server certificate when it is not authbox's own (`tls import`); default: `chain` without its root. */
  served?: readonly Buffer[];
}

/** How long a TLS session may be resumed (RFC 5216 §2.1.3): the ticket lifetime and the session-id cache's TTL. */
export const TLS_SESSION_LIFETIME_SECONDS = 3600;

export interface EapTlsContextOptions {
  /**
   * false: no session tickets and a session id context of its own, so that no handshake on
   * this context is ever resumed (EAP-TTLS: supplicants skip the inner method on a resumed
   * tunnel, RFC 5281 §10.1, and authbox keeps nothing to vouch for the user without it).
   */
  resumable?: boolean;
  /**
   * 48 octets that seal session tickets, shared by every EAP worker thread so that a client
   * resumes whichever thread its next conversation lands on; random per context without it.
   */
  ticketKeys?: Buffer;
}

/**
 * One context per daemon process (or per EAP worker thread, all with the same ticket keys):
 * its ticket keys seal the TLS 1.3 tickets and any TLS 1.2 ticket, so a returning client
 * resumes only with a process that holds those keys.
 */
export function eapTlsContext(creds: EapTlsCredentials, options: EapTlsContextOptions = {}): SecureContext {
  const resumable = options.resumable ?? true;
  // TLS 1.3 tickets without a session id context make a returning client fail (DESIGN.md);
  // the context also keeps sessions of the two kinds of context apart.
  const idContext = createHash('sha256').update(resumable ? 'authbox eap-tls' : 'authbox eap no-resume').update(creds.certDer).digest('hex').slice(0, 32);
  return createSecureContext({
    // The issuing CA goes with the server certificate so the supplicant can build the path to its root.
    cert: pem(creds.certDer) + (creds.served ?? creds.chain.slice(0, -1)).map(pem).join(''),
    key: creds.key.export({ type: 'pkcs8', format: 'pem' }),
    ca: creds.chain.map(pem),
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
    sessionIdContext: idContext,
    sessionTimeout: TLS_SESSION_LIFETIME_SECONDS,
    // Without tickets, OpenSSL's TLS 1.3 tickets are stateful: with no server-side store
    // (Node keeps none) a client offering one gets a full handshake.
    ...(resumable ? (options.ticketKeys ? { ticketKeys: options.ticketKeys } : {}) : { secureOptions: constants.SSL_OP_NO_TICKET }),
  });
}
