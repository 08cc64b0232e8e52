// PKCS#10 (RFC 2986) requests: parsed strictly, signature verified, key checked,
// before anything is signed. Each refusal names its reason.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { DerError, decodeOid, readChildren, readElement, Tag } from './der.js';
import { SigOid } from './keys.js';
import { NameOid } from './x509.js';

const HASH_OF_SIG: Readonly<Record<string, { hash: string; ec: boolean }>> = {
  [SigOid.ECDSA_SHA256]: { hash: 'sha256', ec: true },
  [SigOid.ECDSA_SHA384]: { hash: 'sha384', ec: true },
  [SigOid.ECDSA_SHA512]: { hash: 'sha512', ec: true },
  [SigOid.RSA_SHA256]: { hash: 'sha256', ec: false },
  [SigOid.RSA_SHA384]: { hash: 'sha384', ec: false },
  [SigOid.RSA_SHA512]: { hash: 'sha512', ec: false },
};

export const CSR_MAX_BYTES = 64 * 1024;

export interface VerifiedCsr {
  spki: Buffer;
  publicKey: KeyObject;
  /** The CN the requester asked for, if any; the issuer decides what goes in. */
  commonName?: string;
}

export function checkSubjectKey(key: KeyObject): void {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') {
    if (details?.namedCurve === 'prime256v1' || details?.namedCurve === 'secp384r1') return;
    throw new AppError('CSR_KEY_UNSUPPORTED', `EC curve ${details?.namedCurve} is not accepted (use P-256 or P-384)`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    if ((details?.modulusLength ?? 0) >= 2048) return;
    throw new AppError('CSR_KEY_UNSUPPORTED', `RSA key of ${details?.modulusLength} bits is too short (2048 at least)`);
  }
  throw new AppError('CSR_KEY_UNSUPPORTED', `key algorithm ${key.asymmetricKeyType} is not accepted`);
}

const STRING_DECODERS: Readonly<Record<number, (b: Buffer) => string>> = {
  [Tag.UTF8_STRING]: (b) => b.toString('utf8'),
  0x13: (b) => b.toString('latin1'), // PrintableString
  0x14: (b) => b.toString('latin1'), // TeletexString, read as Latin-1 as most software does
  0x16: (b) => b.toString('latin1'), // IA5String
  0x1e: (b) => Buffer.from(b).swap16().toString('utf16le'), // BMPString (UTF-16BE)
};

/**
 * CertificationRequestInfo (RFC 2986 §4.1), walked rather than parsed into objects: the
 * key and the CN are all issuance takes from it, and this runs once per certificate.
 */
function readRequestInfo(cri: Buffer): { spki: Buffer; commonName?: string } {
  try {
    const info = readElement(cri);
    if (info.tag !== Tag.SEQUENCE) throw new DerError('CertificationRequestInfo is not a SEQUENCE');
    const [version, subject, spki, attributes, extra] = readChildren(cri, info);
    if (!version || version.tag !== Tag.INTEGER || version.end - version.valueStart !== 1 || cri[version.valueStart] !== 0) {
      throw new DerError('version is not v1 (0)');
    }
    if (!subject || subject.tag !== Tag.SEQUENCE) throw new DerError('subject is not a Name');
    if (!spki || spki.tag !== Tag.SEQUENCE) throw new DerError('no SubjectPublicKeyInfo');
    if (attributes && attributes.tag !== 0xa0) throw new DerError('attributes are not [0]');
    if (attributes) readChildren(cri, attributes);
    if (extra) throw new DerError('unexpected element after the attributes');
    let commonName: string | undefined;
    for (const rdn of readChildren(cri, subject)) {
      if (rdn.tag !== Tag.SET) throw new DerError('subject RDN is not a SET');
      for (const atv of readChildren(cri, rdn)) {
        const [type, value] = readChildren(cri, atv);
        if (atv.tag !== Tag.SEQUENCE || !type || type.tag !== Tag.OID || !value) throw new DerError('bad subject attribute');
        if (decodeOid(cri.subarray(type.valueStart, type.end)) !== NameOid.CN) continue;
        const decode = STRING_DECODERS[value.tag];
        if (!decode) throw new DerError('the CN is not a string');
        commonName = decode(cri.subarray(value.valueStart, value.end));
      }
    }
    return { spki: Buffer.from(cri.subarray(spki.start, spki.end)), ...(commonName !== undefined ? { commonName } : {}) };
  } catch (e) {
    throw new AppError('CSR_INVALID', `not a PKCS#10 request: ${(e as Error).message}`);
  }
}

export function verifyCsr(der: Buffer): VerifiedCsr {
  if (der.length > CSR_MAX_BYTES) throw new AppError('CSR_INVALID', `the CSR is larger than ${CSR_MAX_BYTES} bytes`);
  let cri: Buffer, sigOid: string, signature: Buffer;
  try {
    const outer = readElement(der);
    if (outer.tag !== Tag.SEQUENCE || outer.end !== der.length) throw new DerError('not a single SEQUENCE');
    const [criEl, algEl, sigEl, extra] = readChildren(der, outer);
    if (!criEl || !algEl || !sigEl || sigEl.tag !== Tag.BIT_STRING || algEl.tag !== Tag.SEQUENCE) throw new DerError('missing parts');
    if (extra) throw new DerError('unexpected element after the signature');
    // Outside what was signed, so held to DER: no unused bits, parameters absent or NULL (RFC 4055 §5, RFC 5758 §3.2).
    if (sigEl.end === sigEl.valueStart || der[sigEl.valueStart] !== 0) throw new DerError('signature BIT STRING with unused bits');
    cri = der.subarray(criEl.start, criEl.end);
    const [oidEl, params, more] = readChildren(der, algEl);
    if (!oidEl || oidEl.tag !== Tag.OID) throw new DerError('bad signature algorithm');
    sigOid = decodeOid(der.subarray(oidEl.valueStart, oidEl.end));
    // Algorithms we do not accept (RSASSA-PSS has parameters) are refused by name below.
    if (HASH_OF_SIG[sigOid] && (more || (params && (params.tag !== Tag.NULL || params.end !== params.valueStart)))) {
      throw new DerError('bad signature algorithm parameters');
    }
    signature = der.subarray(sigEl.valueStart + 1, sigEl.end);
  } catch (e) {
    throw new AppError('CSR_INVALID', `not a PKCS#10 request: ${(e as Error).message}`);
  }
  // The key goes into the certificate as the requester encoded it, once OpenSSL has read it.
  const { spki: requestedSpki, commonName } = readRequestInfo(cri);
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: requestedSpki, format: 'der', type: 'spki' });
  } catch (e) {
    throw new AppError('CSR_KEY_UNSUPPORTED', `the CSR's public key cannot be read: ${(e as Error).message}`);
  }
  checkSubjectKey(publicKey);
  const scheme = HASH_OF_SIG[sigOid];
  if (!scheme) throw new AppError('CSR_SIGNATURE_INVALID', `signature algorithm ${sigOid} is not accepted`);
  if (scheme.ec !== (publicKey.asymmetricKeyType === 'ec')) {
    throw new AppError('CSR_SIGNATURE_INVALID', 'signature algorithm does not match the key');
  }
  const ok = verify(scheme.hash, cri, scheme.ec ? { key: publicKey, dsaEncoding: 'der' } : publicKey, signature);
  if (!ok) throw new AppError('CSR_SIGNATURE_INVALID', 'the CSR signature does not verify: it was altered or not signed by its key');
  return { spki: requestedSpki, publicKey, ...(commonName !== undefined ? { commonName } : {}) };
}
