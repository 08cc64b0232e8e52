// The console over HTTPS with authbox's own certificate, verified against authbox's root CA.
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startAdminServer } from '../../src/admin-server.js';
import { toPem } from '../../src/ca/pem.js';
import type { Actor } from '../../src/ca/storage.js';
import { silentLogger } from '../../src/core/logger.js';
import { initDataDir, openPkiAt } from '../../src/main.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const tmp = mkdtempSync(join(tmpdir(), 'authbox-admin-https-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it('serves /api/v1 over TLS with the server certificate chaining to the root', async () => {
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'HTTPS Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  const file = join(dataDir, 'authbox.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), admin: { listen: '127.0.0.1:0' } }));
  const pki = openPkiAt(dataDir);
  const server = await startAdminServer(pki, silentLogger);
  try {
    const root = pki.authority.cas().find((c) => c.record.role === 'root')!.record.certDer;
    const { status, body, hsts } = await new Promise<{ status: number; body: string; hsts: string | undefined }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.address.port, path: '/api/v1/openapi.json', servername: 'localhost', ca: toPem('CERTIFICATE', root) }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, body: text, hsts: res.headers['strict-transport-security'] as string | undefined }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(JSON.parse(body).openapi).toBe('3.1.0');
    expect(hsts).toMatch(/max-age/);
  } finally {
    await server.close();
    pki.close();
  }
});
