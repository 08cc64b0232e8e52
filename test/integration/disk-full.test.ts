// A full disk while accounting is written: the request is not answered (so the NAS keeps
// it and retries), the failure is counted and logged without flooding, authentication
// keeps answering from memory, and accounting resumes once there is room again. The data
// folder lives on a small tmpfs mounted by the test (the suite runs as root).
import { execFileSync } from 'node:child_process';
import { mkdirSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freePort, freeUdpPort, radclient, sleep, startServe, tempDir, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
let tmp: ReturnType<typeof tempDir>;
let mnt: string;
let dir: string;
let daemon: RunningDaemon | undefined;
let authPort: number;
let acctPort: number;

const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject|Accounting-Response)/.exec(r.stdout + r.stderr)?.[1];
const pap = (): Promise<string | undefined> => radclient(`127.0.0.1:${authPort}`, 'auth', SECRET,
  'User-Name = "alice", User-Password = "alice-Passw0rd", Message-Authenticator = 0x00\n').then(received);
let n = 0;
const acct = (): Promise<string | undefined> => radclient(`127.0.0.1:${acctPort}`, 'acct', SECRET,
  `User-Name = "alice", NAS-IP-Address = 127.0.0.1, Acct-Status-Type = Start, Acct-Session-Id = "s-${++n}-${'x'.repeat(200)}", ` +
  `Calling-Station-Id = "${'y'.repeat(200)}"\n`).then(received);

/** Fills the file system with a file of zeros until it is full. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  // Whatever is left is smaller than a chunk: take it too.
  const fd2 = openSync(`${path}.2`, 'w');
  try {
    for (;;) writeSync(fd2, Buffer.alloc(512));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd2);
  }
}

beforeAll(async () => {
  tmp = tempDir('authbox-diskfull-');
  mnt = join(tmp.path, 'mnt');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=12m', 'tmpfs', mnt]);
  dir = join(mnt, 'data');
  const port = await freePort();
  authboxOk(['init', '--data', dir, '--org', 'Test City', '--public-url', `http://127.0.0.1:${port}`]);
  authboxOk(['nas', 'add', '--data', dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  authPort = await freeUdpPort();
  acctPort = await freeUdpPort();
  daemon = await startServe(dir, port, ['--radius', `127.0.0.1:${authPort}`, '--radius-acct', `127.0.0.1:${acctPort}`, '--http-workers', '1']);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  try {
    execFileSync('umount', [mnt]);
  } catch { /* already gone */ }
  tmp?.cleanup();
});

describe('a full disk under accounting', () => {
  it('leaves accounting unanswered and counted, keeps authenticating, and recovers when space returns', async () => {
    expect(await pap()).toBe('Access-Accept');
    expect(await acct()).toBe('Accounting-Response');

    fill(join(mnt, 'filler'));
    let unanswered = 0;
    for (let i = 0; i < 300 && unanswered === 0; i++) if ((await acct()) === undefined) unanswered++;
    expect(unanswered).toBe(1);
    // Authentication still answers (users and passwords are in memory; decisions wait in a bounded buffer).
    for (let i = 0; i < 3; i++) expect(await pap()).toBe('Access-Accept');
    const health = (await (await fetch(`${daemon!.base}/healthz`)).json()) as { radius: { dropped: { storageFailed: number } } };
    await sleep(300);
    const later = (await (await fetch(`${daemon!.base}/healthz`)).json()) as { radius: { dropped: { storageFailed: number } } };
    expect(Math.max(health.radius.dropped.storageFailed, later.radius.dropped.storageFailed)).toBeGreaterThanOrEqual(1);
    expect(daemon!.output()).toMatch(/cannot store a RADIUS request/);
    expect(daemon!.output().match(/cannot store a RADIUS request/g)!.length).toBeLessThanOrEqual(3);

    rmSync(join(mnt, 'filler'));
    rmSync(join(mnt, 'filler.2'));
    let answered: string | undefined;
    for (const deadline = Date.now() + 10_000; answered === undefined && Date.now() < deadline;) answered = await acct();
    expect(answered).toBe('Accounting-Response');
    expect(await pap()).toBe('Access-Accept');
    expect(daemon!.proc.exitCode).toBeNull();
  }, 120_000);
});
