// decodePacket under 120,000 random and mutated datagrams from a seeded PRNG: it returns or
// throws RadiusDecodeError, nothing else; what it accepts can be checked for a
// Message-Authenticator without any other error.
import { describe, expect, it } from 'vitest';
import {
  Attr, Code, RadiusDecodeError, decodePacket, encodePacket, hideUserPassword, joinAttribute, makeAttribute,
  unhideSalted, unhideUserPassword, verifyRequestMessageAuthenticator, verifyResponseAuthenticator,
  verifyResponseMessageAuthenticator, type RadiusAttribute, type RadiusDecodeReason,
} from '../../src/radius/codec/index.js';

/** mulberry32: small, seeded, good enough to spread inputs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RA = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const SEEDS: Buffer[] = [
  encodePacket({
    code: Code.AccessRequest, identifier: 1, authenticator: RA, secret: 's',
    attributes: [
      makeAttribute('User-Name', 'alice'), { type: 2, value: hideUserPassword('pw', 's', RA) },
      makeAttribute('NAS-IP-Address', '10.0.0.1'), makeAttribute('Tunnel-Type', 'VLAN', 1),
      makeAttribute('Tunnel-Private-Group-Id', '10', 1), makeAttribute('MS-CHAP-Challenge', Buffer.alloc(16, 3)),
      makeAttribute('MS-MPPE-Encryption-Policy', 1), { type: 79, value: Buffer.alloc(600, 0x5a) },
    ],
  }),
  encodePacket({
    code: Code.AccountingRequest, identifier: 2, secret: 's',
    attributes: [makeAttribute('Acct-Status-Type', 'Start'), makeAttribute('Event-Timestamp', 1_700_000_000), makeAttribute('NAS-IPv6-Address', '2001:db8::1')],
  }),
];

function mutate(rand: () => number, src: Buffer): Buffer {
  const b = Buffer.from(src);
  const r = rand();
  const n = 1 + Math.floor(rand() * 4);
  if (r < 0.4) {
    for (let i = 0; i < n; i++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
    return b;
  }
  if (r < 0.55) return b.subarray(0, Math.floor(rand() * b.length)); // truncate
  if (r < 0.7) {
    // rewrite the Length field, sometimes consistently with a truncation
    b.writeUInt16BE(Math.floor(rand() * 5000), 2);
    return b;
  }
  if (r < 0.85) {
    // point an attribute length somewhere else
    let at = 20;
    const hops = Math.floor(rand() * 6);
    for (let i = 0; i < hops && at + 1 < b.length && b[at + 1]! >= 2; i++) at += b[at + 1]!;
    if (at + 1 < b.length) b[at + 1] = Math.floor(rand() * 256);
    return b;
  }
  const extra = Buffer.from(Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256)));
  return Buffer.concat([b, extra]);
}

function randomPacket(rand: () => number): Buffer {
  const len = Math.floor(rand() * 300);
  const b = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
  if (len >= 20 && rand() < 0.7) {
    // plausible header: known code, Length about right, attributes random but often well-formed
    b[0] = [1, 2, 3, 4, 5, 11, 12, 40, 43][Math.floor(rand() * 9)]!;
    b.writeUInt16BE(rand() < 0.8 ? len : Math.floor(rand() * 4200), 2);
    let at = 20;
    while (at + 2 <= len && rand() < 0.95) {
      b[at] = rand() < 0.3 ? 26 : b[at]!;
      const alen = Math.min(len - at, 2 + Math.floor(rand() * 20));
      b[at + 1] = alen;
      if (b[at] === 26 && alen >= 8) {
        b.writeUInt32BE(rand() < 0.7 ? 311 : Math.floor(rand() * 0x1000000), at + 2);
        b[at + 7] = rand() < 0.8 ? alen - 6 : b[at + 7]!;
      }
      at += alen;
    }
  }
  return b;
}

describe('decodePacket fuzz (seeded)', () => {
  it('120,000 inputs: only RadiusDecodeError, and a mix of outcomes', () => {
    const rand = prng(0x2865);
    const outcomes = new Map<RadiusDecodeReason | 'ok', number>();
    const started = Date.now();
    for (let i = 0; i < 120_000; i++) {
      const input = i % 2 === 0 ? mutate(rand, SEEDS[i % 4 === 0 ? 0 : 1]!) : randomPacket(rand);
      let outcome: RadiusDecodeReason | 'ok';
      try {
        decodePacket(input);
        expect(['valid', 'invalid', 'missing']).toContain(verifyRequestMessageAuthenticator(input, 's'));
        outcome = 'ok';
      } catch (e) {
        if (!(e instanceof RadiusDecodeError)) {
          throw new Error(`input ${input.toString('hex')} threw ${String(e)}`);
        }
        outcome = e.reason;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    expect(Date.now() - started).toBeLessThan(10_000);
    for (const r of ['ok', 'TOO_SHORT', 'TOO_LONG', 'LENGTH_MISMATCH', 'UNKNOWN_CODE', 'BAD_ATTRIBUTE_LENGTH', 'BAD_VALUE_LENGTH', 'BAD_VSA'] as const) {
      expect(outcomes.get(r) ?? 0, r).toBeGreaterThan(100);
    }
  });
});

describe('unhiding fuzz (seeded)', () => {
  it('20,000 random hidden values: a result or RadiusDecodeError, nothing else', () => {
    const rand = prng(2548);
    for (let i = 0; i < 20_000; i++) {
      const v = Buffer.from(Array.from({ length: Math.floor(rand() * 140) }, () => Math.floor(rand() * 256)));
      for (const f of [unhideUserPassword, unhideSalted]) {
        try {
          f(v, 's', RA);
        } catch (e) {
          if (!(e instanceof RadiusDecodeError)) throw e;
          expect(e.reason).toBe('BAD_HIDDEN_VALUE');
        }
      }
    }
  });
});

describe('encode/decode round trip (seeded)', () => {
  it('1,000 random replies: values join back, both authenticators verify', () => {
    const rand = prng(3579);
    const types = [Attr.EapMessage, Attr.ReplyMessage, Attr.Class, Attr.State, Attr.FilterId, Attr.ProxyState];
    for (let i = 0; i < 1_000; i++) {
      const wanted = new Map<number, Buffer>();
      const attributes: RadiusAttribute[] = [];
      for (const t of types) {
        if (rand() < 0.5) continue;
        // Values start above 0x1F so that none could be mistaken for something else; lengths cross 253 often.
        const v = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 600) }, () => 0x20 + Math.floor(rand() * 0xdf)));
        wanted.set(t, v);
        attributes.push({ type: t, value: v });
      }
      const ra = Buffer.from(Array.from({ length: 16 }, () => Math.floor(rand() * 256)));
      const id = Math.floor(rand() * 256);
      let bytes: Buffer;
      try {
        bytes = encodePacket({ code: Code.AccessChallenge, identifier: id, requestAuthenticator: ra, secret: 'k', attributes });
      } catch (e) {
        expect(String(e)).toMatch(/PACKET_TOO_LONG/);
        continue;
      }
      const p = decodePacket(bytes);
      expect(p.identifier).toBe(id);
      expect(p.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
      for (const [t, v] of wanted) expect(joinAttribute(p.attributes, t)).toEqual(v);
      expect(verifyResponseAuthenticator(bytes, ra, 'k')).toBe(true);
      expect(verifyResponseMessageAuthenticator(bytes, ra, 'k')).toBe('valid');
    }
  });
});
