// Authorization policy through a running `authbox serve`, with the real radclient
// (freeradius-utils) as the NAS: a member of "staff" gets its VLAN (RFC 3580 §3.31),
// Session-Timeout and Class on Access-Accept; a policy changed by the CLI while the
// daemon runs applies within a second; a method the client's kind does not allow is
// refused with its reason in the log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, radclient, sleep, startServe, freeUdpPort, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'policy-radius-S3cret';
const DAVE_PW = 'dave-Passw0rd';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;

const pap = (user: string, password: string): string =>
  `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`;
const auth = (input: string) => radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input);
const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
const policy = (...args: string[]) => authboxOk(['policy', ...args.slice(0, 1), '--data', data.dir, ...args.slice(1)]);

/** Sends PAP for dave until `check` passes on radclient's output, at most LIVE_MS after `since`. */
async function untilReply(since: number, check: (out: string) => boolean): Promise<string> {
  for (;;) {
    const r = await auth(pap('dave', DAVE_PW));
    const out = r.stdout + r.stderr;
    if (check(out)) return out;
    if (Date.now() - since > LIVE_MS) throw new Error(`not applied within ${LIVE_MS} ms: ${out}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  // The default kind is wlan.
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'ap', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'dave', '--password', DAVE_PW, '--group', 'staff']);
  policy('set', '--group', 'staff', '--vlan', '42', '--session-timeout', '3600', '--class', 'staff');
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
  // /healthz answers from the HTTP workers; RADIUS is bound by the primary, reported a little later.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const h = (await (await fetch(`${daemon.base}/healthz`)).json()) as { listeners: { radius?: unknown[] } };
    if (h.listeners.radius?.length) break;
    if (Date.now() > deadline) throw new Error('RADIUS never listened');
    await sleep(50);
  }
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('authorization policy with radclient', () => {
  it('gives a member of "staff" its VLAN, Session-Timeout and Class on Access-Accept', async () => {
    // The first password check runs the slow hash: give it more than radclient's usual second.
    const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, pap('dave', DAVE_PW), ['-r', '1', '-t', '5']);
    const out = r.stdout + r.stderr;
    expect(received(r), out).toBe('Access-Accept');
    expect(out).toMatch(/^\s+Tunnel-Type:0 = VLAN$/m);
    expect(out).toMatch(/^\s+Tunnel-Medium-Type:0 = IEEE-802$/m);
    expect(out).toMatch(/^\s+Tunnel-Private-Group-Id:0 = "42"$/m);
    expect(out).toMatch(/^\s+Session-Timeout = 3600$/m);
    expect(out).toMatch(/^\s+Class = 0x7374616666$/m);
    expect(out).not.toMatch(/Filter-Id/);
  });

  it('applies a policy changed while the daemon runs within a second', async () => {
    const since = Date.now();
    policy('set', '--group', 'staff', '--vlan', '43', '--filter-id', 'acl-staff');
    const out = await untilReply(since, (o) => /Tunnel-Private-Group-Id:0 = "43"/.test(o));
    expect(out).toMatch(/^\s+Filter-Id = "acl-staff"$/m);
    expect(out).toMatch(/^\s+Session-Timeout = 3600$/m);
  });

  it('refuses PAP from a wlan client once wlan allows only EAP-TLS, with the reason logged, and accepts again after', async () => {
    let since = Date.now();
    policy('methods', '--kind', 'wlan', '--allow', 'eap-tls');
    const refused = await untilReply(since, (o) => /Received Access-Reject/.test(o));
    expect(refused).toContain('Reply-Message = "Authentication failed"');
    expect(refused).not.toMatch(/Tunnel-Private-Group-Id/);
    expect(daemon!.output()).toMatch(/"user":"dave","outcome":"reject","reason":"method not allowed for this client kind"/);

    since = Date.now();
    policy('methods', '--kind', 'wlan', '--allow', 'all');
    await untilReply(since, (o) => /Received Access-Accept/.test(o));
  });

  it('stops sending the attributes once the policy is removed', async () => {
    const since = Date.now();
    policy('remove', '--group', 'staff');
    const out = await untilReply(since, (o) => /Received Access-Accept/.test(o) && !/Tunnel-Private-Group-Id/.test(o));
    expect(out).not.toMatch(/Session-Timeout|Class =/);
  });
});
