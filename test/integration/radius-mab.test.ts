// MAC authentication bypass through a running `authbox serve`, with the real radclient
// (freeradius-utils) as the switch: a registered device is accepted whatever MAC spelling
// the switch uses, gets its group's VLAN (RFC 3580 §3.31), and is refused when unknown,
// disabled (live, within a second) or when Calling-Station-Id names another MAC; the
// decision log says 'mab' and the reason; a switch kind allowed only 'mab' refuses PAP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'mab-switch-S3cret';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;
const PRINTER = '02:00:5e:00:53:01';
const CAMERA = '02:00:5e:00:53:02';

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;

const mab = (name: string, password = name, station: string | undefined = undefined): string =>
  `User-Name = "${name}", User-Password = "${password}", ${station ? `Calling-Station-Id = "${station}", ` : ''}Message-Authenticator = 0x00\n`;
const auth = (input: string) => radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input, ['-r', '1', '-t', '5']);
const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];

interface Decision { user: string | null; outcome: string; reason: string | null; method: string | null; details?: Record<string, string> | null }

/** The decision log's newest rows (written in batches every 200 ms), once `count` of them are there. */
async function decisions(count: number): Promise<Decision[]> {
  for (const deadline = Date.now() + 5000; ; await sleep(100)) {
    const rows = JSON.parse(authboxOk(['log', 'auth', '--data', data.dir, '--json'])) as Decision[];
    if (rows.length >= count || Date.now() > deadline) return rows;
  }
}

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'sw1', '--address', '127.0.0.1/32', '--secret', SECRET, '--kind', 'switch']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'dave', '--password', 'dave-Passw0rd']);
  authboxOk(['device', 'add', '--data', data.dir, '--mac', PRINTER, '--name', 'printer-1f', '--group', 'printers']);
  authboxOk(['device', 'add', '--data', data.dir, '--mac', CAMERA.toUpperCase().replace(/:/g, '-'), '--group', 'cameras']);
  authboxOk(['device', 'disable', '--data', data.dir, '--mac', CAMERA]);
  authboxOk(['policy', 'set', '--data', data.dir, '--group', 'printers', '--vlan', '30', '--session-timeout', '3600']);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('MAC authentication bypass with radclient', () => {
  it.each([
    ['colons', '02:00:5e:00:53:01'], ['upper-case colons', '02:00:5E:00:53:01'], ['dashes', '02-00-5E-00-53-01'],
    ['bare', '02005e005301'], ['bare upper-case', '02005E005301'], ['Cisco dots', '0200.5e00.5301'],
  ])('accepts a registered device spelled with %s, with its group VLAN', async (_how, spelling) => {
    const r = await auth(mab(spelling, spelling, '02-00-5E-00-53-01'));
    const out = r.stdout + r.stderr;
    expect(received(r), out).toBe('Access-Accept');
    expect(out).toMatch(/^\s+Tunnel-Type:0 = VLAN$/m);
    expect(out).toMatch(/^\s+Tunnel-Medium-Type:0 = IEEE-802$/m);
    expect(out).toMatch(/^\s+Tunnel-Private-Group-Id:0 = "30"$/m);
    expect(out).toMatch(/^\s+Session-Timeout = 3600$/m);
  });

  it('accepts a name and a password in different spellings of one MAC, without Calling-Station-Id', async () => {
    expect(received(await auth(mab('02005E005301', '02:00:5e:00:53:01')))).toBe('Access-Accept');
  });

  it('logs the accept as method mab, under the canonical MAC, with the policy group', async () => {
    const rows = await decisions(1);
    expect(rows[0]).toMatchObject({ user: PRINTER, outcome: 'accept', method: 'mab', details: { policy: 'printers' } });
  });

  it('refuses an unknown device, a disabled one and a Calling-Station-Id of another MAC, each with its reason', async () => {
    const before = (await decisions(0)).length;
    for (const input of [mab('02:00:5e:00:53:99'), mab(CAMERA), mab(PRINTER, PRINTER, '02-00-5E-00-53-77')]) {
      const r = await auth(input);
      expect(received(r)).toBe('Access-Reject');
      expect(r.stdout).toContain('Reply-Message = "Authentication failed"');
      expect(r.stdout).not.toMatch(/Tunnel-Private-Group-Id/);
    }
    const rows = (await decisions(before + 3)).slice(0, 3).reverse();
    expect(rows.map((d) => [d.user, d.method, d.reason])).toEqual([
      ['02:00:5e:00:53:99', 'mab', 'unknown device'],
      [CAMERA, 'mab', 'device disabled'],
      [PRINTER, 'mab', 'calling station does not match the MAC'],
    ]);
  });

  it('refuses a device disabled while the daemon runs within a second, and accepts it again once enabled', async () => {
    let since = Date.now();
    authboxOk(['device', 'disable', '--data', data.dir, '--mac', PRINTER]);
    for (;;) {
      if (received(await auth(mab(PRINTER))) === 'Access-Reject') break;
      if (Date.now() - since > LIVE_MS) throw new Error(`device disable not live within ${LIVE_MS} ms`);
      await sleep(50);
    }
    since = Date.now();
    authboxOk(['device', 'enable', '--data', data.dir, '--mac', PRINTER]);
    for (;;) {
      if (received(await auth(mab(PRINTER))) === 'Access-Accept') break;
      if (Date.now() - since > LIVE_MS) throw new Error(`device enable not live within ${LIVE_MS} ms`);
      await sleep(50);
    }
  });

  it('does not take another password for a device: PAP with the MAC as name and a password is refused', async () => {
    expect(received(await auth(mab(PRINTER, 'not-the-mac-Passw0rd')))).toBe('Access-Reject');
  });

  it('follows `policy methods`: a switch allowed only mab refuses PAP and accepts MAB; one not allowing mab refuses MAB', async () => {
    authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'switch', '--allow', 'mab']);
    await sleep(LIVE_MS);
    expect(received(await auth(mab(PRINTER)))).toBe('Access-Accept');
    expect(received(await auth(mab('dave', 'dave-Passw0rd')))).toBe('Access-Reject');
    authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'switch', '--allow', 'pap,eap-tls']);
    await sleep(LIVE_MS);
    expect(received(await auth(mab(PRINTER)))).toBe('Access-Reject');
    expect(received(await auth(mab('dave', 'dave-Passw0rd')))).toBe('Access-Accept');
    const rows = await decisions(2);
    expect(rows.find((d) => d.user === PRINTER)).toMatchObject({ method: 'mab', reason: 'method not allowed for this client kind' });
    authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'switch', '--allow', 'all']);
  });
});
