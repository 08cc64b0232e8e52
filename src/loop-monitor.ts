// How promptly the thread that answers RADIUS gets to its work: a 10 ms timer measures how late
// each turn of the event loop comes, and a turn late by more than 20 ms (a stall) is told apart
// by its cause from the thread's own scheduler counters (Linux /proc/thread-self/schedstat: time
// on a CPU, time waiting for one). "busy" means this thread was running (our code, GC) and a
// request waited behind it; "cpu_wait" means the thread was ready but the machine gave the CPU
// to other processes (an overloaded box, not our code); "unknown" that neither explains it (the
// process was stopped, or there are no such counters). Reading the counters is one pread of a
// kept descriptor, about a microsecond.
import { closeSync, openSync, readSync } from 'node:fs';
import type { HistogramSnapshot } from './http/metrics.js';

export type StallCause = 'busy' | 'cpu_wait' | 'unknown';

export interface LoopStats {
  /** How late the 10 ms timer fired, in seconds. */
  lag: HistogramSnapshot;
  /** Turns late by more than the stall threshold, by cause. */
  stalls: Record<StallCause, number>;
  /** The longest stall so far, in seconds (0: none yet). */
  longestSeconds: number;
}

export interface Stall {
  lagMs: number;
  /** Time the thread spent on a CPU, and waiting for one, over the late turn (undefined off Linux). */
  ranMs?: number;
  waitedMs?: number;
  cause: StallCause;
}

export interface LoopMonitor {
  stats(): LoopStats;
  stop(): void;
}

const LAG_BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** [ns on a CPU, ns waiting on the run queue] of the calling thread, or undefined where /proc has no schedstat. */
function schedReader(): { read(): [number, number] | undefined; close(): void } {
  let fd: number | undefined;
  try {
    fd = openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return { read: () => undefined, close: () => undefined };
  }
  const buf = Buffer.alloc(96);
  return {
    read() {
      try {
        const n = readSync(fd!, buf, 0, buf.length, 0);
        const [ran, waited] = buf.toString('latin1', 0, n).split(' ');
        return [Number(ran), Number(waited)];
      } catch {
        return undefined;
      }
    },
    close: () => closeSync(fd!),
  };
}

export function startLoopMonitor(options: { intervalMs?: number; stallMs?: number; onStall?: (s: Stall) => void } = {}): LoopMonitor {
  const intervalMs = options.intervalMs ?? 10;
  const stallMs = options.stallMs ?? 20;
  const counts = new Array<number>(LAG_BOUNDS.length + 1).fill(0);
  let sum = 0;
  const stalls: Record<StallCause, number> = { busy: 0, cpu_wait: 0, unknown: 0 };
  let longest = 0;
  const sched = schedReader();
  let last = performance.now();
  let lastSched = sched.read();
  const timer = setInterval(() => {
    const now = performance.now();
    const lagMs = Math.max(0, now - last - intervalMs);
    const s = sched.read();
    const lag = lagMs / 1000;
    let i = 0;
    while (i < LAG_BOUNDS.length && lag > LAG_BOUNDS[i]!) i++;
    counts[i]!++;
    sum += lag;
    if (lagMs > stallMs) {
      const stall: Stall = { lagMs, cause: 'unknown' };
      if (s && lastSched) {
        stall.ranMs = (s[0] - lastSched[0]) / 1e6;
        stall.waitedMs = (s[1] - lastSched[1]) / 1e6;
        // Neither explains half of it: the thread was off the run queue (the process stopped, the machine suspended).
        if (stall.ranMs + stall.waitedMs < lagMs / 2) stall.cause = 'unknown';
        else stall.cause = stall.waitedMs > stall.ranMs ? 'cpu_wait' : 'busy';
      }
      stalls[stall.cause]++;
      longest = Math.max(longest, lag);
      options.onStall?.(stall);
    }
    last = now;
    lastSched = s;
  }, intervalMs);
  timer.unref();
  return {
    stats: () => ({ lag: { bounds: LAG_BOUNDS, counts: [...counts], sum }, stalls: { ...stalls }, longestSeconds: longest }),
    stop() {
      clearInterval(timer);
      sched.close();
    },
  };
}
