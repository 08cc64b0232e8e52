// RFC 6238 Appendix B test vectors (8 digits, SHA-1/SHA-256/SHA-512 seeds), the ±1 step
// window, replay refusal and the otpauth:// URI.
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, verifyTotp } from '../../src/core/totp.js';

const SEED_SHA1 = Buffer.from('12345678901234567890', 'ascii');
const SEED_SHA256 = Buffer.from('12345678901234567890123456789012', 'ascii');
const SEED_SHA512 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
];

describe('RFC 6238 Appendix B', () => {
  for (const [t, sha1, sha256, sha512] of VECTORS) {
    it(`T = ${t}`, () => {
      expect(totp(SEED_SHA1, t * 1000, 8, 'sha1')).toBe(sha1);
      expect(totp(SEED_SHA256, t * 1000, 8, 'sha256')).toBe(sha256);
      expect(totp(SEED_SHA512, t * 1000, 8, 'sha512')).toBe(sha512);
    });
  }
  it('RFC 4226 Appendix D HOTP values', () => {
    expect([0, 1, 2, 9].map((c) => hotp(SEED_SHA1, c))).toEqual(['755224', '287082', '359152', '520489']);
  });
});

describe('verifyTotp', () => {
  const at = 1_700_000_000_000;
  const step = Math.floor(at / 30_000);
  it('accepts the current code and those one step either side, nothing further', () => {
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at), at, null)).toBe(step);
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at - 30_000), at, null)).toBe(step - 1);
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at + 30_000), at, null)).toBe(step + 1);
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at - 60_000), at, null)).toBeUndefined();
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at + 60_000), at, null)).toBeUndefined();
  });
  it('refuses a code of a step already used, or older (replay)', () => {
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at), at, step)).toBeUndefined();
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at - 30_000), at, step)).toBeUndefined();
    expect(verifyTotp(SEED_SHA1, totp(SEED_SHA1, at + 30_000), at, step)).toBe(step + 1);
  });
  it('refuses anything that is not six digits', () => {
    for (const bad of ['', '12345', '1234567', 'abcdef', ' 123456']) expect(verifyTotp(SEED_SHA1, bad, at, null)).toBeUndefined();
  });
});

describe('base32 and the otpauth URI', () => {
  it('round-trips, RFC 4648 §10 vectors', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
    expect(base32Decode('MZXW6YTBOI').toString()).toBe('foobar');
    expect(base32Decode(base32Encode(SEED_SHA1)).equals(SEED_SHA1)).toBe(true);
  });
  it('names the issuer, account, algorithm, digits and period', () => {
    const uri = new URL(otpauthUri(SEED_SHA1, 'authbox Test', 'alice'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/authbox Test:alice');
    expect(uri.searchParams.get('secret')).toBe(base32Encode(SEED_SHA1));
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
  });
});
