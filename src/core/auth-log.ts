// The decision log: every final authentication decision with its reason in plain words.
// RADIUS answers must not wait for a disk flush, so decisions are buffered in memory and
// written in batches (one transaction every flushIntervalMs or batchSize entries); the
// buffer is bounded and what does not fit is counted, not kept. Old rows are pruned by the
// same job. No password, secret or key material is ever part of a decision.
import type { Logger } from './logger.js';

export interface AuthDecision {
  at: number;
  username?: string;
  /** The RADIUS client's name and the request's source address. */
  nas: string;
  nasAddress: string;
  callingStationId?: string;
  /** pap, chap, mschapv2, eap-tls, peap, ttls; eap when refused before a method was chosen. */
  method?: string;
  outcome: 'accept' | 'reject';
  /** Why, in plain words (unknown user, wrong password, certificate revoked, ...); none for an accept. */
  reason?: string;
  /** Non-secret context: the policy group, the TLS version, the certificate serial, the inner method. */
  details?: Record<string, string>;
}

export interface StoredDecision extends AuthDecision {
  id: number;
}

export interface DecisionQuery {
  user?: string;
  limit?: number;
}

export interface DecisionStorage {
  /** Appends the batch in one transaction. */
  appendDecisions(rows: readonly AuthDecision[]): void;
  /** Deletes decisions older than `before` (ms since the epoch); returns how many. */
  pruneDecisions(before: number): number;
}

export interface DecisionLogOptions {
  storage: DecisionStorage;
  log: Logger;
  now?: () => number;
  flushIntervalMs?: number;
  batchSize?: number;
  /** At most this many decisions wait in memory; more are dropped and counted. */
  maxBuffered?: number;
  retentionMs?: number;
  pruneIntervalMs?: number;
  /** Called once the last batch is written at close (the daemon closes the log's own connection). */
  onClose?: () => void;
}

export interface DecisionLogStats {
  written: number;
  dropped: number;
  failedFlushes: number;
  pruned: number;
}

const DAY_MS = 86_400_000;

export class DecisionLog {
  readonly stats: DecisionLogStats = { written: 0, dropped: 0, failedFlushes: 0, pruned: 0 };
  private buffer: AuthDecision[] = [];
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private pruner: NodeJS.Timeout | undefined;
  private failing = false;
  private closed = false;
  private readonly now: () => number;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly retentionMs: number;
  private readonly pruneIntervalMs: number;

  constructor(private readonly options: DecisionLogOptions) {
    this.now = options.now ?? Date.now;
    this.flushIntervalMs = options.flushIntervalMs ?? 200;
    this.batchSize = options.batchSize ?? 500;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.retentionMs = options.retentionMs ?? 90 * DAY_MS;
    this.pruneIntervalMs = options.pruneIntervalMs ?? 3_600_000;
  }

  /** How many decisions wait in memory. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Prunes once now and then every pruneIntervalMs. */
  start(): void {
    this.prune();
    this.pruner = setInterval(() => this.prune(), this.pruneIntervalMs);
    this.pruner.unref();
  }

  /** Never blocks on the disk: the decision waits for the next batch. */
  record(decision: AuthDecision): void {
    if (this.closed || this.buffer.length >= this.maxBuffered) {
      this.stats.dropped++;
      return;
    }
    this.buffer.push(decision);
    if (this.buffer.length >= this.batchSize) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        this.flush();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, this.flushIntervalMs);
      this.timer.unref();
    }
  }

  /** Writes what waits, in transactions of at most batchSize; on failure keeps it for the next try. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.batchSize);
      try {
        this.options.storage.appendDecisions(batch);
      } catch (e) {
        this.stats.failedFlushes++;
        // Busy: another writer (a directory sync) holds the database; not an error, just later.
        const busy = (e as { code?: string }).code?.startsWith('SQLITE_BUSY') === true;
        if (!this.failing && !busy) this.options.log.error({ err: (e as Error).message, pending: this.buffer.length }, 'decision log write failed; will retry');
        this.failing = true;
        if (!this.closed) {
          this.timer = setTimeout(() => {
            this.timer = undefined;
            this.flush();
          }, this.flushIntervalMs);
          this.timer.unref();
        }
        return;
      }
      this.failing = false;
      this.buffer.splice(0, batch.length);
      this.stats.written += batch.length;
    }
  }

  prune(): void {
    try {
      this.stats.pruned += this.options.storage.pruneDecisions(this.now() - this.retentionMs);
    } catch (e) {
      this.options.log.warn({ err: (e as Error).message }, 'decision log pruning failed');
    }
  }

  /** Writes what waits and stops the timers; later decisions are dropped. */
  close(): void {
    this.closed = true;
    clearInterval(this.pruner);
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.options.onClose?.();
  }
}
