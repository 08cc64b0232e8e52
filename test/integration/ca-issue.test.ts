// `authbox cert issue`: each profile's certificate as openssl reads it, serials,
// lifetimes, key types, and the PKCS#12 and PEM files it writes.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, openssl, tempDir, withDatabase } from '../helpers/authbox.js';
import {
  authboxAsync, certCount, expectRefusal, extension, isCritical, listCerts, opensslOk, publicKeyOfCert,
  publicKeyOfKey, serialOf, splitPem, writeChain, x509Text,
} from './ca-common.js';

const DAY = 86_400;
const PW = 'p12 secret';

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;
let chain: ReturnType<typeof writeChain>;
let n = 0;

/** A fresh path in the work folder. */
const out = (ext: string): string => join(work.path, `f${++n}.${ext}`);

function issue(args: string[]): { cert: string; key: string; stdout: string } {
  const cert = out('pem');
  const key = out('key');
  const stdout = authboxOk(['cert', 'issue', '--data', data.dir, ...args, '--out-cert', cert, '--out-key', key]);
  return { cert, key, stdout };
}

function verify(purpose: string, cert: string): { ok: boolean; text: string } {
  const r = openssl(['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, '-purpose', purpose, cert]);
  return { ok: r.status === 0, text: r.stdout + r.stderr };
}

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-ca-issue-');
  chain = writeChain(data.dir, work.path);
  // A certificate's --user must be a user.
  for (const u of ['alice', 'bob', 'bob@corp.example', 'carol', 'yamada']) {
    authboxOk(['user', 'add', '--data', data.dir, '--username', u, '--password', 'user-Passw0rd']);
  }
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('cert issue: profiles', () => {
  let user: ReturnType<typeof issue>;
  let device: ReturnType<typeof issue>;
  let server: ReturnType<typeof issue>;

  beforeAll(() => {
    user = issue(['--profile', 'user', '--cn', 'Alice Example', '--user', 'alice', '--email', 'alice@corp.example', '--upn', 'alice@corp.example']);
    device = issue(['--profile', 'device', '--cn', 'laptop-17', '--dns', 'laptop-17.corp.example']);
    server = issue(['--profile', 'server', '--cn', 'vpn.corp.example', '--dns', 'vpn.corp.example', '--dns', 'vpn2.corp.example', '--ip', '192.0.2.10']);
  });

  it('puts the e-mail and Microsoft UPN SANs in a user certificate', () => {
    const text = x509Text(user.cert);
    expect(extension(text, 'X509v3 Subject Alternative Name')).toBe('email:alice@corp.example, othername: UPN::alice@corp.example');
    expect(text).toMatch(/Subject: O = Test City, CN = Alice Example/);
    expect(user.stdout).toMatch(/issued user certificate [0-9a-f]{32}/);
  });

  it('carries the UPN for Windows when the user is named as one, and only for the user profile', () => {
    const bob = issue(['--profile', 'user', '--cn', 'Bob', '--user', 'bob@corp.example']);
    expect(extension(x509Text(bob.cert), 'X509v3 Subject Alternative Name')).toBe('othername: UPN::bob@corp.example');
    const carol = issue(['--profile', 'user', '--cn', 'Carol', '--user', 'carol']);
    expect(x509Text(carol.cert)).not.toMatch(/Subject Alternative Name/);
  });

  it('puts DNS SANs in device certificates and DNS/IP SANs in server certificates', () => {
    expect(extension(x509Text(device.cert), 'X509v3 Subject Alternative Name')).toBe('DNS:laptop-17.corp.example');
    expect(extension(x509Text(server.cert), 'X509v3 Subject Alternative Name'))
      .toBe('DNS:vpn.corp.example, DNS:vpn2.corp.example, IP Address:192.0.2.10');
  });

  it('server certificates match their names and addresses for openssl -verify_hostname/-verify_ip', () => {
    const args = ['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, '-purpose', 'sslserver'];
    expect(openssl([...args, '-verify_hostname', 'vpn2.corp.example', server.cert]).status).toBe(0);
    expect(openssl([...args, '-verify_ip', '192.0.2.10', server.cert]).status).toBe(0);
    expect(openssl([...args, '-verify_hostname', 'other.corp.example', server.cert]).status).not.toBe(0);
    expect(openssl([...args, '-verify_ip', '192.0.2.11', server.cert]).status).not.toBe(0);
  });

  it('encodes IPv6 SANs, IPv4-mapped ones included, and refuses a zone index', () => {
    const v6 = issue(['--profile', 'server', '--cn', 'v6', '--ip', '2001:db8::1', '--ip', '::ffff:192.0.2.1']);
    expect(extension(x509Text(v6.cert), 'X509v3 Subject Alternative Name'))
      .toBe('IP Address:2001:DB8:0:0:0:0:0:1, IP Address:0:0:0:0:0:FFFF:C000:201');
    const args = ['verify', '-CAfile', chain.root, '-untrusted', chain.issuing, '-purpose', 'sslserver'];
    expect(openssl([...args, '-verify_ip', '2001:db8:0::1', v6.cert]).status).toBe(0);
    expect(openssl([...args, '-verify_ip', '::ffff:c000:201', v6.cert]).status).toBe(0);
    const before = certCount(data.dir);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'server', '--cn', 'zone', '--ip', 'fe80::1%eth0',
      '--out-cert', out('pem'), '--out-key', out('key')]), 1, /fe80::1%eth0/);
    expect(certCount(data.dir)).toBe(before);
  });

  it('keeps a Japanese name and UPN in UTF-8, and opens a PKCS#12 with a Japanese password', () => {
    const p12 = out('p12');
    const cert = out('pem');
    authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', '山田 太郎', '--user', 'yamada',
      '--upn', '山田@city.example.jp', '--out-p12', p12, '--p12-password', 'パスワード', '--out-cert', cert]);
    expect(opensslOk(['x509', '-in', cert, '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus_space']).trim())
      .toBe('subject=O=Test City, CN=山田 太郎');
    expect(extension(x509Text(cert), 'X509v3 Subject Alternative Name')).toBe('othername: UPN::山田@city.example.jp');
    expect(openssl(['pkcs12', '-info', '-noout', '-in', p12, '-passin', 'pass:パスワード']).status).toBe(0);
    expect(openssl(['pkcs12', '-info', '-noout', '-in', p12, '-passin', 'pass:パスワート']).status).not.toBe(0);
  });

  it('openssl verify: sslclient accepts user and device; sslserver accepts server and rejects user and device', () => {
    for (const c of [user.cert, device.cert]) expect(verify('sslclient', c), c).toMatchObject({ ok: true });
    expect(verify('sslserver', server.cert)).toMatchObject({ ok: true });
    for (const c of [user.cert, device.cert]) {
      const r = verify('sslserver', c);
      expect(r.ok).toBe(false);
      expect(r.text).toMatch(/(unsuitable|unsupported) certificate purpose/);
    }
    const r = verify('sslclient', server.cert);
    expect(r.ok).toBe(false);
  });

  it('gives each certificate AKI = issuing SKI, SKI, critical key usage, EKU, CA:FALSE, CDP and AIA', () => {
    const issuingSki = extension(x509Text(chain.issuing), 'X509v3 Subject Key Identifier');
    expect(issuingSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    const ekus = { user: 'TLS Web Client Authentication', device: 'TLS Web Client Authentication', server: 'TLS Web Server Authentication' };
    const skis = new Set<string>();
    for (const [name, c] of Object.entries({ user, device, server })) {
      const text = x509Text(c.cert);
      expect(extension(text, 'X509v3 Authority Key Identifier'), name).toBe(issuingSki);
      const ski = extension(text, 'X509v3 Subject Key Identifier')!;
      expect(ski, name).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
      skis.add(ski);
      expect(extension(text, 'X509v3 Key Usage'), name).toBe('Digital Signature');
      expect(isCritical(text, 'X509v3 Key Usage'), name).toBe(true);
      expect(extension(text, 'X509v3 Extended Key Usage'), name).toBe(ekus[name as keyof typeof ekus]);
      expect(extension(text, 'X509v3 Basic Constraints'), name).toBe('CA:FALSE');
      expect(isCritical(text, 'X509v3 Basic Constraints'), name).toBe(true);
      expect(extension(text, 'X509v3 CRL Distribution Points'), name).toBe(`Full Name:\nURI:${data.base}/crl/issuing.crl`);
      expect(extension(text, 'Authority Information Access'), name)
        .toBe(`OCSP - URI:${data.base}/ocsp\nCA Issuers - URI:${data.base}/ca/issuing.crt`);
      expect(text, name).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
      expect(text, name).toMatch(/NIST CURVE: P-256/);
      // The SKI is the key's: the key file written beside the certificate is its private half.
      expect(publicKeyOfKey(readFileSync(c.key, 'utf8')), name).toBe(publicKeyOfCert(c.cert));
    }
    expect(skis.size).toBe(3);
  });

  it('records the certificates with their profile and user', () => {
    const rows = listCerts(data.dir);
    const bySerial = new Map(rows.map((r) => [r.serial, r]));
    const u = bySerial.get(serialOf(user.cert).toLowerCase())!;
    expect(u).toMatchObject({ profile: 'user', user: 'alice', commonName: 'Alice Example', status: 'valid' });
    expect(bySerial.get(serialOf(server.cert).toLowerCase())).toMatchObject({ profile: 'server', status: 'valid' });
  });

  it('writes the key 0600 as PKCS#8, and the certificate without group/other write', () => {
    expect(statSync(user.key).mode & 0o777).toBe(0o600);
    expect(statSync(user.cert).mode & 0o022).toBe(0);
    expect(readFileSync(user.key, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(splitPem(readFileSync(user.cert, 'utf8'))).toHaveLength(1);
  });

  it('refuses a SAN the profile does not take, and a malformed one, with exit 1', () => {
    const before = certCount(data.dir);
    const a = out('pem');
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--dns', 'x.example',
      '--out-cert', a, '--out-key', out('key')]), 1, /user profile does not take a dns name/);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'server', '--cn', 'x', '--ip', '300.1.1.1',
      '--out-cert', out('pem'), '--out-key', out('key')]), 1, /300\.1\.1\.1/);
    expect(existsSync(a)).toBe(false);
    expect(certCount(data.dir)).toBe(before);
  });
});

