// src/ca/crl.ts: revoked entries encoded once by hand, and the CRL (RFC 5280 §5) judged
// by the real openssl: signature, entries, reasons, CRL number, and a 100,000-entry CRL.
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChildren, readElement, Tag } from '../../src/ca/der.js';
import { buildCrl, CrlReason, encodeRevokedEntry, reasonName } from '../../src/ca/crl.js';
import { keySigner, spkiDer, type Signer } from '../../src/ca/keys.js';
import { toPem } from '../../src/ca/pem.js';
import { PROFILES } from '../../src/ca/profiles.js';
import { randomSerial } from '../../src/ca/serial.js';
import { buildName, nameDer, signCertificate } from '../../src/ca/x509.js';

const h = (s: string): string => s.replace(/\s+/g, '');
const ascii = (s: string): string => Buffer.from(s, 'ascii').toString('hex');

describe('encodeRevokedEntry', () => {
  const at = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

  it('keyCompromise: serial, UTCTime and a reasonCode extension (golden bytes)', () => {
    expect(encodeRevokedEntry('1a', at, CrlReason.keyCompromise).toString('hex')).toBe(h(`
      3020
        02011a
        170d ${ascii('240102030405Z')}
        300c 300a 0603551d15 0403 0a0101`));
  });

  it('omits the reason for unspecified and for none (RFC 5280 §5.3.1)', () => {
    const bare = h(`3012 02011a 170d ${ascii('240102030405Z')}`);
    expect(encodeRevokedEntry('1a', at, CrlReason.unspecified).toString('hex')).toBe(bare);
    expect(encodeRevokedEntry('1a', at, null).toString('hex')).toBe(bare);
  });

  it('includes every other reason as ENUMERATED', () => {
    for (const reason of [1, 2, 3, 4, 5, 6, 8, 9, 10]) {
      const e = encodeRevokedEntry('1a', at, reason);
      expect(e.subarray(-3).toString('hex')).toBe(`0a01${reason.toString(16).padStart(2, '0')}`);
    }
  });

  it('pads odd-length serials and adds a sign byte to serials with the high bit set', () => {
    expect(encodeRevokedEntry('abc', at, null).subarray(2, 6).toString('hex')).toBe('02020abc');
    expect(encodeRevokedEntry('80', at, null).subarray(2, 6).toString('hex')).toBe('02020080');
    expect(encodeRevokedEntry('0', at, null).subarray(2, 5).toString('hex')).toBe('020100');
  });

  it('uses GeneralizedTime from 2050', () => {
    const e = encodeRevokedEntry('1', new Date(Date.UTC(2050, 0, 1)), null);
    expect(e.subarray(5, 7).toString('hex')).toBe('180f');
  });

  it('reasonName maps codes back to names', () => {
    expect(reasonName(1)).toBe('keyCompromise');
    expect(reasonName(6)).toBe('certificateHold');
    expect(reasonName(7)).toBeUndefined();
    expect(reasonName(null)).toBeUndefined();
  });
});

