// core/backup-scheduler.ts with a fake clock: a backup when due (and not again after a
// restart), the newest `keep` kept, other files never touched, a failure retried later.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackupScheduler, backupFileName, backupFileTime } from '../../src/core/backup-scheduler.js';
import { silentLogger } from '../../src/core/logger.js';

let root: string;
let dir: string;
let now: number;
const HOUR = 3_600_000;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'authbox-sched-'));
  dir = join(root, 'backups');
  now = Date.UTC(2026, 0, 1, 0, 0, 0);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function scheduler(opts: { keep?: number; fail?: () => boolean } = {}): { s: BackupScheduler; made: string[] } {
  const made: string[] = [];
  const s = new BackupScheduler({
    schedule: { dir, everyHours: 6, keep: opts.keep ?? 3, passphraseFile: '/unused' },
    clock: () => new Date(now),
    log: silentLogger,
    backup: async (file) => {
      if (opts.fail?.()) throw new Error('disk full');
      writeFileSync(file, 'x');
      made.push(file);
    },
  });
  return { s, made };
}

describe('BackupScheduler', () => {
  it('names files so that names sort as times, and reads the time back', () => {
    const at = new Date(Date.UTC(2026, 10, 23, 17, 18, 16, 326));
    expect(backupFileName(at)).toBe('authbox-backup-20261123T171816326Z.abk');
    expect(backupFileTime(backupFileName(at))).toBe(at.getTime());
    expect(backupFileTime('authbox.db')).toBeUndefined();
  });

  it('backs up at once, then only every everyHours', async () => {
    const { s, made } = scheduler();
    expect(await s.tick()).toBeDefined();
    now += 5 * HOUR;
    expect(await s.tick()).toBeUndefined();
    now += HOUR;
    expect(await s.tick()).toBeDefined();
    expect(made).toHaveLength(2);
  });

  it('does not back up again after a restart when the last backup is recent', async () => {
    await scheduler().s.tick();
    now += 2 * HOUR;
    const { s, made } = scheduler();
    expect(await s.tick()).toBeUndefined();
    expect(made).toHaveLength(0);
    expect(s.nextDue()).toBe(now + 4 * HOUR);
  });

  it('keeps the newest N and never deletes files it did not name', async () => {
    const { s } = scheduler({ keep: 3 });
    writeFileSync(join(root, 'placeholder'), '');
    const files: string[] = [];
    for (let i = 0; i < 7; i++) {
      files.push((await s.tick())!);
      if (i === 0) writeFileSync(join(dir, 'notes.txt'), 'mine');
      now += 6 * HOUR;
    }
    const left = readdirSync(dir).sort();
    expect(left).toEqual([...files.slice(-3).map((f) => f.slice(dir.length + 1)), 'notes.txt'].sort());
  });

  it('retries a failed backup after the retry delay, not at every check', async () => {
    let failing = true;
    const { s, made } = scheduler({ fail: () => failing });
    expect(await s.tick()).toBeUndefined();
    now += 60_000;
    expect(await s.tick()).toBeUndefined();
    failing = false;
    now += 5 * 60_000;
    expect(await s.tick()).toBeUndefined();
    now += 10 * 60_000;
    expect(await s.tick()).toBeDefined();
    expect(made).toHaveLength(1);
  });

  it('runs one backup at a time', async () => {
    const { s, made } = scheduler();
    const [a, b] = await Promise.all([s.tick(), s.tick()]);
    expect(a).toBe(b);
    expect(made).toHaveLength(1);
  });
});
