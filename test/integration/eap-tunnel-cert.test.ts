// Certificate and password in one authentication (issue 6), with the real eapol_test as
// supplicant and NAS against a running `authbox serve` (EAP on its worker threads):
// - PEAPv0/EAP-MSCHAPv2 and EAP-TTLS/PAP where the client kind's policy requires a client
//   certificate in the outer TLS handshake (`policy factors --tunnel-client-cert required`,
//   live through the change feed to the workers): the inner user's own certificate passes
//   (MS-MPPE keys checked by eapol_test), another user's, none, or a revoked one is refused;
//   with the requirement off, no certificate is needed;
// - EAP-TLS with a device certificate whose device is set to `--bind-mac`: accepted only
//   when Calling-Station-Id (eapol_test -M) is the device's MAC.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueUserCert, runEapolTest, TLS12, TLS13, verdict, type CertHolder } from '../helpers/eap.js';
import { daemonLogged, authboxOk, freeUdpPort, initDataDir, sleep, startServe, tempDir, type RunResult, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-tunnel-S3cret';
const MAC = '02:00:5e:00:54:07';
/**
 * Changes from the CLI are live within a second (DESIGN.md, the change feed); the margin is
 * for this test machine, shared by many test processes at once.
 */
const LIVE_MS = 2000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;
let root: string;
let aliceCert: CertHolder;
let aliceSpare: CertHolder;
let bobCert: CertHolder;
let device: { cert: string; key: string };

type Method = 'PEAP' | 'TTLS';
const PHASE2: Record<Method, string> = { PEAP: 'auth=MSCHAPV2', TTLS: 'auth=PAP' };

/** One eapol_test run of PEAP-MSCHAPv2 or TTLS-PAP as `user`, with `cert` in the outer handshake when given. */
function tunnel(method: Method, user: string, cert: CertHolder | undefined, phase1: string): Promise<RunResult> {
  return runEapolTest({
    // The root alone as the trust anchor, so the supplicant sends its certificate without the
    // CA chain: wpa_supplicant 2.10's EAP-TTLS over TLS 1.3 takes the server's ACK of the first
    // fragment of its last flight for the start of phase 2 and drops the rest (a peer bug).
    dir: files.path, caCert: root, port: authPort, secret: SECRET,
    network: [
      `eap=${method}`, `identity="${user}"`, `password="${user}-Passw0rd"`, `phase1="${phase1}"`, `phase2="${PHASE2[method]}"`,
      ...(cert ? [`client_cert="${cert.cert}"`, `private_key="${cert.key}"`] : []),
    ],
  });
}

function deviceTls(mac: string): Promise<RunResult> {
  return runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET, args: [`-M${mac}`],
    network: ['eap=TLS', 'identity="laptop-007"', `client_cert="${device.cert}"`, `private_key="${device.key}"`, `phase1="${TLS12}"`],
  });
}

const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-50).join('\n');

