// The stall monitor's causes with the scheduler doing the work: a monitored process at nice 19
// sharing one CPU with three spinning processes is kept ready but waiting (cpu_wait, its run-queue
// wait larger than its running time), and a process stopped by SIGSTOP is neither running nor
// waiting (unknown). The monitor runs in its own process (dist/loop-monitor.js) so that only it
// is pinned and stopped; its stalls come back as JSON lines.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/authbox.js';

interface Stall { lagMs: number; ranMs?: number; waitedMs?: number; cause: string }

const MONITORED = `
const { startLoopMonitor } = await import(${JSON.stringify(join(ROOT, 'dist/loop-monitor.js'))});
const m = startLoopMonitor({ intervalMs: 5, stallMs: 15, onStall: (s) => process.stdout.write(JSON.stringify(s) + '\\n') });
process.stdout.write('ready\\n');
setTimeout(() => { process.stdout.write(JSON.stringify({ stats: m.stats() }) + '\\n'); process.exit(0); }, Number(process.env.RUN_MS));
`;

function monitored(prefix: string[], runMs: number): { child: ChildProcess; ready: Promise<void>; stalls: Promise<Stall[]> } {
  const [cmd, ...args] = [...prefix, process.execPath, '--input-type=module', '-e', MONITORED];
  const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, RUN_MS: String(runMs) } });
  let out = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('ready\n')) onReady();
  });
  const stalls = new Promise<Stall[]>((resolve, reject) => child.on('close', (code) => {
    if (code !== 0) return reject(new Error(`monitored process exited ${code}: ${out}`));
    resolve(out.split('\n').filter((l) => l.startsWith('{"lagMs"')).map((l) => JSON.parse(l) as Stall));
  }));
  return { child, ready, stalls };
}

describe('loop monitor causes, from the scheduler', () => {
  it('a thread ready but kept off its one CPU by busier processes stalls with cause cpu_wait', async () => {
    // Started at full speed; once it runs, it goes to nice 19 on CPU 0 beside three spinning processes.
    const m = monitored([], 1500);
    await m.ready;
    const pin = spawnSync('taskset', ['-a', '-p', '-c', '0', String(m.child.pid)]);
    expect(pin.status, String(pin.stderr)).toBe(0);
    for (const task of readdirSync(`/proc/${m.child.pid}/task`)) setPriority(Number(task), 19);
    const hogs = [0, 1, 2].map(() => spawn('taskset', ['-c', '0', process.execPath, '-e', 'for(;;){}'], { stdio: 'ignore' }));
    try {
      const stalls = await m.stalls;
      const waits = stalls.filter((s) => s.cause === 'cpu_wait');
      expect(waits.length, JSON.stringify(stalls.slice(0, 5))).toBeGreaterThan(0);
      for (const s of waits) expect(s.waitedMs!).toBeGreaterThan(s.ranMs!);
      expect(stalls.filter((s) => s.cause === 'busy')).toEqual([]);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  });

  it('a stopped process, neither running nor waiting, stalls with cause unknown', async () => {
    const m = monitored([], 1200);
    await m.ready;
    await new Promise((r) => setTimeout(r, 200));
    m.child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 300));
    m.child.kill('SIGCONT');
    const stalls = await m.stalls;
    const longest = stalls.reduce((a, b) => (b.lagMs > a.lagMs ? b : a));
    expect(longest.lagMs).toBeGreaterThan(250);
    expect(longest.cause, JSON.stringify(longest)).toBe('unknown');
  });
});
