// EAP-TLS through a running `authbox serve`, with the real eapol_test (Debian eapoltest)
// as supplicant and NAS: TLS 1.2 and 1.3 with the MS-MPPE keys checked against the MSK
// eapol_test derives itself, EAP fragmentation both ways, and the refusals (revoked,
// disabled owner, foreign CA, identity not matching the certificate), each with its reason
// in the daemon's log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { foreignClientCert, issueUserCert as issueUser, runEapolTest, TLS12, TLS13, verdict, type CertHolder } from '../helpers/eap.js';
import {
  authboxOk, freeUdpPort, initDataDir, sleep, startServe, tempDir, type RunResult, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;

type Holder = CertHolder;
const issueUserCert = (name: string, user?: string): Holder => issueUser(data.dir, files.path, name, user);

/** A CA authbox knows nothing of, and a clientAuth certificate for "alice" under it. */
const foreignCert = (): Holder => foreignClientCert(files.path, 'alice');

/** One EAP-TLS authentication with a certificate; its whole output for the assertions. */
function eapolTest(identity: string, holder: Holder, phase1: string, extra: string[] = [], args: string[] = []): Promise<RunResult> {
  return runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET, args,
    network: ['eap=TLS', `identity="${identity}"`, `client_cert="${holder.cert}"`, `private_key="${holder.key}"`, `phase1="${phase1}"`, ...extra],
  });
}

const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-40).join('\n');

/** The daemon's decision line for a refusal, with the reason in plain words. */
async function refusalLogged(reason: string): Promise<void> {
  const deadline = Date.now() + 2000;
  while (!daemon!.output().includes(`"reason":"${reason}"`)) {
    if (Date.now() > deadline) throw new Error(`no "${reason}" in the daemon log:\n${daemon!.output().slice(-3000)}`);
    await sleep(50);
  }
}

let alice: Holder;
let carol: Holder;

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-eap-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'carol-Passw0rd']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  alice = issueUserCert('alice', 'alice');
  carol = issueUserCert('carol', 'carol');
  authboxOk(['user', 'disable', '--data', data.dir, '--username', 'carol']);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--log-level', 'debug']);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('EAP-TLS with eapol_test', () => {
  it('accepts a valid certificate over TLS 1.2, with MS-MPPE keys matching the MSK (RFC 5216)', async () => {
    const r = await eapolTest('alice', alice, TLS12);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.2/);
    expect(daemon!.output()).toMatch(/"user":"alice","outcome":"accept","method":"eap-tls","tls":"TLSv1\.2"/);
  });

  it('accepts over TLS 1.3 with the commitment message and the RFC 9190 keys', async () => {
    const r = await eapolTest('alice', alice, TLS13);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.3/);
    expect(r.stdout).toContain('EAP-TLS: ACKing Commitment Message');
  });

  it('carries the handshake in small fragments both ways (fragment_size=300, Framed-MTU 300)', async () => {
    for (const phase1 of [TLS12, TLS13]) {
      // -N12:d:300 makes eapol_test send Framed-MTU = 300 instead of its 1400: our fragments shrink to fit.
      const r = await eapolTest('alice', alice, phase1, ['fragment_size=300'], ['-N12:d:300']);
      expect(verdict(r), tail(r)).toBe('SUCCESS');
      expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
      // Our flight is cut into fragments (L+M first, then M) that the supplicant ACKs...
      expect(r.stdout).toMatch(/SSL: Received packet\(len=296\) - Flags 0xc0/);
      expect(r.stdout).toMatch(/SSL: Received packet\(len=296\) - Flags 0x40/);
      const sizes = [...r.stdout.matchAll(/SSL: Received packet\(len=(\d+)\)/g)].map((m) => Number(m[1]));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(296);
      // ...and the supplicant's own flight comes in fragments we ACK.
      expect(r.stdout).toMatch(/SSL: sending \d+ bytes, more fragments will follow/);
    }
  });

  it('refuses an identity that does not match the certificate', async () => {
    const r = await eapolTest('mallory', alice, TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    expect(r.stdout).toMatch(/code=3 \(Access-Reject\)/);
    await refusalLogged('identity does not match the certificate');
  });

  it('refuses the certificate of a disabled user', async () => {
    const r = await eapolTest('carol', carol, TLS13);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await refusalLogged('account disabled');
  });

  it('refuses a certificate from a CA authbox does not run', async () => {
    const r = await eapolTest('alice', foreignCert(), TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await refusalLogged('unknown CA');
  });

  it('refuses a revoked certificate on the next attempt after `authbox cert revoke`', async () => {
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', alice.serial, '--reason', 'keyCompromise']);
    // The daemon hears of a CLI write through the change feed, live everywhere within LIVE_MS (DESIGN.md).
    await sleep(LIVE_MS);
    const r = await eapolTest('alice', alice, TLS13);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    expect(r.stdout).toContain('MPPE keys OK: 0');
    await refusalLogged('certificate revoked');
  });
});
