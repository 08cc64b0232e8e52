// Test helpers: run the built CLI, start a daemon on a free loopback port and stop it
// by PID, run the openssl CLI. Integration tests need `make build` (dist/) first.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openDatabase, type Db } from '../../src/store/db.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const AUTHBOX = join(ROOT, 'bin/authbox');

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function authbox(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(process.execPath, [AUTHBOX, ...args], {
    encoding: 'utf8', input: options.input, env: { ...process.env, ...options.env }, timeout: 60_000,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * authbox in a child process without blocking this event loop: for a test that meanwhile answers
 * as a peer (a NAS receiving Disconnect-Requests, a proxy) or runs several commands at once.
 */
export function authboxAsync(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AUTHBOX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
  });
}

/** Runs authbox and fails the test with its stderr if it did not exit 0. */
export function authboxOk(args: string[]): string {
  const r = authbox(args);
  if (r.status !== 0) throw new Error(`authbox ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function openssl(args: string[], options: { input?: string | Buffer; cwd?: string } = {}): RunResult {
  const r = spawnSync('openssl', args, { encoding: 'utf8', input: options.input, cwd: options.cwd, timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function tempDir(prefix = 'authbox-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** A UDP port free on 127.0.0.1 at the time of asking (for RADIUS listeners). */
export async function freeUdpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createSocket('udp4');
    s.once('error', rej);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => res(port));
    });
  });
}

/** Runs radclient (freeradius-utils) with the attribute lines on its standard input. */
export function radclient(target: string, command: 'auth' | 'acct' | 'status', secret: string, input: string, extra: string[] = ['-r', '1', '-t', '1']): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', ['-x', ...extra, target, command, secret], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ status: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** A data folder made by `authbox init`, with a public URL on a free loopback port. */
export async function initDataDir(extra: string[] = []): Promise<{ dir: string; port: number; base: string; cleanup(): void }> {
  const tmp = tempDir();
  const port = await freePort();
  const dir = join(tmp.path, 'data');
  authboxOk(['init', '--data', dir, '--org', 'Test City', '--public-url', `http://127.0.0.1:${port}`, ...extra]);
  return { dir, port, base: `http://127.0.0.1:${port}`, cleanup: tmp.cleanup };
}

export interface RunningDaemon {
  proc: ChildProcess;
  pid: number;
  base: string;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `authbox serve` and waits until /healthz answers and the start-up banner says every listener is up. RADIUS listens on ephemeral
 * loopback ports unless `extra` names --radius / --radius-acct, so daemons of parallel
 * tests never fight over 1812.
 */
export async function startServe(dir: string, port: number, extra: string[] = []): Promise<RunningDaemon> {
  const radius = [
    ...(extra.includes('--radius') ? [] : ['--radius', '127.0.0.1:0']),
    ...(extra.includes('--radius-acct') ? [] : ['--radius-acct', '127.0.0.1:0']),
    ...(extra.includes('--admin') ? [] : ['--admin', '127.0.0.1:0']),
  ];
  const proc = spawn(process.execPath, [AUTHBOX, 'serve', '--data', dir, '--http', `127.0.0.1:${port}`, ...radius, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => res(code)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`authbox serve exited ${proc.exitCode}: ${out}`);
    try {
      const r = await fetch(`${base}/healthz`);
      // HTTP workers answer before the primary has bound RADIUS: the banner comes once every listener is up.
      if (r.ok && /authbox \d+ serving /.test(out)) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`authbox serve did not come up: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    proc, pid: proc.pid!, base, output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (proc.exitCode === null) process.kill(proc.pid!, signal);
      return exited;
    },
  };
}

/** Waits (2 s at most) until the daemon's output after `mark` (its length before) includes `what` or matches it. */
export async function daemonLogged(daemon: RunningDaemon, what: string | RegExp, mark = 0, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  const seen = (): boolean => (typeof what === 'string' ? daemon.output().slice(mark).includes(what) : what.test(daemon.output().slice(mark)));
  while (!seen()) {
    if (Date.now() > deadline) throw new Error(`no ${String(what)} in the daemon log:\n${daemon.output().slice(-3000)}`);
    await sleep(50);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs fn on the data folder's database opened read-only, and closes it. */
export function withDatabase<T>(dataDir: string, fn: (db: Db) => T): T {
  const db = openDatabase(join(dataDir, 'authbox.db'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
