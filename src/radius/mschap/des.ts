// Single DES (FIPS 46-3), encryption of one 8-octet block only: what MS-CHAPv2 needs for
// its challenge response (RFC 2759 §8.5 ChallengeResponse, §8.6 DesEncrypt). OpenSSL 3
// refuses single DES without the legacy provider; DESIGN.md asks for a small audited
// implementation instead. DES is broken as a cipher: never use it for anything else.
//
// The tables below are copied from FIPS 46-3 and keep its 1-based bit numbering, where
// bit 1 is the most significant bit of the first octet, so each can be read against the
// standard line by line. Bits are held one per array element: slow by cipher standards
// but easy to audit, and MS-CHAPv2 needs only three blocks per authentication.

export const DES_BLOCK_LENGTH = 8;
/** The 8-octet key DES takes: 56 key bits, each octet's least significant bit a parity bit. */
export const DES_KEY_LENGTH = 8;
/** The 7-octet (56-bit) key MS-CHAP gives DesEncrypt (RFC 2759 §8.6). */
export const DES_KEY56_LENGTH = 7;

/** FIPS 46-3 "Initial Permutation IP". */
const IP = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4,
  62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3,
  61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
] as const;

/** FIPS 46-3 "Inverse of the Initial Permutation IP-1". */
const FP = [
  40, 8, 48, 16, 56, 24, 64, 32, 39, 7, 47, 15, 55, 23, 63, 31,
  38, 6, 46, 14, 54, 22, 62, 30, 37, 5, 45, 13, 53, 21, 61, 29,
  36, 4, 44, 12, 52, 20, 60, 28, 35, 3, 43, 11, 51, 19, 59, 27,
  34, 2, 42, 10, 50, 18, 58, 26, 33, 1, 41, 9, 49, 17, 57, 25,
] as const;

/** FIPS 46-3 "E Bit-Selection Table": 32 bits of R to 48. */
const E = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9,
  8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17,
  16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
  24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
] as const;

/** FIPS 46-3 "Primitive function P". */
const P = [
  16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10,
  2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25,
] as const;

/** FIPS 46-3 "Permuted Choice 1" (PC-1): 64 key bits to C0 (first 28) and D0 (last 28). */
const PC1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18,
  10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36,
  63, 55, 47, 39, 31, 23, 15, 7, 62, 54, 46, 38, 30, 22,
  14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
] as const;

/** FIPS 46-3 "Permuted Choice 2" (PC-2): CnDn (56 bits) to the round key Kn (48 bits). */
const PC2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10,
  23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2,
  41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33, 48,
  44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
] as const;

/** FIPS 46-3 key schedule: left shifts of C and D before each of the 16 rounds. */
const KEY_SHIFTS = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1] as const;

/**
 * FIPS 46-3 "Selection functions" S1..S8, each 4 rows of 16. Row = bits 1 and 6 of the
 * 6-bit input, column = bits 2 to 5.
 */
