// EAP-TLS with a device certificate (`cert issue --profile device --device MAC`) through a
// running `authbox serve`, with the real eapol_test as supplicant and NAS: accepted under
// the device name, its MAC or the certificate CN, with the device group's VLAN; refused
// after `authbox device disable` (live, on the next attempt) and after `device remove`,
// each with its reason in the daemon's log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEapolTest, TLS12, TLS13, verdict } from '../helpers/eap.js';
import { daemonLogged, authboxOk, freeUdpPort, initDataDir, sleep, startServe, tempDir, type RunResult, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-device-S3cret';
const LIVE_MS = 1000;
const MAC = '02:00:5e:00:54:01';

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;
let holder: { cert: string; key: string };

function eapolTest(identity: string, phase1: string): Promise<RunResult> {
  return runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET,
    network: ['eap=TLS', `identity="${identity}"`, `client_cert="${holder.cert}"`, `private_key="${holder.key}"`, `phase1="${phase1}"`],
  });
}

const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-40).join('\n');

const logged = (text: string): Promise<void> => daemonLogged(daemon!, text);

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-eap-device-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'ap', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['device', 'add', '--data', data.dir, '--mac', '0200.5e00.5401', '--name', 'laptop-042', '--group', 'laptops']);
  authboxOk(['policy', 'set', '--data', data.dir, '--group', 'laptops', '--vlan', '40']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  holder = { cert: join(files.path, 'laptop.crt'), key: join(files.path, 'laptop.key') };
  authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--device', MAC, '--out-cert', holder.cert, '--out-key', holder.key]);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--log-level', 'debug']);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('EAP-TLS with a device certificate and eapol_test', () => {
  it('accepts the device name as the identity over TLS 1.2, with the MPPE keys and the device group VLAN', async () => {
    const r = await eapolTest('laptop-042', TLS12);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    // eapol_test prints the Access-Accept's attributes: Tunnel-Private-Group-Id (81) carries "40".
    expect(r.stdout).toMatch(/Attribute 81 \(Tunnel-Private-Group-Id\) length=4\s+Value: 3430/);
    await logged(`"user":"${MAC}","outcome":"accept","method":"eap-tls"`);
  });

  it('accepts the MAC in another spelling as the identity over TLS 1.3', async () => {
    const r = await eapolTest('02-00-5E-00-54-01', TLS13);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
  });

  it('refuses an identity that is not the device', async () => {
    const r = await eapolTest('someone-else', TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"reason":"identity does not match the certificate"');
  });

  it('refuses the certificate on the next attempt after `authbox device disable`, and accepts it after enable', async () => {
    authboxOk(['device', 'disable', '--data', data.dir, '--mac', MAC]);
    await sleep(LIVE_MS);
    const r = await eapolTest('laptop-042', TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    expect(r.stdout).toMatch(/code=3 \(Access-Reject\)/);
    await logged('"reason":"device disabled"');
    authboxOk(['device', 'enable', '--data', data.dir, '--mac', MAC]);
    await sleep(LIVE_MS);
    expect(verdict(await eapolTest('laptop-042', TLS12))).toBe('SUCCESS');
  });

  it('refuses the certificate once the device is removed', async () => {
    authboxOk(['device', 'remove', '--data', data.dir, '--mac', MAC]);
    await sleep(LIVE_MS);
    const r = await eapolTest('laptop-042', TLS13);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"reason":"unknown device"');
  });
});
