// The RADIUS writer thread (dist/radius-writer-worker.js): decision batches handed over from the
// RADIUS thread land in auth_log in order; while another process holds the database's write lock
// (a directory sync) handing over never waits and the rows land once the lock is gone; what is
// handed over is bounded (beyond it the DecisionLog keeps the batch itself); close() writes
// everything first; pruning runs in the thread. Accounting groups are committed there and their
// promise settles only once the row is in the database.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecisionLog, type AuthDecision } from '../../src/core/auth-log.js';
import type { Logger } from '../../src/core/logger.js';
import { RadiusWriter } from '../../src/radius-writer.js';
import { AccountingRecorder } from '../../src/radius/accounting.js';
import { openDatabase, type Db } from '../../src/store/db.js';
import { ROOT } from '../helpers/authbox.js';

const script = new URL(`file://${join(ROOT, 'dist/radius-writer-worker.js')}`);
const errors: string[] = [];
const log = {
  info: () => undefined, debug: () => undefined, warn: () => undefined,
  error: (_o: unknown, msg: string) => errors.push(msg), child: () => log,
} as unknown as Logger;
const decision = (i: number, at = Date.now()): AuthDecision => ({ at, username: `u${i}`, nas: 'ap', nasAddress: '127.0.0.1', method: 'pap', outcome: 'accept' });
const until = async (what: () => boolean, ms = 5000): Promise<void> => {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('RADIUS writer thread', () => {
  let dir: string;
  let file: string;
  let db: Db;
  let writer: RadiusWriter | undefined;
  const count = (): number => (db.prepare('SELECT count(*) AS n FROM auth_log').get() as { n: number }).n;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'authbox-writer-'));
    file = join(dir, 'authbox.db');
    db = openDatabase(file);
    errors.length = 0;
  });
  afterEach(async () => {
    await writer?.close();
    writer = undefined;
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes each batch handed over, in order', async () => {
    writer = new RadiusWriter({ databaseFile: file, log, script });
    writer.appendDecisions([decision(1), decision(2)]);
    writer.appendDecisions([decision(3)]);
    await until(() => writer!.stats.written === 3);
    expect(writer.stats.inFlight).toBe(0);
    expect((db.prepare('SELECT username FROM auth_log ORDER BY id').all() as { username: string }[]).map((r) => r.username)).toEqual(['u1', 'u2', 'u3']);
  });

  it('never waits for another process\'s write lock: the rows land once it is released', async () => {
    writer = new RadiusWriter({ databaseFile: file, log, script, maxInFlight: 1000 });
    const dlog = new DecisionLog({ storage: writer, log, flushIntervalMs: 20, batchSize: 100 });
    const locker = openDatabase(file);
    locker.prepare('BEGIN IMMEDIATE').run();
    try {
      const t0 = performance.now();
      for (let i = 0; i < 250; i++) dlog.record(decision(i));
      dlog.flush();
      // Handing over is a postMessage: nothing here waited for the 10 s busy timeout of the thread's connection.
      expect(performance.now() - t0).toBeLessThan(500);
      expect(dlog.pending).toBe(0);
      expect(writer.stats.inFlight).toBe(250);
      await new Promise((r) => setTimeout(r, 300));
      expect(count()).toBe(0);
      // Beyond the bound, the DecisionLog keeps the batch in memory (a busy error, not logged as a failure).
      for (let i = 0; i < 800; i++) dlog.record(decision(1000 + i));
      dlog.flush();
      expect(writer.stats.inFlight).toBeLessThanOrEqual(1000);
      expect(dlog.pending).toBeGreaterThan(0);
    } finally {
      locker.prepare('COMMIT').run();
      locker.close();
    }
    await until(() => count() >= 250 + 700 - 50);
    dlog.close();
    await writer.close();
    expect(count()).toBe(1050);
    expect(errors).toEqual([]);
  });

  it('close() waits until everything handed over is written', async () => {
    writer = new RadiusWriter({ databaseFile: file, log, script });
    for (let b = 0; b < 20; b++) writer.appendDecisions(Array.from({ length: 500 }, (_, i) => decision(b * 500 + i)));
    await writer.close();
    expect(count()).toBe(10_000);
    expect(() => writer!.appendDecisions([decision(0)])).toThrow(/busy/);
  });

  it('prunes old decisions in the thread', async () => {
    writer = new RadiusWriter({ databaseFile: file, log, script });
    const old = Date.now() - 100 * 86_400_000;
    writer.appendDecisions([decision(1, old), decision(2, old), decision(3)]);
    await until(() => writer!.stats.written === 3);
    expect(writer.pruneDecisions(Date.now() - 90 * 86_400_000)).toBe(0);
    await until(() => writer!.stats.pruned === 2);
    expect(count()).toBe(1);
  });

  it('commits accounting groups and settles each event only once its row is stored', async () => {
    writer = new RadiusWriter({ databaseFile: file, log, script });
    const recorder = new AccountingRecorder(writer);
    const sessions = (): number => (db.prepare('SELECT count(*) AS n FROM acct_sessions').get() as { n: number }).n;
    const start = (id: string) => ({ status: 'start' as const, at: Date.now(), nas: 'ap', nasAddress: '127.0.0.1', sessionId: id, username: 'alice' });
    const locker = openDatabase(file);
    locker.prepare('BEGIN IMMEDIATE').run();
    let settled = false;
    const both = Promise.all([recorder.record(start('s1')), recorder.record(start('s2'))]).then(() => (settled = true));
    try {
      // The write waits for the lock in the writer thread; the events are not acknowledged meanwhile.
      await new Promise((r) => setTimeout(r, 300));
      expect(settled).toBe(false);
    } finally {
      locker.prepare('COMMIT').run();
      locker.close();
    }
    await both;
    expect(sessions()).toBe(2);
    await writer.close();
    await expect(recorder.record(start('s3'))).rejects.toThrow(/not running/);
    expect(sessions()).toBe(2);
  });
});
