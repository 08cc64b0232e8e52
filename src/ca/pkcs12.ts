// PKCS#12 (RFC 7292) export of a key, its certificate and the issuing chain, for
// devices and operating systems that import credentials as a single .p12/.pfx file.
//
// Two profiles:
//  - modern (default), as OpenSSL 3 writes by default: PBES2 (PBKDF2-HMAC-SHA-256,
//    AES-256-CBC) for both the shrouded key bag and the encrypted certificate safe,
//    and an HMAC-SHA-256 MAC keyed with the RFC 7292 Appendix B KDF.
//  - legacy, for older consumers (Windows before Server 2019, older Java and Android,
//    some RADIUS supplicants): pbeWithSHAAnd3-KeyTripleDES-CBC everywhere and an
//    HMAC-SHA-1 MAC. 3DES rather than RC2-40 for the certificates because OpenSSL 3
//    without the legacy provider cannot decrypt RC2, while 3DES is in its default provider.
//
// The structures come from the @peculiar/asn1-* schemas; the algorithm parameters
// that have no schema (PBES2-params, pkcs-12PbeParams) are written with ./der.js.

import { createCipheriv, createHash, createHmac, createPrivateKey, pbkdf2Sync, randomBytes } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';
import { DigestInfo } from '@peculiar/asn1-rsa';
import {
  ContentEncryptionAlgorithmIdentifier,
  ContentInfo,
  EncryptedContent,
  EncryptedContentInfo,
  id_data,
  id_encryptedData,
} from '@peculiar/asn1-cms';
import { EncryptedData as EncryptedOctets } from '@peculiar/asn1-pkcs8';
import {
  AuthenticatedSafe,
  CertBag,
  MacData,
  PFX,
  PKCS12Attribute,
  PKCS8ShroudedKeyBag,
  SafeBag,
  SafeContents,
  id_certBag,
  id_pbeWithSHAAnd3_KeyTripleDES_CBC,
  id_pkcs8ShroudedKeyBag,
  id_x509Certificate,
} from '@peculiar/asn1-pfx';
import { derNull, octets, oid, seq, smallInteger, tlv } from './der.js';
import { AppError } from '../core/errors.js';

export interface Pkcs12Input {
  /** Unencrypted PKCS#8 PrivateKeyInfo DER (EC P-256/P-384 or RSA). */
  privateKeyPkcs8Der: Buffer;
  /** The end-entity certificate. */
  certificateDer: Buffer;
  /** CA certificates, issuing CA first, then root. */
  chainDer: Buffer[];
  password: string;
  /** 3DES + SHA-1 MAC instead of PBES2/AES-256 + SHA-256 MAC. Default false. */
  legacy?: boolean;
  /** friendlyName bag attribute on the key and the leaf certificate. */
  friendlyName?: string;
  /** Iteration count for key derivation and the MAC key. Default 2048, as OpenSSL 3. */
  iterations?: number;
}

/** OpenSSL 3's PKCS12_DEFAULT_ITER. */
export const DEFAULT_PKCS12_ITERATIONS = 2048;

const OID_PBES2 = '1.2.840.113549.1.5.13';
const OID_PBKDF2 = '1.2.840.113549.1.5.12';
const OID_HMAC_SHA256 = '1.2.840.113549.2.9';
const OID_AES256_CBC = '2.16.840.1.101.3.4.1.42';
const OID_SHA1 = '1.3.14.3.2.26';
const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
const OID_FRIENDLY_NAME = '1.2.840.113549.1.9.20';
const OID_LOCAL_KEY_ID = '1.2.840.113549.1.9.21';
const BMP_STRING = 0x1e;

/** A copy as a plain ArrayBuffer, which is what the schema classes hold. */
const ab = (bytes: Uint8Array): ArrayBuffer => Uint8Array.from(bytes).buffer;

