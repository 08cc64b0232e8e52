// PKCS#12 export, checked against the real OpenSSL 3 CLI and Node's own TLS loader.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPkcs12, pkcs12Kdf, type Pkcs12Input } from '../../src/ca/pkcs12.js';
import { AppError } from '../../src/core/errors.js';

const PASSWORD = 'correct horse 42';

let dir: string;
let rootDer: Buffer;
let issuingDer: Buffer;
const leaves: Record<'ec' | 'rsa', { pkcs8: Buffer; certDer: Buffer; publicPem: string }> = {} as never;

function openssl(args: string[], input?: string | Buffer): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('openssl', args, { cwd: dir, input, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function opensslOk(args: string[], input?: string | Buffer): string {
  return execFileSync('openssl', args, { cwd: dir, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

const derOf = (pemFile: string): Buffer => Buffer.from(new X509Certificate(fs.readFileSync(path.join(dir, pemFile))).raw);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'authbox-pkcs12-'));
  fs.writeFileSync(
    path.join(dir, 'ca.ext'),
    'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n',
  );
  // Root (self-signed) -> issuing CA -> leaf, so the chain has two certificates in order.
  opensslOk(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'root.key', '-out', 'root.pem', '-subj', '/CN=test root', '-days', '1']);
  opensslOk(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', 'issuing.key', '-out', 'issuing.csr', '-subj', '/CN=test issuing']);
  opensslOk(['x509', '-req', '-in', 'issuing.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '2',
    '-days', '1', '-extfile', 'ca.ext', '-out', 'issuing.pem']);
  rootDer = derOf('root.pem');
  issuingDer = derOf('issuing.pem');

  const keys = {
    ec: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };
  for (const kind of ['ec', 'rsa'] as const) {
    const { privateKey, publicKey } = keys[kind];
    fs.writeFileSync(path.join(dir, `${kind}.key`), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    opensslOk(['req', '-new', '-key', `${kind}.key`, '-subj', `/CN=test ${kind} leaf`, '-out', `${kind}.csr`]);
    opensslOk(['x509', '-req', '-in', `${kind}.csr`, '-CA', 'issuing.pem', '-CAkey', 'issuing.key',
      '-set_serial', kind === 'ec' ? '10' : '11', '-days', '1', '-out', `${kind}.pem`]);
    leaves[kind] = {
      pkcs8: privateKey.export({ type: 'pkcs8', format: 'der' }),
      certDer: derOf(`${kind}.pem`),
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    };
  }
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function writeP12(name: string, input: Partial<Pkcs12Input> & { kind: 'ec' | 'rsa' }): string {
  const leaf = leaves[input.kind];
  const der = buildPkcs12({
    privateKeyPkcs8Der: leaf.pkcs8,
    certificateDer: leaf.certDer,
    chainDer: [issuingDer, rootDer],
    password: PASSWORD,
    ...input,
  });
  const file = path.join(dir, name);
  fs.writeFileSync(file, der);
  return file;
}

const sha1Hex = (b: Buffer): string => createHash('sha1').update(b).digest('hex').toUpperCase().replace(/(..)(?!$)/g, '$1 ');

describe.each([
  { kind: 'ec' as const, legacy: false },
  { kind: 'rsa' as const, legacy: false },
  { kind: 'ec' as const, legacy: true },
  { kind: 'rsa' as const, legacy: true },
])('buildPkcs12 $kind legacy=$legacy', ({ kind, legacy }) => {
  let file: string;
  beforeAll(() => {
    file = writeP12(`${kind}-${legacy ? 'legacy' : 'modern'}.p12`, { kind, legacy, friendlyName: 'Test Leaf' });
  });

  it('openssl -info accepts it without -legacy and reports the expected algorithms', () => {
    const r = openssl(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-info', '-noout']);
    expect(r.status, r.stderr).toBe(0);
    // -info writes its report to stderr.
    if (legacy) {
      expect(r.stderr).toContain('MAC: sha1, Iteration 2048');
      expect(r.stderr).toContain('PKCS7 Encrypted data: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048');
      expect(r.stderr).toContain('Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC, Iteration 2048');
      expect(r.stderr).not.toContain('PBES2');
    } else {
      expect(r.stderr).toContain('MAC: sha256, Iteration 2048');
      expect(r.stderr).toContain('MAC length: 32');
      expect(r.stderr).toContain('PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
      expect(r.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 2048, PRF hmacWithSHA256');
    }
    expect(r.stderr.match(/Certificate bag/g)).toHaveLength(3);
    expect(r.stderr).not.toContain('broken algorithm');
  });

  it('openssl -nodes yields the same key, the leaf and the chain in order, with paired attributes', () => {
    const out = opensslOk(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-nodes']);
    const keyPem = out.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----\n/);
    expect(keyPem).not.toBeNull();
    expect(opensslOk(['pkey', '-pubout'], keyPem![0])).toBe(leaves[kind].publicPem);

    const certs = [...out.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)].map((m) =>
      Buffer.from(new X509Certificate(m[0]).raw),
    );
    expect(certs).toEqual([leaves[kind].certDer, issuingDer, rootDer]);

    // localKeyID = SHA-1 of the leaf on both the key bag and the leaf's cert bag; friendlyName on both.
    const keyId = `localKeyID: ${sha1Hex(leaves[kind].certDer)}`;
    expect(out.split(keyId)).toHaveLength(3);
    expect(out.split('friendlyName: Test Leaf')).toHaveLength(3);
  });

  it('openssl also reads it with -legacy', () => {
    const r = openssl(['pkcs12', '-legacy', '-in', file, '-passin', `pass:${PASSWORD}`, '-nodes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('-----BEGIN PRIVATE KEY-----');
  });

  it('a wrong password fails the MAC check', () => {
    const r = openssl(['pkcs12', '-in', file, '-passin', 'pass:wrong password', '-nodes']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('Mac verify error');
  });

  it('Node loads it as a TLS credential', () => {
    const pfx = fs.readFileSync(file);
    expect(() => tls.createSecureContext({ pfx, passphrase: PASSWORD })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx, passphrase: 'wrong password' })).toThrow(/mac verify failure/i);
  });
});

describe('buildPkcs12 options', () => {
  it('a non-ASCII password is UTF-8 for PBKDF2 and UTF-16BE for the MAC, as OpenSSL expects', () => {
    const password = 'pässwörd ☃ 𝄞';
    for (const legacy of [false, true]) {
      const file = writeP12(`utf8-${legacy}.p12`, { kind: 'ec', legacy, password });
      const r = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-nodes']);
      expect(r.status, r.stderr).toBe(0);
      // OpenSSL falls back to a byte-wise "broken" conversion if the proper one fails.
      expect(r.stderr).not.toContain('broken algorithm');
      expect(r.stdout).toContain('-----BEGIN PRIVATE KEY-----');
      expect(() => tls.createSecureContext({ pfx: fs.readFileSync(file), passphrase: password })).not.toThrow();
    }
  });

  it('honours the iteration count and leaves out friendlyName when not given', () => {
    const file = writeP12('iter.p12', { kind: 'rsa', iterations: 5000 });
    const r = openssl(['pkcs12', '-in', file, '-passin', `pass:${PASSWORD}`, '-info', '-nodes']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('MAC: sha256, Iteration 5000');
    expect(r.stderr).toContain('Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration 5000');
    expect(r.stdout).not.toContain('friendlyName');
    expect(r.stdout).toContain(`localKeyID: ${sha1Hex(leaves.rsa.certDer)}`);
  });

  it('uses fresh salts and IVs each time', () => {
    const input = { privateKeyPkcs8Der: leaves.ec.pkcs8, certificateDer: leaves.ec.certDer, chainDer: [], password: PASSWORD };
    expect(buildPkcs12(input).equals(buildPkcs12(input))).toBe(false);
  });

  it('rejects an empty password, a key that is not PKCS#8 and a bad iteration count with BAD_INPUT', () => {
    const base = { privateKeyPkcs8Der: leaves.ec.pkcs8, certificateDer: leaves.ec.certDer, chainDer: [issuingDer], password: PASSWORD };
    const cases: Pkcs12Input[] = [
      { ...base, password: '' },
      { ...base, privateKeyPkcs8Der: Buffer.from('not a key at all') },
      { ...base, privateKeyPkcs8Der: Buffer.alloc(0) },
      { ...base, privateKeyPkcs8Der: leaves.ec.certDer },
      { ...base, iterations: 0 },
      { ...base, iterations: 1.5 },
    ];
    for (const input of cases) {
      let caught: unknown;
      try {
        buildPkcs12(input);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe('BAD_INPUT');
    }
  });
});

describe('pkcs12Kdf (RFC 7292 Appendix B.2)', () => {
  const bmp = (s: string): Buffer => Buffer.concat([Buffer.from(s, 'utf16le').swap16(), Buffer.alloc(2)]);
  const salt = Buffer.from('0A58CF64530D823F', 'hex');

  it('matches the published SHA-1 vectors (password "smeg")', () => {
    expect(pkcs12Kdf('sha1', bmp('smeg'), salt, 1, 1, 24).toString('hex').toUpperCase()).toBe(
      '8AAAE6297B6CB04642AB5B077851284EB7128F1A2A7FBCA3',
    );
    expect(pkcs12Kdf('sha1', bmp('smeg'), salt, 2, 1, 8).toString('hex').toUpperCase()).toBe('79993DFE048D3B76');
  });

  it.each([
    { hash: 'sha1' as const, id: 1 as const, n: 24, iter: 2048 },
    { hash: 'sha1' as const, id: 3 as const, n: 20, iter: 1000 },
    { hash: 'sha256' as const, id: 3 as const, n: 32, iter: 2048 },
    { hash: 'sha256' as const, id: 1 as const, n: 100, iter: 3 }, // more than one output block
  ])('agrees with openssl kdf PKCS12KDF for $hash id=$id n=$n', ({ hash, id, n, iter }) => {
    const pass = bmp('pässwörd');
    const out = opensslOk(['kdf', '-keylen', String(n), '-kdfopt', `digest:${hash.toUpperCase()}`,
      '-kdfopt', `hexpass:${pass.toString('hex')}`, '-kdfopt', `hexsalt:${salt.toString('hex')}`,
      '-kdfopt', `iter:${iter}`, '-kdfopt', `id:${id}`, 'PKCS12KDF']);
    expect(pkcs12Kdf(hash, pass, salt, id, iter, n).toString('hex')).toBe(out.trim().replace(/:/g, '').toLowerCase());
  });
});

describe('why legacy uses 3DES rather than RC2', () => {
  it('OpenSSL 3 cannot read an RC2-40 PKCS#12 without -legacy', () => {
    const made = openssl(['pkcs12', '-export', '-legacy', '-inkey', 'ec.key', '-in', 'ec.pem',
      '-passout', `pass:${PASSWORD}`, '-out', 'rc2.p12']);
    expect(made.status, made.stderr).toBe(0);
    const r = openssl(['pkcs12', '-in', 'rc2.p12', '-passin', `pass:${PASSWORD}`, '-nodes']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/RC2-40-CBC|unsupported/);
  });
});
