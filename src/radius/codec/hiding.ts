// Attribute hiding: User-Password (RFC 2865 §5.2), Tunnel-Password (RFC 2868 §3.5) and
// MS-MPPE-Send-Key / MS-MPPE-Recv-Key (RFC 2548 §2.4.2, §2.4.3), both ways. The salted
// scheme of the last two is the same chain; only the attribute differs.
import { AUTHENTICATOR_LENGTH } from './constants.js';
import { md5, secretBytes, type Secret } from './authenticator.js';
import { RadiusDecodeError, RadiusEncodeError } from './errors.js';

/** Random octets, injected so that hiding stays a pure function of its inputs. */
export type RandomSource = (size: number) => Buffer;

const BLOCK = 16;
/** RFC 2865 §5.2: "The Password field ... up to 128 octets". */
export const MAX_USER_PASSWORD_LENGTH = 128;
const SALT_LENGTH = 2;
/** Salt + length octet + data, in a value of at most 253 - 1 (tag) octets, padded to 16: 2 + 240, so 239 of data. */
export const MAX_SALTED_DATA_LENGTH = 239;

const toBytes = (v: string | Buffer): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'));
const xor = (a: Buffer, b: Buffer): Buffer => {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
};
const padTo16 = (b: Buffer): Buffer => {
  const len = Math.max(BLOCK, Math.ceil(b.length / BLOCK) * BLOCK);
  const out = Buffer.alloc(len);
  b.copy(out);
  return out;
};
const checkAuthenticator = (ra: Buffer): void => {
  if (ra.length !== AUTHENTICATOR_LENGTH) throw new RadiusEncodeError('BAD_AUTHENTICATOR', 'Request Authenticator must be 16 octets');
};

/** The MD5 chain of RFC 2865 §5.2: b1 = MD5(S + first), bi = MD5(S + c(i-1)). */
function chainEncrypt(plain: Buffer, secret: Buffer, first: Buffer): Buffer {
  const out = Buffer.alloc(plain.length);
  let prev = first;
  for (let i = 0; i < plain.length; i += BLOCK) {
    const c = xor(plain.subarray(i, i + BLOCK), md5(secret, prev));
    c.copy(out, i);
    prev = c;
  }
  return out;
}

function chainDecrypt(cipher: Buffer, secret: Buffer, first: Buffer): Buffer {
  const out = Buffer.allocUnsafe(cipher.length); // every octet is written below
  // One buffer for secret + previous block, reused for every block.
  const input = Buffer.allocUnsafe(secret.length + BLOCK);
  secret.copy(input, 0);
  let prev = first;
  for (let i = 0; i < cipher.length; i += BLOCK) {
    // The first link may be longer than a block (Request Authenticator + salt, RFC 2868 §3.5).
    let b: Buffer;
    if (prev.length === BLOCK) {
      prev.copy(input, secret.length);
      b = md5(input);
    } else b = md5(secret, prev);
    for (let j = 0; j < BLOCK; j++) out[i + j] = cipher[i + j]! ^ b[j]!;
    prev = cipher.subarray(i, i + BLOCK);
  }
  input.fill(0);
  return out;
}

/** RFC 2865 §5.2: pad with NULs to a multiple of 16, then chain from the Request Authenticator. */
export function hideUserPassword(password: string | Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  checkAuthenticator(requestAuthenticator);
  const p = toBytes(password);
  if (p.length > MAX_USER_PASSWORD_LENGTH) throw new RadiusEncodeError('VALUE_TOO_LONG', `User-Password of ${p.length} octets`);
  return chainEncrypt(padTo16(p), secretBytes(secret), requestAuthenticator);
}

