// `authbox tls import`: a server certificate from an external CA (made here with the openssl
// CLI) replaces authbox's own for the console, checked by `openssl s_client` against that CA
// only; refused files change nothing; an import while the daemon runs reaches new connections
// at once; EAP keeps authbox's certificate after an import for the console alone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEapolTest, TLS12, verdict } from '../helpers/eap.js';
import { externalCaKit } from '../helpers/external-ca.js';
import {
  authbox, authboxOk, freeUdpPort, initDataDir, openssl, sleep, startServe, tempDir, withDatabase, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
/** authbox's CA chain (what EAP clients trust). */
let authboxChain: string;

const f = (name: string): string => join(files.path, name);

/** Root and intermediate of an external CA, and server/client certificates it issued. */
function externalCa(): void {
  const { ok, csr, sign } = externalCaKit(files.path);
  csr('root', 'External Root CA');
  sign('root', 'ca');
  csr('inter', 'External Issuing CA');
  sign('inter', 'ca', 'root');
  csr('other-root', 'Unrelated Root CA');
  sign('other-root', 'ca');
  csr('server1', 'console-one.example', 'rsa');
  sign('server1', 'server', 'inter');
  csr('server2', 'console-two.example');
  sign('server2', 'server', 'inter');
  csr('expired', 'expired.example');
  sign('expired', 'server', 'inter', '-1');
  csr('client', 'client-only.example');
  sign('client', 'client', 'inter');
  ok(['pkey', '-in', 'server2.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.key']);
}

const show = (): string => authboxOk(['tls', 'show', '--data', data.dir]);
const importTls = (args: string[]) => authbox(['tls', 'import', '--data', data.dir, ...args]);
/** Rows that an import writes: keys, the TLS settings, audit. */
const footprint = (): unknown => withDatabase(data.dir, (db) => ({
  keys: db.prepare('SELECT count(*) AS n FROM keys').get(),
  settings: db.prepare("SELECT key, value FROM settings WHERE key LIKE 'tls.%' ORDER BY key").all(),
  audit: db.prepare("SELECT count(*) AS n FROM audit WHERE action LIKE 'tls.%'").get(),
}));

function adminPort(): number {
  return Number(/"address":"127\.0\.0\.1:(\d+)"[^\n]*admin console listening/.exec(daemon!.output())![1]);
}

/** What the console presents, verified by OpenSSL against `caFile` only (and for IP 127.0.0.1). */
function sClient(caFile: string): { status: number; out: string; subject?: string } {
  const r = openssl(['s_client', '-connect', `127.0.0.1:${adminPort()}`, '-CAfile', caFile, '-verify_return_error',
    '-verify_ip', '127.0.0.1', '-showcerts'], { input: '' });
  const out = r.stdout + r.stderr;
  return { status: r.status, out, subject: /^subject=(.*)$/m.exec(out)?.[1] };
}

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-tls-import-');
  externalCa();
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  authboxChain = f('authbox-chain.pem');
  writeFileSync(authboxChain, authboxOk(['ca', 'cert', '--data', data.dir]));
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('authbox tls import', () => {
  it('refuses what clients would refuse, each with its code, and changes nothing', () => {
    const before = show();
    expect(before).toMatch(/^admin: issued/m);
    expect(before).toMatch(/^radius: issued/m);
    const rows = footprint();
    const refusals: [string[], string][] = [
      [['--cert', f('server1.pem'), '--key', f('server2.key'), '--chain', f('inter.pem')], 'TLS_KEY_MISMATCH'],
      [['--cert', f('expired.pem'), '--key', f('expired.key'), '--chain', f('inter.pem')], 'TLS_CERT_NOT_VALID'],
      [['--cert', f('client.pem'), '--key', f('client.key'), '--chain', f('inter.pem')], 'TLS_CERT_PURPOSE'],
      [['--cert', f('server1.pem'), '--key', f('server1.key'), '--chain', f('other-root.pem')], 'TLS_CHAIN_INVALID'],
      [['--cert', f('server1.pem'), '--key', f('server1.key'), '--chain', f('root.pem')], 'TLS_CHAIN_INVALID'],
      [['--cert', f('server2.pem'), '--key', f('encrypted.key'), '--chain', f('inter.pem')], 'TLS_KEY_UNSUPPORTED'],
    ];
    for (const [args, code] of refusals) {
      const r = importTls(args);
      expect(r.status, `${code}: ${r.stdout}${r.stderr}`).toBe(1);
      expect(r.stderr).toContain(`(${code})`);
      expect(r.stderr).toContain('nothing changed');
      expect(show()).toBe(before);
      expect(footprint()).toEqual(rows);
    }
    expect(importTls(['--cert', f('server1.pem'), '--key', f('server1.key'), '--for', 'web']).status).toBe(2);
  });

  it('an import for the console: the console presents it with its own chain, EAP keeps authbox\'s', async () => {
    const r = importTls(['--cert', f('server1.pem'), '--key', f('server1.key'), '--chain', f('inter.pem'), '--for', 'admin']);
    expect(r.status, r.stderr).toBe(0);
    const shown = show();
    expect(shown).toMatch(/^admin: imported/m);
    expect(shown).toContain('subject:  CN=console-one.example');
    expect(shown).toContain('issuer:   CN=External Issuing CA');
    expect(shown).toMatch(/^radius: issued/m);
    withDatabase(data.dir, (db) => {
      const audit = db.prepare("SELECT actor, detail FROM audit WHERE action = 'tls.import'").all() as { actor: string; detail: string }[];
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.detail)).toMatchObject({ for: 'admin', subject: 'CN=console-one.example' });
      expect(audit[0]!.detail).not.toMatch(/PRIVATE/);
    });

    daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--admin', '127.0.0.1:0']);
    const s = sClient(f('root.pem'));
    expect(s.status, s.out).toBe(0);
    expect(s.out).toContain('Verify return code: 0 (ok)');
    expect(s.subject).toBe('CN = console-one.example');
    // The served chain is the imported one, not authbox's CA chain.
    expect(s.out).toContain('CN = External Issuing CA');
    expect(s.out).not.toContain('Test City');
    // Against authbox's own CA the console's certificate no longer verifies.
    expect(sClient(authboxChain).status).not.toBe(0);

    const eap = await runEapolTest({
      dir: files.path, caCert: authboxChain, port: authPort, secret: SECRET,
      network: ['eap=PEAP', 'identity="alice"', 'password="alice-Passw0rd"', `phase1="${TLS12}"`, 'phase2="auth=MSCHAPV2"'],
    });
    expect(verdict(eap), eap.stdout.slice(-3000)).toBe('SUCCESS');
    expect(eap.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
  }, 60_000);

  it('an import while the daemon runs reaches new connections within about two seconds', async () => {
    const r = importTls(['--cert', f('server2.pem'), '--key', f('server2.key'), '--chain', f('inter.pem')]);
    expect(r.status, r.stderr).toBe(0);
    expect(show()).toMatch(/^radius: imported/m);
    const started = Date.now();
    let s = sClient(f('root.pem'));
    while (s.subject !== 'CN = console-two.example' && Date.now() - started < 2500) {
      await sleep(100);
      s = sClient(f('root.pem'));
    }
    expect(s.subject, s.out).toBe('CN = console-two.example');
    expect(s.status, s.out).toBe(0);
    // EAP (imported for every listener) now presents it too, with the intermediate: the external root suffices.
    const eap = await runEapolTest({
      dir: files.path, caCert: f('root.pem'), port: authPort, secret: SECRET,
      network: ['eap=PEAP', 'identity="alice"', 'password="alice-Passw0rd"', `phase1="${TLS12}"`, 'phase2="auth=MSCHAPV2"'],
    });
    expect(verdict(eap), eap.stdout.slice(-3000)).toBe('SUCCESS');
    expect(eap.stdout).toMatch(/CTRL-EVENT-EAP-PEER-CERT depth=0 subject='\/CN=console-two\.example'/);
  }, 30_000);

  it('`tls renew` puts authbox\'s own certificate back on every listener', async () => {
    authboxOk(['tls', 'renew', '--data', data.dir]);
    const shown = show();
    expect(shown).toMatch(/^admin: issued/m);
    expect(shown).toMatch(/^radius: issued/m);
    const started = Date.now();
    let s = sClient(authboxChain);
    while (s.status !== 0 && Date.now() - started < 2500) {
      await sleep(100);
      s = sClient(authboxChain);
    }
    expect(s.status, s.out).toBe(0);
  }, 30_000);
});
