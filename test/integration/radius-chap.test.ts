// CHAP (RFC 2865 §5.3) through a running `authbox serve`, with the real radclient as the
// NAS (it computes the CHAP response itself from CHAP-Password, over CHAP-Challenge when
// given, else the Request Authenticator): opt-in per user with `user add|passwd --chap`,
// the sealed copy dropped by a passwd without it, `user list` showing who has it, and the
// decision log giving each refusal's reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authbox, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, withDatabase, type RunningDaemon,
} from '../helpers/authbox.js';
import { expectRefusal } from './ca-common.js';

const SECRET = 'radius-chap-S3cret';
const CAROL_PW = 'carol-Chap-Passw0rd';
const DAVE_PW = 'dave-NoChap-Passw0rd';
const ERIN_PW = 'erin-Chap-Passw0rd';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;
const NOT_ENABLED = 'CHAP needs a reversible password: enable it with `authbox user passwd --chap`';

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;
const outputs: string[] = [];

interface Decision { user: string | null; method: string | null; outcome: string; reason: string | null }
interface Listed { username: string; chap: boolean; hasNtHash: boolean }

const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
const chap = (user: string, password: string, challenge?: string): string =>
  `User-Name = "${user}", CHAP-Password = "${password}"${challenge ? `, CHAP-Challenge = 0x${challenge}` : ''}, Message-Authenticator = 0x00\n`;
async function auth(input: string): Promise<string | undefined> {
  // radclient's own output is not checked for the password: it prints the Cleartext-Password it was given.
  return received(await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input));
}
function cli(args: string[]): string {
  const out = authboxOk(args);
  outputs.push(out);
  return out;
}

const sealedOf = (username: string): Buffer | null => withDatabase(data.dir, (db) =>
  (db.prepare('SELECT chap_password_sealed AS s FROM users WHERE username = ?').get(username) as { s: Buffer | null }).s);