/** The daemon's log since `mark` has `text`. */
const logged = (text: string, mark: number): Promise<void> => daemonLogged(daemon!, text, mark);

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-tunnel-cert-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'ap', '--address', '127.0.0.1/32', '--secret', SECRET, '--kind', 'wlan']);
  for (const u of ['alice', 'bob']) authboxOk(['user', 'add', '--data', data.dir, '--username', u, '--password', `${u}-Passw0rd`]);
  chain = join(files.path, 'chain.pem');
  const chainPem = authboxOk(['ca', 'cert', '--data', data.dir]);
  writeFileSync(chain, chainPem);
  root = join(files.path, 'root.pem');
  // `ca cert` prints the issuing CA first, then the root.
  writeFileSync(root, chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!.at(-1)!);
  aliceCert = issueUserCert(data.dir, files.path, 'alice-laptop', 'alice');
  aliceSpare = issueUserCert(data.dir, files.path, 'alice-old-laptop', 'alice');
  bobCert = issueUserCert(data.dir, files.path, 'bob-laptop', 'bob');
  authboxOk(['device', 'add', '--data', data.dir, '--mac', '0200.5e00.5407', '--name', 'laptop-007', '--bind-mac']);
  device = { cert: join(files.path, 'device.crt'), key: join(files.path, 'device.key') };
  authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--device', MAC, '--out-cert', device.cert, '--out-key', device.key]);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--log-level', 'debug']);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('PEAP and EAP-TTLS with a client certificate in the outer handshake', () => {
  it('without the requirement, PEAP and TTLS pass without a certificate', async () => {
    for (const m of ['PEAP', 'TTLS'] as const) {
      const r = await tunnel(m, 'alice', undefined, TLS12);
      expect(verdict(r), `${m}\n${tail(r)}`).toBe('SUCCESS');
      // No CertificateRequest is sent when the policy does not ask for a certificate.
      expect(r.stdout).not.toMatch(/certificate request/i);
    }
  });

  it('with the requirement set live, the inner user\'s own certificate passes (PEAP over TLS 1.2 and 1.3, TTLS-PAP)', async () => {
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--tunnel-client-cert', 'required']);
    await sleep(LIVE_MS);
    for (const [m, phase1] of [['PEAP', TLS12], ['PEAP', TLS13], ['TTLS', TLS12], ['TTLS', TLS13]] as const) {
      const mark = daemon!.output().length;
      const r = await tunnel(m, 'alice', aliceCert, phase1);
      expect(verdict(r), `${m} ${phase1}\n${tail(r)}`).toBe('SUCCESS');
      expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
      await logged(`"serial":"${aliceCert.serial}","factor":"client-cert"`, mark);
    }
  });

  it.each(['PEAP', 'TTLS'] as const)('%s: no certificate is refused', async (m) => {
    const mark = daemon!.output().length;
    const r = await tunnel(m, 'alice', undefined, TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"reason":"no client certificate"', mark);
  });

  it.each(['PEAP', 'TTLS'] as const)('%s: another user\'s certificate is refused after the inner method', async (m) => {
    const mark = daemon!.output().length;
    const r = await tunnel(m, 'alice', bobCert, TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"user":"alice","outcome":"reject"', mark);
    await logged('"reason":"client certificate of another user"', mark);
    // And bob's certificate with bob's password is fine: the certificate itself is good.
    expect(verdict(await tunnel(m, 'bob', bobCert, TLS12))).toBe('SUCCESS');
  });

  it('a revoked certificate of the right user is refused at once (PEAP and TTLS)', async () => {
    expect(verdict(await tunnel('PEAP', 'alice', aliceSpare, TLS12))).toBe('SUCCESS');
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', aliceSpare.serial, '--reason', 'keyCompromise']);
    await sleep(LIVE_MS);
    for (const m of ['PEAP', 'TTLS'] as const) {
      const mark = daemon!.output().length;
      const r = await tunnel(m, 'alice', aliceSpare, TLS13);
      expect(verdict(r), `${m}\n${tail(r)}`).toBe('FAILURE');
      await logged('"reason":"certificate revoked"', mark);
    }
  });

  it('where the kind also requires a one-time code, the required certificate is the second factor; without the requirement PEAP is refused', async () => {
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--otp', 'required']);
    await sleep(LIVE_MS);
    expect(verdict(await tunnel('PEAP', 'alice', aliceCert, TLS12))).toBe('SUCCESS');
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--tunnel-client-cert', 'off']);
    await sleep(LIVE_MS);
    const mark = daemon!.output().length;
    const r = await tunnel('PEAP', 'alice', undefined, TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"reason":"one-time code required: this method cannot carry one"', mark);
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--otp', 'off', '--tunnel-client-cert', 'required']);
    await sleep(LIVE_MS);
  });

  it('with the requirement off again, no certificate is needed', async () => {
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--tunnel-client-cert', 'off']);
    await sleep(LIVE_MS);
    const r = await tunnel('TTLS', 'alice', undefined, TLS13);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
  });
});

describe('EAP-TLS device certificate bound to the MAC in Calling-Station-Id', () => {
  it('accepts it from the device\'s own MAC (another spelling than the registered one)', async () => {
    const r = await deviceTls(MAC);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
  });

  it('refuses it from another station, with the reason in the log', async () => {
    const mark = daemon!.output().length;
    const r = await deviceTls('02:00:5e:00:54:08');
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"reason":"calling station does not match the device"', mark);
  });

  it('accepts it from any station once `device set --bind-mac off`', async () => {
    authboxOk(['device', 'set', '--data', data.dir, '--mac', MAC, '--bind-mac', 'off']);
    const r = await deviceTls('02:00:5e:00:54:08');
    expect(verdict(r), tail(r)).toBe('SUCCESS');
  });
});

describe('the requirement with EAP beside the RADIUS sockets (--eap-workers 0)', () => {
  let local: Awaited<ReturnType<typeof initDataDir>>;
  let localDaemon: RunningDaemon | undefined;
  let localPort: number;
  let localRoot: string;
  let localCert: CertHolder;

  const run = (cert: CertHolder | undefined): Promise<RunResult> => runEapolTest({
    dir: files.path, caCert: localRoot, port: localPort, secret: SECRET,
    network: ['eap=PEAP', 'identity="alice"', 'password="alice-Passw0rd"', `phase1="${TLS12}"`, 'phase2="auth=MSCHAPV2"',
      ...(cert ? [`client_cert="${cert.cert}"`, `private_key="${cert.key}"`] : [])],
  });

  beforeAll(async () => {
    local = await initDataDir();
    localPort = await freeUdpPort();
    authboxOk(['nas', 'add', '--data', local.dir, '--name', 'vpn', '--address', '127.0.0.1/32', '--secret', SECRET, '--kind', 'vpn']);
    authboxOk(['user', 'add', '--data', local.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
    authboxOk(['policy', 'factors', '--data', local.dir, '--kind', 'vpn', '--tunnel-client-cert', 'required']);
    const pem = authboxOk(['ca', 'cert', '--data', local.dir]);
    localRoot = join(files.path, 'local-root.pem');
    writeFileSync(localRoot, pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!.at(-1)!);
    localCert = issueUserCert(local.dir, files.path, 'alice-local', 'alice');
    localDaemon = await startServe(local.dir, local.port, ['--radius', `127.0.0.1:${localPort}`, '--eap-workers', '0', '--log-level', 'debug']);
  });

  afterAll(async () => {
    await localDaemon?.stop();
    local?.cleanup();
  });

  it('refuses PEAP without a certificate and accepts it with the user\'s own', async () => {
    const without = await run(undefined);
    expect(verdict(without), tail(without)).toBe('FAILURE');
    const deadline = Date.now() + 2000;
    while (!localDaemon!.output().includes('"reason":"no client certificate"')) {
      if (Date.now() > deadline) throw new Error(localDaemon!.output().slice(-3000));
      await sleep(50);
    }
    const withCert = await run(localCert);
    expect(verdict(withCert), tail(withCert)).toBe('SUCCESS');
    expect(withCert.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
  });
});
