// appliance/install.sh for real, into a staging root (--prefix, as root): the app with
// production dependencies only, a data folder made by `authbox init` whose master key moved to
// etc/authbox (root, 0600), a second run that changes no data; then the installed daemon
// started the way systemd starts it (the key as a credential in $CREDENTIALS_DIRECTORY).
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, sleep } from '../helpers/authbox.js';

const ROOT = resolve(import.meta.dirname, '../..');
const INSTALL = join(ROOT, 'appliance/install.sh');
// The suite runs as root after `make build` (make test does both): neither is optional here.
describe('install.sh --prefix', () => {
  it('runs where it can install: as root, with the app built', () => {
    expect(process.getuid?.(), 'the appliance install test needs root').toBe(0);
    expect(existsSync(join(ROOT, 'dist/cli/main.js')), 'build first (make build)').toBe(true);
  });

  const prefix = mkdtempSync(join(tmpdir(), 'authbox-prefix-'));
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));
  const install = (): { status: number | null; out: string } => {
    const r = spawnSync('bash', [INSTALL, '--prefix', prefix, '--org', 'Test City', '--public-url', 'http://127.0.0.1:8080'],
      { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, out: r.stdout + r.stderr };
  };
  const mode = (p: string): string => (statSync(p).mode & 0o777).toString(8);

  it('installs the app, a data folder and the key kept apart', () => {
    const r = install();
    expect(r.status, r.out).toBe(0);
    const app = join(prefix, 'opt/authbox');
    expect(existsSync(join(app, 'dist/cli/main.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/better-sqlite3'))).toBe(true);
    // The console's pages (served as they are, no build step) and the QR code maker.
    expect(existsSync(join(app, 'src/admin-ui/web/index.html'))).toBe(true);
    expect(existsSync(join(app, 'src/admin-ui/web/pages/lost-device.js'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/qrcode'))).toBe(true);
    expect(existsSync(join(app, 'node_modules/playwright-core'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(prefix, 'opt/authbox.new'))).toBe(false);
    const data = join(prefix, 'var/lib/authbox');
    expect(mode(data)).toBe('700');
    expect(existsSync(join(data, 'authbox.json'))).toBe(true);
    expect(existsSync(join(data, 'master.key'))).toBe(false);
    const key = join(prefix, 'etc/authbox/master.key');
    expect(mode(key)).toBe('600');
    expect(statSync(key).uid).toBe(0);
    expect(mode(join(prefix, 'etc/authbox'))).toBe('750');
    expect(readFileSync(join(prefix, 'etc/systemd/system/authbox.service'), 'utf8'))
      .toBe(readFileSync(join(ROOT, 'appliance/authbox.service'), 'utf8'));
    expect(readFileSync(join(prefix, 'usr/local/sbin/authbox'), 'utf8')).toContain('AUTHBOX_MASTER_KEY_FILE=/etc/authbox/master.key');
  });

  it('a second run keeps the data folder and the key', () => {
    const key = readFileSync(join(prefix, 'etc/authbox/master.key'));
    const db = statSync(join(prefix, 'var/lib/authbox/authbox.db')).mtimeMs;
    const r = install();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('exists: kept as it is');
    expect(readFileSync(join(prefix, 'etc/authbox/master.key'))).toEqual(key);
    expect(statSync(join(prefix, 'var/lib/authbox/authbox.db')).mtimeMs).toBe(db);
  });

  it('the installed daemon starts with the key as a systemd credential', async () => {
    const creds = join(prefix, 'run-credentials');
    mkdirSync(creds, { mode: 0o700 });
    copyFileSync(join(prefix, 'etc/authbox/master.key'), join(creds, 'authbox-master-key'));
    const port = await freePort();
    const proc = spawn(process.execPath, [join(prefix, 'opt/authbox/bin/authbox'), 'serve', '--data', join(prefix, 'var/lib/authbox'),
      '--http', `127.0.0.1:${port}`, '--http-workers', '1', '--radius', '127.0.0.1:0', '--radius-acct', '127.0.0.1:0', '--admin', '127.0.0.1:0'],
    { env: { ...process.env, CREDENTIALS_DIRECTORY: creds }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      let status = 0;
      for (let i = 0; i < 200 && status !== 200 && proc.exitCode === null; i++) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status, () => 0);
        if (status !== 200) await sleep(50);
      }
      expect(status, out).toBe(200);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).toBe(200);
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});
