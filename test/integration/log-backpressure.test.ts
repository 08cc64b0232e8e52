// A journal that stops reading must neither stop RADIUS nor grow the daemon's memory without
// bound. The daemon's stdout is a pipe this test stops reading once the daemon is up (as
// journald under pressure), with the auth stream on stdout and log.stdoutBufferKiB at its least
// (64 KiB): 1,500 PAP requests from radclient log several times what the pipe, Node's read
// buffer and that bound hold together. Every request is answered; once the pipe is read again
// the held lines come out, and the dropped ones are counted in a warning.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freeUdpPort, initDataDir, radclient, startServe, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'backpressure-secret';
const PW = 'Backpressure-Pw1';
const REQUESTS = 1500;
let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', PW]);
  const file = join(data.dir, 'authbox.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), log: { auth: { stdout: true }, stdoutBufferKiB: 64 } }));
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--http-workers', '1']);
});

afterAll(async () => {
  daemon?.proc.stdout!.resume();
  await daemon?.stop();
  data?.cleanup();
});

describe('stdout that nobody reads', () => {
  it('every Access-Request is still answered, and the held lines come out afterwards', async () => {
    const stdout = daemon!.proc.stdout!;
    // Stop reading: Node reads at most its buffer more, then the kernel pipe fills.
    stdout.pause();
    const input = Array.from({ length: REQUESTS }, (_, i) =>
      `User-Name = "carol", User-Password = "${PW}", NAS-Port = ${i}, Message-Authenticator = 0x00\n`).join('\n');
    const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input, ['-p', '50', '-r', '2', '-t', '3']);
    const accepts = (r.stdout.match(/Received Access-Accept/g) ?? []).length;
    expect(accepts, r.stderr.slice(-500)).toBe(REQUESTS);
    // About 250 bytes per decision line: 375 KB, several times what is held (64 KiB pipe, Node's buffer, 64 KiB bound).
    const mark = daemon!.output().length;
    stdout.resume();
    const warning = /"dropped":(\d+),"msg":"log lines dropped: stdout \(the journal\) was not reading"/;
    const deadline = Date.now() + 15_000;
    while (!warning.test(daemon!.output().slice(mark)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    const dropped = Number(warning.exec(daemon!.output().slice(mark))?.[1]);
    const written = (daemon!.output().match(/"msg":"authentication accepted"/g) ?? []).length;
    expect(dropped).toBeGreaterThan(0);
    // Each decision is either written or counted as dropped.
    expect(written + dropped).toBe(REQUESTS);
    expect(written).toBeGreaterThan(200);
  }, 60_000);
});