describe('cert issue: serials, lifetimes, key types', () => {
  it('uses 128-bit serials, unique over many issues run at once', async () => {
    const runs = await Promise.all(Array.from({ length: 12 }, (_, i) => authboxAsync(['cert', 'issue', '--data', data.dir,
      '--profile', 'device', '--cn', `bulk-${i}`, '--out-cert', out('pem'), '--out-key', out('key')])));
    for (const r of runs) expect(r.status, r.stderr).toBe(0);
    const rows = listCerts(data.dir);
    expect(rows.filter((r) => r.commonName.startsWith('bulk-'))).toHaveLength(12);
    const serials = rows.map((r) => r.serial);
    expect(new Set(serials).size).toBe(serials.length);
    // 16 octets of DER INTEGER content: the top byte is non-zero and below 0x80.
    for (const s of serials) expect(s, s).toMatch(/^[1-7][0-9a-f]{31}$/);
    // And as openssl reads one of them.
    const c = issue(['--profile', 'device', '--cn', 'serial-check']).cert;
    const hex = serialOf(c);
    expect(hex).toMatch(/^[0-9A-F]{32}$/);
    const der = opensslOk(['asn1parse', '-in', c, '-i']);
    expect(der).toMatch(new RegExp(`INTEGER\\s+:${hex}`));
  });

  it('--days 30 gives a certificate that ends in about 30 days', () => {
    const c = issue(['--profile', 'user', '--cn', 'short', '--days', '30']);
    expect(c.stdout).toMatch(/valid until/);
    // openssl -checkend N: exit 0 when the certificate is still valid N seconds from now.
    expect(openssl(['x509', '-in', c.cert, '-noout', '-checkend', String(30 * DAY - 3600)]).status).toBe(0);
    expect(openssl(['x509', '-in', c.cert, '-noout', '-checkend', String(30 * DAY + 3600)]).status).toBe(1);
    // The default for the user profile is a year, not 30 days.
    const d = issue(['--profile', 'user', '--cn', 'default-days']);
    expect(openssl(['x509', '-in', d.cert, '-noout', '-checkend', String(364 * DAY)]).status).toBe(0);
    expect(openssl(['x509', '-in', d.cert, '-noout', '-checkend', String(366 * DAY)]).status).toBe(1);
  });

  it('refuses --days beyond the profile maximum with exit 1, and --days 0 or a non-number', () => {
    const before = certCount(data.dir);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'server', '--cn', 'long.example', '--days', '826',
      '--out-cert', out('pem'), '--out-key', out('key')]), 1, /--days.*825/);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'long', '--days', '1827',
      '--out-cert', out('pem'), '--out-key', out('key')]), 1, /--days.*1826/);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'zero', '--days', '0',
      '--out-cert', out('pem'), '--out-key', out('key')]), 1, /--days/);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'nan', '--days', 'ten',
      '--out-cert', out('pem'), '--out-key', out('key')]), 2, /--days.*ten/);
    expect(certCount(data.dir)).toBe(before);
  });

  it('--key-type rsa-2048 gives an RSA key with keyEncipherment; ec-p384 a P-384 key', () => {
    const rsa = issue(['--profile', 'server', '--cn', 'rsa.example', '--key-type', 'rsa-2048']);
    const text = x509Text(rsa.cert);
    expect(text).toMatch(/Public Key Algorithm: rsaEncryption[\s\S]*Public-Key: \(2048 bit\)/);
    expect(extension(text, 'X509v3 Key Usage')).toBe('Digital Signature, Key Encipherment');
    // The issuing CA (P-256) still signs it.
    expect(text).toMatch(/Signature Algorithm: ecdsa-with-SHA256/);
    expect(verify('sslserver', rsa.cert).ok).toBe(true);
    expect(publicKeyOfKey(readFileSync(rsa.key, 'utf8'))).toBe(publicKeyOfCert(rsa.cert));
    // With no DNS or IP SAN given, a host-name CN becomes the server certificate's DNS SAN.
    expect(extension(text, 'X509v3 Subject Alternative Name')).toBe('DNS:rsa.example');

    const p384 = issue(['--profile', 'device', '--cn', 'p384', '--key-type', 'ec-p384']);
    const t384 = x509Text(p384.cert);
    expect(t384).toMatch(/NIST CURVE: P-384/);
    expect(extension(t384, 'X509v3 Key Usage')).toBe('Digital Signature');
  });

  it('does not keep the generated key: its PKCS#8 bytes are nowhere in the database', () => {
    const c = issue(['--profile', 'device', '--cn', 'key-at-rest']);
    const der = Buffer.from(readFileSync(c.key, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(der.length).toBeGreaterThan(100);
    const db = readFileSync(join(data.dir, 'authbox.db'));
    const wal = join(data.dir, 'authbox.db-wal');
    const stored = existsSync(wal) ? Buffer.concat([db, readFileSync(wal)]) : db;
    expect(stored.includes(der)).toBe(false);
    // The private scalar (the 32 bytes after the ECPrivateKey OCTET STRING header) neither.
    const at = der.indexOf(Buffer.from('0201010420', 'hex'));
    expect(at).toBeGreaterThan(0);
    expect(stored.includes(der.subarray(at + 5, at + 37))).toBe(false);
  });
});