const S_BOXES: readonly (readonly number[])[] = [
  [
    14, 4, 13, 1, 2, 15, 11, 8, 3, 10, 6, 12, 5, 9, 0, 7,
    0, 15, 7, 4, 14, 2, 13, 1, 10, 6, 12, 11, 9, 5, 3, 8,
    4, 1, 14, 8, 13, 6, 2, 11, 15, 12, 9, 7, 3, 10, 5, 0,
    15, 12, 8, 2, 4, 9, 1, 7, 5, 11, 3, 14, 10, 0, 6, 13,
  ],
  [
    15, 1, 8, 14, 6, 11, 3, 4, 9, 7, 2, 13, 12, 0, 5, 10,
    3, 13, 4, 7, 15, 2, 8, 14, 12, 0, 1, 10, 6, 9, 11, 5,
    0, 14, 7, 11, 10, 4, 13, 1, 5, 8, 12, 6, 9, 3, 2, 15,
    13, 8, 10, 1, 3, 15, 4, 2, 11, 6, 7, 12, 0, 5, 14, 9,
  ],
  [
    10, 0, 9, 14, 6, 3, 15, 5, 1, 13, 12, 7, 11, 4, 2, 8,
    13, 7, 0, 9, 3, 4, 6, 10, 2, 8, 5, 14, 12, 11, 15, 1,
    13, 6, 4, 9, 8, 15, 3, 0, 11, 1, 2, 12, 5, 10, 14, 7,
    1, 10, 13, 0, 6, 9, 8, 7, 4, 15, 14, 3, 11, 5, 2, 12,
  ],
  [
    7, 13, 14, 3, 0, 6, 9, 10, 1, 2, 8, 5, 11, 12, 4, 15,
    13, 8, 11, 5, 6, 15, 0, 3, 4, 7, 2, 12, 1, 10, 14, 9,
    10, 6, 9, 0, 12, 11, 7, 13, 15, 1, 3, 14, 5, 2, 8, 4,
    3, 15, 0, 6, 10, 1, 13, 8, 9, 4, 5, 11, 12, 7, 2, 14,
  ],
  [
    2, 12, 4, 1, 7, 10, 11, 6, 8, 5, 3, 15, 13, 0, 14, 9,
    14, 11, 2, 12, 4, 7, 13, 1, 5, 0, 15, 10, 3, 9, 8, 6,
    4, 2, 1, 11, 10, 13, 7, 8, 15, 9, 12, 5, 6, 3, 0, 14,
    11, 8, 12, 7, 1, 14, 2, 13, 6, 15, 0, 9, 10, 4, 5, 3,
  ],
  [
    12, 1, 10, 15, 9, 2, 6, 8, 0, 13, 3, 4, 14, 7, 5, 11,
    10, 15, 4, 2, 7, 12, 9, 5, 6, 1, 13, 14, 0, 11, 3, 8,
    9, 14, 15, 5, 2, 8, 12, 3, 7, 0, 4, 10, 1, 13, 11, 6,
    4, 3, 2, 12, 9, 5, 15, 10, 11, 14, 1, 7, 6, 0, 8, 13,
  ],
  [
    4, 11, 2, 14, 15, 0, 8, 13, 3, 12, 9, 7, 5, 10, 6, 1,
    13, 0, 11, 7, 4, 9, 1, 10, 14, 3, 5, 12, 2, 15, 8, 6,
    1, 4, 11, 13, 12, 3, 7, 14, 10, 15, 6, 8, 0, 5, 9, 2,
    6, 11, 13, 8, 1, 4, 10, 7, 9, 5, 0, 15, 14, 2, 3, 12,
  ],
  [
    13, 2, 8, 4, 6, 15, 11, 1, 10, 9, 3, 14, 5, 0, 12, 7,
    1, 15, 13, 8, 10, 3, 7, 4, 12, 5, 6, 11, 0, 14, 9, 2,
    7, 11, 4, 1, 9, 12, 14, 2, 0, 6, 10, 13, 15, 3, 5, 8,
    2, 1, 14, 7, 4, 10, 8, 13, 15, 12, 9, 0, 3, 5, 6, 11,
  ],
];

type Table = readonly number[];

/** Octets to bits, most significant first (FIPS 46-3 bit 1 is the top bit of octet 0). */
function toBits(bytes: Uint8Array): Uint8Array {
  const bits = new Uint8Array(bytes.length * 8);
  for (let i = 0; i < bits.length; i++) bits[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return bits;
}

function fromBits(bits: Uint8Array): Buffer {
  const out = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < bits.length; i++) out[i >> 3]! |= bits[i]! << (7 - (i & 7));
  return out;
}

/** Output bit i is input bit table[i] (1-based, as FIPS 46-3 prints them). */
function permute(input: Uint8Array, table: Table, out: Uint8Array = new Uint8Array(table.length)): Uint8Array {
  for (let i = 0; i < table.length; i++) out[i] = input[table[i]! - 1]!;
  return out;
}

/** Rotates bits [start, start + 28) of `cd` left by `n`, in place (one half of the key). */
function rotateHalfLeft(cd: Uint8Array, start: number, n: number): void {
  const half = cd.slice(start, start + 28);
  for (let i = 0; i < 28; i++) cd[start + i] = half[(i + n) % 28]!;
}

