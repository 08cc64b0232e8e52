// src/ca/der.ts: the hand-written DER writer and strict reader (X.690 §8, §10).
// Golden bytes are written out in full so that a change in encoding shows as a diff.
import { describe, expect, it } from 'vitest';
import {
  DerError, Tag, bitString, decodeOid, enumerated, generalizedTime, lengthBytes, oid, readChildren, readElement,
  seq, smallInteger, tlv, unsignedInteger, x509Time,
} from '../../src/ca/der.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('lengthBytes / tlv at the short/long form boundaries (X.690 §8.1.3, §10.1)', () => {
  const cases: [number, string][] = [
    [0, '00'],
    [1, '01'],
    [127, '7f'], // last short form
    [128, '8180'], // first long form, one length octet
    [255, '81ff'],
    [256, '820100'], // first two-octet length
    [65535, '82ffff'],
    [65536, '83010000'], // first three-octet length
    [16_777_216, '8401000000'],
  ];
  for (const [len, expected] of cases) {
    it(`length ${len} → ${expected}`, () => {
      expect(hex(lengthBytes(len))).toBe(expected);
    });
  }

  for (const [len, expected] of cases.filter(([l]) => l <= 65536)) {
    it(`tlv of ${len} value bytes has header 04 ${expected} and reads back`, () => {
      const value = Buffer.alloc(len, 0xab);
      const el = tlv(Tag.OCTET_STRING, value);
      expect(hex(el.subarray(0, 1 + expected.length / 2))).toBe('04' + expected);
      expect(el.length).toBe(1 + expected.length / 2 + len);
      const read = readElement(el);
      expect(read).toEqual({ tag: Tag.OCTET_STRING, start: 0, valueStart: 1 + expected.length / 2, end: el.length });
    });
  }

  it('tlv concatenates several parts as one value', () => {
    expect(hex(seq(h('0101ff'), h('0500')))).toBe('30050101ff0500');
    expect(hex(tlv(Tag.SEQUENCE))).toBe('3000');
  });
});

describe('unsignedInteger (X.690 §8.3: minimal two\'s complement)', () => {
  const cases: [string, string, string][] = [
    ['zero from an empty magnitude', '', '020100'],
    ['zero from one zero byte', '00', '020100'],
    ['zero from many zero bytes', '000000', '020100'],
    ['leading zeros trimmed', '000001', '020101'],
    ['0x7f needs no sign byte', '7f', '02017f'],
    ['0x80 gets a 00 sign byte', '80', '02020080'],
    ['0xff gets a 00 sign byte', 'ff', '020200ff'],
    ['a kept 00 sign byte is not doubled', '0080', '02020080'],
    ['leading zeros trimmed down to the sign byte', '00000080', '02020080'],
    ['multi-byte, high bit clear', '0102', '02020102'],
    ['16-byte serial with high bit set', '80' + '00'.repeat(15), '0211' + '00' + '80' + '00'.repeat(15)],
  ];
  for (const [name, input, expected] of cases) {
    it(`${name}: ${input || '(empty)'} → ${expected}`, () => {
      expect(hex(unsignedInteger(h(input)))).toBe(expected);
    });
  }
});

describe('smallInteger / enumerated', () => {
  const cases: [number, string][] = [
    [0, '020100'],
    [1, '020101'],
    [127, '02017f'],
    [128, '02020080'],
    [255, '020200ff'],
    [256, '02020100'],
    [32767, '02027fff'],
    [32768, '0203008000'],
    [2 ** 32, '02050100000000'], // past 32-bit bitwise arithmetic
    [2 ** 40 + 5, '0206010000000005'],
    [Number.MAX_SAFE_INTEGER, '02071fffffffffffff'],
  ];
  for (const [n, expected] of cases) {
    it(`${n} → ${expected}`, () => {
      expect(hex(smallInteger(n))).toBe(expected);
    });
  }

  it('refuses negative, fractional and unsafe numbers', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, 2 ** 53]) expect(() => smallInteger(bad)).toThrow(RangeError);
  });

  it('ENUMERATED carries the same content octets under tag 0x0a', () => {
    expect(hex(enumerated(0))).toBe('0a0100');
    expect(hex(enumerated(6))).toBe('0a0106');
    expect(hex(enumerated(128))).toBe('0a020080');
  });
});

