// Runs each source's sync every N minutes (the source's schedule, default 15). The
// planner makes a run full when the last full one is a day old, so vanished users are
// found at least daily. One run per source at a time; a failed run is recorded by the
// sync itself and retried at the next tick.
import type { Logger } from '../core/logger.js';
import type { LdapSourceRecord } from './source.js';

export interface SchedulerDeps {
  listSources(): LdapSourceRecord[];
  /** Runs one source's sync (recorded by the sync); rejects when it failed. */
  runSync(name: string): Promise<unknown>;
  log: Logger;
  now?: () => number;
  /** How often the scheduler looks at the sources. */
  tickMs?: number;
}

export class LdapSyncScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly lastStarted = new Map<number, number>();
  private readonly running = new Set<number>();
  private readonly now: () => number;
  private readonly tickMs: number;

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? Date.now;
    this.tickMs = deps.tickMs ?? 30_000;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Starts the runs that are due; resolves when they have finished. */
  async tick(): Promise<void> {
    let sources: LdapSourceRecord[];
    try {
      sources = this.deps.listSources();
    } catch (e) {
      this.deps.log.error({ error: (e as Error).message }, 'ldap sources not readable');
      return;
    }
    const now = this.now();
    const due = sources.filter((s) => !this.running.has(s.id) && now - (this.lastStarted.get(s.id) ?? -Infinity) >= s.scheduleMinutes * 60_000);
    await Promise.all(due.map(async (s) => {
      this.running.add(s.id);
      this.lastStarted.set(s.id, now);
      try {
        await this.deps.runSync(s.name);
      } catch (e) {
        // Already recorded as a failed run; the next tick tries again.
        this.deps.log.warn({ source: s.name, error: (e as Error).message }, 'scheduled ldap sync failed');
      } finally {
        this.running.delete(s.id);
      }
    }));
  }
}
