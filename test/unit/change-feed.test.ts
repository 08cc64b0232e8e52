// src/core/change-feed.ts: each process polls the changes table past the last sequence it
// saw and hands rows to subscribers by kind; a bad handler or a failing read is logged.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChangeFeed, type ChangeSource } from '../../src/core/change-feed.js';
import type { Logger } from '../../src/core/logger.js';

interface Row { seq: number; kind: string; ref: string }

function stubSource(initial: Row[] = []): ChangeSource & { rows: Row[]; fail: Error | null; asked: number[]; page: number } {
  const s = {
    rows: [...initial],
    fail: null as Error | null,
    asked: [] as number[],
    page: 10_000,
    latestSeq: () => s.rows.reduce((m, r) => Math.max(m, r.seq), 0),
    changesSince: (seq: number) => {
      s.asked.push(seq);
      if (s.fail) throw s.fail;
      return s.rows.filter((r) => r.seq > seq).sort((a, b) => a.seq - b.seq).slice(0, s.page);
    },
  };
  return s;
}

function recordingLogger(): Logger & { records: { level: string; obj: object; msg?: string }[] } {
  const records: { level: string; obj: object; msg?: string }[] = [];
  const log = {
    records,
    debug: (obj: object, msg?: string) => void records.push({ level: 'debug', obj, msg }),
    info: (obj: object, msg?: string) => void records.push({ level: 'info', obj, msg }),
    warn: (obj: object, msg?: string) => void records.push({ level: 'warn', obj, msg }),
    error: (obj: object, msg?: string) => void records.push({ level: 'error', obj, msg }),
    child: () => log,
  };
  return log;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChangeFeed', () => {
  it('starts after latestSeq: what the loaded state already reflects is not replayed', () => {
    const source = stubSource([{ seq: 1, kind: 'cert', ref: '1:a' }, { seq: 2, kind: 'cert', ref: '1:b' }]);
    const feed = new ChangeFeed(source, 100, recordingLogger());
    const got: string[] = [];
    feed.on('cert', (ref) => got.push(ref));
    expect(feed.poll()).toBe(0);
    expect(source.asked).toEqual([2]);
    source.rows.push({ seq: 3, kind: 'cert', ref: '1:c' });
    expect(feed.poll()).toBe(1);
    expect(got).toEqual(['1:c']);
    expect(feed.poll()).toBe(0);
    expect(source.asked).toEqual([2, 2, 3]);
  });

  it('delivers in sequence order, by kind, to every handler of that kind in registration order', () => {
    const source = stubSource();
    const feed = new ChangeFeed(source, 100, recordingLogger());
    const got: string[] = [];
    feed.on('cert', (ref) => got.push(`cert-a ${ref}`));
    feed.on('ca', (ref) => got.push(`ca ${ref}`));
    feed.on('cert', (ref) => got.push(`cert-b ${ref}`));
    source.rows.push(
      { seq: 1, kind: 'cert', ref: '1:x' },
      { seq: 2, kind: 'ca', ref: '2' },
      { seq: 3, kind: 'settings', ref: 'tls.server' }, // nobody listens: skipped, still consumed
      { seq: 4, kind: 'cert', ref: '1:y' },
    );
    expect(feed.poll()).toBe(4);
    expect(got).toEqual(['cert-a 1:x', 'cert-b 1:x', 'ca 2', 'cert-a 1:y', 'cert-b 1:y']);
    expect(feed.poll()).toBe(0);
  });

  it('hands batch handlers every ref of their kind once per poll, after the per-row handlers', () => {
    const source = stubSource();
    // No time budget here: this is about batching, not about yielding (tested below).
    const feed = new ChangeFeed(source, 100, recordingLogger(), { turnBudgetMs: Infinity });
    const got: string[] = [];
    feed.on('user', (ref) => got.push(`row ${ref}`));
    feed.onBatch('user', (refs) => got.push(`batch ${refs.join(',')}`));
    feed.onBatch('ca', (refs) => got.push(`ca ${refs.join(',')}`));
    // A sync that touches 10,000 users writes 10,000 rows: one reload, not 10,000.
    for (let i = 1; i <= 10_000; i++) source.rows.push({ seq: i, kind: 'user', ref: String(i % 3) });
    expect(feed.poll()).toBe(10_000);
    expect(got.filter((g) => g.startsWith('batch'))).toEqual(['batch 1,2,0']);
    expect(got.at(-1)).toBe('batch 1,2,0');
    expect(got).not.toContain('ca');
    expect(feed.poll()).toBe(0);
    expect(got.filter((g) => g.startsWith('batch'))).toHaveLength(1);
  });

  it('takes a burst a page per turn of the event loop once started, not one page per interval', async () => {
    const source = stubSource();
    source.page = 1000;
    const feed = new ChangeFeed(source, 60_000, recordingLogger(), { turnBudgetMs: Infinity });
    let seen = 0;
    feed.on('user', () => seen++);
    for (let i = 1; i <= 4500; i++) source.rows.push({ seq: i, kind: 'user', ref: String(i) });
    feed.start();
    expect(feed.poll()).toBe(1000);
    for (let i = 0; i < 10 && seen < 4500; i++) await new Promise((r) => setImmediate(r));
    expect(seen).toBe(4500);
    feed.stop();
  });

  it('stops a turn when its time budget is spent and takes the rest on the next turns, in order', async () => {
    const source = stubSource();
    const feed = new ChangeFeed(source, 60_000, recordingLogger(), { turnBudgetMs: 5 });
    const got: number[] = [];
    const batches: number[] = [];
    // Each row costs 1 ms: 100 rows would hold the event loop 100 ms in one turn.
    feed.on('user', (ref) => {
      const until = performance.now() + 1;
      while (performance.now() < until) { /* busy */ }
      got.push(Number(ref));
    });
    feed.onBatch('user', (refs) => batches.push(refs.length));
    for (let i = 1; i <= 100; i++) source.rows.push({ seq: i, kind: 'user', ref: String(i) });
    feed.start();
    const turns: number[] = [];
    const t0 = performance.now();
    const first = feed.poll();
    turns.push(performance.now() - t0);
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(20);
    for (let i = 0; i < 200 && got.length < 100; i++) {
      await new Promise((r) => setImmediate(r));
    }
    feed.stop();
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Every row once, through batches of what each turn took.
    expect(batches.reduce((a, b) => a + b, 0)).toBe(100);
    expect(batches.length).toBeGreaterThan(4);
    expect(Math.max(...batches)).toBeLessThan(20);
    expect(turns[0]).toBeLessThan(50);
  });

  it('follows a source that answers in pages', () => {
    const source = stubSource();
    source.page = 2;
    const feed = new ChangeFeed(source, 100, recordingLogger());
    const got: string[] = [];
    feed.on('cert', (ref) => got.push(ref));
    for (let i = 1; i <= 5; i++) source.rows.push({ seq: i * 10, kind: 'cert', ref: String(i) });
    expect([feed.poll(), feed.poll(), feed.poll(), feed.poll()]).toEqual([2, 2, 1, 0]);
    expect(got).toEqual(['1', '2', '3', '4', '5']);
  });

  it('a throwing handler is logged and stops neither the other handlers nor later rows, and is not replayed', () => {
    const source = stubSource();
    const log = recordingLogger();
    const feed = new ChangeFeed(source, 100, log);
    const got: string[] = [];
    feed.on('cert', (ref) => {
      if (ref === '1:bad') throw new Error('boom');
      got.push(`first ${ref}`);
    });
    feed.on('cert', (ref) => got.push(`second ${ref}`));
    source.rows.push({ seq: 1, kind: 'cert', ref: '1:bad' }, { seq: 2, kind: 'cert', ref: '1:ok' });
    expect(() => feed.poll()).not.toThrow();
    expect(got).toEqual(['second 1:bad', 'first 1:ok', 'second 1:ok']);
    expect(log.records).toEqual([{ level: 'error', obj: { err: 'boom', kind: 'cert', ref: '1:bad' }, msg: 'change handler failed' }]);
    expect(feed.poll()).toBe(0);
  });

  it('a throwing source is logged, not thrown, and the next poll resumes where it was', () => {
    const source = stubSource([{ seq: 5, kind: 'cert', ref: 'old' }]);
    const log = recordingLogger();
    const feed = new ChangeFeed(source, 100, log);
    const got: string[] = [];
    feed.on('cert', (ref) => got.push(ref));
    source.rows.push({ seq: 6, kind: 'cert', ref: 'new' });
    source.fail = new Error('SQLITE_BUSY: database is locked');
    expect(feed.poll()).toBe(0);
    expect(log.records).toEqual([{ level: 'warn', obj: { err: 'SQLITE_BUSY: database is locked' }, msg: 'change feed poll failed' }]);
    source.fail = null;
    expect(feed.poll()).toBe(1);
    expect(got).toEqual(['new']);
    expect(source.asked).toEqual([5, 5]);
  });

  it('start() polls every pollMs and stop() stops it', () => {
    vi.useFakeTimers();
    const source = stubSource();
    const feed = new ChangeFeed(source, 250, recordingLogger());
    const got: string[] = [];
    feed.on('cert', (ref) => got.push(ref));
    feed.start();
    source.rows.push({ seq: 1, kind: 'cert', ref: 'a' });
    vi.advanceTimersByTime(249);
    expect(got).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(got).toEqual(['a']);
    vi.advanceTimersByTime(1000);
    expect(source.asked).toHaveLength(5);
    feed.stop();
    source.rows.push({ seq: 2, kind: 'cert', ref: 'b' });
    vi.advanceTimersByTime(5000);
    expect(got).toEqual(['a']);
  });
});