describe('cert issue: PKCS#12', () => {
  let modern: string;
  let legacy: string;

  beforeAll(() => {
    modern = out('p12');
    legacy = out('p12');
    authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'p12 user', '--user', 'bob',
      '--out-p12', modern, '--p12-password', PW]);
    const pwFile = out('txt');
    writeFileSync(pwFile, `${PW}\n`);
    authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', 'old-phone', '--dns', 'old-phone.example',
      '--out-p12', legacy, '--p12-password-file', pwFile, '--legacy-p12']);
  });

  it('writes AES-256-CBC/PBKDF2 with an HMAC-SHA-256 MAC by default, file mode 0600', () => {
    const r = openssl(['pkcs12', '-info', '-noout', '-in', modern, '-passin', `pass:${PW}`]);
    expect(r.status, r.stderr).toBe(0);
    const info = r.stdout + r.stderr;
    expect(info).toMatch(/^MAC: sha256/m);
    expect(info).toMatch(/Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC/);
    expect(info).toMatch(/PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC/);
    expect(info).not.toMatch(/3DES|TripleDES|RC2/i);
    expect(statSync(modern).mode & 0o777).toBe(0o600);
  });

  it('writes 3DES with a SHA-1 MAC with --legacy-p12 (password read from a file)', () => {
    const r = openssl(['pkcs12', '-info', '-noout', '-in', legacy, '-passin', `pass:${PW}`]);
    expect(r.status, r.stderr).toBe(0);
    const info = r.stdout + r.stderr;
    expect(info).toMatch(/^MAC: sha1/m);
    expect(info).toMatch(/Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
    expect(info).not.toMatch(/AES/);
    expect(statSync(legacy).mode & 0o777).toBe(0o600);
  });

  it('does not open with a wrong password', () => {
    for (const f of [modern, legacy]) {
      const r = openssl(['pkcs12', '-info', '-noout', '-in', f, '-passin', 'pass:wrong']);
      expect(r.status, f).not.toBe(0);
      expect(r.stderr).toMatch(/Mac verify error/);
    }
  });

  it.each([['default', () => modern], ['legacy', () => legacy]])('%s: holds the key of the certificate, and the chain', (_, file) => {
    const p12 = file();
    const leaf = opensslOk(['pkcs12', '-in', p12, '-passin', `pass:${PW}`, '-clcerts', '-nokeys']);
    const key = opensslOk(['pkcs12', '-in', p12, '-passin', `pass:${PW}`, '-nocerts', '-nodes']);
    const cas = opensslOk(['pkcs12', '-in', p12, '-passin', `pass:${PW}`, '-cacerts', '-nokeys']);
    const leafPem = out('pem');
    writeFileSync(leafPem, leaf);
    expect(publicKeyOfKey(key)).toBe(publicKeyOfCert(leafPem));
    // The chain inside is the CA's: the issuing CA and the root, byte for byte.
    const norm = (pem: string): string => pem.replace(/\s+/g, '');
    const inside = splitPem(cas).map(norm).sort();
    const expected = splitPem(readFileSync(chain.chain, 'utf8')).map(norm).sort();
    expect(inside).toEqual(expected);
    // And the certificate inside verifies with that chain.
    const casPem = out('pem');
    writeFileSync(casPem, cas);
    const v = openssl(['verify', '-CAfile', chain.root, '-untrusted', casPem, '-purpose', 'sslclient', leafPem]);
    expect(v.status, v.stderr).toBe(0);
  });

  it('needs a password for --out-p12 (exit 2)', () => {
    const before = certCount(data.dir);
    const p = out('p12');
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'nopw', '--out-p12', p]), 2, /--p12-password/);
    expect(existsSync(p)).toBe(false);
    expect(certCount(data.dir)).toBe(before);
  });
});