/** The newest `n` decisions, once the batched decision log has written them. */
async function lastDecisions(n: number, user?: string): Promise<Decision[]> {
  let rows: Decision[] = [];
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
    const out = cli(['log', 'auth', '--data', data.dir, '--json', '--limit', String(n), ...(user ? ['--user', user] : [])]);
    rows = JSON.parse(out) as Decision[];
    if (rows.length >= n) break;
  }
  return rows;
}

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  cli(['nas', 'add', '--data', data.dir, '--name', 'ap', '--address', '127.0.0.1/32', '--secret', SECRET]);
  expect(cli(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', CAROL_PW, '--chap'])).toBe('added user "carol", CHAP enabled\n');
  cli(['user', 'add', '--data', data.dir, '--username', 'dave', '--password', DAVE_PW]);
  cli(['user', 'add', '--data', data.dir, '--username', 'erin', '--password', ERIN_PW, '--chap']);
  cli(['user', 'disable', '--data', data.dir, '--username', 'erin']);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
  // The RADIUS listeners come up in the primary just after the HTTP workers answer.
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(50)) {
    const h = (await (await fetch(`${daemon.base}/healthz`)).json()) as { listeners: { radius?: { status: string }[] } };
    if (h.listeners.radius?.every((l) => l.status === 'up')) break;
  }
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('CHAP kept per user', () => {
  it('stores a sealed copy only for --chap users, never the password in plain', () => {
    expect(sealedOf('dave')).toBeNull();
    const sealed = sealedOf('carol');
    expect(sealed).not.toBeNull();
    expect(sealed!.includes(Buffer.from(CAROL_PW))).toBe(false);
  });

  it('shows in `user list`, as a table and as JSON', () => {
    const table = cli(['user', 'list', '--data', data.dir]);
    expect(table.split('\n')[0]).toMatch(/^USERNAME\s+STATE\s+SOURCE\s+CHAP\s+GROUPS$/);
    expect(table).toMatch(/^carol\s+enabled\s+local\s+yes\s+-$/m);
    expect(table).toMatch(/^dave\s+enabled\s+local\s+no\s+-$/m);
    expect(table).toMatch(/^erin\s+disabled\s+local\s+yes\s+-$/m);
    const listed = JSON.parse(cli(['user', 'list', '--data', data.dir, '--json'])) as Listed[];
    expect(listed.map((u) => [u.username, u.chap])).toEqual([['carol', true], ['dave', false], ['erin', true]]);
  });

  it('refuses --chap with --no-chap (exit 2)', () => {
    const r = authbox(['user', 'passwd', '--data', data.dir, '--username', 'carol', '--password', CAROL_PW, '--chap', '--no-chap']);
    expectRefusal(r, 2, /--chap or --no-chap, not both/);
    expect(sealedOf('carol')).not.toBeNull();
  });

  it('says in --help that a password change without --chap turns CHAP off', () => {
    expect(cli(['user', 'passwd', '--help'])).toMatch(/without --chap any sealed copy is dropped and CHAP is refused/);
  });
});

describe('CHAP with radclient', () => {
  it('accepts a --chap user, over the Request Authenticator and over a CHAP-Challenge', async () => {
    expect(await auth(chap('carol', CAROL_PW))).toBe('Access-Accept');
    expect(await auth(chap('carol', CAROL_PW, '0123456789abcdef0123456789abcdef01'))).toBe('Access-Accept');
  });

  it('rejects a wrong password, a user without --chap, a disabled user and an unknown user; the log gives each reason', async () => {
    expect(await auth(chap('carol', 'not-carols-Passw0rd'))).toBe('Access-Reject');
    expect(await auth(chap('dave', DAVE_PW))).toBe('Access-Reject');
    expect(await auth(chap('erin', ERIN_PW))).toBe('Access-Reject');
    expect(await auth(chap('mallory', 'mallory-Passw0rd'))).toBe('Access-Reject');
    const rows = await lastDecisions(6);
    expect(rows.map((d) => [d.user, d.method, d.outcome, d.reason])).toEqual([
      ['mallory', 'chap', 'reject', 'unknown user'],
      ['erin', 'chap', 'reject', 'account disabled'],
      ['dave', 'chap', 'reject', NOT_ENABLED],
      ['carol', 'chap', 'reject', 'wrong password'],
      ['carol', 'chap', 'accept', null],
      ['carol', 'chap', 'accept', null],
    ]);
  });

  it('drops the sealed copy on a passwd without --chap (CHAP then refused), and keeps it again with --chap', async () => {
    expect(cli(['user', 'passwd', '--data', data.dir, '--username', 'carol', '--password', `${CAROL_PW}-2`]))
      .toBe('changed the password of "carol", CHAP disabled\n');
    expect(sealedOf('carol')).toBeNull();
    await sleep(LIVE_MS);
    expect(await auth(chap('carol', `${CAROL_PW}-2`))).toBe('Access-Reject');
    // The decision log is written in batches: wait for the newest row to be this refusal.
    let newest: Decision | undefined;
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
      newest = (await lastDecisions(1, 'carol'))[0];
      if (newest?.reason === NOT_ENABLED) break;
    }
    expect(newest).toMatchObject({ outcome: 'reject', reason: NOT_ENABLED });

    expect(cli(['user', 'passwd', '--data', data.dir, '--username', 'carol', '--password', `${CAROL_PW}-3`, '--chap']))
      .toBe('changed the password of "carol", CHAP enabled\n');
    expect(sealedOf('carol')).not.toBeNull();
    await sleep(LIVE_MS);
    expect(await auth(chap('carol', `${CAROL_PW}-3`))).toBe('Access-Accept');
    expect(await auth(chap('carol', `${CAROL_PW}-2`))).toBe('Access-Reject');

    cli(['user', 'passwd', '--data', data.dir, '--username', 'carol', '--password', `${CAROL_PW}-4`, '--no-chap']);
    expect(sealedOf('carol')).toBeNull();
  });

  it('never prints a password (CLI and daemon), and audits each change with whether CHAP is kept', () => {
    for (const text of [...outputs, daemon!.output()]) {
      for (const pw of [CAROL_PW, DAVE_PW, ERIN_PW]) expect(text).not.toContain(pw);
    }
    const audit = withDatabase(data.dir, (db) => db.prepare(
      "SELECT action, detail FROM audit WHERE target = 'carol' AND action LIKE 'user.%' ORDER BY id").all() as { action: string; detail: string }[]);
    expect(audit.map((a) => [a.action, (JSON.parse(a.detail) as { chap: boolean }).chap])).toEqual([
      ['user.add', true], ['user.passwd', false], ['user.passwd', true], ['user.passwd', false],
    ]);
  });
  it('is refused before any password check where the client kind does not allow chap', async () => {
    // The NAS is kind wlan (the default kind): allow only PAP for it, then put every method back.
    cli(['user', 'add', '--data', data.dir, '--username', 'frank', '--password', 'frank-Passw0rd', '--chap']);
    for (const deadline = Date.now() + 5000; (await auth(chap('frank', 'frank-Passw0rd'))) !== 'Access-Accept'; await sleep(100)) {
      if (Date.now() > deadline) throw new Error('frank was not accepted before the policy change');
    }
    cli(['policy', 'methods', '--data', data.dir, '--kind', 'wlan', '--allow', 'pap']);
    try {
      for (const deadline = Date.now() + 5000; ; await sleep(100)) {
        const r = await auth(chap('frank', 'frank-Passw0rd'));
        if (r === 'Access-Reject') break;
        if (Date.now() > deadline) throw new Error('the policy change did not reach the daemon');
      }
      let rows: Decision[] = [];
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
        rows = (await lastDecisions(3, 'frank')).filter((d) => d.reason === 'method not allowed for this client kind');
        if (rows.length > 0) break;
      }
      expect(rows.map((d) => [d.method, d.outcome])).toContainEqual(['chap', 'reject']);
    } finally {
      cli(['policy', 'methods', '--data', data.dir, '--kind', 'wlan', '--allow', 'all']);
    }
    for (const deadline = Date.now() + 5000; (await auth(chap('frank', 'frank-Passw0rd'))) !== 'Access-Accept'; await sleep(100)) {
      if (Date.now() > deadline) throw new Error('the policy reset did not reach the daemon');
    }
  });

});