describe('oid / decodeOid (X.690 §8.19)', () => {
  const golden: [string, string][] = [
    ['1.2.840.113549.1.1.11', '06092a864886f70d01010b'], // sha256WithRSAEncryption
    ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'], // ecdsa-with-SHA256
    ['2.999.1', '0603883701'], // first subidentifier 2*40+999 = 1079 spans two octets
    ['1.3.6.1.4.1.311.20.2.3', '060a2b060104018237140203'], // Microsoft UPN
    ['2.5.29.21', '0603551d15'], // id-ce-cRLReasons
    ['1.3.14.3.2.26', '06052b0e03021a'], // SHA-1
    ['0.0', '060100'],
    ['2.16.840.1.101.3.4.2.1', '0609608648016503040201'], // SHA-256
    ['1.2.3.4294967296', '06072a039080808000'], // an arc past 32 bits
  ];
  for (const [dotted, der] of golden) {
    it(`${dotted} ⇄ ${der}`, () => {
      const enc = oid(dotted);
      expect(hex(enc)).toBe(der);
      expect(decodeOid(enc.subarray(2))).toBe(dotted);
    });
  }

  it('refuses malformed dotted input', () => {
    for (const bad of ['', '1', '1..2', '1.2.x', '1.-2', ' 1.2']) expect(() => oid(bad)).toThrow();
  });

  it('refuses first arcs past 2 and second arcs past 39 under 0 and 1 (X.660), which would decode as another OID', () => {
    for (const bad of ['3.1', '0.40', '1.40', '1.999']) expect(() => oid(bad), bad).toThrow();
    expect(() => oid('2.40')).not.toThrow();
  });

  it('decodeOid refuses an empty value, a non-minimal arc and a truncated arc', () => {
    expect(() => decodeOid(Buffer.alloc(0))).toThrow(DerError);
    expect(() => decodeOid(h('2a8001'))).toThrow(/non-minimal/); // 0x80 starting an arc
    expect(decodeOid(h('2a8648'))).toBe('1.2.840');
  });

  it('decodeOid refuses a value that ends inside an arc', () => {
    expect(() => decodeOid(h('2a86'))).toThrow(/truncated/);
  });

  it('round-trips random OIDs with large arcs', () => {
    for (let i = 0; i < 200; i++) {
      const first = i % 3;
      const second = first < 2 ? i % 40 : i * 7919;
      const rest = Array.from({ length: i % 6 }, (_, k) => (BigInt(i) ** BigInt(k + 1) * 1_000_003n).toString());
      const dotted = [first, second, ...rest].join('.');
      expect(decodeOid(oid(dotted).subarray(2))).toBe(dotted);
    }
  });
});

