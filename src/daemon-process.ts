// The daemon as a process: its PID file, the signal a CLI sends it after a write, listening
// on an address, and the jobs it runs as child processes. Kept apart from daemon.ts so that
// CLI commands, which only nudge a running daemon, do not load the whole daemon.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getPriority, setPriority } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuthboxConfig, ListenAddress } from './config/config.js';
import { AppError } from './core/errors.js';

export const PID_FILE = 'authbox.pid';

export function listen(server: Server, addr: ListenAddress, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      const reason = e.code === 'EADDRINUSE' ? 'the port is already in use'
        : e.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message;
      reject(new AppError('LISTEN_FAILED', `cannot listen for ${what} on ${addr.host}:${addr.port}: ${reason}`));
    };
    server.once('error', onError);
    server.listen(addr.port, addr.host, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

/** The daemon's processes, primary first; a CLI signals each after a write. */
export function writePidFile(dataDir: string, pids: number[]): void {
  writeFileSync(join(dataDir, PID_FILE), pids.join('\n') + '\n', { mode: 0o600 });
}

/** Best effort: tell a running daemon on this data folder to read the change feed now. */
export function nudgeDaemon(dataDir: string): void {
  let pids: number[];
  try {
    pids = readFileSync(join(dataDir, PID_FILE), 'utf8').split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  } catch {
    return; // no daemon running: it reads the feed when it starts
  }
  for (const pid of pids) {
    try {
      // Only signal a process that is an authbox daemon: a stale PID may belong to anything now,
      // and SIGUSR2 ends a process that does not handle it.
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes('serve') && argv.some((a) => a.endsWith('authbox') || a.endsWith('main.js'))) process.kill(pid, 'SIGUSR2');
    } catch {
      /* that process is gone; the others still get their signal */
    }
  }
}

/**
 * Directory work (the daemon's sync and dry-run children, `authbox ldap sync` itself) runs at
 * nice 10, so that on a busy machine the scheduler gives the CPU to RADIUS first.
 */
export const BACKGROUND_NICE = 10;
export function yieldToRadius(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    setPriority(pid, Math.max(BACKGROUND_NICE, getPriority(pid)));
  } catch {
    /* the child is already gone, or the platform has no priorities: it runs at ours */
  }
}

/**
 * A scheduled directory sync runs as `authbox ldap sync --scheduled` in a process of its own:
 * reading and planning 10,000 users takes a second of CPU that must not be taken from the
 * thread answering RADIUS. The run is recorded by the sync itself, as from the CLI.
 */
export function syncInChildProcess(config: AuthboxConfig, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/authbox', import.meta.url)), 'ldap', 'sync', '--data', config.dataDir,
      '--name', name, '--scheduled'], { stdio: ['ignore', 'ignore', 'pipe'] });
    yieldToRadius(child.pid);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err.trim().split('\n').pop() || `ldap sync exited ${code}`))));
  });
}
