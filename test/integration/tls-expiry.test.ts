// An imported TLS server certificate that lapses soon, end to end: an external CA and a server
// certificate valid 5 days made with the openssl CLI, imported with `authbox tls import` for every
// listener; the expiry warning goes out once (SMTP sink and signed webhook), not on the next run;
// `authbox cert expiring`, GET /api/v1/certificates/expiring and the dashboard of a running daemon
// list it once with kind 'server-tls' (Chromium shows the dashboard's row in English and Japanese,
// with no link to a certificate page); /metrics gives its days per listener; after `authbox tls
// renew` (authbox's own certificate again) it is gone from every list.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { WEBHOOK_SIGNATURE_HEADER } from '../../src/core/expiry-channels.js';
import { silentLogger } from '../../src/core/logger.js';
import { expiryNotifier } from '../../src/expiry.js';
import { openPki, type Pki } from '../../src/main.js';
import { authboxOk, daemonLogged, initDataDir, sleep, startServe, tempDir, withDatabase, type RunningDaemon } from '../helpers/authbox.js';
import { consoleSpki, launchBrowser, login, newContext, screenshot } from '../helpers/browser.js';
import { externalCaKit } from '../helpers/external-ca.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const HOOK_SECRET = 'tls-hook-key-0123456789';
const ISSUER = 'O=Other Corp, CN=External Issuing CA';

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let sink: SmtpSink;
let hook: Server;
const posts: { headers: IncomingHttpHeaders; body: string }[] = [];
let daemon: RunningDaemon | undefined;
let adminPort: number;
let token: string;
/** What the test's HTTPS client trusts: the external root (the imported certificate) and authbox's chain (after `tls renew`). */
let trusted: string[];
/** The imported certificate's serial, as openssl prints it. */
let serial: string;

const f = (name: string): string => join(files.path, name);

/** An external CA (root and issuing) and a server certificate it issued, valid for 5 days. */
function externalCa(): void {
  const { ok, csr, sign } = externalCaKit(files.path);
  csr('root', '/O=Other Corp/CN=External Root CA');
  sign('root', 'ca', undefined, '3650');
  csr('inter', '/O=Other Corp/CN=External Issuing CA');
  sign('inter', 'ca', 'root', '1825');
  csr('server', '/CN=authbox.other-corp.example');
  sign('server', 'server', 'inter', '5');
  serial = /^serial=([0-9A-F]+)$/m.exec(ok(['x509', '-in', 'server.pem', '-noout', '-serial']))![1]!.toLowerCase().replace(/^0+/, '');
}

function https(path: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: '127.0.0.1', port: adminPort, method: 'GET', path: `/api/v1${path}`, servername: 'localhost', ca: trusted,
      headers: { authorization: `Bearer ${token}` },
    }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(body) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The mail's text with its quoted-printable encoding (RFC 2045 §6.7: soft breaks, =XX) undone. */
function quotedPrintable(text: string): string {
  return Buffer.from(text.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
}

async function metrics(): Promise<string> {
  const r = await fetch(`${daemon!.base}/metrics`);
  expect(r.status).toBe(200);
  return r.text();
}

const tlsDays = (text: string, use: string, source: string): number | undefined => {
  const m = new RegExp(`^authbox_tls_certificate_expiry_days\\{use="${use}",source="${source}"\\} (-?[0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

beforeAll(async () => {
  sink = await startSmtpSink();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      posts.push({ headers: req.headers, body });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));

  data = await initDataDir();
  files = tempDir('authbox-tls-expiry-');
  externalCa();
  const imported = authboxOk(['tls', 'import', '--data', data.dir, '--cert', f('server.pem'), '--key', f('server.key'), '--chain', f('inter.pem'), '--for', 'all']);
  expect(imported).toContain('for every listener');
  trusted = [readFileSync(f('root.pem'), 'utf8'), authboxOk(['ca', 'cert', '--data', data.dir])];
  const pw = f('operator.pw');
  writeFileSync(pw, 'operator-password-1\n');
  authboxOk(['admin', 'add', '--data', data.dir, '--username', 'audrey', '--role', 'auditor', '--password-file', pw]);
  token = authboxOk(['admin', 'token', '--data', data.dir, '--username', 'audrey', '--name', 'test']).trim();
  writeFileSync(f('hook.secret'), HOOK_SECRET + '\n');
  const file = join(data.dir, 'authbox.json');
  writeFileSync(file, JSON.stringify({
    ...JSON.parse(readFileSync(file, 'utf8')),
    expiry: {
      days: [30, 7, 1],
      smtp: { host: '127.0.0.1', port: sink.port, starttls: false, from: 'authbox@city.test', to: ['ops@city.test'] },
      webhook: { url: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`, secretFile: f('hook.secret') },
    },
  }));
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  await sink?.close();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  data?.cleanup();
  files?.cleanup();
});