describe('x509Time (RFC 5280 §4.1.2.5)', () => {
  const cases: [string, number, string][] = [
    ['1950 is UTCTime', Date.UTC(1950, 0, 1, 0, 0, 0), '170d' + Buffer.from('500101000000Z').toString('hex')],
    ['1949 is GeneralizedTime', Date.UTC(1949, 11, 31, 23, 59, 59), '180f' + Buffer.from('19491231235959Z').toString('hex')],
    ['2024 is UTCTime', Date.UTC(2024, 0, 2, 3, 4, 5), '170d' + Buffer.from('240102030405Z').toString('hex')],
    ['last second of 2049 is UTCTime', Date.UTC(2049, 11, 31, 23, 59, 59), '170d' + Buffer.from('491231235959Z').toString('hex')],
    ['first second of 2050 is GeneralizedTime', Date.UTC(2050, 0, 1, 0, 0, 0), '180f' + Buffer.from('20500101000000Z').toString('hex')],
    ['9999 is GeneralizedTime', Date.UTC(9999, 11, 31, 23, 59, 59), '180f' + Buffer.from('99991231235959Z').toString('hex')],
  ];
  for (const [name, ms, expected] of cases) {
    it(name, () => {
      expect(hex(x509Time(new Date(ms)))).toBe(expected);
    });
  }

  it('drops milliseconds (DER: no fractional seconds of zero, §4.1.2.5.2)', () => {
    expect(x509Time(new Date(Date.UTC(2030, 5, 6, 7, 8, 9, 999))).subarray(2).toString('ascii')).toBe('300606070809Z');
    expect(generalizedTime(new Date(Date.UTC(2030, 5, 6, 7, 8, 9, 1))).subarray(2).toString('ascii')).toBe('20300606070809Z');
  });
});

describe('bitString', () => {
  it('has a zero unused-bits octet', () => {
    expect(hex(bitString(h('abcd')))).toBe('030300abcd');
  });
});

describe('readElement refuses what is not strict DER', () => {
  const refuse = (bytes: string, pattern: RegExp, offset = 0, limit?: number): void => {
    const buf = h(bytes);
    let err: unknown;
    try {
      readElement(buf, offset, limit ?? buf.length);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DerError);
    expect((err as Error).message).toMatch(pattern);
  };

  it('an empty buffer and a lone tag are truncated', () => {
    refuse('', /truncated/);
    refuse('30', /truncated/);
  });
  it('a value shorter than its length', () => refuse('3003 0101', /past/));
  it('a long-form length whose octets are missing', () => refuse('3082 01', /truncated length/));
  it('long form for a length under 128', () => refuse('3081 05 0000000000', /non-minimal/));
  it('long form with a leading zero octet', () => refuse('3082 0080' + '00'.repeat(128), /non-minimal/));
  it('the indefinite form (BER only)', () => refuse('3080 0000', /unsupported length/));
  it('5-byte lengths', () => refuse('3085 0100000000', /unsupported length/));
  it('multi-byte (high-number) tags', () => {
    refuse('1f 22 01 00', /multi-byte/);
    refuse('9f 22 01 00', /multi-byte/);
    refuse('bf 22 01 00', /multi-byte/);
  });
  it('an element that runs past the limit, even when the buffer has the bytes', () => {
    refuse('0403 aabbcc', /past/, 0, 4);
    refuse('3000 0403 aabbcc', /past/, 2, 6);
  });
  it('an element starting at the limit', () => refuse('0400 0400', /truncated/, 2, 3));

  it('accepts the same shapes when they are well formed', () => {
    expect(readElement(h('0400'))).toEqual({ tag: 4, start: 0, valueStart: 2, end: 2 });
    expect(readElement(h('3000 0403 aabbcc'), 2)).toEqual({ tag: 4, start: 2, valueStart: 4, end: 7 });
    const big = tlv(Tag.OCTET_STRING, Buffer.alloc(200));
    expect(readElement(big)).toMatchObject({ valueStart: 3, end: 203 });
    // A 4-byte length is accepted when the limit allows it (not allocated: only the header is read).
    const header = h('04 84 01000000');
    expect(() => readElement(header, 0, 6 + 0x1000000)).not.toThrow();
  });

  it('readChildren walks a SEQUENCE and refuses a child past its parent', () => {
    const buf = seq(h('020101'), h('0500'));
    const parent = readElement(buf);
    expect(readChildren(buf, parent).map((c) => c.tag)).toEqual([Tag.INTEGER, Tag.NULL]);
    // The parent claims 4 bytes, so the INTEGER (3 bytes) fits but the NULL crosses the end.
    const bad = h('3004 020101 0500');
    expect(() => readChildren(bad, readElement(bad, 0, 6))).toThrow(DerError);
  });
});
