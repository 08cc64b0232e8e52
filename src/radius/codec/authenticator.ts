// The two RADIUS integrity checks as pure functions of bytes: the MD5 Authenticator
// (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3) and the HMAC-MD5 Message-Authenticator
// (RFC 3579 §3.2). MD5 and HMAC-MD5 are in OpenSSL 3's default provider.
import { createHmac, hash } from 'node:crypto';

export type Secret = string | Buffer;

export const secretBytes = (secret: Secret): Buffer =>
  Buffer.isBuffer(secret) ? secret : Buffer.from(secret, 'utf8');

/**
 * MD5(packet || secret), where the packet's Authenticator field already holds what the
 * formula puts there: the Request Authenticator for a reply (RFC 2865 §3), sixteen zero
 * octets for Accounting-Request, CoA-Request and Disconnect-Request (RFC 2866 §3, RFC 5176 §2.3).
 */
export const md5Authenticator = (packet: Uint8Array, secret: Secret): Buffer =>
  md5(packet, secretBytes(secret));

/** HMAC-MD5 keyed by the secret over the packet, its Message-Authenticator value zeroed (RFC 3579 §3.2). */
export const hmacMd5 = (packet: Uint8Array, secret: Secret): Buffer =>
  createHmac('md5', secretBytes(secret)).update(packet).digest();

/** MD5 over a list of parts, for the hiding chains of RFC 2865 §5.2, RFC 2868 §3.5 and RFC 2548 §2.4.2. */
export const md5 = (...parts: Uint8Array[]): Buffer =>
  // One-shot hash() costs about half of createHash().update().digest() for the short inputs of RADIUS.
  hash('md5', parts.length === 1 ? parts[0]! : Buffer.concat(parts), 'buffer');
