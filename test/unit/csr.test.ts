// src/ca/csr.ts verifyCsr with requests made by the real `openssl req`: accepted keys and
// signatures, and each refusal under its named reason. Every failure must be an AppError.
import { spawnSync } from 'node:child_process';
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChildren, readElement, seq } from '../../src/ca/der.js';
import { algorithmIdentifierDer, SigOid } from '../../src/ca/keys.js';
import { AppError } from '../../src/core/errors.js';
import { CSR_MAX_BYTES, verifyCsr } from '../../src/ca/csr.js';
import { codeOf, prng } from '../helpers/unit.js';

let dir: string;

/** `openssl req -new` with a fresh key of the given -newkey / -pkeyopt options; DER CSR and the key file. */
function makeCsr(name: string, keyArgs: string[], subject = `/CN=${name}/O=Test City`, extra: string[] = []): { der: Buffer; keyFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const out = join(dir, `${name}.der`);
  const r = spawnSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', keyFile, '-subj', subject, '-utf8', '-outform', 'DER', '-out', out, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl req for ${name} failed: ${r.stderr}`);
  return { der: readFileSync(out), keyFile };
}


const csrs: Record<string, { der: Buffer; keyFile: string }> = {};
const ec = (curve: string): string[] => ['-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authbox-csr-'));
  csrs.p256 = makeCsr('p256', ec('P-256'), '/CN=alice/O=Test City');
  csrs.p384 = makeCsr('p384', ec('P-384'), '/CN=p384/O=Test City', ['-sha384']);
  csrs.rsa2048 = makeCsr('rsa2048', ['-newkey', 'rsa:2048']);
  csrs.rsa2048sha512 = makeCsr('rsa2048sha512', ['-newkey', 'rsa:2048'], '/CN=rsa512', ['-sha512']);
  csrs.rsa1024 = makeCsr('rsa1024', ['-newkey', 'rsa:1024']);
  csrs.p521 = makeCsr('p521', ec('P-521'));
  csrs.k256 = makeCsr('k256', ec('secp256k1'));
  csrs.ed25519 = makeCsr('ed25519', ['-newkey', 'ed25519']);
  csrs.pss = makeCsr('pss', ['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss']);
  csrs.utf8 = makeCsr('utf8', ec('P-256'), '/O=テスト市/CN=山田 太郎');
  csrs.noCn = makeCsr('nocn', ec('P-256'), '/O=Only An Organization');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('verifyCsr accepts', () => {
  const accepted: [string, string, string | undefined][] = [
    ['p256', 'EC P-256 / ecdsa-with-SHA256', 'alice'],
    ['p384', 'EC P-384 / ecdsa-with-SHA384', 'p384'],
    ['rsa2048', 'RSA-2048 / sha256WithRSAEncryption', 'rsa2048'],
    ['rsa2048sha512', 'RSA-2048 / sha512WithRSAEncryption', 'rsa512'],
    ['utf8', 'a UTF-8 subject', '山田 太郎'],
    ['noCn', 'a subject without a CN', undefined],
  ];
  for (const [name, what, cn] of accepted) {
    it(`${what}, reading the commonName`, () => {
      const { der, keyFile } = csrs[name]!;
      const v = verifyCsr(der);
      expect(v.commonName).toBe(cn);
      const expected = createPublicKey(readFileSync(keyFile));
      expect(v.publicKey.equals(expected)).toBe(true);
      expect(v.spki.equals(expected.export({ type: 'spki', format: 'der' }))).toBe(true);
    });
  }
});

