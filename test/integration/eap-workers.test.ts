// EAP on worker threads (radius.eapWorkers): conversations from many supplicants at once
// land on both workers and every later round finds its own worker again (routing by
// State), a revocation reaches the workers' caches, and with 0 workers EAP runs beside the
// sockets as before.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueUserCert, runEapolTest, TLS12, TLS13, verdict, type CertHolder } from '../helpers/eap.js';
import { authboxOk, freePort, freeUdpPort, initDataDir, startServe, tempDir, type RunResult, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let chain: string;
let alice: CertHolder;
let bob: CertHolder;

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-eap-workers-');
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'bob', '--password', 'bob-Passw0rd']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  alice = issueUserCert(data.dir, files.path, 'alice', 'alice');
  bob = issueUserCert(data.dir, files.path, 'bob', 'bob');
});

afterAll(() => {
  data?.cleanup();
  files?.cleanup();
});

const eapTls = (port: number, identity: string, holder: CertHolder, phase1: string): Promise<RunResult> => runEapolTest({
  dir: files.path, caCert: chain, port, secret: SECRET,
  network: ['eap=TLS', `identity="${identity}"`, `client_cert="${holder.cert}"`, `private_key="${holder.key}"`, `phase1="${phase1}"`],
});
const peap = (port: number, phase1: string): Promise<RunResult> => runEapolTest({
  dir: files.path, caCert: chain, port, secret: SECRET,
  network: ['eap=PEAP', 'identity="alice"', 'password="alice-Passw0rd"', 'phase2="auth=MSCHAPV2"', `phase1="${phase1}"`],
});
const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-30).join('\n');

async function health(daemon: RunningDaemon): Promise<{ radius: { eap?: { workers: number; sessions: number; rounds: number; restarts: number } } }> {
  // The primary relays RADIUS counters to the HTTP workers every 250 ms.
  await new Promise((r) => setTimeout(r, 400));
  return (await (await fetch(`${daemon.base}/healthz`)).json()) as never;
}

describe('EAP worker threads', () => {
  it('runs 12 conversations at once over two workers, every round on the worker that holds it', async () => {
    const port = await freeUdpPort();
    const daemon = await startServe(data.dir, await freePort(), ['--radius', `127.0.0.1:${port}`, '--eap-workers', '2']);
    try {
      const runs = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        i % 3 === 2 ? peap(port, i % 2 ? TLS13 : TLS12) : eapTls(port, 'alice', alice, i % 2 ? TLS13 : TLS12)));
      for (const r of runs) {
        expect(verdict(r), tail(r)).toBe('SUCCESS');
        expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
      }
      const h = await health(daemon);
      expect(h.radius.eap).toMatchObject({ workers: 2, sessions: 0, restarts: 0 });
      expect(h.radius.eap!.rounds).toBeGreaterThanOrEqual(12 * 5);
      expect(daemon.output()).not.toContain('unknown or expired EAP session');
    } finally {
      await daemon.stop();
    }
  });

  it('refuses a certificate on every worker as soon as it is revoked', async () => {
    const port = await freeUdpPort();
    const daemon = await startServe(data.dir, await freePort(), ['--radius', `127.0.0.1:${port}`, '--eap-workers', '2']);
    try {
      const before = await Promise.all([0, 1, 2, 3].map(() => eapTls(port, 'bob', bob, TLS12)));
      for (const r of before) expect(verdict(r), tail(r)).toBe('SUCCESS');
      authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', bob.serial, '--reason', 'keyCompromise']);
      // Four at once: whichever worker each lands on has heard of the revocation.
      const after = await Promise.all([0, 1, 2, 3].map(() => eapTls(port, 'bob', bob, TLS12)));
      for (const r of after) expect(verdict(r), tail(r)).toBe('FAILURE');
      expect(daemon.output()).toContain('"reason":"certificate revoked"');
    } finally {
      await daemon.stop();
    }
  });

  it('with --eap-workers 0 runs EAP beside the sockets', async () => {
    const port = await freeUdpPort();
    const daemon = await startServe(data.dir, await freePort(), ['--radius', `127.0.0.1:${port}`, '--eap-workers', '0']);
    try {
      const r = await eapTls(port, 'alice', alice, TLS13);
      expect(verdict(r), tail(r)).toBe('SUCCESS');
      const h = await health(daemon);
      expect(h.radius.eap).toBeUndefined();
    } finally {
      await daemon.stop();
    }
  });
});