/** UTF-16BE, as BMPString is carried (characters beyond the BMP become surrogate pairs, as OpenSSL does). */
function utf16be(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/**
 * RFC 7292 Appendix B.2: derive `n` bytes of key material (id 1), IV (id 2) or MAC
 * key (id 3) from a BMPString password with its two-byte NUL terminator (B.1).
 */
export function pkcs12Kdf(hash: 'sha1' | 'sha256', password: Buffer, salt: Buffer, id: 1 | 2 | 3, iterations: number, n: number): Buffer {
  const u = hash === 'sha1' ? 20 : 32; // output length
  const v = 64; // block size of both SHA-1 and SHA-256
  const fill = (src: Buffer): Buffer => {
    const len = v * Math.ceil(src.length / v);
    const out = Buffer.alloc(len);
    for (let i = 0; i < len; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(password)]); // S || P; an empty salt or password stays empty
  const blocks: Buffer[] = [];
  for (let done = 0; done < n; done += u) {
    let A = createHash(hash).update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash(hash).update(A).digest();
    blocks.push(A);
    // Step 6B/6C: I_j = (I_j + B + 1) mod 2^(8v) for each v-byte block, B = A repeated.
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(blocks).subarray(0, n);
}

/** One encryption under the chosen profile: the AlgorithmIdentifier and the ciphertext. */
interface Encrypted {
  algorithm: AlgorithmIdentifier;
  ciphertext: Buffer;
}

/** PKCS#5 v2.1 PBES2 with PBKDF2-HMAC-SHA-256 and AES-256-CBC (RFC 8018 §6.2, A.2, A.4). */
function encryptPbes2(plaintext: Buffer, password: string, iterations: number): Encrypted {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  // RFC 7292 Appendix B.1 leaves PBES2's password encoding to PKCS#5, which takes the
  // octets as they are; OpenSSL and every reader in practice use UTF-8.
  const key = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const params = seq(
    seq(oid(OID_PBKDF2), seq(octets(salt), smallInteger(iterations), seq(oid(OID_HMAC_SHA256), derNull()))),
    seq(oid(OID_AES256_CBC), octets(iv)),
  );
  return { algorithm: new AlgorithmIdentifier({ algorithm: OID_PBES2, parameters: ab(params) }), ciphertext };
}

/** RFC 7292 Appendix C: pbeWithSHAAnd3-KeyTripleDES-CBC, key and IV from the B.2 KDF. */
function encryptPkcs12TripleDes(plaintext: Buffer, bmpPassword: Buffer, iterations: number): Encrypted {
  const salt = randomBytes(8); // OpenSSL's PKCS5_SALT_LEN
  const key = pkcs12Kdf('sha1', bmpPassword, salt, 1, iterations, 24);
  const iv = pkcs12Kdf('sha1', bmpPassword, salt, 2, iterations, 8);
  const cipher = createCipheriv('des-ede3-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const params = seq(octets(salt), smallInteger(iterations)); // pkcs-12PbeParams
  return { algorithm: new AlgorithmIdentifier({ algorithm: id_pbeWithSHAAnd3_KeyTripleDES_CBC, parameters: ab(params) }), ciphertext };
}

function attribute(id: string, value: Buffer): PKCS12Attribute {
  // PKCS12Attribute's constructor drops its argument (Object.assign with one
  // argument), so the fields are set one by one.
  const attr = new PKCS12Attribute();
  attr.attrId = id;
  attr.attrValues = [ab(value)];
  return attr;
}

function validate(input: Pkcs12Input): number {
  if (typeof input.password !== 'string' || input.password.length === 0) {
    throw new AppError('BAD_INPUT', 'a PKCS#12 password must not be empty');
  }
  try {
    createPrivateKey({ key: input.privateKeyPkcs8Der, format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new AppError('BAD_INPUT', 'the private key is not an unencrypted PKCS#8 PrivateKeyInfo', { cause: e });
  }
  if (!input.certificateDer || input.certificateDer.length === 0) {
    throw new AppError('BAD_INPUT', 'a PKCS#12 file needs the end-entity certificate');
  }
  const iterations = input.iterations ?? DEFAULT_PKCS12_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) {
    throw new AppError('BAD_INPUT', `PKCS#12 iterations must be a positive integer, not ${iterations}`);
  }
  return iterations;
}

/** Builds a password-integrity, password-privacy PFX (RFC 7292 §4) as DER. */
export function buildPkcs12(input: Pkcs12Input): Buffer {
  const iterations = validate(input);
  const legacy = input.legacy ?? false;
  const bmpPassword = Buffer.concat([utf16be(input.password), Buffer.alloc(2)]); // B.1: NUL-terminated
  const encrypt = (plaintext: Buffer): Encrypted =>
    legacy ? encryptPkcs12TripleDes(plaintext, bmpPassword, iterations) : encryptPbes2(plaintext, input.password, iterations);

  // §4.2 bag attributes: the same localKeyId on key and leaf is how importers pair
  // them; SHA-1 of the certificate is what OpenSSL and Windows use.
  const leafAttributes = [attribute(OID_LOCAL_KEY_ID, octets(createHash('sha1').update(input.certificateDer).digest()))];
  if (input.friendlyName !== undefined) {
    leafAttributes.unshift(attribute(OID_FRIENDLY_NAME, tlv(BMP_STRING, utf16be(input.friendlyName))));
  }

  // §4.2.3 certBag: leaf first (with the attributes), then the chain as given.
  const certBags = [input.certificateDer, ...input.chainDer].map((der, i) => {
    const certBag = new CertBag({ certId: id_x509Certificate, certValue: ab(octets(der)) });
    const bag = new SafeBag({ bagId: id_certBag, bagValue: AsnConvert.serialize(certBag) });
    if (i === 0) bag.bagAttributes = leafAttributes;
    return bag;
  });
  const certSafe = Buffer.from(AsnConvert.serialize(new SafeContents(certBags)));

  // §4.1: the certificates go in an EncryptedData ContentInfo. asn1-cms has no
  // EncryptedData class, so its outer SEQUENCE { version 0, EncryptedContentInfo }
  // (RFC 5652 §8) is written here around the schema-built EncryptedContentInfo.
  const certEnc = encrypt(certSafe);
  const eci = new EncryptedContentInfo({
    contentType: id_data,
    contentEncryptionAlgorithm: new ContentEncryptionAlgorithmIdentifier(certEnc.algorithm),
    encryptedContent: new EncryptedContent({ value: new OctetString(ab(certEnc.ciphertext)) }),
  });
  const encryptedData = seq(smallInteger(0), Buffer.from(AsnConvert.serialize(eci)));
  const certInfo = new ContentInfo({ contentType: id_encryptedData, content: ab(encryptedData) });

  // §4.2.2 pkcs8ShroudedKeyBag, in a plain Data ContentInfo (it is encrypted already).
  const keyEnc = encrypt(input.privateKeyPkcs8Der);
  const shrouded = new PKCS8ShroudedKeyBag({
    encryptionAlgorithm: keyEnc.algorithm,
    encryptedData: new EncryptedOctets(ab(keyEnc.ciphertext)),
  });
  const keyBag = new SafeBag({ bagId: id_pkcs8ShroudedKeyBag, bagValue: AsnConvert.serialize(shrouded) });
  keyBag.bagAttributes = leafAttributes;
  const keySafe = Buffer.from(AsnConvert.serialize(new SafeContents([keyBag])));
  const keyInfo = new ContentInfo({ contentType: id_data, content: ab(octets(keySafe)) });

  const authSafe = Buffer.from(AsnConvert.serialize(new AuthenticatedSafe([certInfo, keyInfo])));

  // §5.1 / Appendix B.4: HMAC over the authSafe Data content octets, keyed with the
  // B.2 KDF (ID 3) using the MAC's own hash — also under PBES2, as OpenSSL 3 does.
  const macHash = legacy ? 'sha1' : 'sha256';
  const macSalt = randomBytes(legacy ? 8 : 16);
  const macKey = pkcs12Kdf(macHash, bmpPassword, macSalt, 3, iterations, legacy ? 20 : 32);
  const mac = createHmac(macHash, macKey).update(authSafe).digest();

  const pfx = new PFX({
    version: 3,
    authSafe: new ContentInfo({ contentType: id_data, content: ab(octets(authSafe)) }),
    macData: new MacData({
      mac: new DigestInfo({
        digestAlgorithm: new AlgorithmIdentifier({ algorithm: legacy ? OID_SHA1 : OID_SHA256, parameters: null }),
        digest: new OctetString(ab(mac)),
      }),
      macSalt: new OctetString(ab(macSalt)),
      iterations,
    }),
  });
  return Buffer.from(AsnConvert.serialize(pfx));
}
