// Account rules enforced on RADIUS with real peers: lockout after failed attempts (and
// `user unlock`, and a helpdesk reset), account expiry, password age, the password policy
// on the CLI, and the profile commands with their audit rows.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueUserCert, runEapolTest, TLS12, verdict } from '../helpers/eap.js';
import {
  authbox, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, tempDir, withDatabase, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;

const pap = (user: string, password: string): string => `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`;
async function auth(user: string, password: string): Promise<string | undefined> {
  const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, pap(user, password));
  return /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
}
/** Waits for the newest decision of `user` to have this reason (the decision log is written in batches). */
async function reasonOf(user: string, reason: string | null): Promise<void> {
  let last: unknown;
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
    const [row] = JSON.parse(authboxOk(['log', 'auth', '--data', data.dir, '--json', '--limit', '1', '--user', user])) as { reason: string | null }[];
    last = row;
    if (row && row.reason === reason) return;
  }
  throw new Error(`the newest decision of ${user} is ${JSON.stringify(last)}, not reason ${reason}`);
}
async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (const deadline = Date.now() + 5000; !(await fn()); await sleep(100)) if (Date.now() > deadline) throw new Error(what);
}
const audit = (target: string): string[] => withDatabase(data.dir, (db) =>
  (db.prepare('SELECT action FROM audit WHERE target = ? ORDER BY id').all(target) as { action: string }[]).map((r) => r.action));

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-accounts-');
  authPort = await freeUdpPort();
  // Lock after 3 wrong passwords within 15 minutes, for 15 minutes; passwords: 10 characters, 3 classes, no reuse of the last 2.
  const file = join(data.dir, 'authbox.json');
  const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({
    ...settings, lockout: { attempts: 3, windowMinutes: 15, durationMinutes: 15 }, passwords: { minLength: 10, minClasses: 3, history: 2 },
  }, null, 2));
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'taro', '--password', 'Taro-pass-1']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'jiro', '--password', 'Jiro-pass-1', '--expires', '2020-01-01']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'saburo', '--password', 'Saburo-pass-1']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('password policy on the CLI', () => {
  it('refuses a short password and one with too few kinds of characters, without storing anything', () => {
    const short = authbox(['user', 'add', '--data', data.dir, '--username', 'x1', '--password', 'Ab1-short']);
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/too short: at least 10 characters/);
    const plain = authbox(['user', 'add', '--data', data.dir, '--username', 'x1', '--password', 'alllowercase']);
    expect(plain.status).toBe(1);
    expect(plain.stderr).toMatch(/needs 3 of: lower case, upper case, digits, other characters/);
    expect(withDatabase(data.dir, (db) => db.prepare("SELECT count(*) AS n FROM users WHERE username = 'x1'").get())).toEqual({ n: 0 });
  });

  it('refuses the current and the previous password (history 2), then takes a new one', () => {
    authboxOk(['user', 'passwd', '--data', data.dir, '--username', 'saburo', '--password', 'Saburo-pass-2']);
    for (const again of ['Saburo-pass-2', 'Saburo-pass-1']) {
      const r = authbox(['user', 'passwd', '--data', data.dir, '--username', 'saburo', '--password', again]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/was used before/);
    }
    authboxOk(['user', 'passwd', '--data', data.dir, '--username', 'saburo', '--password', 'Saburo-pass-3']);
  });
});

describe('lockout with radclient', () => {
  it('locks after 3 wrong passwords: the right one is then refused as "account locked"; unlock lets it in', async () => {
    expect(await auth('taro', 'Taro-pass-1')).toBe('Access-Accept');
    for (let i = 0; i < 3; i++) expect(await auth('taro', `wrong-Pass-${i}`)).toBe('Access-Reject');
    await until('taro was not locked', async () => JSON.parse(authboxOk(['user', 'show', '--data', data.dir, '--username', 'taro', '--json'])).lockedUntil !== null);
    await until('the lock did not reach the daemon', async () => (await auth('taro', 'Taro-pass-1')) === 'Access-Reject');
    await reasonOf('taro', 'account locked');
    expect(audit('taro')).toContain('user.lock');
    expect(daemon!.output()).toMatch(/"user":"taro".*"failures":3.*account locked after failed attempts/);

    expect(authboxOk(['user', 'unlock', '--data', data.dir, '--username', 'taro'])).toBe('unlocked user "taro"\n');
    await until('unlock did not reach the daemon', async () => (await auth('taro', 'Taro-pass-1')) === 'Access-Accept');
    expect(audit('taro')).toContain('user.unlock');
    expect(authboxOk(['user', 'unlock', '--data', data.dir, '--username', 'taro'])).toBe('user "taro" is not locked\n');
  });

  it('an accept resets the count: two wrong, one right, two wrong do not lock', async () => {
    await auth('taro', 'wrong-Pass-a');
    await auth('taro', 'wrong-Pass-b');
    expect(await auth('taro', 'Taro-pass-1')).toBe('Access-Accept');
    await auth('taro', 'wrong-Pass-c');
    await auth('taro', 'wrong-Pass-d');
    await sleep(500);
    expect(await auth('taro', 'Taro-pass-1')).toBe('Access-Accept');
  });

  it('a helpdesk reset prints a temporary password that works at once and ends the lockout', async () => {
    for (let i = 0; i < 3; i++) await auth('taro', `wrong-Pass-${i}`);
    await until('taro was not locked', async () => (await auth('taro', 'Taro-pass-1')) === 'Access-Reject');
    const out = authboxOk(['user', 'reset-password', '--data', data.dir, '--username', 'taro']);
    const temp = /temporary password for "taro": (\S+)/.exec(out)?.[1];
    expect(temp).toBeDefined();
    expect(temp!.length).toBeGreaterThanOrEqual(16);
    await until('the reset did not reach the daemon', async () => (await auth('taro', temp!)) === 'Access-Accept');
    expect(await auth('taro', 'Taro-pass-1')).toBe('Access-Reject');
    expect(audit('taro')).toContain('user.reset_password');
    expect(daemon!.output()).not.toContain(temp!);
  });
});

describe('expiry', () => {
  it('refuses an expired account over PAP and EAP-TLS, and lets it in once the expiry is cleared', async () => {
    expect(await auth('jiro', 'Jiro-pass-1')).toBe('Access-Reject');
    await reasonOf('jiro', 'account expired');
    const cert = issueUserCert(data.dir, files.path, 'jiro', 'jiro');
    const eap = () => runEapolTest({
      dir: files.path, caCert: chain, port: authPort, secret: SECRET,
      network: ['eap=TLS', 'identity="jiro"', `client_cert="${cert.cert}"`, `private_key="${cert.key}"`, `phase1="${TLS12}"`],
    });
    expect(verdict(await eap())).toBe('FAILURE');
    await reasonOf('jiro', 'account expired');

    authboxOk(['user', 'set', '--data', data.dir, '--username', 'jiro', '--expires', 'never']);
    await until('clearing the expiry did not reach the daemon', async () => (await auth('jiro', 'Jiro-pass-1')) === 'Access-Accept');
    expect(verdict(await eap())).toBe('SUCCESS');
    expect(audit('jiro')).toContain('user.update');
  });
});
