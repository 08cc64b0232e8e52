// Certificate serial numbers: 128 random bits (CA/B Forum asks for at least 64), kept
// as canonical lowercase hex without leading zeros, the form `openssl x509 -serial`
// prints once case and leading zeros are ignored.
import { randomBytes } from 'node:crypto';
import { AppError } from '../core/errors.js';

export function randomSerial(): Buffer {
  const bytes = randomBytes(16);
  // Keep the INTEGER positive and 16 octets long: clear the sign bit, never all-zero top byte.
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes;
}

/** Accepts "0A:1B:...", "0a1b...", "0x0a1b" and returns canonical hex. */
export function normalizeSerial(input: string): string {
  const hex = input.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 40) {
    throw new AppError('BAD_INPUT', `not a hexadecimal serial number: "${input}"`);
  }
  return hex.replace(/^0+(?=.)/, '');
}

export function serialHexOf(bytes: Uint8Array): string {
  return normalizeSerial(Buffer.from(bytes).toString('hex') || '0');
}

/** Colon-separated uppercase pairs, as operators read serials in other tools. */
export function displaySerial(hex: string): string {
  const even = hex.length % 2 ? '0' + hex : hex;
  return even.toUpperCase().match(/../g)!.join(':');
}
