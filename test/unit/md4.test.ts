// src/core/md4.ts: MD4 against RFC 1320 appendix A.5, padding boundaries, and the NT hash
// of RFC 2759 §9.2. The boundary and large-input vectors were computed once with
// `openssl dgst -md4 -provider legacy` (an independent implementation), not by this code.
import { describe, expect, it } from 'vitest';
import { md4, ntHash } from '../../src/core/md4.js';

const hex = (b: Buffer): string => b.toString('hex');

describe('md4', () => {
  it('matches the RFC 1320 appendix A.5 test suite', () => {
    const suite: [string, string][] = [
      ['', '31d6cfe0d16ae931b73c59d7e0c089c0'],
      ['a', 'bde52cb31de33e46245e05fbdbd6fb24'],
      ['abc', 'a448017aaf21d8525fc10ae87aa6729d'],
      ['message digest', 'd9130a8164549fe818874806e1c7014b'],
      ['abcdefghijklmnopqrstuvwxyz', 'd79e1c308aa5bbcdeea8ed63df412da9'],
      ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', '043f8582f241db351ce627e153e7f0e4'],
      ['12345678901234567890123456789012345678901234567890123456789012345678901234567890', 'e33b4ddc9c38f2199c3e7b164fcc0536'],
    ];
    for (const [input, digest] of suite) expect(hex(md4(Buffer.from(input, 'latin1'))), JSON.stringify(input)).toBe(digest);
  });

  it('pads correctly at the block boundaries (55, 56, 63, 64, 65 bytes)', () => {
    const vectors: [number, string][] = [
      [55, 'c889c81dd86c4d2e025778944ea02881'],
      [56, 'd5f9a9e9257077a5f08b0b92f348b0ad'],
      [63, '7ea3da77432d44c323671097d1348fc8'],
      [64, '52f5076fabd22680234a3fa9f9dc5732'],
      [65, '330e377bf231f3cacfecc2c182fe7e5b'],
    ];
    for (const [n, digest] of vectors) expect(hex(md4(Buffer.alloc(n, 'a'))), `${n} bytes`).toBe(digest);
  });

  it('hashes 1 MiB inputs', () => {
    expect(hex(md4(Buffer.alloc(1 << 20, 'a')))).toBe('97309e2efdaac7bdbb673a49ef4dfe18');
    const pattern = Buffer.alloc(1 << 20);
    for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 7) & 0xff;
    const digest = md4(pattern);
    expect(digest.length).toBe(16);
    expect(hex(digest)).toBe('fa1f01521c394444b293cab9b831eb64');
    expect(md4(pattern).equals(digest)).toBe(true);
  });

  it('accepts a Uint8Array and does not modify its input', () => {
    const input = new Uint8Array([0x61, 0x62, 0x63]);
    expect(hex(md4(input))).toBe('a448017aaf21d8525fc10ae87aa6729d');
    expect([...input]).toEqual([0x61, 0x62, 0x63]);
  });
});

describe('ntHash (RFC 2759 §8.3 NtPasswordHash)', () => {
  it('matches RFC 2759 §9.2: "clientPass"', () => {
    expect(ntHash('clientPass').toString('hex').toUpperCase()).toBe('44EBBA8D5312B8D611474411F56989AE');
  });

  it('encodes the password as UTF-16LE, surrogate pairs included', () => {
    expect(ntHash('pässwörd€😀').toString('hex')).toBe('343b5f56098bef0de4739d82d102f3ca');
    expect(ntHash('').toString('hex')).toBe('31d6cfe0d16ae931b73c59d7e0c089c0');
  });
});
