// PAP against local users through a running `authbox serve`, with the real radclient
// (freeradius-utils) as the NAS: accept and the refusals, BlastRADIUS drops, wrong secret,
// unknown sources, garbage, accounting, IPv6, clients added and removed while the daemon
// runs, counters in /healthz (served by the HTTP workers, counted in the primary), and a
// taken UDP port.
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authbox, authboxOk, freePort, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
const ALICE_PW = 'alice-Passw0rd';
const BOB_PW = 'bob-Passw0rd';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let authPort6: number;
let acctPort: number;

interface Health {
  listeners: { radius: { service: string; address: string; port: number; status: string }[] };
  radius: {
    requests: number; accepts: number; rejects: number; accounting: { requests: number; responses: number };
    dropped: Record<string, number>; malformed: Record<string, number>;
  };
}

async function health(): Promise<Health> {
  return (await (await fetch(`${daemon!.base}/healthz`)).json()) as Health;
}

/** Polls /healthz until `pick` says the counters reached what is expected (the workers hear the primary every 250 ms). */
async function healthUntil(what: string, pick: (h: Health) => boolean, ms = 3000): Promise<Health> {
  const deadline = Date.now() + ms;
  for (;;) {
    const h = await health();
    if (pick(h)) return h;
    if (Date.now() > deadline) throw new Error(`/healthz never showed ${what}: ${JSON.stringify(h.radius)}`);
    await sleep(50);
  }
}

const pap = (user: string, password: string, ma = true): string =>
  `User-Name = "${user}", User-Password = "${password}"${ma ? ', Message-Authenticator = 0x00' : ''}\n`;

const auth = (input: string, secret = SECRET, target = `127.0.0.1:${authPort}`, extra?: string[]) =>
  radclient(target, 'auth', secret, input, extra);

const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject|Accounting-Response)/.exec(r.stdout + r.stderr)?.[1];

beforeAll(async () => {
  data = await initDataDir();
  [authPort, authPort6, acctPort] = [await freeUdpPort(), await freeUdpPort(), await freeUdpPort()];
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo6', '--address', '::1', '--secret', SECRET, '--kind', 'vpn']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', ALICE_PW]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'bob', '--password', BOB_PW]);
  authboxOk(['user', 'disable', '--data', data.dir, '--username', 'bob']);
  daemon = await startServe(data.dir, data.port, [
    '--radius', `127.0.0.1:${authPort},[::1]:${authPort6}`, '--radius-acct', `127.0.0.1:${acctPort}`,
  ]);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('PAP with radclient', () => {
  it('lists the RADIUS listeners in /healthz', async () => {
    const h = await healthUntil('the RADIUS listeners', (x) => x.listeners.radius !== undefined);
    expect(h.listeners.radius).toEqual([
      { service: 'auth', address: '127.0.0.1', port: authPort, family: 'IPv4', status: 'up' },
      { service: 'auth', address: '::1', port: authPort6, family: 'IPv6', status: 'up' },
      { service: 'acct', address: '127.0.0.1', port: acctPort, family: 'IPv4', status: 'up' },
    ]);
  });

  it('accepts the right password (user names compare case-insensitively), Message-Authenticator in the reply', async () => {
    for (const name of ['alice', 'ALICE']) {
      const r = await auth(pap(name, ALICE_PW));
      expect(received(r), r.stdout + r.stderr).toBe('Access-Accept');
      expect(r.stdout).toMatch(/Received Access-Accept[^\n]*\n\s+Message-Authenticator = 0x[0-9a-f]{32}/);
    }
  });

  it('accepts over IPv6 from a client registered for ::1', async () => {
    const r = await auth(pap('alice', ALICE_PW), SECRET, `[::1]:${authPort6}`, ['-6', '-r', '1', '-t', '1']);
    expect(received(r), r.stdout + r.stderr).toBe('Access-Accept');
  });

  it.each([
    ['a wrong password', 'alice', 'not-the-password'],
    ['a disabled user with the right password', 'bob', BOB_PW],
    ['an unknown user', 'mallory', ALICE_PW],
  ])('rejects %s, saying only "Authentication failed"', async (_what, user, password) => {
    const r = await auth(pap(user, password));
    expect(received(r), r.stdout + r.stderr).toBe('Access-Reject');
    expect(r.stdout).toContain('Reply-Message = "Authentication failed"');
  });

  it('drops an Access-Request without Message-Authenticator (BlastRADIUS) and counts it', async () => {
    const before = (await health()).radius.dropped.missingMessageAuthenticator;
    const r = await auth(pap('alice', ALICE_PW, false));
    expect(received(r), r.stdout + r.stderr).toBeUndefined();
    expect(r.stdout + r.stderr).toMatch(/No reply from server/i);
    await healthUntil('the drop', (h) => h.radius.dropped.missingMessageAuthenticator === before + 1);
  });

  it('drops a request made with the wrong shared secret (invalid Message-Authenticator)', async () => {
    const before = (await health()).radius.dropped.badMessageAuthenticator;
    const r = await auth(pap('alice', ALICE_PW), 'wrong-shared-secret');
    expect(received(r), r.stdout + r.stderr).toBeUndefined();
    await healthUntil('the drop', (h) => h.radius.dropped.badMessageAuthenticator === before + 1);
  });

  it('drops garbage datagrams, counts them by reason, and keeps answering', async () => {
    const before = (await health()).radius.dropped.malformed;
    const socket = createSocket('udp4');
    let replies = 0;
    socket.on('message', () => replies++);
    await new Promise<void>((res) => socket.bind(0, '127.0.0.1', () => res()));
    const short = randomBytes(11);
    const lying = Buffer.concat([Buffer.from([1, 9, 0x10, 0x00]), randomBytes(40)]); // Length 4096, 44 octets sent
    for (const g of [short, lying]) await new Promise<void>((res, rej) => socket.send(g, authPort, '127.0.0.1', (e) => (e ? rej(e) : res())));
    const h = await healthUntil('two malformed drops', (x) => x.radius.dropped.malformed === before + 2);
    expect(h.radius.malformed.TOO_SHORT).toBeGreaterThanOrEqual(1);
    expect(h.radius.malformed.LENGTH_MISMATCH).toBeGreaterThanOrEqual(1);
    const r = await auth(pap('alice', ALICE_PW));
    expect(received(r)).toBe('Access-Accept');
    expect(replies).toBe(0);
    socket.close();
  });

  it('answers accounting with Accounting-Response; a wrong secret gets nothing', async () => {
    const input = 'User-Name = "alice", Acct-Status-Type = Start, Acct-Session-Id = "s-1"\n';
    const ok = await radclient(`127.0.0.1:${acctPort}`, 'acct', SECRET, input);
    expect(received(ok), ok.stdout + ok.stderr).toBe('Accounting-Response');
    const bad = await radclient(`127.0.0.1:${acctPort}`, 'acct', 'wrong-shared-secret', input);
    expect(received(bad)).toBeUndefined();
    await healthUntil('the accounting counters', (h) => h.radius.accounting.responses >= 1 && h.radius.dropped.badAuthenticator >= 1);
  });

  it('counts accepts and rejects in /healthz', async () => {
    const h = await healthUntil('the outcomes', (x) => x.radius.accepts >= 4 && x.radius.rejects >= 3);
    expect(h.radius.requests).toBe(h.radius.accepts + h.radius.rejects);
  });
});

