// Directory work the console asks for, run as `authbox ldap sync --dry-run --json` in a child
// process, as the daemon runs a scheduled sync (daemon-process.ts syncInChildProcess): reading
// and planning thousands of users takes CPU that must not be taken from the thread that
// answers RADIUS. The dry run records its run itself, as from the CLI.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { AuthboxConfig } from './config/config.js';
import { yieldToRadius } from './daemon-process.js';

export interface DryRunResult {
  source: string;
  mode: 'full' | 'incremental';
  runId: number;
  counts: { added: number; updated: number; disabled: number; groups: number; conflicts: number };
  items: {
    action: 'add' | 'update' | 'enable' | 'disable'; username: string; groups?: string[]; reason?: string; displayName?: string | null; email?: string | null;
  }[];
  conflicts: { username: string; reason: string }[];
  skipped: string[];
}

/** Rejects with the command's own one-line error (e.g. the directory refused the bind). */
export function dryRunInChildProcess(config: AuthboxConfig, name: string): Promise<DryRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('../bin/authbox', import.meta.url)), 'ldap', 'sync', '--data', config.dataDir,
      '--name', name, '--dry-run', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    yieldToRadius(child.pid);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        const line = err.trim().split('\n').pop() ?? '';
        reject(new Error(line.replace(/^authbox ldap sync: /, '') || `ldap sync --dry-run exited ${code}`));
        return;
      }
      try {
        resolve(JSON.parse(out) as DryRunResult);
      } catch (e) {
        reject(new Error(`ldap sync --dry-run printed no JSON: ${(e as Error).message}`));
      }
    });
  });
}
