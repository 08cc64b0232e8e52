// What the RADIUS thread writes, handed to a writer thread (radius-writer-worker.ts) with a
// database connection of its own: decision batches and accounting groups. No commit, fsync, WAL
// checkpoint, pruning DELETE or wait for a directory sync's write lock runs on the thread that
// answers RADIUS. Measured in bench/ldap-sync.mjs: with decision batches committed on the RADIUS
// thread, a commit right after a 10,000-user sync took 17-27 ms (its fsync waited for the sync's
// data on the same ext4 journal) and was the longest pause in RADIUS answers. Accounting is still
// answered only once its record is committed: the Accounting-Response waits for the thread's reply.
//
// Decisions handed over are bounded (maxInFlight rows not yet confirmed written): beyond that, or
// while the thread is being restarted, appendDecisions throws a busy error and the DecisionLog
// keeps the batch in its own bounded buffer, as it does for a locked database.
import { Worker } from 'node:worker_threads';
import type { AccountingEvent } from './core/accounting.js';
import type { AuthDecision, DecisionStorage } from './core/auth-log.js';
import type { Logger } from './core/logger.js';

export type WriterRequest =
  | { type: 'append'; rows: readonly AuthDecision[] }
  | { type: 'accounting'; id: number; events: readonly AccountingEvent[] }
  | { type: 'prune'; before: number }
  | { type: 'close' };

export type WriterReply =
  | { type: 'written'; n: number }
  | { type: 'accounted'; id: number; error?: string; code?: string }
  | { type: 'pruned'; n: number }
  | { type: 'failing'; error: string; queued: number }
  | { type: 'recovered' }
  | { type: 'closed'; unwritten: number };

export interface RadiusWriterStats {
  /** Rows the thread confirmed written. */
  written: number;
  /** Rows handed over and not yet confirmed. */
  inFlight: number;
  pruned: number;
  /** Decision rows lost with a writer thread that died (restarted since). */
  lost: number;
  restarts: number;
}

const CLOSE_TIMEOUT_MS = 10_000;
const RESTART_DELAY_MS = 1000;

export class RadiusWriter implements DecisionStorage {
  readonly stats: RadiusWriterStats = { written: 0, inFlight: 0, pruned: 0, lost: 0, restarts: 0 };
  private worker: Worker | undefined;
  private closing: Promise<void> | undefined;
  private readonly maxInFlight: number;
  /** Accounting groups sent and not yet answered, by id. */
  private readonly accounts = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private nextAccount = 1;

  constructor(private readonly options: { databaseFile: string; log: Logger; maxInFlight?: number; script?: URL }) {
    this.maxInFlight = options.maxInFlight ?? 20_000;
    this.start();
  }

  private start(): void {
    const worker = new Worker(this.options.script ?? new URL('./radius-writer-worker.js', import.meta.url), {
      workerData: { databaseFile: this.options.databaseFile },
    });
    worker.unref();
    worker.on('message', (m: WriterReply) => this.onReply(m));
    worker.on('error', (e) => this.options.log.error({ err: e.message }, 'RADIUS writer thread failed'));
    worker.on('exit', () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.failAccounting('the RADIUS writer thread ended');
      if (this.closing) return;
      // Rows it held are gone; the DecisionLog keeps new ones in memory until the next thread runs.
      this.stats.lost += this.stats.inFlight;
      if (this.stats.inFlight > 0) this.options.log.error({ lost: this.stats.inFlight }, 'RADIUS writer thread ended; its unwritten decisions are lost');
      this.stats.inFlight = 0;
      const t = setTimeout(() => {
        if (this.closing) return;
        this.stats.restarts++;
        this.start();
      }, RESTART_DELAY_MS);
      t.unref();
    });
    this.worker = worker;
  }

  private onReply(m: WriterReply): void {
    switch (m.type) {
      case 'written':
        this.stats.written += m.n;
        this.stats.inFlight -= m.n;
        break;
      case 'accounted': {
        const waiting = this.accounts.get(m.id);
        this.accounts.delete(m.id);
        if (m.error === undefined) waiting?.resolve();
        else waiting?.reject(Object.assign(new Error(m.error), m.code ? { code: m.code } : {}));
        break;
      }
      case 'pruned':
        this.stats.pruned += m.n;
        if (m.n > 0) this.options.log.debug({ pruned: m.n }, 'old decisions pruned');
        break;
      case 'failing':
        this.options.log.error({ err: m.error, queued: m.queued }, 'decision log write failed; the writer thread retries every second');
        break;
      case 'recovered':
        this.options.log.info({}, 'decision log writes resumed');
        break;
      case 'closed':
        if (m.unwritten > 0) this.options.log.error({ unwritten: m.unwritten }, 'decisions not written at shutdown');
        break;
    }
  }

  /** Hands the batch to the writer thread; throws (the caller keeps the batch) when it cannot take it now. */
  appendDecisions(rows: readonly AuthDecision[]): void {
    if (rows.length === 0) return;
    if (!this.worker || this.closing || this.stats.inFlight + rows.length > this.maxInFlight) {
      throw Object.assign(new Error('the decision log writer is busy'), { code: 'SQLITE_BUSY_WRITER' });
    }
    this.stats.inFlight += rows.length;
    this.worker.postMessage({ type: 'append', rows } satisfies WriterRequest);
  }

  /** Commits one group of accounting events durably, in one transaction; rejects if nothing of it was stored. */
  applyAccounting(events: readonly AccountingEvent[]): Promise<void> {
    // Coded as a storage failure: the request is counted and logged as one (at a bounded rate), and the NAS retries.
    if (!this.worker || this.closing) return Promise.reject(Object.assign(new Error('the RADIUS writer thread is not running'), { code: 'SQLITE_BUSY_WRITER' }));
    const id = this.nextAccount++;
    return new Promise<void>((resolve, reject) => {
      this.accounts.set(id, { resolve, reject });
      this.worker!.postMessage({ type: 'accounting', id, events } satisfies WriterRequest);
    });
  }

  private failAccounting(why: string): void {
    for (const waiting of this.accounts.values()) waiting.reject(Object.assign(new Error(why), { code: 'SQLITE_BUSY_WRITER' }));
    this.accounts.clear();
  }

  /** Asks the writer thread to prune; the count arrives later (stats.pruned), so this returns 0. */
  pruneDecisions(before: number): number {
    this.worker?.postMessage({ type: 'prune', before } satisfies WriterRequest);
    return 0;
  }

  /** Waits until the thread has written what it was handed and closed its connection. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const worker = this.worker;
      if (!worker) return resolve();
      worker.ref(); // the process stays up until the thread has written everything
      const timer = setTimeout(() => {
        this.options.log.error({ inFlight: this.stats.inFlight }, 'RADIUS writer thread did not finish in time; stopped');
        void worker.terminate();
      }, CLOSE_TIMEOUT_MS);
      worker.once('exit', () => {
        clearTimeout(timer);
        this.failAccounting('the RADIUS writer thread stopped');
        resolve();
      });
      worker.postMessage({ type: 'close' } satisfies WriterRequest);
    });
    return this.closing;
  }
}
