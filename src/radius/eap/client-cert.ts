// Whether an EAP-TLS client certificate may authenticate, checked by us after 'secure'
// (Node does not check a certificate on a bare duplex): it chains to a CA authbox runs,
// is within its validity, allows clientAuth, is not revoked or on hold (from memory,
// the one status source OCSP and the CRL read), belongs to an enabled user, and matches
// the EAP identity.
//
// Identity binding: the EAP identity (compared case-insensitively) must equal the
// certificate's owner (the username it was issued to with --user), its subject CN, or one
// of its e-mail or UPN subject alternative names. Any of these names the same holder, and
// the names supplicants send by default (the CN, or user@domain) are all covered.
import { X509Certificate } from 'node:crypto';

/** RFC 5280 §4.2.1.12. */
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

export type CertRefusal =
  | 'no client certificate' | 'unknown CA' | 'certificate expired' | 'certificate not yet valid'
  | 'certificate not for client authentication' | 'certificate revoked' | 'certificate on hold'
  | 'unknown certificate' | 'unknown user' | 'account disabled' | 'identity does not match the certificate';

export interface TrustedCa {
  id: number;
  certDer: Buffer;
}

export interface ClientCertDeps {
  /** The CAs authbox runs (issuing and root). */
  cas(): readonly TrustedCa[];
  /** Status from memory (CertStatusIndex). */
  status(caId: number, serial: string): { status: 'valid' | 'revoked' | 'hold' } | undefined;
  /** The issued certificate's record: owner and SANs; undefined if authbox never issued it. */
  record(serial: string): { username: string | null; commonName: string; sans: readonly { kind: string; value: string }[] } | undefined;
  user(username: string): { username: string; enabled: boolean } | undefined;
  now(): number;
}

export type ClientCertResult =
  | { ok: true; serial: string; subject: string; username?: string }
  | { ok: false; reason: CertRefusal; serial?: string; subject?: string };

const parsedCas = new WeakMap<Buffer, X509Certificate>();
const parsed = (der: Buffer): X509Certificate => {
  let c = parsedCas.get(der);
  if (!c) parsedCas.set(der, (c = new X509Certificate(der)));
  return c;
};

/** Canonical serial form (lowercase hex, no leading zeros), as ca/serial.ts keeps it. */
const serialOf = (cert: X509Certificate): string => cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

const commonNameOf = (subject: string): string | undefined =>
  subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);

export function checkClientCertificate(cert: X509Certificate | undefined, identity: string, deps: ClientCertDeps): ClientCertResult {
  if (!cert) return { ok: false, reason: 'no client certificate' };
  const serial = serialOf(cert);
  const subject = cert.subject.replace(/\n/g, ', ');
  const refuse = (reason: CertRefusal): ClientCertResult => ({ ok: false, reason, serial, subject });

  const issuer = deps.cas().find((ca) => {
    const c = parsed(ca.certDer);
    return cert.checkIssued(c) && cert.verify(c.publicKey);
  });
  if (!issuer) return refuse('unknown CA');
  const now = deps.now();
  if (now < Date.parse(cert.validFrom)) return refuse('certificate not yet valid');
  if (now > Date.parse(cert.validTo)) return refuse('certificate expired');
  // Node gives the EKU OIDs, or undefined when the extension is absent (any use allowed).
  const eku = cert.keyUsage;
  if (eku && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) return refuse('certificate not for client authentication');
  const status = deps.status(issuer.id, serial);
  if (!status) return refuse('unknown certificate');
  if (status.status === 'revoked') return refuse('certificate revoked');
  if (status.status === 'hold') return refuse('certificate on hold');
  const record = deps.record(serial);
  if (!record) return refuse('unknown certificate');

  let username: string | undefined;
  if (record.username) {
    const user = deps.user(record.username);
    if (!user) return refuse('unknown user');
    if (!user.enabled) return refuse('account disabled');
    username = user.username;
  }
  const names = [
    username, record.username, record.commonName, commonNameOf(cert.subject),
    ...record.sans.filter((s) => s.kind === 'email' || s.kind === 'upn').map((s) => s.value),
  ].filter((n): n is string => !!n).map((n) => n.toLowerCase());
  if (!names.includes(identity.toLowerCase())) return refuse('identity does not match the certificate');
  return { ok: true, serial, subject, ...(username ? { username } : {}) };
}
