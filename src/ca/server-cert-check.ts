// A TLS server certificate from another CA (`authbox tls import`), checked whole before
// anything is stored: a certificate that clients would refuse, or a key that does not go
// with it, must never replace the one in use.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { fromPemAll } from './pem.js';
import { readCertificate } from './x509.js';

/** id-kp-serverAuth (RFC 5280 §4.2.1.12). */
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
/** Below this an RSA key is refused (NIST SP 800-131A); above it handshakes cost too much for RADIUS. */
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;
/** The curves TLS 1.2/1.3 peers (supplicants, browsers) all accept (RFC 8422 §5.1.1, RFC 8446 §4.2.7). */
const EC_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

export interface ServerTlsFiles {
  /** PEM: the server certificate first; any certificates after it are taken as the start of its chain. */
  certPem: string;
  /** PEM private key: PKCS#8 or traditional (RSA/EC), not encrypted. */
  keyPem: string;
  /** PEM: the rest of the chain, issuer of the server certificate first. */
  chainPem?: string;
}

export interface CheckedServerTls {
  certDer: Buffer;
  /** What is served after the server certificate, in order. */
  chain: Buffer[];
  key: KeyObject;
  subject: string;
  issuer: string;
  serialHex: string;
  notAfter: Date;
}

const oneLine = (name: string): string => name.replace(/\n/g, ', ');

function parseCertificates(pem: string, what: string): X509Certificate[] {
  const ders = fromPemAll(pem, ['CERTIFICATE']);
  return ders.map((der, i) => {
    try {
      return new X509Certificate(der);
    } catch (e) {
      throw new AppError('PEM_INVALID', `certificate ${i + 1} in the ${what} file is not a valid X.509 certificate: ${(e as Error).message}`);
    }
  });
}

function parseKey(pem: string): KeyObject {
  // Passphrases are not asked for: the key is sealed under the master key once imported.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(pem)) {
    throw new AppError('TLS_KEY_UNSUPPORTED', 'the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)');
  }
  if (!/-----BEGIN (RSA |EC )?PRIVATE KEY-----/.test(pem)) throw new AppError('PEM_INVALID', 'no PRIVATE KEY PEM block in the key file');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (e) {
    throw new AppError('PEM_INVALID', `the private key cannot be read: ${(e as Error).message}`);
  }
}

/** RSA of 2048..8192 bits or EC on a common curve; anything else a peer may not accept. */
function checkKeyStrength(key: KeyObject, whose: string): void {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength ?? 0;
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
      throw new AppError('TLS_KEY_UNSUPPORTED', `${whose} is RSA-${bits}; RSA keys must have ${RSA_MIN_BITS} to ${RSA_MAX_BITS} bits`);
    }
    return;
  }
  if (key.asymmetricKeyType === 'ec') {
    if (!EC_CURVES.includes(d.namedCurve ?? '')) {
      throw new AppError('TLS_KEY_UNSUPPORTED', `${whose} is on curve ${d.namedCurve ?? 'unknown'}; supported: P-256, P-384, P-521`);
    }
    return;
  }
  throw new AppError('TLS_KEY_UNSUPPORTED', `${whose} is ${key.asymmetricKeyType ?? 'of an unknown type'}; supported: RSA and EC (P-256, P-384, P-521)`);
}

function checkDates(der: Buffer, now: Date, code: 'TLS_CERT_NOT_VALID' | 'TLS_CHAIN_INVALID', whose: string): Date {
  const { notBefore, notAfter } = readCertificate(der);
  if (now < notBefore) throw new AppError(code, `${whose} is not valid before ${notBefore.toISOString()}`);
  if (now > notAfter) throw new AppError(code, `${whose} expired on ${notAfter.toISOString()}`);
  return notAfter;
}

/**
 * Every check `tls import` makes, in the order a person fixing the files wants them: the files
 * parse, the key is the certificate's, the certificate is a server certificate valid now, and
 * each chain certificate issued (and signed) the one before it.
 */
export function checkServerTls(files: ServerTlsFiles, now: Date): CheckedServerTls {
  const [leaf, ...rest] = parseCertificates(files.certPem, 'certificate');
  if (!leaf) throw new AppError('PEM_INVALID', 'no CERTIFICATE PEM block in the certificate file');
  const extra = files.chainPem === undefined ? [] : parseCertificates(files.chainPem, 'chain');
  if (files.chainPem !== undefined && extra.length === 0) throw new AppError('PEM_INVALID', 'no CERTIFICATE PEM block in the chain file');
  const chain = [...rest, ...extra];
  const key = parseKey(files.keyPem);
  checkKeyStrength(key, 'the private key');
  if (!leaf.checkPrivateKey(key)) {
    throw new AppError('TLS_KEY_MISMATCH', `the private key does not belong to the certificate ${oneLine(leaf.subject)}`);
  }
  const notAfter = checkDates(leaf.raw, now, 'TLS_CERT_NOT_VALID', `the certificate ${oneLine(leaf.subject)}`);
  // x509.keyUsage is Node's name for the extended key usages; undefined when the extension is absent (any use).
  const ekus = leaf.keyUsage;
  if (ekus && !ekus.includes(EKU_SERVER_AUTH)) {
    throw new AppError('TLS_CERT_PURPOSE', `the certificate's extended key usage (${ekus.join(', ')}) lacks serverAuth (${EKU_SERVER_AUTH})`);
  }
  if (leaf.ca) throw new AppError('TLS_CERT_PURPOSE', 'the certificate is a CA certificate (basicConstraints CA:TRUE), not a server certificate');
  // RFC 5246 §7.4.2 / RFC 8446 §4.4.2: each certificate is certified by the one that follows it.
  chain.forEach((issuer, i) => {
    const child = i === 0 ? leaf : chain[i - 1]!;
    const whose = `chain certificate ${i + 1} (${oneLine(issuer.subject)})`;
    if (!issuer.ca) throw new AppError('TLS_CHAIN_INVALID', `${whose} is not a CA certificate`);
    if (!child.checkIssued(issuer) || !child.verify(issuer.publicKey)) {
      throw new AppError('TLS_CHAIN_INVALID', `${whose} did not issue ${oneLine(child.subject)} (names or signature do not match); list the chain issuer first`);
    }
    checkDates(issuer.raw, now, 'TLS_CHAIN_INVALID', whose);
    checkKeyStrength(issuer.publicKey, `the key of ${whose}`);
  });
  return {
    certDer: Buffer.from(leaf.raw), chain: chain.map((c) => Buffer.from(c.raw)), key,
    subject: oneLine(leaf.subject), issuer: oneLine(leaf.issuer), serialHex: readCertificate(leaf.raw).serialHex, notAfter,
  };
}
