// `authbox init` and `authbox ca cert`: the data folder, the CA hierarchy for each key
// type, and keys at rest — all checked with the real openssl CLI and the raw bytes on disk.
import { createDecipheriv, createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, freePort, initDataDir, openssl, tempDir } from '../helpers/authbox.js';
import { expectRefusal, extension, isCritical, splitPem, writeChain, x509Text } from './ca-common.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

describe('authbox init (default key type, ec-p256)', () => {
  let data: Awaited<ReturnType<typeof initDataDir>>;
  let work: ReturnType<typeof tempDir>;
  let chain: ReturnType<typeof writeChain>;

  beforeAll(async () => {
    data = await initDataDir();
    work = tempDir('authbox-ca-init-');
    chain = writeChain(data.dir, work.path);
  });
  afterAll(() => {
    data?.cleanup();
    work?.cleanup();
  });

  it('creates the folder 0700 with master.key, authbox.db and authbox.json 0600', () => {
    expect(mode(data.dir)).toBe(0o700);
    for (const f of ['master.key', 'authbox.db', 'authbox.json']) {
      expect(existsSync(join(data.dir, f)), f).toBe(true);
      expect(mode(join(data.dir, f)), f).toBe(0o600);
    }
    // No other file in the folder is readable by others either.
    for (const f of readdirSync(data.dir)) expect(mode(join(data.dir, f)) & 0o077, f).toBe(0);
  });

  it('refuses an existing folder with exit 1 and leaves it untouched', () => {
    const before = readdirSync(data.dir).sort().map((f) => [f, readFileSync(join(data.dir, f)).toString('base64')]);
    const r = authbox(['init', '--data', data.dir]);
    expectRefusal(r, 1, /already exists/);
    expect(r.stderr).toContain(data.dir);
    const after = readdirSync(data.dir).sort().map((f) => [f, readFileSync(join(data.dir, f)).toString('base64')]);
    expect(after).toEqual(before);

    // An empty folder and a plain file are refused too, and stay as they were.
    const empty = join(work.path, 'empty');
    mkdirSync(empty, { mode: 0o755 });
    expectRefusal(authbox(['init', '--data', empty]), 1, /already exists/);
    expect(readdirSync(empty)).toEqual([]);
    expect(mode(empty)).toBe(0o755);
    const file = join(work.path, 'a-file');
    writeFileSync(file, 'keep me');
    expectRefusal(authbox(['init', '--data', file]), 1, /already exists/);
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });

  it('prints the chain with `ca cert`: the issuing CA first, then the self-signed root', () => {
    const issuing = new X509Certificate(readFileSync(chain.issuing));
    const root = new X509Certificate(readFileSync(chain.root));
    expect(issuing.subject).toMatch(/CN=Test City Issuing CA/);
    expect(root.subject).toMatch(/CN=Test City Root CA/);
    expect(root.subject).toMatch(/O=Test City/);
    expect(root.issuer).toBe(root.subject);
    expect(issuing.issuer).toBe(root.subject);
    expect(root.verify(root.publicKey)).toBe(true);
    expect(issuing.verify(root.publicKey)).toBe(true);
    expect(issuing.verify(issuing.publicKey)).toBe(false);
  });

  it('builds the CA certificates as openssl expects: basic constraints, no EKU, CDP/AIA on the issuing CA', () => {
    const root = x509Text(chain.root);
    const issuing = x509Text(chain.issuing);
    // Root: self-signed CA, no path constraint, no revocation pointers, no EKU.
    expect(extension(root, 'X509v3 Basic Constraints')).toBe('CA:TRUE');
    expect(isCritical(root, 'X509v3 Basic Constraints')).toBe(true);
    expect(extension(root, 'X509v3 Subject Key Identifier')).toBe(extension(root, 'X509v3 Authority Key Identifier'));
    expect(root).not.toMatch(/Extended Key Usage/);
    // Issuing CA: pathlen:0, signs certificates and CRLs, AKI = root SKI, URLs from --public-url.
    expect(extension(issuing, 'X509v3 Basic Constraints')).toBe('CA:TRUE, pathlen:0');
    expect(isCritical(issuing, 'X509v3 Basic Constraints')).toBe(true);
    expect(extension(issuing, 'X509v3 Key Usage')).toMatch(/Certificate Sign, CRL Sign/);
    expect(isCritical(issuing, 'X509v3 Key Usage')).toBe(true);
    expect(issuing).not.toMatch(/Extended Key Usage/);
    expect(extension(issuing, 'X509v3 Authority Key Identifier')).toBe(extension(root, 'X509v3 Subject Key Identifier'));
    expect(extension(issuing, 'X509v3 CRL Distribution Points')).toContain(`URI:${data.base}/crl/root.crl`);
    const aia = extension(issuing, 'Authority Information Access');
    expect(aia).toContain(`OCSP - URI:${data.base}/ocsp`);
    expect(aia).toContain(`CA Issuers - URI:${data.base}/ca/root.crt`);
    // Default key type: P-256, ECDSA with SHA-256.
    for (const t of [root, issuing]) {
      expect(t).toMatch(/NIST CURVE: P-256/);
      expect(t).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    }
  });

  it('verifies the issuing CA against the root with openssl verify', () => {
    const ok = openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, chain.issuing]);
    expect(ok.stdout + ok.stderr).toMatch(/: OK/);
    expect(ok.status).toBe(0);
  });

  it('keeps the master key out of the database and every private key sealed', () => {
    const master = Buffer.from(readFileSync(join(data.dir, 'master.key'), 'utf8').trim(), 'base64');
    expect(master).toHaveLength(32);
    // Everything in the folder except the master key itself (the db, and a -wal if one is left).
    const stored = Buffer.concat(readdirSync(data.dir).filter((f) => f !== 'master.key').map((f) => readFileSync(join(data.dir, f))));
    expect(stored.includes(master)).toBe(false);
    expect(stored.includes(Buffer.from(master.toString('base64')))).toBe(false);
    expect(stored.includes(Buffer.from(master.toString('hex')))).toBe(false);

    // No plaintext PKCS#8 EC key (version 0, id-ecPublicKey) and no SEC1 P-256 key anywhere.
    expect(stored.includes(Buffer.from('020100301306072a8648ce3d0201', 'hex'))).toBe(false);
    expect(stored.includes(Buffer.from('30770201010420', 'hex'))).toBe(false);

    // The sealed rows really are the CA keys: unsealed with the master key (AES-256-GCM, the
    // key id as AAD: src/ca/keystore.ts), each is the private half of a certificate in the
    // chain, and neither its PKCS#8 nor its private scalar is in the stored bytes.
    const db = new Database(join(data.dir, 'authbox.db'), { readonly: true, fileMustExist: true });
    let rows: { id: string; sealed: Buffer }[];
    let cas: { key_id: string; ocsp_key_id: string | null; cert_der: Buffer; ocsp_cert_der: Buffer | null }[];
    try {
      rows = db.prepare('SELECT id, sealed FROM keys').all() as typeof rows;
      cas = db.prepare('SELECT key_id, ocsp_key_id, cert_der, ocsp_cert_der FROM cas').all() as typeof cas;
    } finally {
      db.close();
    }
    // root, issuing, OCSP signer, authbox's own TLS key.
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(new Set(rows.map((r) => r.sealed.toString('hex'))).size).toBe(rows.length);
    const unsealed = new Map<string, Buffer>();
    for (const { id, sealed } of rows) {
      expect(sealed[0]).toBe(1);
      const decipher = createDecipheriv('aes-256-gcm', master, sealed.subarray(1, 13));
      decipher.setAAD(Buffer.from(id, 'utf8'));
      decipher.setAuthTag(sealed.subarray(13, 29));
      const pkcs8 = Buffer.concat([decipher.update(sealed.subarray(29)), decipher.final()]);
      unsealed.set(id, pkcs8);
      expect(stored.includes(pkcs8)).toBe(false);
      const jwk = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
      expect(stored.includes(Buffer.from(jwk.d!, 'base64url'))).toBe(false);
    }
    const pairs = cas.flatMap((c) => [[c.key_id, c.cert_der], ...(c.ocsp_key_id ? [[c.ocsp_key_id, c.ocsp_cert_der!]] : [])] as [string, Buffer][]);
    expect(pairs).toHaveLength(3);
    for (const [keyId, certDer] of pairs) {
      const fromKey = createPublicKey(createPrivateKey({ key: unsealed.get(keyId)!, format: 'der', type: 'pkcs8' }))
        .export({ type: 'spki', format: 'der' });
      expect(Buffer.from(new X509Certificate(certDer).publicKey.export({ type: 'spki', format: 'der' }))).toEqual(fromKey);
    }
  });
});

