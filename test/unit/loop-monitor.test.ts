// The RADIUS thread's stall monitor: a turn blocked by our own code is a "busy" stall, a stopped
// process's is "unknown"; the lag histogram counts every turn (the "cpu_wait" case, another
// process holding the CPU, is test/integration/loop-stalls.test.ts). And directory work in child
// processes runs at a lower priority than the daemon.
import { spawn } from 'node:child_process';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoopMonitor, type LoopMonitor, type Stall } from '../../src/loop-monitor.js';
import { BACKGROUND_NICE, yieldToRadius } from '../../src/daemon-process.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const spin = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end) { /* the thread is running */ } };

describe('loop monitor', () => {
  let monitor: LoopMonitor | undefined;
  afterEach(() => monitor?.stop());

  it('counts each turn in the lag histogram and no stall on an idle loop', async () => {
    monitor = startLoopMonitor({ intervalMs: 10, stallMs: 40 });
    await sleep(200);
    const s = monitor.stats();
    const turns = s.lag.counts.reduce((a, b) => a + b, 0);
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(s.lag.bounds.length + 1).toBe(s.lag.counts.length);
    // Nothing of ours ran: no busy stall (a loaded machine may still keep the thread waiting for a CPU).
    expect(s.stalls.busy).toBe(0);
  });

  it('a thread blocked by its own work for 80 ms is one busy stall of about that length', async () => {
    const seen: Stall[] = [];
    monitor = startLoopMonitor({ intervalMs: 10, stallMs: 20, onStall: (st) => seen.push(st) });
    await sleep(30);
    spin(80);
    await sleep(30);
    const s = monitor.stats();
    // On a loaded machine other, shorter stalls may come too (waiting for a CPU): the 80 ms one is ours.
    const ours = seen.reduce((a, b) => (b.lagMs > a.lagMs ? b : a));
    expect(ours.cause).toBe('busy');
    expect(ours.lagMs).toBeGreaterThan(60);
    expect(ours.ranMs).toBeGreaterThan(60);
    expect(s.stalls.busy).toBe(seen.filter((st) => st.cause === 'busy').length);
    expect(s.longestSeconds).toBeCloseTo(ours.lagMs / 1000, 6);
    // The 80 ms turn lands in the (0.05, 0.1] bucket.
    const i = s.lag.bounds.indexOf(0.1);
    expect(s.lag.counts[i]).toBeGreaterThanOrEqual(1);
  });
});

describe('directory work in a child process', () => {
  it('runs at nice 10, so RADIUS gets the CPU first', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      yieldToRadius(child.pid);
      expect(getPriority(child.pid!)).toBe(BACKGROUND_NICE);
      // A child that is already gone is no error.
      yieldToRadius(999_999_999);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