describe('buildCrl judged by openssl', () => {
  let dir: string;
  let signer: Signer;
  let issuerNameDer: Buffer;
  let issuerSpki: Buffer;

  function openssl(args: string[], input?: Buffer): { status: number; out: string; stdout: string } {
    const r = spawnSync('openssl', args, { cwd: dir, input, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'authbox-crl-'));
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    signer = keySigner(key);
    issuerSpki = spkiDer(key);
    const name = buildName({ commonName: 'Test City Root CA', organization: 'Test City' });
    issuerNameDer = nameDer(name);
    const now = Date.now();
    const cert = signCertificate({
      serial: randomSerial(), subject: name, issuer: name, notBefore: new Date(now - 3_600_000),
      notAfter: new Date(now + 365 * 86_400_000), subjectSpki: issuerSpki, issuerSpki, profile: PROFILES['root-ca'], sans: [],
    }, signer);
    writeFileSync(join(dir, 'ca.pem'), toPem('CERTIFICATE', cert));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const window = (): { thisUpdate: Date; nextUpdate: Date } => {
    const now = Math.floor(Date.now() / 1000) * 1000;
    return { thisUpdate: new Date(now - 60_000), nextUpdate: new Date(now + 86_400_000) };
  };

  function crlText(file: string, der: Buffer): string {
    writeFileSync(join(dir, file), der);
    const r = openssl(['crl', '-inform', 'DER', '-in', file, '-CAfile', 'ca.pem', '-noout', '-text']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/verify OK/);
    return r.out;
  }

  it('lists the entries with their reasons, the CRL number and the AKI, and verifies', () => {
    const revokedAt = new Date(Date.UTC(2024, 4, 6, 7, 8, 9));
    const entries = [
      encodeRevokedEntry('1a2b3c', revokedAt, CrlReason.keyCompromise),
      encodeRevokedEntry('4d5e', revokedAt, CrlReason.unspecified),
      encodeRevokedEntry('7f' + '00'.repeat(15), revokedAt, CrlReason.certificateHold),
      encodeRevokedEntry('ff', revokedAt, CrlReason.superseded),
    ];
    const der = buildCrl({ issuerNameDer, issuerSpki, signer, ...window(), crlNumber: 4242, entries });
    const text = crlText('list.crl', der);
    expect(text).toMatch(/Version 2 \(0x1\)/);
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(text).toMatch(/Issuer: O = Test City, CN = Test City Root CA/);
    expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*4242\b/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:/);
    const serials = [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((m) => m[1]);
    expect(serials).toEqual(['1A2B3C', '4D5E', '7F' + '00'.repeat(15), 'FF']);
    const blocks = text.split(/Serial Number: /).slice(1);
    expect(blocks[0]).toMatch(/Revocation Date: May  6 07:08:09 2024 GMT/);
    expect(blocks[0]).toMatch(/CRL Reason Code:\s*\n\s*Key Compromise/);
    expect(blocks[1]).not.toMatch(/CRL Reason Code/);
    expect(blocks[2]).toMatch(/CRL Reason Code:\s*\n\s*Certificate Hold/);
    expect(blocks[3]).toMatch(/CRL Reason Code:\s*\n\s*Superseded/);
  });

  it('an empty CRL has no revokedCertificates field (RFC 5280 §5.1.2.6) and verifies', () => {
    const der = buildCrl({ issuerNameDer, issuerSpki, signer, ...window(), crlNumber: 1, entries: [] });
    const text = crlText('empty.crl', der);
    expect(text).toMatch(/No Revoked Certificates/);
    // tbsCertList: version, signature, issuer, thisUpdate, nextUpdate, [0] extensions — no SEQUENCE OF entries.
    const tbs = readChildren(der, readElement(der))[0]!;
    expect(readChildren(der, tbs).map((c) => c.tag)).toEqual([Tag.INTEGER, Tag.SEQUENCE, Tag.SEQUENCE, Tag.UTC_TIME, Tag.UTC_TIME, 0xa0]);
  });

  it('a CRL signed by another key does not verify (the test can fail)', () => {
    const other = keySigner(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);
    const der = buildCrl({ issuerNameDer, issuerSpki, signer: other, ...window(), crlNumber: 2, entries: [] });
    writeFileSync(join(dir, 'forged.crl'), der);
    const r = openssl(['crl', '-inform', 'DER', '-in', 'forged.crl', '-CAfile', 'ca.pem', '-noout']);
    expect(r.out).not.toMatch(/verify OK/);
    expect(r.out).toMatch(/verify failure/i);
  });

  it('an RSA-signed CRL and times past 2050 (GeneralizedTime) verify too', () => {
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const rsa = keySigner(key);
    const spki = spkiDer(key);
    const name = buildName({ commonName: 'RSA Root' });
    const cert = signCertificate({
      serial: randomSerial(), subject: name, issuer: name, notBefore: new Date(Date.now() - 3_600_000),
      notAfter: new Date(Date.UTC(2060, 0, 1)), subjectSpki: spki, issuerSpki: spki, profile: PROFILES['root-ca'], sans: [],
    }, rsa);
    writeFileSync(join(dir, 'rsa-ca.pem'), toPem('CERTIFICATE', cert));
    const der = buildCrl({
      issuerNameDer: nameDer(name), issuerSpki: spki, signer: rsa, thisUpdate: new Date(Date.now() - 60_000),
      nextUpdate: new Date(Date.UTC(2055, 5, 1)), crlNumber: 2 ** 40,
      entries: [encodeRevokedEntry('01', new Date(Date.UTC(2051, 0, 1)), CrlReason.cessationOfOperation)],
    });
    writeFileSync(join(dir, 'rsa.crl'), der);
    const r = openssl(['crl', '-inform', 'DER', '-in', 'rsa.crl', '-CAfile', 'rsa-ca.pem', '-noout', '-text']);
    expect(r.out).toMatch(/verify OK/);
    expect(r.out).toMatch(/sha256WithRSAEncryption/);
    expect(r.out).toMatch(/Next Update: Jun  1 00:00:00 2055 GMT/);
    expect(r.out).toMatch(/Revocation Date: Jan  1 00:00:00 2051 GMT/);
    expect(r.out).toMatch(/CRL Number:\s*\n\s*1099511627776\b/);
  });

  it('100,000 entries build without overflowing the stack, and openssl verifies and lists them all', () => {
    const at = new Date(Date.UTC(2025, 0, 1));
    const entries: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) {
      entries.push(encodeRevokedEntry((0x40000000 + i).toString(16) + 'abcdef0123456789abcdef01', at, i % 3 === 0 ? null : CrlReason.keyCompromise));
    }
    const der = buildCrl({ issuerNameDer, issuerSpki, signer, ...window(), crlNumber: 7, entries });
    // Our own walk: the SEQUENCE OF entries holds exactly 100,000 children.
    const tbs = readChildren(der, readElement(der))[0]!;
    const list = readChildren(der, tbs)[5]!;
    expect(list.tag).toBe(Tag.SEQUENCE);
    expect(readChildren(der, list)).toHaveLength(100_000);
    writeFileSync(join(dir, 'big.crl'), der);
    const r = spawnSync('sh', ['-c', 'openssl crl -inform DER -in big.crl -CAfile ca.pem -noout -text 2>&1 | grep -c -e "Serial Number:" -e "verify OK"'],
      { cwd: dir, encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('100001');
  });
});
