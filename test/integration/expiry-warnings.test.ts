// Expiry warnings end to end: a certificate issued by the CLI with a short lifetime, the
// notifier run over the data folder with a moving clock, a local SMTP sink and a local
// webhook receiver: one mail (and one signed POST) per threshold, none twice, a failed
// channel tried again; and `authbox cert expiring`.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { WEBHOOK_SIGNATURE_HEADER } from '../../src/core/expiry-channels.js';
import { silentLogger } from '../../src/core/logger.js';
import { expiryNotifier } from '../../src/expiry.js';
import { openPki, type Pki } from '../../src/main.js';
import { authboxOk, initDataDir } from '../helpers/authbox.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const DAY = 86_400_000;
const HOOK_SECRET = 'hook-key-0123456789';

let data: Awaited<ReturnType<typeof initDataDir>>;
let sink: SmtpSink;
let hook: Server;
let hookPort: number;
const posts: { headers: IncomingHttpHeaders; body: string }[] = [];
let hookStatus = 200;
let pki: Pki;
let now = Date.now();
let serial: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString('utf8')));
    req.on('end', () => {
      posts.push({ headers: req.headers, body });
      res.writeHead(hookStatus).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookPort = (hook.address() as { port: number }).port;

  data = await initDataDir();
  const out = authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', 'laptop-17', '--days', '5',
    '--out-cert', join(data.dir, '..', 'laptop.pem'), '--out-key', join(data.dir, '..', 'laptop.key')]);
  serial = /certificate ([0-9a-f]+) for/.exec(out)![1]!;
  writeFileSync(join(data.dir, '..', 'hook.secret'), HOOK_SECRET + '\n');
  const file = join(data.dir, 'authbox.json');
  writeFileSync(file, JSON.stringify({
    ...JSON.parse(readFileSync(file, 'utf8')),
    expiry: {
      days: [30, 7, 1],
      smtp: { host: '127.0.0.1', port: sink.port, starttls: false, from: 'authbox@city.test', to: ['pki@city.test', 'ops@city.test'] },
      webhook: { url: `http://127.0.0.1:${hookPort}/hook`, secretFile: join(data.dir, '..', 'hook.secret') },
    },
  }));
  pki = openPki(loadConfig(data.dir, {}), () => new Date(now));
});

afterAll(async () => {
  pki?.close();
  await sink?.close();
  await new Promise<void>((r) => (hook ? hook.close(() => r()) : r()));
  data?.cleanup();
});

const notifier = () => expiryNotifier(pki, silentLogger, () => new Date(now));

function verifySignature(p: { headers: IncomingHttpHeaders; body: string }): boolean {
  const got = Buffer.from(String(p.headers[WEBHOOK_SIGNATURE_HEADER]));
  const want = Buffer.from(`sha256=${createHmac('sha256', HOOK_SECRET).update(p.body).digest('hex')}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

describe('expiry warnings', () => {
  it('sends one mail and one signed webhook for the most urgent threshold passed (7 days), and nothing twice', async () => {
    const first = await notifier().run();
    expect(first).toEqual({ sent: { smtp: 1, webhook: 1 }, failed: [] });
    expect(sink.messages).toHaveLength(1);
    const mail = sink.messages[0]!;
    expect(mail.from).toBe('authbox@city.test');
    expect(mail.to).toEqual(['pki@city.test', 'ops@city.test']);
    expect(mail.data).toMatch(/^Subject: \[authbox\] 1 certificate of Test City expires within 7 days/m);
    expect(mail.data).toContain('laptop-17');
    expect(mail.data).toContain(serial);

    expect(posts).toHaveLength(1);
    expect(verifySignature(posts[0]!)).toBe(true);
    const body = JSON.parse(posts[0]!.body) as { event: string; items: { serial: string; name: string; threshold: number; kind: string }[] };
    expect(body.event).toBe('certificates.expiring');
    expect(body.items).toEqual([expect.objectContaining({ kind: 'certificate', serial, name: 'laptop-17', threshold: 7 })]);

    expect(await notifier().run()).toEqual({ sent: {}, failed: [] });
    expect(sink.messages).toHaveLength(1);
    expect(posts).toHaveLength(1);
  });

  it('sends the 1-day warning once that threshold is passed; a failing webhook is tried again next run', async () => {
    now += 4.5 * DAY;
    hookStatus = 500;
    const r = await notifier().run();
    expect(r).toEqual({ sent: { smtp: 1 }, failed: ['webhook'] });
    expect(sink.messages).toHaveLength(2);
    expect(sink.messages[1]!.data).toMatch(/^Subject: .*within 1 day$/m);
    hookStatus = 200;
    expect(await notifier().run()).toEqual({ sent: { webhook: 1 }, failed: [] });
    expect(posts).toHaveLength(3);
    expect(verifySignature(posts[2]!)).toBe(true);
    expect((JSON.parse(posts[2]!.body) as { items: { threshold: number }[] }).items[0]!.threshold).toBe(1);
    expect(await notifier().run()).toEqual({ sent: {}, failed: [] });
    expect(sink.messages).toHaveLength(2);
    expect(posts).toHaveLength(3);
  });

  it('`authbox cert expiring` lists what expires within the days asked', () => {
    const rows = JSON.parse(authboxOk(['cert', 'expiring', '--data', data.dir, '--json'])) as { serial: string; name: string; kind: string; daysLeft: number }[];
    expect(rows).toEqual([expect.objectContaining({ kind: 'certificate', serial, name: 'laptop-17' })]);
    expect([4, 5]).toContain(rows[0]!.daysLeft);
    expect(authboxOk(['cert', 'expiring', '--data', data.dir, '--days', '3'])).toBe('nothing expires within 3 days\n');
    expect(authboxOk(['cert', 'expiring', '--data', data.dir])).toMatch(/^KIND\s+NAME.*\ncertificate\s+laptop-17\s+device/);
    // The CA certificates (years) and the OCSP signer (a year) show with a long enough window.
    const all = JSON.parse(authboxOk(['cert', 'expiring', '--data', data.dir, '--days', '40000', '--json'])) as { kind: string }[];
    expect(new Set(all.map((i) => i.kind))).toEqual(new Set(['certificate', 'ca', 'ocsp-signer']));
  });
});