describe('clients changed while the daemon runs', () => {
  /** Repeats the request until the expected outcome, or fails after LIVE_MS (plus radclient's own time). */
  async function within(ms: number, input: string, expected: string | undefined): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      const r = await auth(input, SECRET, `127.0.0.1:${authPort}`, ['-r', '1', '-t', '0.3']);
      if (received(r) === expected) return Date.now() - t0;
      if (Date.now() - t0 > ms) throw new Error(`still ${received(r)} after ${ms} ms: ${r.stdout}${r.stderr}`);
    }
  }

  it('takes a client marked --allow-missing-message-authenticator within a second: unsigned requests are then accepted', async () => {
    authboxOk(['nas', 'remove', '--data', data.dir, '--name', 'lo']);
    authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo-legacy', '--address', '127.0.0.1', '--secret', SECRET,
      '--allow-missing-message-authenticator']);
    expect(await within(LIVE_MS, pap('alice', ALICE_PW, false), 'Access-Accept')).toBeLessThan(LIVE_MS + 500);
    // A legacy client still has its wrong passwords refused.
    expect(received(await auth(pap('alice', 'not-the-password', false)))).toBe('Access-Reject');
  });

  it('drops requests from a source no client covers once the only client is 10.0.0.0/8', async () => {
    authboxOk(['nas', 'remove', '--data', data.dir, '--name', 'lo-legacy']);
    authboxOk(['nas', 'add', '--data', data.dir, '--name', 'far', '--address', '10.0.0.0/8', '--secret', SECRET]);
    const before = (await health()).radius.dropped.unknownClient;
    await within(LIVE_MS + 300, pap('alice', ALICE_PW), undefined);
    await healthUntil('the unknown-client drop', (h) => h.radius.dropped.unknownClient > before);
    expect(daemon!.output()).toMatch(/"address":"127\.0\.0\.1"[^\n]*no client covers/);
  });

  it('takes a client added by the CLI within a second', async () => {
    authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
    expect(await within(LIVE_MS, pap('alice', ALICE_PW), 'Access-Accept')).toBeLessThan(LIVE_MS + 500);
  });
});

describe('start-up', () => {
  it('refuses a second daemon on a taken RADIUS port with one clear line and a non-zero exit', async () => {
    const r = authbox(['serve', '--data', data.dir, '--http', `127.0.0.1:${await freePort()}`,
      '--radius', `127.0.0.1:${authPort}`, '--radius-acct', `127.0.0.1:${await freeUdpPort()}`]);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBe(-1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/RADIUS authentication on 127\.0\.0\.1:\d+\/udp: the port is already in use/);
    expect(lines[0]).toContain(String(authPort));
    // The first daemon still answers.
    expect(received(await auth(pap('alice', ALICE_PW)))).toBe('Access-Accept');
  });
});