describe('authbox init --key-type', () => {
  const made: { cleanup(): void }[] = [];
  afterAll(() => made.forEach((m) => m.cleanup()));

  it.each([
    ['ec-p384', /NIST CURVE: P-384/, 'ecdsa-with-SHA384'],
    ['rsa-2048', /Public-Key: \(2048 bit\)[\s\S]*Exponent: 65537/, 'sha256WithRSAEncryption'],
  ])('%s makes both CAs with that key and signature algorithm', async (keyType, keyPattern, sigAlg) => {
    const data = await initDataDir(['--key-type', keyType]);
    made.push(data);
    const work = tempDir();
    made.push(work);
    const chain = writeChain(data.dir, work.path);
    for (const pem of [chain.root, chain.issuing]) {
      const text = x509Text(pem);
      expect(text).toMatch(keyPattern);
      expect(text).toMatch(keyType.startsWith('rsa') ? /Public Key Algorithm: rsaEncryption/ : /Public Key Algorithm: id-ecPublicKey/);
      expect(text.match(/Signature Algorithm: (\S+)/g)!.map((s) => s.split(': ')[1])).toEqual([sigAlg, sigAlg]);
    }
    const v = openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, chain.issuing]);
    expect(v.status, v.stderr).toBe(0);
    // Leaves issued under it chain up too.
    const leaf = join(work.path, 'leaf.pem');
    authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', 'kt', '--dns', 'kt.example',
      '--out-cert', leaf, '--out-key', join(work.path, 'leaf.key')]);
    expect(x509Text(leaf).match(/Signature Algorithm: (\S+)/)![1]).toBe(sigAlg);
    const lv = openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, '-purpose', 'sslclient', leaf]);
    expect(lv.status, lv.stderr).toBe(0);
  });

  it('refuses an unknown key type with exit 2 and creates nothing', async () => {
    const work = tempDir();
    made.push(work);
    const dir = join(work.path, 'data');
    const r = authbox(['init', '--data', dir, '--key-type', 'bogus', '--public-url', `http://127.0.0.1:${await freePort()}`]);
    expectRefusal(r, 2, /--key-type.*bogus/);
    expect(r.stderr).toMatch(/ec-p256/);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses a public URL that is not http(s) with exit 1 and creates nothing', () => {
    const work = tempDir();
    made.push(work);
    const dir = join(work.path, 'data');
    expectRefusal(authbox(['init', '--data', dir, '--public-url', 'ftp://example']), 1, /public-url/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe('authbox ca cert', () => {
  it('fails with one line on a folder that is not a data folder', () => {
    const work = tempDir();
    try {
      const r = authbox(['ca', 'cert', '--data', work.path]);
      expectRefusal(r, 1, /not an authbox data folder/);
      expect(splitPem(r.stdout)).toHaveLength(0);
    } finally {
      work.cleanup();
    }
  });
});