describe('an imported TLS server certificate that expires in 5 days', () => {
  it('is warned about once per threshold and channel (e-mail and signed webhook), not again on the next run', async () => {
    let pki: Pki | undefined;
    try {
      pki = openPki(loadConfig(data.dir, {}));
      const notifier = () => expiryNotifier(pki!, silentLogger);
      expect(await notifier().run()).toEqual({ sent: { smtp: 1, webhook: 1 }, failed: [] });
      expect(sink.messages).toHaveLength(1);
      const mail = quotedPrintable(sink.messages[0]!.data);
      expect(mail).toMatch(/^Subject: \[authbox\] 1 certificate of Test City expires within 7 days/m);
      expect(mail).toMatch(/^- imported TLS server certificate of the console and EAP\/RadSec \(CN=authbox\.other-corp\.example\)/m);
      expect(mail).toContain(`serial ${serial} issued by ${ISSUER}`);
      expect(mail).toContain('authbox tls import');

      expect(posts).toHaveLength(1);
      const got = Buffer.from(String(posts[0]!.headers[WEBHOOK_SIGNATURE_HEADER]));
      const want = Buffer.from(`sha256=${createHmac('sha256', HOOK_SECRET).update(posts[0]!.body).digest('hex')}`);
      expect(got.length === want.length && timingSafeEqual(got, want)).toBe(true);
      // Listed once although both listeners present it.
      expect(JSON.parse(posts[0]!.body).items).toEqual([expect.objectContaining({
        kind: 'server-tls', ca: ISSUER, serial, name: 'console, EAP/RadSec', threshold: 7,
      })]);

      expect(await notifier().run()).toEqual({ sent: {}, failed: [] });
      expect(sink.messages).toHaveLength(1);
      expect(posts).toHaveLength(1);
    } finally {
      pki?.close();
    }
    // What was sent is remembered under ca_id 0 (its CA is not authbox's): 30 and 7 days, on each channel.
    expect(withDatabase(data.dir, (db) => db.prepare('SELECT kind, ca_id AS caId, serial, days, channel FROM expiry_notices ORDER BY channel, days').all())).toEqual([
      { kind: 'server-tls', caId: 0, serial, days: 7, channel: 'smtp' }, { kind: 'server-tls', caId: 0, serial, days: 30, channel: 'smtp' },
      { kind: 'server-tls', caId: 0, serial, days: 7, channel: 'webhook' }, { kind: 'server-tls', caId: 0, serial, days: 30, channel: 'webhook' },
    ]);
  });

  it('`authbox cert expiring` lists it once, with its issuer and listeners', () => {
    const rows = JSON.parse(authboxOk(['cert', 'expiring', '--data', data.dir, '--json'])) as Record<string, unknown>[];
    expect(rows).toEqual([expect.objectContaining({
      kind: 'server-tls', ca: ISSUER, serial, name: 'console, EAP/RadSec', listeners: ['admin', 'radius'], subject: 'CN=authbox.other-corp.example',
    })]);
    expect([4, 5]).toContain(rows[0]!.daysLeft);
    expect(authboxOk(['cert', 'expiring', '--data', data.dir])).toMatch(/\nserver-tls\s+console, EAP\/RadSec\s+-\s+-\s+[0-9a-f]+\s+O=Other Corp, CN=External Issuing CA/);
  });

  it('a running daemon lists it in the API and the dashboard, and /metrics gives its days per listener', async () => {
    daemon = await startServe(data.dir, data.port, ['--http-workers', '1']);
    // The console may start listening just after the start-up banner.
    await daemonLogged(daemon, /admin console listening/, 0, 10_000);
    const m = /"address":"127\.0\.0\.1:(\d+)"[^\n]*admin console listening/.exec(daemon.output());
    if (!m) throw new Error(`no admin console address in: ${daemon.output()}`);
    adminPort = Number(m[1]);
    const r = await https('/certificates/expiring');
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([expect.objectContaining({
      kind: 'server-tls', caId: 0, caName: ISSUER, serial, name: 'console, EAP/RadSec', listeners: ['admin', 'radius'],
    })]);
    expect([4, 5]).toContain(r.json.items[0].daysLeft);
    const dash = await https('/dashboard');
    expect(dash.json.expiring).toEqual([expect.objectContaining({ kind: 'server-tls', serial })]);

    const text = await metrics();
    expect(text).toContain('# TYPE authbox_tls_certificate_expiry_days gauge');
    for (const use of ['admin', 'radius']) {
      const d = tlsDays(text, use, 'imported');
      expect(d, use).toBeGreaterThan(4);
      expect(d, use).toBeLessThanOrEqual(5);
      expect(tlsDays(text, use, 'issued'), use).toBeUndefined();
    }
  }, 60_000);

  it('the dashboard in Chromium shows it, in English and Japanese, with its issuer and no certificate page link', async () => {
    const rootPem = readFileSync(f('root.pem'), 'utf8');
    // Chromium trusts exactly the key the console presents, read over a connection verified against the external root.
    const browser = await launchBrowser(await consoleSpki(adminPort, rootPem));
    try {
      const expected = {
        'en-US': { kind: 'TLS server certificate (imported)', name: `Console, EAP/RadSec${'Issued by ' + ISSUER}` },
        'ja-JP': { kind: 'TLS サーバー証明書（インポート）', name: `管理コンソール、EAP/RadSec${'発行元: ' + ISSUER}` },
      };
      for (const [locale, want] of Object.entries(expected)) {
        const context = await newContext(browser, `https://127.0.0.1:${adminPort}`, locale);
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await login(page, 'audrey', 'operator-password-1');
        await page.goto('/#/dashboard');
        const row = page.getByTestId('dash-expiring-server-tls');
        await row.waitFor();
        const cells = await row.locator('td').allTextContents();
        expect(cells.slice(0, 2), locale).toEqual([want.kind, want.name]);
        expect(await page.getByTestId('dash-expiring').locator('a').count(), locale).toBe(0);
        await screenshot(page, `tls-expiry-dashboard-${locale}`);
        expect(errors, locale).toEqual([]);
        await context.close();
      }
    } finally {
      await browser.close();
    }
  }, 90_000);

  it('after `authbox tls renew` it is listed nowhere, and /metrics shows the issued certificates', async () => {
    authboxOk(['tls', 'renew', '--data', data.dir]);
    const deadline = Date.now() + 5000;
    let text = await metrics();
    while (tlsDays(text, 'admin', 'issued') === undefined && Date.now() < deadline) {
      await sleep(100);
      text = await metrics();
    }
    for (const use of ['admin', 'radius']) {
      expect(tlsDays(text, use, 'issued'), use).toBeGreaterThan(300);
      expect(tlsDays(text, use, 'imported'), use).toBeUndefined();
    }
    const r = await https('/certificates/expiring');
    expect(r.status).toBe(200);
    expect(r.json.items).toEqual([]);
    expect((await https('/dashboard')).json.expiring).toEqual([]);
    expect(authboxOk(['cert', 'expiring', '--data', data.dir])).toBe('nothing expires within 30 days\n');
  }, 30_000);
});