describe('cert issue: output files', () => {
  it.each(['--out-p12', '--out-cert', '--out-key'])('refuses an existing %s file: exit 1, file kept, nothing issued', (which) => {
    const existing = out('existing');
    writeFileSync(existing, 'precious');
    const before = certCount(data.dir);
    const files: Record<string, string> = which === '--out-p12'
      ? { '--out-p12': existing }
      : { '--out-cert': out('pem'), '--out-key': out('key'), [which]: existing };
    const r = authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'clobber', '--p12-password', PW,
      ...Object.entries(files).flat()]);
    expectRefusal(r, 1, /already exists/);
    expect(r.stderr).toContain(existing);
    expect(readFileSync(existing, 'utf8')).toBe('precious');
    for (const f of Object.values(files)) if (f !== existing) expect(existsSync(f), f).toBe(false);
    expect(certCount(data.dir)).toBe(before);
  });

  it('refuses an output file in a folder that does not exist, issuing nothing', () => {
    const before = certCount(data.dir);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'nowhere',
      '--out-p12', join(work.path, 'no/such/dir/x.p12'), '--p12-password', PW]), 1, /does not exist/);
    expect(certCount(data.dir)).toBe(before);
  });

  it('refuses the same file for the certificate and the key, issuing nothing', () => {
    const before = certCount(data.dir);
    const same = out('pem');
    const r = authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'same', '--out-cert', same, '--out-key', same]);
    expectRefusal(r, 2, /different files/);
    expect(existsSync(same)).toBe(false);
    expect(certCount(data.dir)).toBe(before);
  });
});

describe('cert issue --user', () => {
  it('refuses a user that does not exist: exit 1, one line, no certificate, no change row, no file', () => {
    const before = certCount(data.dir);
    const seq = (): number => withDatabase(data.dir, (db) => (db.prepare('SELECT max(seq) AS s FROM changes').get() as { s: number }).s);
    const changesBefore = seq();
    const cert = out('pem');
    const key = out('key');
    const r = authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'Ghost', '--user', 'ghost',
      '--out-cert', cert, '--out-key', key]);
    expectRefusal(r, 1, /^authbox cert issue: no such user: ghost \(add it with authbox user add\)$/m);
    expect(r.stdout).toBe('');
    expect(existsSync(cert)).toBe(false);
    expect(existsSync(key)).toBe(false);
    expect(certCount(data.dir)).toBe(before);
    expect(seq()).toBe(changesBefore);
  });

  it('finds the user whatever the case of the name', () => {
    expect(issue(['--profile', 'user', '--cn', 'Carol again', '--user', 'CAROL']).stdout).toMatch(/issued user certificate/);
  });
});
