// MS-CHAPv2 without EAP (RFC 2548 §2.3) and the PAP verified-password cache through a
// running `authbox serve`, with the real radclient as the NAS. radclient computes only
// MS-CHAP v1 itself (MS-CHAP-Password), so the RFC 2759 §9.2 exchange is sent as raw
// MS-CHAP-Challenge and MS-CHAP2-Response values, as a NAS forwards them; radclient's own
// decoder then unhides the MPPE keys with the shared secret.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-mschap-S3cret';
const LIVE_MS = 1000;
// RFC 2759 §9.2.
const CHALLENGE = '5b5d7c7d7b3f2f3e3c2c602132262628';
const PEER_CHALLENGE = '21402324255e262a28295f2b3a337c7e';
const NT_RESPONSE = '82309ecd8d708b5ea08faa3981cd83544233114a3d85d6df';
const ident = '2a';

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;

const auth = (input: string) => radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input);
const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
const mschapv2 = (user: string, ntResponse = NT_RESPONSE): string =>
  `User-Name = "${user}", MS-CHAP-Challenge = 0x${CHALLENGE}, ` +
  `MS-CHAP2-Response = 0x${ident}00${PEER_CHALLENGE}${'00'.repeat(8)}${ntResponse}, Message-Authenticator = 0x00\n`;
const pap = (user: string, password: string): string =>
  `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`;

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'vpn', '--address', '127.0.0.1/32', '--secret', SECRET, '--kind', 'vpn']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'User', '--password', 'clientPass']);
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

describe('MS-CHAPv2 with radclient', () => {
  it('accepts the RFC 2759 §9.2 exchange with MS-CHAP2-Success and MPPE keys radclient unhides to the RFC 3079 values', async () => {
    const r = await auth(mschapv2('User'));
    expect(received(r), r.stdout + r.stderr).toBe('Access-Accept');
    // MS-CHAP2-Success = ident + "S=407A...": radclient prints the octets in hex.
    expect(r.stdout).toContain(`MS-CHAP2-Success = 0x${ident}${Buffer.from('S=407A5589115FD0D6209F510FE9C04566932CDA56').toString('hex')}`);
    expect(r.stdout).toMatch(/MS-MPPE-Send-Key = 0x8b7cdc149b993a1ba118cb153f56dccb/i);
    expect(r.stdout).toMatch(/MS-MPPE-Recv-Key = 0xd5f0e9521e3ea9589645e86051c82226/i);
    expect(r.stdout).toMatch(/MS-MPPE-Encryption-Policy = Encryption-Allowed/);
    expect(r.stdout).toMatch(/MS-MPPE-Encryption-Types = RC4-40or128-bit-Allowed/);
  });

  it('rejects a wrong response with MS-CHAP-Error 691', async () => {
    const r = await auth(mschapv2('User', 'ff' + NT_RESPONSE.slice(2)));
    expect(received(r), r.stdout + r.stderr).toBe('Access-Reject');
    // radclient prints the value as text: the ident 0x2a is "*".
    expect(r.stdout).toMatch(/MS-CHAP-Error = "\*E=691 R=0 C=[0-9A-F]{32} V=3 M=Authentication failure"/);
  });

  it('refuses CHAP for a user without --chap (no reversible password) and MS-CHAP v1 (what radclient computes from MS-CHAP-Password)', async () => {
    for (const input of [
      'User-Name = "User", CHAP-Password = "clientPass", Message-Authenticator = 0x00\n',
      'User-Name = "User", MS-CHAP-Password = "clientPass", Message-Authenticator = 0x00\n',
    ]) {
      const r = await auth(input);
      expect(received(r), r.stdout + r.stderr).toBe('Access-Reject');
    }
    expect(daemon!.output()).toContain('CHAP needs a reversible password: enable it with `authbox user passwd --chap`');
  });
});

describe('PAP verified-password cache in the daemon', () => {
  it('keeps accepting repeats, and a passwd or disable from the CLI takes effect within a second', async () => {
    for (let i = 0; i < 3; i++) expect(received(await auth(pap('User', 'clientPass')))).toBe('Access-Accept');
    authboxOk(['user', 'passwd', '--data', data.dir, '--username', 'User', '--password', 'newClientPass']);
    await sleep(LIVE_MS);
    expect(received(await auth(pap('User', 'clientPass')))).toBe('Access-Reject');
    expect(received(await auth(pap('User', 'newClientPass')))).toBe('Access-Accept');
    expect(received(await auth(pap('User', 'newClientPass')))).toBe('Access-Accept');
    authboxOk(['user', 'disable', '--data', data.dir, '--username', 'User']);
    await sleep(LIVE_MS);
    expect(received(await auth(pap('User', 'newClientPass')))).toBe('Access-Reject');
  });
});