describe('verifyCsr refuses', () => {
  const unsupported: [string, string][] = [
    ['rsa1024', 'RSA-1024'],
    ['ed25519', 'Ed25519'],
    ['p521', 'EC P-521'],
    ['k256', 'EC secp256k1'],
  ];
  for (const [name, what] of unsupported) {
    it(`${what} with CSR_KEY_UNSUPPORTED`, () => {
      expect(codeOf(() => verifyCsr(csrs[name]!.der))).toBe('CSR_KEY_UNSUPPORTED');
    });
  }

  it('RSASSA-PSS signatures with CSR_SIGNATURE_INVALID (algorithm not accepted)', () => {
    expect(codeOf(() => verifyCsr(csrs.pss!.der))).toBe('CSR_SIGNATURE_INVALID');
  });

  for (const name of ['p256', 'rsa2048']) {
    it(`${name}: a tampered signature with CSR_SIGNATURE_INVALID`, () => {
      const bad = Buffer.from(csrs[name]!.der);
      bad[bad.length - 1]! ^= 0x01;
      expect(codeOf(() => verifyCsr(bad))).toBe('CSR_SIGNATURE_INVALID');
    });

    it(`${name}: a tampered subject with CSR_SIGNATURE_INVALID`, () => {
      const der = csrs[name]!.der;
      const cn = Buffer.from(name === 'p256' ? 'alice' : 'rsa2048');
      const at = der.indexOf(cn);
      expect(at).toBeGreaterThan(0);
      const bad = Buffer.from(der);
      bad[at]! ^= 0x02; // 'a' → 'c', 'r' → 'p': still a well-formed name
      expect(codeOf(() => verifyCsr(bad))).toBe('CSR_SIGNATURE_INVALID');
    });
  }

  it('a signature algorithm that does not match the key with CSR_SIGNATURE_INVALID', () => {
    const der = csrs.p256!.der;
    const [cri, , sig] = readChildren(der, readElement(der));
    const swapped = seq(der.subarray(cri!.start, cri!.end), algorithmIdentifierDer(SigOid.RSA_SHA256), der.subarray(sig!.start, sig!.end));
    expect(codeOf(() => verifyCsr(swapped))).toBe('CSR_SIGNATURE_INVALID');
    // Same key type, another digest: the signature no longer verifies.
    const other = seq(der.subarray(cri!.start, cri!.end), algorithmIdentifierDer(SigOid.ECDSA_SHA384), der.subarray(sig!.start, sig!.end));
    expect(codeOf(() => verifyCsr(other))).toBe('CSR_SIGNATURE_INVALID');
  });

  it('another request\'s signature with CSR_SIGNATURE_INVALID', () => {
    const a = csrs.p256!.der, b = csrs.utf8!.der;
    const [criA, algA] = readChildren(a, readElement(a));
    const [, , sigB] = readChildren(b, readElement(b));
    const spliced = seq(a.subarray(criA!.start, criA!.end), a.subarray(algA!.start, algA!.end), b.subarray(sigB!.start, sigB!.end));
    expect(codeOf(() => verifyCsr(spliced))).toBe('CSR_SIGNATURE_INVALID');
  });

  const invalid: [string, () => Buffer][] = [
    ['an empty buffer', () => Buffer.alloc(0)],
    ['random bytes', () => randomBytes(300)],
    ['text', () => Buffer.from('-----BEGIN CERTIFICATE REQUEST-----')],
    ['PEM instead of DER', () => Buffer.from(`-----BEGIN CERTIFICATE REQUEST-----\n${csrs.p256!.der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`)],
    ['a truncated request (one byte short)', () => csrs.p256!.der.subarray(0, csrs.p256!.der.length - 1)],
    ['a truncated request (half)', () => csrs.rsa2048!.der.subarray(0, csrs.rsa2048!.der.length >> 1)],
    ['trailing bytes', () => Buffer.concat([csrs.p256!.der, Buffer.from([0])])],
    ['a second request appended', () => Buffer.concat([csrs.p256!.der, csrs.p384!.der])],
    ['an empty SEQUENCE', () => Buffer.from([0x30, 0x00])],
    ['a SEQUENCE of three NULLs', () => Buffer.from('3006050005000500', 'hex')],
    ['more than 64 KiB of zeros', () => Buffer.alloc(CSR_MAX_BYTES + 1)],
    ['a valid request padded past 64 KiB inside its SEQUENCE', () => {
      const der = csrs.p256!.der;
      const kids = readChildren(der, readElement(der)).map((k) => der.subarray(k.start, k.end));
      return seq(...kids, Buffer.concat([Buffer.from([0x04, 0x83, 0x01, 0x00, 0x00]), Buffer.alloc(0x10000)]));
    }],
  ];
  for (const [name, make] of invalid) {
    it(`${name} with CSR_INVALID`, () => {
      expect(codeOf(() => verifyCsr(make()))).toBe('CSR_INVALID');
    });
  }

  // Malleable parts outside the signed CertificationRequestInfo: a request altered there
  // must not verify as if it were the one its key signed (strict DER, RFC 2986 §4.2).
  const outside: [string, (der: Buffer) => Buffer][] = [
    ['a signature BIT STRING with unused bits', (der) => {
      const [, , sig] = readChildren(der, readElement(der));
      const b = Buffer.from(der);
      b[sig!.valueStart] = 5;
      return b;
    }],
    ['an empty signature BIT STRING', (der) => {
      const [cri, alg] = readChildren(der, readElement(der));
      return seq(der.subarray(cri!.start, cri!.end), der.subarray(alg!.start, alg!.end), Buffer.from([0x03, 0x00]));
    }],
    ['signature algorithm parameters that are not NULL', (der) => {
      const [, alg] = readChildren(der, readElement(der));
      const [, params] = readChildren(der, alg!);
      const b = Buffer.from(der);
      b[params!.start] = 0x04; // NULL → empty OCTET STRING
      return b;
    }],
    ['a signature algorithm that is not a SEQUENCE', (der) => {
      const [, alg] = readChildren(der, readElement(der));
      const b = Buffer.from(der);
      b[alg!.start] = 0x31; // SET
      return b;
    }],
    ['a fourth element after the signature', (der) => {
      const kids = readChildren(der, readElement(der)).map((k) => der.subarray(k.start, k.end));
      return seq(...kids, Buffer.from([0x05, 0x00]));
    }],
  ];
  for (const [name, alter] of outside) {
    it(`${name} with CSR_INVALID`, () => {
      expect(codeOf(() => verifyCsr(alter(csrs.rsa2048!.der)))).toBe('CSR_INVALID');
    });
  }

  it('a certificate in place of a request with CSR_INVALID', () => {
    const r = spawnSync('openssl', ['req', '-x509', '-new', '-key', csrs.p256!.keyFile, '-subj', '/CN=x', '-days', '1', '-outform', 'DER']);
    expect(r.status).toBe(0);
    expect(codeOf(() => verifyCsr(r.stdout))).toBe('CSR_INVALID');
  });
});


