// `authbox cert sign`: requests made by `openssl req` are signed after their signature is
// checked; what the requester asks for beyond its key and name is not copied; bad input
// is refused with a reason and stores nothing.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, openssl, tempDir, withDatabase } from '../helpers/authbox.js';
import { certCount, expectRefusal, extension, listCerts, opensslOk, publicKeyOfCert, serialOf, writeChain, x509Text } from './ca-common.js';

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;
let chain: ReturnType<typeof writeChain>;
let n = 0;
const out = (ext: string): string => join(work.path, `f${++n}.${ext}`);

/** A CSR from `openssl req -new` with a new key; returns the CSR path. */
function makeCsr(newkey: string[], subj: string, extra: string[] = []): string {
  const csr = out('csr');
  opensslOk(['req', '-new', ...newkey, '-nodes', '-keyout', out('key'), '-subj', subj, '-out', csr, ...extra]);
  return csr;
}

function sign(csr: string, args: string[]): { status: number; stdout: string; stderr: string; cert: string } {
  const cert = out('pem');
  return { ...authbox(['cert', 'sign', '--data', data.dir, '--csr', csr, '--out', cert, ...args]), cert };
}

const csrPublicKey = (csr: string): string => opensslOk(['req', '-in', csr, '-noout', '-pubkey']);

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-ca-sign-');
  chain = writeChain(data.dir, work.path);
  // A certificate's --user must be a user.
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'carol-Passw0rd']);
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('cert sign: requests from openssl req', () => {
  it.each([
    ['EC P-256', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], /NIST CURVE: P-256/],
    ['EC P-384', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], /NIST CURVE: P-384/],
    ['RSA-2048', ['-newkey', 'rsa:2048'], /Public-Key: \(2048 bit\)/],
  ])('signs a %s request; the certificate verifies and carries its key', (_, newkey, keyPattern) => {
    const csr = makeCsr(newkey, '/CN=csr-device-1');
    const r = sign(csr, ['--profile', 'device', '--dns', 'csr-device-1.corp.example']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/issued device certificate [0-9a-f]{32} for "csr-device-1"/);
    const text = x509Text(r.cert);
    expect(text).toMatch(keyPattern);
    expect(text).toMatch(/Subject: O = Test City, CN = csr-device-1/);
    expect(extension(text, 'X509v3 Subject Alternative Name')).toBe('DNS:csr-device-1.corp.example');
    expect(publicKeyOfCert(r.cert)).toBe(csrPublicKey(csr));
    const v = openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, '-purpose', 'sslclient', r.cert]);
    expect(v.status, v.stderr).toBe(0);
    // It is recorded under the serial openssl reads from the certificate.
    expect(listCerts(data.dir).some((c) => c.serial === serialOf(r.cert).toLowerCase())).toBe(true);
  });

  it('accepts a DER request, and --cn overrides the requested name', () => {
    const csr = makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=asked-for');
    const der = out('der');
    opensslOk(['req', '-in', csr, '-outform', 'DER', '-out', der]);
    const r = sign(der, ['--profile', 'user', '--cn', 'Given Name', '--user', 'carol', '--email', 'carol@corp.example', '--days', '30']);
    expect(r.status, r.stderr).toBe(0);
    const text = x509Text(r.cert);
    expect(text).toMatch(/Subject: O = Test City, CN = Given Name\n/);
    expect(text).not.toMatch(/asked-for/);
    expect(extension(text, 'X509v3 Subject Alternative Name')).toBe('email:carol@corp.example');
    expect(openssl(['x509', '-in', r.cert, '-noout', '-checkend', String(31 * 86_400)]).status).toBe(1);
    expect(listCerts(data.dir, ['--user', 'carol'])).toMatchObject([{ commonName: 'Given Name', profile: 'user' }]);
  });

  it('copies neither the subject fields nor the extensions a request asks for', () => {
    const csr = makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/C=XX/O=Evil Corp/OU=Admins/CN=greedy', [
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign',
      '-addext', 'subjectAltName=DNS:evil.example', '-addext', 'extendedKeyUsage=serverAuth,codeSigning',
    ]);
    const r = sign(csr, ['--profile', 'device']);
    expect(r.status, r.stderr).toBe(0);
    const text = x509Text(r.cert);
    expect(text).toMatch(/Subject: O = Test City, CN = greedy\n/);
    expect(extension(text, 'X509v3 Basic Constraints')).toBe('CA:FALSE');
    expect(extension(text, 'X509v3 Key Usage')).toBe('Digital Signature');
    expect(extension(text, 'X509v3 Extended Key Usage')).toBe('TLS Web Client Authentication');
    expect(text).not.toMatch(/evil\.example|Evil Corp|Code Signing/);
  });

  it('needs --cn for a request without a CN', () => {
    const csr = makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/O=No Name');
    const before = certCount(data.dir);
    const r = sign(csr, ['--profile', 'device']);
    expectRefusal(r, 2, /no CN.*--cn/);
    expect(existsSync(r.cert)).toBe(false);
    expect(certCount(data.dir)).toBe(before);
  });
});

