// The TLS configuration EAP-TLS runs with: authbox's own server certificate and key, the
// authbox CA chain as the CAs whose client certificates are asked for, TLS 1.2 and 1.3.
import { createHash, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';

const pem = (der: Buffer): string =>
  `-----BEGIN CERTIFICATE-----\n${der.toString('base64').match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

export interface EapTlsCredentials {
  certDer: Buffer;
  key: KeyObject;
  /** Issuing CA first, up to the root (CertificateAuthority.chain()). */
  chain: readonly Buffer[];
}

export function eapTlsContext(creds: EapTlsCredentials): SecureContext {
  const context = createSecureContext({
    // The issuing CA goes with the server certificate so the supplicant can build the path to its root.
    cert: pem(creds.certDer) + creds.chain.slice(0, -1).map(pem).join(''),
    key: creds.key.export({ type: 'pkcs8', format: 'pem' }),
    ca: creds.chain.map(pem),
    minVersion: 'TLSv1.2',
    maxVersion: 'TLSv1.3',
  });
  // TLS 1.3 tickets without a session id context make a returning client fail (DESIGN.md):
  // the context is what tls.Server would set; createSecureContext has no option for it.
  const native = (context as unknown as { context?: { setSessionIdContext?: (id: string) => void } }).context;
  native?.setSessionIdContext?.(createHash('sha256').update('authbox eap-tls').update(creds.certDer).digest('hex').slice(0, 32));
  return context;
}
