// Scheduled backups for the daemon: one backup every N hours into a folder, the newest
// `keep` kept and older ones deleted. The folder is the schedule's only state: the newest
// file's name says when the last backup was made, so a restart does not back up again.
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from './logger.js';

export interface BackupSchedule {
  /** Absolute folder the backups are written to. */
  readonly dir: string;
  readonly everyHours: number;
  /** How many backups to keep, newest first. */
  readonly keep: number;
  readonly passphraseFile: string;
}

export interface BackupSchedulerDeps {
  schedule: BackupSchedule;
  /** Writes one backup to `file` (a new path); rejects on failure. */
  backup(file: string): Promise<void>;
  clock: () => Date;
  log: Logger;
  /** How often to look whether a backup is due; 60 s by default. */
  checkEveryMs?: number;
  /** After a failure, the next attempt waits this long (or the interval, if shorter); 15 min by default. */
  retryAfterMs?: number;
}

const NAME = /^authbox-backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z\.abk$/;

/** authbox-backup-20261123T171816326Z.abk: sorts by name as by time. */
export function backupFileName(at: Date): string {
  return `authbox-backup-${at.toISOString().replace(/[-:.]/g, '')}.abk`;
}

export function backupFileTime(name: string): number | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms] = m.map(Number) as number[];
  return Date.UTC(y!, mo! - 1, d!, h!, mi!, s!, ms!);
}

export class BackupScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<string | undefined> | undefined;
  private lastFailure: number | undefined;

  constructor(private readonly deps: BackupSchedulerDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.deps.checkEveryMs ?? 60_000);
    this.timer.unref();
    void this.tick();
  }

  /** Stops the timer and waits for a backup under way. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Backups this scheduler made (by name), newest first. Other files in the folder are never touched. */
  list(): { file: string; at: number }[] {
    let names: string[];
    try {
      names = readdirSync(this.deps.schedule.dir);
    } catch {
      return [];
    }
    return names.flatMap((name) => {
      const at = backupFileTime(name);
      return at === undefined ? [] : [{ file: join(this.deps.schedule.dir, name), at }];
    }).sort((a, b) => b.at - a.at);
  }

  /** When the next backup is due (ms since the epoch). */
  nextDue(): number {
    const interval = this.deps.schedule.everyHours * 3_600_000;
    const last = this.list()[0]?.at;
    const due = last === undefined ? 0 : last + interval;
    if (this.lastFailure === undefined) return due;
    return Math.max(due, this.lastFailure + Math.min(interval, this.deps.retryAfterMs ?? 15 * 60_000));
  }

  /** Makes a backup when one is due, then prunes; resolves to the new file, or undefined. */
  tick(): Promise<string | undefined> {
    if (this.running) return this.running;
    if (this.deps.clock().getTime() < this.nextDue()) return Promise.resolve(undefined);
    this.running = this.runOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(): Promise<string | undefined> {
    const { dir } = this.deps.schedule;
    const started = this.deps.clock();
    const file = join(dir, backupFileName(started));
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      await this.deps.backup(file);
      this.lastFailure = undefined;
      this.deps.log.info({ file, ms: this.deps.clock().getTime() - started.getTime() }, 'backup written');
    } catch (e) {
      this.lastFailure = this.deps.clock().getTime();
      this.deps.log.error({ file, err: (e as Error).message }, 'scheduled backup failed');
      return undefined;
    }
    this.prune();
    return file;
  }

  /** Deletes all but the newest `keep` backups; returns what it deleted. */
  prune(): string[] {
    const old = this.list().slice(Math.max(1, this.deps.schedule.keep));
    for (const { file } of old) {
      try {
        rmSync(file);
      } catch (e) {
        this.deps.log.warn({ file, err: (e as Error).message }, 'could not delete an old backup');
      }
    }
    return old.map((o) => o.file);
  }
}
