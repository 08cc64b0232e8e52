// src/ca/pem.ts: PEM armour (RFC 7468), strict about what is not one.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromPem, fromPemAll, pemOrDer, toPem } from '../../src/ca/pem.js';
import { codeOf } from '../helpers/unit.js';


const CERT = ['CERTIFICATE'];
const CSR = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

describe('toPem / fromPem', () => {
  for (const size of [1, 2, 3, 47, 48, 49, 96, 1000, 4096]) {
    it(`round-trips ${size} bytes with lines of at most 64 columns (RFC 7468 §2)`, () => {
      const der = randomBytes(size);
      const pem = toPem('CERTIFICATE', der);
      const lines = pem.split('\n');
      expect(lines[0]).toBe('-----BEGIN CERTIFICATE-----');
      expect(lines.at(-2)).toBe('-----END CERTIFICATE-----');
      expect(lines.at(-1)).toBe(''); // ends with a newline
      const body = lines.slice(1, -2);
      for (const line of body.slice(0, -1)) expect(line.length).toBe(64);
      expect(body.at(-1)!.length).toBeGreaterThan(0);
      expect(body.at(-1)!.length).toBeLessThanOrEqual(64);
      expect(body.join('')).toBe(der.toString('base64'));
      expect(fromPem(pem, CERT).equals(der)).toBe(true);
    });
  }

  it('48 bytes make exactly one full 64-column line', () => {
    expect(toPem('X', Buffer.alloc(48)).split('\n')).toHaveLength(4);
  });

  it('reads CRLF line ends and surrounding text', () => {
    const der = randomBytes(100);
    const pem = 'subject=CN = x\r\n' + toPem('CERTIFICATE', der).replace(/\n/g, '\r\n') + 'trailer\r\n';
    expect(fromPem(pem, CERT).equals(der)).toBe(true);
  });

  it('reads several blocks in order and skips other labels', () => {
    const a = randomBytes(70), b = randomBytes(80), k = randomBytes(30);
    const text = toPem('CERTIFICATE', a) + toPem('PRIVATE KEY', k) + 'text between\n' + toPem('CERTIFICATE', b);
    const all = fromPemAll(text, CERT);
    expect(all).toHaveLength(2);
    expect(all[0]!.equals(a)).toBe(true);
    expect(all[1]!.equals(b)).toBe(true);
    expect(fromPem(text, CERT).equals(a)).toBe(true);
    expect(fromPem(text, ['PRIVATE KEY']).equals(k)).toBe(true);
    expect(fromPemAll(text, ['CERTIFICATE', 'PRIVATE KEY'])).toHaveLength(3);
  });

  it('a wrong label is PEM_INVALID', () => {
    const pem = toPem('PRIVATE KEY', randomBytes(40));
    expect(codeOf(() => fromPem(pem, CERT))).toBe('PEM_INVALID');
    expect(fromPemAll(pem, CERT)).toEqual([]);
  });

  it('an END label that does not match its BEGIN is not a block', () => {
    const pem = toPem('CERTIFICATE', randomBytes(40)).replace('END CERTIFICATE', 'END PRIVATE KEY');
    expect(codeOf(() => fromPem(pem, CERT))).toBe('PEM_INVALID');
  });

  it('no block at all is PEM_INVALID', () => {
    expect(codeOf(() => fromPem('', CERT))).toBe('PEM_INVALID');
    expect(codeOf(() => fromPem('hello', CERT))).toBe('PEM_INVALID');
  });

  const broken: [string, string][] = [
    ['a character outside base64', 'MIIB!AAA'],
    ['a length that is not a multiple of 4', 'MIIBAAA'],
    ['padding in the middle', 'MI==MIIB'],
    ['three padding characters', 'MIIBA==='],
    ['an empty body', ''],
    ['URL-safe alphabet', 'MII-_AAA'],
  ];
  for (const [name, body] of broken) {
    it(`broken base64 (${name}) is PEM_INVALID`, () => {
      const pem = `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
      expect(codeOf(() => fromPem(pem, CERT))).toBe('PEM_INVALID');
    });
  }

  it('a broken block is refused even when a good one follows', () => {
    const text = '-----BEGIN CERTIFICATE-----\nMII*\n-----END CERTIFICATE-----\n' + toPem('CERTIFICATE', randomBytes(10));
    expect(codeOf(() => fromPemAll(text, CERT))).toBe('PEM_INVALID');
  });
});

describe('pemOrDer', () => {
  const der = Buffer.concat([Buffer.from([0x30, 0x81, 0x80]), randomBytes(128)]);

  it('returns DER as is', () => {
    expect(pemOrDer(der, CSR)).toBe(der);
  });

  it('decodes PEM with either accepted label', () => {
    expect(pemOrDer(Buffer.from(toPem('CERTIFICATE REQUEST', der)), CSR).equals(der)).toBe(true);
    expect(pemOrDer(Buffer.from(toPem('NEW CERTIFICATE REQUEST', der)), CSR).equals(der)).toBe(true);
  });

  it('decodes PEM that follows a long text dump (`openssl req -new -text`)', () => {
    const dump = 'Certificate Request:\n    Data:\n        Version: 1 (0x0)\n        Subject: CN = alice\n' + ' '.repeat(200) + '\n';
    expect(pemOrDer(Buffer.from(dump + toPem('CERTIFICATE REQUEST', der)), CSR).equals(der)).toBe(true);
  });

  it('PEM with the wrong label is PEM_INVALID, not taken as DER', () => {
    expect(codeOf(() => pemOrDer(Buffer.from(toPem('CERTIFICATE', der)), CSR))).toBe('PEM_INVALID');
  });

  it('neither PEM nor DER is PEM_INVALID', () => {
    expect(codeOf(() => pemOrDer(Buffer.alloc(0), CSR))).toBe('PEM_INVALID');
    expect(codeOf(() => pemOrDer(Buffer.from('hello world'), CSR))).toBe('PEM_INVALID');
    expect(codeOf(() => pemOrDer(Buffer.from([0x02, 0x01, 0x00]), CSR))).toBe('PEM_INVALID');
  });
});
