// The console API in a running daemon (`authbox serve`, HTTPS verified against authbox's
// root): the dashboard reports the daemon's listeners; a certificate issued from the console
// as a PKCS#12 opens with openssl, and the lost-device action makes `openssl ocsp` answer
// "revoked" for it within a second or two.
import { request } from 'node:https';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, openssl, startServe, type RunningDaemon } from '../helpers/authbox.js';
import { ocspQuery, pollUntil, statusOf, writeCaFiles, type CaFiles } from '../helpers/pki.js';

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon;
let ca: CaFiles;
let adminPort: number;
let adminToken: string;
let auditorToken: string;

function https(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; bytes: Buffer; json: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request({
      host: '127.0.0.1', port: adminPort, method, path: `/api/v1${path}`, servername: 'localhost', ca: ca.chainPem,
      headers: { authorization: `Bearer ${token}`, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        let json: unknown;
        try { json = JSON.parse(bytes.toString('utf8')); } catch { json = undefined; }
        resolve({ status: res.statusCode!, bytes, json });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

beforeAll(async () => {
  data = await initDataDir();
  ca = writeCaFiles(data.dir, join(data.dir, '..'));
  const pw = join(data.dir, '..', 'pw');
  writeFileSync(pw, 'operator-password-1\n');
  authboxOk(['admin', 'add', '--data', data.dir, '--username', 'root', '--role', 'admin', '--password-file', pw]);
  authboxOk(['admin', 'add', '--data', data.dir, '--username', 'audrey', '--role', 'auditor', '--password-file', pw]);
  adminToken = authboxOk(['admin', 'token', '--data', data.dir, '--username', 'root', '--name', 'test']).trim();
  auditorToken = authboxOk(['admin', 'token', '--data', data.dir, '--username', 'audrey', '--name', 'test']).trim();
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'carol password 1']);
  daemon = await startServe(data.dir, data.port);
  const m = /"address":"127\.0\.0\.1:(\d+)"[^\n]*admin console listening/.exec(daemon.output());
  if (!m) throw new Error(`no admin console address in: ${daemon.output()}`);
  adminPort = Number(m[1]);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('the console API in a running daemon', () => {
  it('the dashboard lists the listeners, each up', async () => {
    const r = await https('GET', '/dashboard', auditorToken);
    expect(r.status).toBe(200);
    const byName = new Map((r.json.listeners as { name: string; address: string; up: boolean }[]).map((l) => [l.name, l]));
    expect(byName.get('http')).toEqual({ name: 'http', address: `127.0.0.1:${data.port}`, up: true });
    expect(byName.get('admin')).toEqual({ name: 'admin', address: `127.0.0.1:${adminPort}`, up: true });
    expect(byName.get('radius-auth')?.up).toBe(true);
    expect(byName.get('radius-acct')?.up).toBe(true);
  });

  it('issue as PKCS#12, then lost device: OCSP answers revoked', async () => {
    const issued = await https('POST', '/certificates', adminToken, { username: 'carol' });
    expect(issued.status).toBe(201);
    const p12 = await https('GET', issued.json.download.replace('/api/v1', ''), adminToken);
    expect(p12.status).toBe(200);
    const dir = join(data.dir, '..');
    writeFileSync(join(dir, 'carol.p12'), p12.bytes);
    const certOut = openssl(['pkcs12', '-in', join(dir, 'carol.p12'), '-passin', `pass:${issued.json.password}`, '-nokeys', '-clcerts', '-out', join(dir, 'carol.pem')]);
    expect(certOut.status, certOut.stderr).toBe(0);
    const cert = join(dir, 'carol.pem');
    await pollUntil('OCSP good', 10_000, () => (statusOf(ocspQuery(ca, data.base, ['-cert', cert]).output, cert) === 'good' ? true : undefined));
    const lost = await https('POST', '/lost-device', adminToken, { username: 'carol' });
    expect(lost.status).toBe(200);
    expect(lost.json.revoked.map((c: { serial: string }) => c.serial)).toEqual([issued.json.serial]);
    const started = Date.now();
    const out = await pollUntil('OCSP revoked', 10_000, () => {
      const q = ocspQuery(ca, data.base, ['-cert', cert]);
      return statusOf(q.output, cert) === 'revoked' ? q.output : undefined;
    });
    expect(out).toMatch(/Reason: keyCompromise/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
