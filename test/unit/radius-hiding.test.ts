// src/radius/codec/hiding.ts: User-Password (RFC 2865 §5.2), Tunnel-Password (RFC 2868 §3.5),
// MS-MPPE-Send/Recv-Key (RFC 2548 §2.4.2-3). Fixed-salt vectors come from a separate
// implementation of the RFC formula written here, so a wrong chain cannot pass.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  RadiusDecodeError, hideMsMppeKey, hideMsMppeKeys, hideTunnelPassword, hideUserPassword, unhideMsMppeKey,
  unhideTunnelPassword, unhideUserPassword, type RandomSource,
} from '../../src/radius/codec/index.js';

const SECRET = 's3cr3t-shared';
const RA = Buffer.from('f0e1d2c3b4a5968778695a4b3c2d1e0f', 'hex');
const md5 = (...p: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(p)).digest();
const fixed = (...octets: number[]): RandomSource => (n) => Buffer.from(octets.slice(0, n));
let counter = 0;
const counting: RandomSource = (n) => Buffer.from(Array.from({ length: n }, () => (counter++ * 37) & 0xff));

/**
 * RFC 2868 §3.5 / RFC 2548 §2.4.2 written out: P = len || data || zero pad to 16;
 * b(1) = MD5(S + R + A), c(1) = p(1) xor b(1); b(i) = MD5(S + c(i-1)); value = A || c(1) || ...
 */
function referenceSalted(data: Buffer, salt: Buffer, secret: string, ra: Buffer): Buffer {
  const plain = Buffer.concat([Buffer.of(data.length), data]);
  const padded = Buffer.alloc(Math.ceil(plain.length / 16) * 16);
  plain.copy(padded);
  const out: Buffer[] = [salt];
  let b = md5(Buffer.from(secret), ra, salt);
  for (let i = 0; i < padded.length; i += 16) {
    const c = Buffer.alloc(16);
    for (let j = 0; j < 16; j++) c[j] = padded[i + j]! ^ b[j]!;
    out.push(c);
    b = md5(Buffer.from(secret), c);
  }
  return Buffer.concat(out);
}

describe('User-Password (RFC 2865 §5.2)', () => {
  it('round-trips lengths 0..128 and pads to 16', () => {
    for (const n of [0, 1, 15, 16, 17, 31, 32, 100, 128]) {
      const pw = Buffer.alloc(n, 0x41 + (n % 26));
      const hidden = hideUserPassword(pw, SECRET, RA);
      expect(hidden.length).toBe(Math.max(16, Math.ceil(n / 16) * 16));
      expect(unhideUserPassword(hidden, SECRET, RA)).toEqual(pw);
    }
  });
  it('chains block 2 from ciphertext block 1', () => {
    const pw = Buffer.from('0123456789abcdefXYZ');
    const hidden = hideUserPassword(pw, SECRET, RA);
    const b2 = md5(Buffer.from(SECRET), hidden.subarray(0, 16));
    expect(hidden[16]! ^ b2[0]!).toBe('X'.charCodeAt(0));
    expect(hidden[19]! ^ b2[3]!).toBe(0);
  });
  it('refuses over 128 octets, and hidden values of a bad size', () => {
    expect(() => hideUserPassword(Buffer.alloc(129), SECRET, RA)).toThrow(/VALUE_TOO_LONG/);
    for (const n of [0, 15, 17, 144]) {
      expect(() => unhideUserPassword(Buffer.alloc(n), SECRET, RA)).toThrow(RadiusDecodeError);
    }
  });
});

describe('Tunnel-Password (RFC 2868 §3.5)', () => {
  it('matches the formula for a fixed salt, and sets the salt\'s high bit', () => {
    const got = hideTunnelPassword('tunnel-secret', SECRET, RA, fixed(0x12, 0x34));
    expect(got.subarray(0, 2).toString('hex')).toBe('9234');
    expect(got).toEqual(referenceSalted(Buffer.from('tunnel-secret'), Buffer.from([0x92, 0x34]), SECRET, RA));
    expect(unhideTunnelPassword(got, SECRET, RA).toString()).toBe('tunnel-secret');
  });
  it('round-trips 0..239 octets with random salts', () => {
    for (const n of [0, 1, 14, 15, 16, 31, 200, 239]) {
      const pw = Buffer.alloc(n, 7);
      const v = hideTunnelPassword(pw, SECRET, RA, counting);
      expect((v.length - 2) % 16).toBe(0);
      expect(unhideTunnelPassword(v, SECRET, RA)).toEqual(pw);
    }
    expect(() => hideTunnelPassword(Buffer.alloc(240), SECRET, RA, counting)).toThrow(/VALUE_TOO_LONG/);
  });
  it('refuses malformed hidden values with BAD_HIDDEN_VALUE', () => {
    const good = hideTunnelPassword('x', SECRET, RA, fixed(0x80, 1));
    const cases = [good.subarray(0, 17), Buffer.concat([good, Buffer.alloc(1)]), Buffer.concat([Buffer.of(0x00), good.subarray(1)])];
    for (const c of cases) {
      try {
        unhideTunnelPassword(c, SECRET, RA);
        expect.unreachable();
      } catch (e) {
        expect((e as RadiusDecodeError).reason).toBe('BAD_HIDDEN_VALUE');
      }
    }
    // A wrong secret garbles the length octet; only when it claims more than is there is that detectable.
    let detected = 0;
    for (let i = 0; i < 50; i++) {
      try { unhideTunnelPassword(good, `wrong${i}`, RA); } catch (e) { if (e instanceof RadiusDecodeError) detected++; else throw e; }
    }
    expect(detected).toBeGreaterThan(40);
  });
});

describe('MS-MPPE-Send-Key / MS-MPPE-Recv-Key (RFC 2548 §2.4.2, §2.4.3)', () => {
  const key32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  it('a 32-octet key: 2 salt + 48 octets (1 length + 32 key + 15 pad), matching the formula', () => {
    const v = hideMsMppeKey(key32, SECRET, RA, fixed(0x01, 0xff));
    expect(v.length).toBe(50);
    expect(v).toEqual(referenceSalted(key32, Buffer.from([0x81, 0xff]), SECRET, RA));
    expect(unhideMsMppeKey(v, SECRET, RA)).toEqual(key32);
  });
  it('a 16-octet MS-CHAPv2 key: 2 + 32', () => {
    const k = key32.subarray(0, 16);
    const v = hideMsMppeKey(k, SECRET, RA, counting);
    expect(v.length).toBe(34);
    expect(unhideMsMppeKey(v, SECRET, RA)).toEqual(k);
  });
  it('the pair never shares a salt, even from a source that repeats itself once', () => {
    let calls = 0;
    const stuttering: RandomSource = (n) => Buffer.alloc(n, calls++ < 2 ? 0x80 : 0x81);
    const { send, recv } = hideMsMppeKeys({ send: key32, recv: Buffer.alloc(32, 9) }, SECRET, RA, stuttering);
    expect(send.subarray(0, 2).equals(recv.subarray(0, 2))).toBe(false);
    expect(unhideMsMppeKey(send, SECRET, RA)).toEqual(key32);
    expect(unhideMsMppeKey(recv, SECRET, RA)).toEqual(Buffer.alloc(32, 9));
    expect(() => hideMsMppeKeys({ send: key32, recv: key32 }, SECRET, RA, fixed(0x80, 0))).toThrow(/salt/);
  });
});