/** FIPS 46-3 "Key Schedule Calculation": the 16 round keys K1..K16 of 48 bits. */
function roundKeys(key: Uint8Array): Uint8Array[] {
  const cd = permute(toBits(key), PC1);
  return KEY_SHIFTS.map((shift) => {
    rotateHalfLeft(cd, 0, shift);
    rotateHalfLeft(cd, 28, shift);
    return permute(cd, PC2);
  });
}

/**
 * FIPS 46-3 "The Cipher Function f": f(R, K) = P(S(E(R) xor K)), written into `out`.
 * `scratch` holds S's 32-bit output, reused across rounds to spare allocations.
 */
function cipherFunction(r: Uint8Array, k: Uint8Array, scratch: Uint8Array, out: Uint8Array): void {
  for (let box = 0; box < 8; box++) {
    // The 6 bits of E(R) xor K that feed S-box `box`: bits 6*box+1 .. 6*box+6.
    let six = 0;
    for (let j = 0; j < 6; j++) six = (six << 1) | (r[E[6 * box + j]! - 1]! ^ k[6 * box + j]!);
    const row = ((six >> 4) & 2) | (six & 1);
    const column = (six >> 1) & 0xf;
    const value = S_BOXES[box]![16 * row + column]!;
    for (let j = 0; j < 4; j++) scratch[4 * box + j] = (value >> (3 - j)) & 1;
  }
  permute(scratch, P, out);
}

/**
 * FIPS 46-3 "Enciphering": one 8-octet block under an 8-octet key (parity bits ignored).
 * Pure: returns a new buffer.
 */
export function desEncryptBlock(key: Uint8Array, block: Uint8Array): Buffer {
  if (key.length !== DES_KEY_LENGTH) throw new RangeError(`DES key must be ${DES_KEY_LENGTH} octets, got ${key.length}`);
  if (block.length !== DES_BLOCK_LENGTH) throw new RangeError(`DES block must be ${DES_BLOCK_LENGTH} octets, got ${block.length}`);
  const lr = permute(toBits(block), IP);
  let l: Uint8Array = lr.slice(0, 32);
  let r: Uint8Array = lr.slice(32);
  let next: Uint8Array = new Uint8Array(32);
  const scratch = new Uint8Array(32);
  const f = new Uint8Array(32);
  for (const k of roundKeys(key)) {
    // Ln = Rn-1; Rn = Ln-1 xor f(Rn-1, Kn).
    cipherFunction(r, k, scratch, f);
    for (let i = 0; i < 32; i++) next[i] = l[i]! ^ f[i]!;
    [l, r, next] = [r, next, l];
  }
  // The last round's halves are not swapped: the preoutput block is R16 L16.
  const preoutput = new Uint8Array(64);
  preoutput.set(r, 0);
  preoutput.set(l, 32);
  return fromBits(permute(preoutput, FP));
}

/** The bit count of `n`, to set odd parity. */
function popcount(n: number): number {
  let count = 0;
  for (let v = n; v !== 0; v >>= 1) count += v & 1;
  return count;
}

/**
 * RFC 2759 §8.6 (and MS-CHAP v1, RFC 2433): a 7-octet key spread over 8 octets, 7 key
 * bits in the high bits of each, the low bit set for odd parity as FIPS 46-3 describes.
 */
export function expandDesKey(key56: Uint8Array): Buffer {
  if (key56.length !== DES_KEY56_LENGTH) throw new RangeError(`56-bit DES key must be ${DES_KEY56_LENGTH} octets, got ${key56.length}`);
  const bits = toBits(key56);
  const key = Buffer.alloc(DES_KEY_LENGTH);
  for (let i = 0; i < DES_KEY_LENGTH; i++) {
    let high7 = 0;
    for (let j = 0; j < 7; j++) high7 |= bits[7 * i + j]! << (7 - j);
    key[i] = high7 | (popcount(high7) % 2 === 0 ? 1 : 0);
  }
  return key;
}

/** RFC 2759 §8.6 DesEncrypt(Clear, Key): `clear` (8 octets) under a 7-octet key. */
export function desEncrypt(clear: Uint8Array, key56: Uint8Array): Buffer {
  return desEncryptBlock(expandDesKey(key56), clear);
}
