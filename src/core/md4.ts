// MD4 (RFC 1320), only for the NT hash that MS-CHAPv2 needs (RFC 2759 §8.3). OpenSSL 3
// refuses MD4 without the legacy provider; DESIGN.md asks for a small audited
// implementation instead. MD4 is broken as a hash: never use it for anything else.

const BLOCK_BYTES = 64;
/** RFC 1320 §3.4: the constants added in rounds 2 and 3. */
const ROUND2_K = 0x5a827999;
const ROUND3_K = 0x6ed9eba1;
/** RFC 1320 §3.3: the initial state A, B, C, D. */
const INITIAL_STATE = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476] as const;

/** Word order and shifts of each round (RFC 1320 §3.4). */
const ROUND1_ORDER = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const ROUND2_ORDER = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
const ROUND3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
const ROUND1_SHIFTS = [3, 7, 11, 19];
const ROUND2_SHIFTS = [3, 5, 9, 13];
const ROUND3_SHIFTS = [3, 9, 11, 15];

const rotl = (x: number, s: number): number => (x << s) | (x >>> (32 - s));
const f = (x: number, y: number, z: number): number => (x & y) | (~x & z);
const g = (x: number, y: number, z: number): number => (x & y) | (x & z) | (y & z);
const h = (x: number, y: number, z: number): number => x ^ y ^ z;

/** RFC 1320 §3.1-3.2: append 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian. */
function pad(message: Uint8Array): Buffer {
  const total = Math.ceil((message.length + 9) / BLOCK_BYTES) * BLOCK_BYTES;
  const padded = Buffer.alloc(total);
  padded.set(message, 0);
  padded[message.length] = 0x80;
  const bits = message.length * 8;
  padded.writeUInt32LE(bits >>> 0, total - 8);
  padded.writeUInt32LE(Math.floor(bits / 0x1_0000_0000) >>> 0, total - 4);
  return padded;
}

/** The 16-byte MD4 digest of `message`. */
export function md4(message: Uint8Array): Buffer {
  const padded = pad(message);
  const state: number[] = [...INITIAL_STATE];
  const x = new Array<number>(16);
  for (let offset = 0; offset < padded.length; offset += BLOCK_BYTES) {
    for (let i = 0; i < 16; i++) x[i] = padded.readUInt32LE(offset + 4 * i);
    // v holds A, B, C, D; each step updates the word at position (-step mod 4).
    const v = [...state];
    const rounds: [number[], number[], (a: number, b: number, c: number) => number, number][] = [
      [ROUND1_ORDER, ROUND1_SHIFTS, f, 0],
      [ROUND2_ORDER, ROUND2_SHIFTS, g, ROUND2_K],
      [ROUND3_ORDER, ROUND3_SHIFTS, h, ROUND3_K],
    ];
    for (const [order, shifts, fn, k] of rounds) {
      for (let step = 0; step < 16; step++) {
        const a = (4 - (step % 4)) % 4;
        const b = (a + 1) % 4, c = (a + 2) % 4, d = (a + 3) % 4;
        v[a] = rotl((v[a]! + fn(v[b]!, v[c]!, v[d]!) + x[order[step]!]! + k) | 0, shifts[step % 4]!);
      }
    }
    for (let i = 0; i < 4; i++) state[i] = (state[i]! + v[i]!) | 0;
  }
  const digest = Buffer.alloc(16);
  state.forEach((word, i) => digest.writeUInt32LE(word >>> 0, 4 * i));
  return digest;
}

/** RFC 2759 §8.3 NtPasswordHash: MD4 of the password in UTF-16LE (Unicode, no terminator). */
export function ntHash(password: string): Buffer {
  return md4(Buffer.from(password, 'utf16le'));
}
