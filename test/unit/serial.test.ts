// src/ca/serial.ts: 128-bit random serials and the one canonical hex form every
// lookup uses (lowercase, no leading zeros), whatever an operator types.
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { unsignedInteger } from '../../src/ca/der.js';
import { AppError } from '../../src/core/errors.js';
import { displaySerial, normalizeSerial, randomSerial, serialHexOf } from '../../src/ca/serial.js';

function expectBadInput(input: string): void {
  let err: unknown;
  try {
    normalizeSerial(input);
  } catch (e) {
    err = e;
  }
  expect(err, JSON.stringify(input)).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('BAD_INPUT');
}

describe('randomSerial', () => {
  it('is 16 bytes, positive as a DER INTEGER, with a non-zero top byte, and distinct over 10,000', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const s = randomSerial();
      expect(s.length).toBe(16);
      // Sign bit clear: no 00 pad is needed, so the INTEGER is exactly 16 content octets.
      expect(s[0]! & 0x80).toBe(0);
      expect(s[0]).not.toBe(0);
      const der = unsignedInteger(s);
      expect(der[1]).toBe(16);
      seen.add(s.toString('hex'));
    }
    expect(seen.size).toBe(10_000);
  });

  it('serialHexOf gives 32 lowercase digits without a leading zero', () => {
    for (let i = 0; i < 100; i++) {
      const hex = serialHexOf(randomSerial());
      expect(hex).toMatch(/^[1-9a-f][0-9a-f]{31}$/);
    }
  });
});

describe('normalizeSerial', () => {
  const accepted: [string, string][] = [
    ['0A:1B', 'a1b'],
    ['0a1b', 'a1b'],
    ['0x0A1B', 'a1b'],
    ['0X0a1b', 'a1b'],
    ['  0a:1b\n', 'a1b'],
    ['0a 1b', 'a1b'],
    ['00000000ff', 'ff'],
    ['0', '0'],
    ['00', '0'],
    ['00:00', '0'],
    ['DEADBEEF', 'deadbeef'],
    ['1'.repeat(40), '1'.repeat(40)], // 20 octets, the RFC 5280 §4.1.2.2 maximum
    ['0x' + 'f'.repeat(40), 'f'.repeat(40)],
  ];
  for (const [input, expected] of accepted) {
    it(`${JSON.stringify(input)} → ${expected}`, () => {
      expect(normalizeSerial(input)).toBe(expected);
    });
  }

  const refused = ['', '   ', ':', '0x', 'xyz', '12g4', '-1', '0x0x12', '1.2', 'ab_cd', '1'.repeat(41), 'a'.repeat(1000), '٣'];
  for (const input of refused) {
    it(`refuses ${JSON.stringify(input.length > 20 ? input.slice(0, 20) + '…' : input)} with BAD_INPUT`, () => {
      expectBadInput(input);
    });
  }

  it('is idempotent and inverts displaySerial', () => {
    for (let i = 0; i < 50; i++) {
      const hex = serialHexOf(randomSerial());
      expect(normalizeSerial(hex)).toBe(hex);
      expect(normalizeSerial(hex.toUpperCase())).toBe(hex);
      expect(normalizeSerial(displaySerial(hex))).toBe(hex);
    }
  });

  it('matches the serial of a real certificate with a 00 sign byte and one with leading zero octets', () => {
    const dir = mkdtempSync(join(tmpdir(), 'authbox-serial-'));
    try {
      for (const [setSerial, expected] of [['0x80', '80'], ['0x0000000001', '1'], ['0x7fffffffffffffffffffffffffffffffff', '7fffffffffffffffffffffffffffffffff']]) {
        const r = spawnSync('openssl', ['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
          '-keyout', join(dir, 'k.pem'), '-subj', '/CN=x', '-days', '1', '-set_serial', setSerial, '-outform', 'DER'], { maxBuffer: 1 << 20 });
        expect(r.status, r.stderr?.toString()).toBe(0);
        const cert = new X509Certificate(r.stdout);
        expect(normalizeSerial(cert.serialNumber)).toBe(expected);
        expect(normalizeSerial(displaySerial(expected))).toBe(expected);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('displaySerial', () => {
  const cases: [string, string][] = [
    ['a1b', '0A:1B'],
    ['ff', 'FF'],
    ['0', '00'],
    ['123456', '12:34:56'],
    ['deadbeef', 'DE:AD:BE:EF'],
  ];
  for (const [hex, shown] of cases) {
    it(`${hex} → ${shown}`, () => {
      expect(displaySerial(hex)).toBe(shown);
    });
  }
});