describe('cert sign: bad requests are refused and nothing is stored', () => {
  let good: string;
  let goodDer: Buffer;
  let before: number;

  beforeAll(() => {
    good = makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=tamper-me');
    goodDer = readDer(good);
    before = certCount(data.dir);
  });

  function readDer(pemFile: string): Buffer {
    const der = out('der');
    opensslOk(['req', '-in', pemFile, '-outform', 'DER', '-out', der]);
    return readFileSync(der);
  }

  function refused(file: string, pattern: RegExp, args = ['--profile', 'device']): void {
    const r = sign(file, args);
    // Counted first, so that one wrongly stored certificate fails its own test, not every later one.
    const now = certCount(data.dir);
    const stored = now - before;
    before = now;
    expectRefusal(r, 1, pattern);
    expect(existsSync(r.cert), 'no output file').toBe(false);
    expect(r.stdout).toBe('');
    expect(stored, 'certificates stored').toBe(0);
  }

  function write(ext: string, content: string | Buffer): string {
    const f = out(ext);
    writeFileSync(f, content);
    return f;
  }

  it('garbage', () => refused(write('csr', 'this is not a certificate request\n'), /not a PKCS#10 request.*neither PEM.*nor DER/));

  it('an empty file', () => refused(write('csr', ''), /not a PKCS#10 request/));

  it('PEM with broken base64', () => {
    const pem = readFileSync(good, 'utf8').split('\n');
    pem[2] = pem[2]!.slice(0, 10) + '!!**' + pem[2]!.slice(14);
    refused(write('csr', pem.join('\n')), /not valid base64/);
  });

  it('DER that stops half-way', () => refused(write('der', goodDer.subarray(0, goodDer.length >> 1)), /not a PKCS#10 request/));

  it('a request whose signature was altered', () => {
    const der = Buffer.from(goodDer);
    // The last byte is inside the ECDSA signature's s value; the structure stays valid.
    der[der.length - 1]! ^= 0x01;
    // openssl agrees (OpenSSL 3.0 says so on stderr but still exits 0).
    expect(openssl(['req', '-inform', 'DER', '-in', write('der', der), '-noout', '-verify']).stderr).toMatch(/verify failure/);
    refused(write('der', der), /signature does not verify/);
  });

  it('a request whose subject was altered after signing', () => {
    const der = Buffer.from(goodDer);
    const at = der.indexOf(Buffer.from('tamper-me'));
    expect(at).toBeGreaterThan(0);
    der[at] = 'T'.charCodeAt(0);
    refused(write('der', der), /signature does not verify/);
    // The same in PEM.
    const b64 = der.toString('base64').match(/.{1,64}/g)!.join('\n');
    refused(write('csr', `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`), /signature does not verify/);
  });

  it('an RSA-1024 key', () => refused(makeCsr(['-newkey', 'rsa:1024'], '/CN=weak'), /RSA key of 1024 bits is too short/));

  it('a curve other than P-256 and P-384', () => {
    refused(makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:secp256k1'], '/CN=k1'), /curve secp256k1 is not accepted/);
  });

  it('an Ed25519 key, and an RSA-PSS signature', () => {
    refused(makeCsr(['-newkey', 'ed25519'], '/CN=ed'), /key algorithm ed25519 is not accepted/);
    refused(makeCsr(['-newkey', 'rsa:2048', '-sigopt', 'rsa_padding_mode:pss'], '/CN=pss'), /signature algorithm 1\.2\.840\.113549\.1\.1\.10 is not accepted/);
  });

  it('a request larger than 64 KiB', () => {
    const body = Buffer.alloc(70_000, 0x41).toString('base64').match(/.{1,64}/g)!.join('\n');
    refused(write('csr', `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`), /larger than 65536 bytes/);
  });

  it('a file that does not exist', () => refused(join(work.path, 'no-such.csr'), /cannot read .*no-such\.csr: ENOENT/));

  it('a certificate instead of a request, PEM and DER', () => {
    const cert = out('pem');
    authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', 'a-cert', '--out-cert', cert, '--out-key', out('key')]);
    before += 1;
    refused(cert, /no CERTIFICATE REQUEST .*PEM block/);
    const der = out('der');
    opensslOk(['x509', '-in', cert, '-outform', 'DER', '-out', der]);
    refused(der, /not a PKCS#10 request/);
  });

  it('an output file that exists', () => {
    const existing = write('pem', 'keep');
    const r = authbox(['cert', 'sign', '--data', data.dir, '--csr', good, '--profile', 'device', '--out', existing]);
    expectRefusal(r, 1, /already exists/);
    expect(readFileSync(existing, 'utf8')).toBe('keep');
  });

  it('a --user that does not exist, with no change row either', () => {
    const seq = (): number => withDatabase(data.dir, (db) => (db.prepare('SELECT max(seq) AS s FROM changes').get() as { s: number }).s);
    const changesBefore = seq();
    refused(good, /^authbox cert sign: no such user: ghost \(add it with authbox user add\)$/m, ['--profile', 'user', '--user', 'ghost']);
    expect(seq()).toBe(changesBefore);
  });
});

describe('cert sign-batch: mass enrolment from a folder', () => {
  it('signs every request in one go, each certificate carrying its own key and CN', () => {
    const inDir = join(work.path, 'batch-in');
    const outDir = join(work.path, 'batch-out');
    for (const d of [inDir, outDir]) mkdirSync(d, { recursive: true });
    const csrs = [1, 2, 3].map((i) => {
      const csr = makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], `/CN=batch-laptop-${i}`);
      writeFileSync(join(inDir, `laptop-${i}.csr`), readFileSync(csr));
      return csr;
    });
    const before = certCount(data.dir);
    const r = authbox(['cert', 'sign-batch', '--data', data.dir, '--csr-dir', inDir, '--profile', 'device', '--out-dir', outDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/issued 3 device certificates/);
    expect(certCount(data.dir)).toBe(before + 3);
    csrs.forEach((csr, i) => {
      const cert = join(outDir, `laptop-${i + 1}.crt`);
      expect(x509Text(cert)).toMatch(new RegExp(`CN = batch-laptop-${i + 1}`));
      expect(publicKeyOfCert(cert)).toBe(csrPublicKey(csr));
      expect(openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, cert]).status).toBe(0);
    });
  });

  it('signs nothing when one request in the folder is bad, and names it', () => {
    const inDir = join(work.path, 'batch-bad');
    mkdirSync(inDir, { recursive: true });
    writeFileSync(join(inDir, 'good.csr'), readFileSync(makeCsr(['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], '/CN=good')));
    writeFileSync(join(inDir, 'broken.csr'), 'not a request');
    const outDir = join(work.path, 'batch-bad-out');
    mkdirSync(outDir, { recursive: true });
    const before = certCount(data.dir);
    const r = authbox(['cert', 'sign-batch', '--data', data.dir, '--csr-dir', inDir, '--profile', 'device', '--out-dir', outDir]);
    expectRefusal(r, 1, /nothing signed; 1 of 2 requests refused: broken\.csr/);
    expect(certCount(data.dir)).toBe(before);
    expect(existsSync(join(outDir, 'good.crt'))).toBe(false);
  });
});