/** The inverse of hideUserPassword; trailing NULs (the padding) are removed. */
export function unhideUserPassword(hidden: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  if (requestAuthenticator.length !== AUTHENTICATOR_LENGTH) throw new RadiusDecodeError('BAD_HIDDEN_VALUE', 'Request Authenticator must be 16 octets');
  if (hidden.length < BLOCK || hidden.length > MAX_USER_PASSWORD_LENGTH || hidden.length % BLOCK !== 0) {
    throw new RadiusDecodeError('BAD_HIDDEN_VALUE', `User-Password of ${hidden.length} octets`);
  }
  const plain = chainDecrypt(hidden, secretBytes(secret), requestAuthenticator);
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

/**
 * RFC 2868 §3.5 / RFC 2548 §2.4.2: Salt (two octets, high bit set) then the chain over
 * (length octet + data + zero padding), b1 = MD5(S + R + A) with R the Request
 * Authenticator and A the Salt.
 */
export function hideSalted(data: Buffer, secret: Secret, requestAuthenticator: Buffer, random: RandomSource): Buffer {
  checkAuthenticator(requestAuthenticator);
  if (data.length > MAX_SALTED_DATA_LENGTH) throw new RadiusEncodeError('VALUE_TOO_LONG', `${data.length} octets to hide`);
  const salt = Buffer.from(random(SALT_LENGTH).subarray(0, SALT_LENGTH));
  if (salt.length !== SALT_LENGTH) throw new RadiusEncodeError('BAD_VALUE', 'random source gave too few octets');
  salt[0] = salt[0]! | 0x80; // RFC 2868 §3.5: "The most significant bit (leftmost) of the Salt field MUST be set (1)."
  const plain = padTo16(Buffer.concat([Buffer.of(data.length), data]));
  return Buffer.concat([salt, chainEncrypt(plain, secretBytes(secret), Buffer.concat([requestAuthenticator, salt]))]);
}

/** The inverse of hideSalted: value is Salt + String (no tag). */
export function unhideSalted(value: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer {
  if (requestAuthenticator.length !== AUTHENTICATOR_LENGTH) throw new RadiusDecodeError('BAD_HIDDEN_VALUE', 'Request Authenticator must be 16 octets');
  const cipherLength = value.length - SALT_LENGTH;
  if (cipherLength < BLOCK || cipherLength % BLOCK !== 0) throw new RadiusDecodeError('BAD_HIDDEN_VALUE', `salted value of ${value.length} octets`);
  const salt = value.subarray(0, SALT_LENGTH);
  if ((salt[0]! & 0x80) === 0) throw new RadiusDecodeError('BAD_HIDDEN_VALUE', 'salt without its high bit');
  const plain = chainDecrypt(value.subarray(SALT_LENGTH), secretBytes(secret), Buffer.concat([requestAuthenticator, salt]));
  const length = plain[0]!;
  if (length > plain.length - 1) throw new RadiusDecodeError('BAD_HIDDEN_VALUE', `data length ${length} past the value`);
  return Buffer.from(plain.subarray(1, 1 + length));
}

/** Tunnel-Password (RFC 2868 §3.5): the attribute value after its tag octet. */
export const hideTunnelPassword = (password: string | Buffer, secret: Secret, requestAuthenticator: Buffer, random: RandomSource): Buffer =>
  hideSalted(toBytes(password), secret, requestAuthenticator, random);
export const unhideTunnelPassword = (value: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer =>
  unhideSalted(value, secret, requestAuthenticator);

/** MS-MPPE-Send-Key or MS-MPPE-Recv-Key (RFC 2548 §2.4.2, §2.4.3): the sub-attribute value. */
export const hideMsMppeKey = (key: Buffer, secret: Secret, requestAuthenticator: Buffer, random: RandomSource): Buffer =>
  hideSalted(key, secret, requestAuthenticator, random);
export const unhideMsMppeKey = (value: Buffer, secret: Secret, requestAuthenticator: Buffer): Buffer =>
  unhideSalted(value, secret, requestAuthenticator);

/**
 * Both MPPE keys of one reply. RFC 2548 §2.4.2: "the Salt field MUST be unique for each
 * ... attribute" sent with the same Request Authenticator, so a colliding salt is redrawn.
 */
export function hideMsMppeKeys(
  keys: { send: Buffer; recv: Buffer }, secret: Secret, requestAuthenticator: Buffer, random: RandomSource,
): { send: Buffer; recv: Buffer } {
  const send = hideMsMppeKey(keys.send, secret, requestAuthenticator, random);
  for (let attempt = 0; attempt < 16; attempt++) {
    const recv = hideMsMppeKey(keys.recv, secret, requestAuthenticator, random);
    if (!recv.subarray(0, SALT_LENGTH).equals(send.subarray(0, SALT_LENGTH))) return { send, recv };
  }
  throw new RadiusEncodeError('BAD_VALUE', 'random source keeps repeating the salt');
}
