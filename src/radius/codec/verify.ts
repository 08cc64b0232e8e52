// Checking received packets: Message-Authenticator (RFC 3579 §3.2, mandatory on
// Access-Request since BlastRADIUS), Response Authenticator (RFC 2865 §3) and the
// Request Authenticator of Accounting, CoA and Disconnect requests (RFC 2866 §3,
// RFC 5176 §2.3). Every comparison is constant-time.
import { timingSafeEqual } from 'node:crypto';
import {
  ATTRIBUTE_HEADER_LENGTH, AUTHENTICATOR_LENGTH, Attr, HEADER_LENGTH, MESSAGE_AUTHENTICATOR_LENGTH, isSignedRequestCode,
} from './constants.js';
import { hmacMd5, md5Authenticator, type Secret } from './authenticator.js';
import { decodePacket } from './packet.js';

export type MessageAuthenticatorStatus = 'valid' | 'missing' | 'invalid';

/** The packet up to its Length field, as a private copy (RFC 2865 §3: the rest is padding). Throws RadiusDecodeError. */
function packetCopy(bytes: Uint8Array): Buffer {
  decodePacket(bytes);
  return copyToLength(bytes);
}

const copyToLength = (bytes: Uint8Array): Buffer =>
  Buffer.from(bytes.subarray(0, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt16BE(2)));

/** Offsets of the top-level Message-Authenticator attributes of a well-formed packet. */
function messageAuthenticatorOffsets(packet: Buffer): number[] {
  const out: number[] = [];
  for (let at = HEADER_LENGTH; at < packet.length; at += packet[at + 1]!) {
    if (packet[at] === Attr.MessageAuthenticator) out.push(at);
  }
  return out;
}

function checkMessageAuthenticator(packet: Buffer, secret: Secret, authenticatorField: Buffer | undefined): MessageAuthenticatorStatus {
  const offsets = messageAuthenticatorOffsets(packet);
  if (offsets.length === 0) return 'missing';
  // RFC 3579 §3.2 allows one; two cannot both be right.
  if (offsets.length > 1) return 'invalid';
  const valueAt = offsets[0]! + ATTRIBUTE_HEADER_LENGTH;
  if (packet[offsets[0]! + 1] !== ATTRIBUTE_HEADER_LENGTH + MESSAGE_AUTHENTICATOR_LENGTH) return 'invalid';
  const received = Buffer.from(packet.subarray(valueAt, valueAt + MESSAGE_AUTHENTICATOR_LENGTH));
  packet.fill(0, valueAt, valueAt + MESSAGE_AUTHENTICATOR_LENGTH);
  if (authenticatorField) authenticatorField.copy(packet, 4);
  return timingSafeEqual(hmacMd5(packet, secret), received) ? 'valid' : 'invalid';
}

/**
 * The Message-Authenticator of a request: Access-Request and Status-Server over the packet
 * as sent; Accounting-Request, CoA-Request and Disconnect-Request with the Authenticator
 * field zeroed (RFC 5176 §3.3). Throws RadiusDecodeError for a malformed packet.
 */
export function verifyRequestMessageAuthenticator(bytes: Uint8Array, secret: Secret): MessageAuthenticatorStatus {
  decodePacket(bytes);
  return verifyDecodedRequestMessageAuthenticator(bytes, secret);
}

/**
 * The same for bytes decodePacket has already accepted (the server's path: one decode per
 * datagram, not two). The bytes are not changed.
 */
export function verifyDecodedRequestMessageAuthenticator(bytes: Uint8Array, secret: Secret): MessageAuthenticatorStatus {
  const packet = copyToLength(bytes);
  const zeroed = isSignedRequestCode(packet[0]!) ? Buffer.alloc(AUTHENTICATOR_LENGTH) : undefined;
  return checkMessageAuthenticator(packet, secret, zeroed);
}

/** The Message-Authenticator of a reply, computed with the Request Authenticator in place (RFC 3579 §3.2). */
export function verifyResponseMessageAuthenticator(
  reply: Uint8Array, requestAuthenticator: Buffer, secret: Secret,
): MessageAuthenticatorStatus {
  if (requestAuthenticator.length !== AUTHENTICATOR_LENGTH) return 'invalid';
  return checkMessageAuthenticator(packetCopy(reply), secret, requestAuthenticator);
}

/** RFC 2865 §3: Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret). */
export function verifyResponseAuthenticator(reply: Uint8Array, requestAuthenticator: Buffer, secret: Secret): boolean {
  if (requestAuthenticator.length !== AUTHENTICATOR_LENGTH) return false;
  const packet = packetCopy(reply);
  const received = Buffer.from(packet.subarray(4, HEADER_LENGTH));
  requestAuthenticator.copy(packet, 4);
  return timingSafeEqual(md5Authenticator(packet, secret), received);
}

/**
 * RFC 2866 §3 (and RFC 5176 §2.3 for CoA and Disconnect requests): the Request
 * Authenticator is MD5 over the packet with sixteen zero octets in its place.
 * False for any other code.
 */
export function verifyAccountingRequest(bytes: Uint8Array, secret: Secret): boolean {
  const packet = packetCopy(bytes);
  if (!isSignedRequestCode(packet[0]!)) return false;
  const received = Buffer.from(packet.subarray(4, HEADER_LENGTH));
  packet.fill(0, 4, HEADER_LENGTH);
  return timingSafeEqual(md5Authenticator(packet, secret), received);
}