function mutate(base: Buffer, rnd: () => number): Buffer {
  const int = (n: number): number => Math.floor(rnd() * n);
  const b = Buffer.from(base);
  const rounds = 1 + int(3);
  let out = b;
  for (let r = 0; r < rounds; r++) {
    const at = int(out.length);
    switch (int(7)) {
      case 0: // flip one bit
        out[at]! ^= 1 << int(8);
        break;
      case 1: // replace one byte
        out[at] = int(256);
        break;
      case 2: // set a byte to a length-ish or tag-ish value
        out[at] = [0x00, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x85, 0xff, 0x30, 0x02, 0x03, 0x06, 0x1f][int(13)]!;
        break;
      case 3: // delete a run
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + int(8)))]);
        break;
      case 4: // insert random bytes
        out = Buffer.concat([out.subarray(0, at), randomBytesFrom(rnd, 1 + int(8)), out.subarray(at)]);
        break;
      case 5: // truncate
        out = out.subarray(0, at);
        break;
      case 6: // duplicate a run
        out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 1 + int(40)), out.subarray(at)]);
        break;
    }
    if (out.length === 0) break;
  }
  return out;
}

function randomBytesFrom(rnd: () => number, n: number): Buffer {
  return Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
}

describe('verifyCsr under mutation', () => {
  it('5,000 random mutations of valid requests only ever throw AppError', () => {
    const bases = [csrs.p256!.der, csrs.rsa2048!.der, csrs.p384!.der];
    const seed = Number(process.env.CSR_FUZZ_SEED ?? 20_240_101);
    const rnd = prng(seed);
    const foreign: string[] = [];
    const codes = new Map<string, number>();
    const accepted: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      const base = bases[i % bases.length]!;
      const input = mutate(base, rnd);
      try {
        verifyCsr(input);
        if (!input.equals(base)) accepted.push(input.toString('hex'));
      } catch (e) {
        if (e instanceof AppError) codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        else if (foreign.length < 5) foreign.push(`#${i} (seed ${seed}): ${String(e)} — ${input.toString('hex')}`);
        else foreign.push('');
      }
    }
    if (process.env.CSR_FUZZ_DEBUG) console.log(seed, Object.fromEntries(codes), accepted.length, accepted.slice(0, 3));
    expect(foreign, foreign.filter(Boolean).join('\n')).toEqual([]);
    // Only the three named CSR reasons; nothing else leaks through.
    expect([...codes.keys()].every((c) => ['CSR_INVALID', 'CSR_SIGNATURE_INVALID', 'CSR_KEY_UNSUPPORTED'].includes(c)), [...codes.keys()].join()).toBe(true);
    // Whatever still verifies after a mutation did not change what was signed.
    for (const hex of accepted) {
      const der = Buffer.from(hex, 'hex');
      const [cri] = readChildren(der, readElement(der));
      const criBytes = der.subarray(cri!.start, cri!.end);
      expect(bases.some((b) => b.includes(criBytes))).toBe(true);
    }
  });
});
