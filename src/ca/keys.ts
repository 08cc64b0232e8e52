// Key generation and signing with node:crypto. The CA core takes a Signer, never a
// key file path (as smallstep/certificates does), so a key could later live in an HSM.
import { createHash, createPublicKey, generateKeyPairSync, sign as cryptoSign, KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { derNull, oid, seq, readElement, readChildren } from './der.js';

export const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'] as const;
export type KeyType = (typeof KEY_TYPES)[number];
export const DEFAULT_KEY_TYPE: KeyType = 'ec-p256';

export function parseKeyType(value: string): KeyType {
  if ((KEY_TYPES as readonly string[]).includes(value)) return value as KeyType;
  throw new AppError('KEY_TYPE_UNSUPPORTED', `unsupported key type "${value}" (use ${KEY_TYPES.join(', ')})`);
}

export const SigOid = {
  ECDSA_SHA256: '1.2.840.10045.4.3.2',
  ECDSA_SHA384: '1.2.840.10045.4.3.3',
  ECDSA_SHA512: '1.2.840.10045.4.3.4',
  RSA_SHA256: '1.2.840.113549.1.1.11',
  RSA_SHA384: '1.2.840.113549.1.1.12',
  RSA_SHA512: '1.2.840.113549.1.1.13',
} as const;

export function generateKey(type: KeyType): KeyObject {
  switch (type) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    case 'rsa-3072':
      return generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey;
  }
}

export interface Signer {
  /** The signer's public key, for SKI/AKI and for verifying what it signed. */
  readonly publicKey: KeyObject;
  /** AlgorithmIdentifier DER of the signatures it makes. */
  readonly algorithmDer: Buffer;
  readonly algorithmOid: string;
  sign(data: Uint8Array): Buffer;
}

/** The digest that matches the key's strength (P-384 signs with SHA-384). */
function signatureScheme(key: KeyObject): { hash: string; oid: string; rsa: boolean } {
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return { hash: 'sha384', oid: SigOid.ECDSA_SHA384, rsa: false };
    if (curve === 'secp521r1') return { hash: 'sha512', oid: SigOid.ECDSA_SHA512, rsa: false };
    return { hash: 'sha256', oid: SigOid.ECDSA_SHA256, rsa: false };
  }
  if (key.asymmetricKeyType === 'rsa') return { hash: 'sha256', oid: SigOid.RSA_SHA256, rsa: true };
  throw new AppError('KEY_TYPE_UNSUPPORTED', `unsupported key algorithm ${key.asymmetricKeyType}`);
}

/** RFC 5758 §3.2: ECDSA AlgorithmIdentifiers omit parameters; RFC 4055: RSA ones carry NULL. */
export function algorithmIdentifierDer(algOid: string): Buffer {
  return algOid.startsWith('1.2.840.10045.') ? seq(oid(algOid)) : seq(oid(algOid), derNull());
}

export function keySigner(privateKey: KeyObject): Signer {
  const scheme = signatureScheme(privateKey);
  const algorithmDer = algorithmIdentifierDer(scheme.oid);
  return {
    publicKey: createPublicKey(privateKey),
    algorithmDer,
    algorithmOid: scheme.oid,
    sign: (data) => cryptoSign(scheme.hash, data, scheme.rsa ? privateKey : { key: privateKey, dsaEncoding: 'der' }),
  };
}

export function spkiDer(key: KeyObject): Buffer {
  return (key.type === 'private' ? createPublicKey(key) : key).export({ type: 'spki', format: 'der' });
}

/** The subjectPublicKey BIT STRING contents (without the unused-bits byte). */
export function subjectPublicKeyBits(spki: Uint8Array): Buffer {
  const outer = readElement(spki);
  const [, bits] = readChildren(spki, outer);
  if (!bits) throw new AppError('DER_INVALID', 'SubjectPublicKeyInfo has no key');
  return Buffer.from(spki.subarray(bits.valueStart + 1, bits.end));
}

/** RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey bits. */
export function keyIdentifier(spki: Uint8Array): Buffer {
  return createHash('sha1').update(subjectPublicKeyBits(spki)).digest();
}

export function describeKey(key: KeyObject): string {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return `EC ${d?.namedCurve ?? '?'}`;
  if (key.asymmetricKeyType === 'rsa') return `RSA ${d?.modulusLength ?? '?'}`;
  return String(key.asymmetricKeyType);
}
