// The change feed (DESIGN.md): every write appends (kind, ref) to the changes table in
// its own transaction; each process polls for rows past the last it saw and hands them
// to subscribers, so a change from any process is live everywhere within a second.
import type { Logger } from './logger.js';

export interface ChangeSource {
  latestSeq(): number;
  changesSince(seq: number): { seq: number; kind: string; ref: string }[];
}

type Handler = (ref: string) => void;
type BatchHandler = (refs: string[]) => void;

export class ChangeFeed {
  private seq: number;
  private readonly handlers = new Map<string, Handler[]>();
  private readonly batchHandlers = new Map<string, BatchHandler[]>();
  private timer: NodeJS.Timeout | undefined;
  private continuing: NodeJS.Immediate | undefined;

  private readonly turnBudgetMs: number;

  constructor(private readonly source: ChangeSource, private readonly pollMs: number, private readonly log: Logger, options: { turnBudgetMs?: number } = {}) {
    this.turnBudgetMs = options.turnBudgetMs ?? TURN_BUDGET_MS;
    // State was loaded just before: start after what it already reflects.
    this.seq = source.latestSeq();
  }

  on(kind: string, handler: Handler): void {
    const list = this.handlers.get(kind) ?? [];
    list.push(handler);
    this.handlers.set(kind, list);
  }

  /**
   * Once per poll with every ref of that kind seen in it (each once, in order): for work
   * that reloads a whole table, which must not run once per row when a sync writes 10,000.
   */
  onBatch(kind: string, handler: BatchHandler): void {
    const list = this.batchHandlers.get(kind) ?? [];
    list.push(handler);
    this.batchHandlers.set(kind, list);
  }

  start(): void {
    this.timer = setInterval(() => this.poll(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.continuing) clearImmediate(this.continuing);
    this.continuing = undefined;
  }

  /** Applies every change past the last seen one; returns how many. Cheap when idle (one indexed read). */
  poll(): number {
    let rows;
    try {
      rows = this.source.changesSince(this.seq);
    } catch (e) {
      this.log.warn({ err: (e as Error).message }, 'change feed poll failed');
      return 0;
    }
    const batches = new Map<string, Set<string>>();
    const started = performance.now();
    let taken = 0;
    for (const row of rows) {
      // Past the budget, the rest of the burst waits for the next turn (read again after seq):
      // a directory sync's 10,000 rows at 2,000 a turn paused RADIUS, on this thread, 64 ms.
      if (taken > 0 && performance.now() - started > this.turnBudgetMs) break;
      taken++;
      this.seq = row.seq;
      for (const h of this.handlers.get(row.kind) ?? []) {
        try {
          h(row.ref);
        } catch (e) {
          this.log.error({ err: (e as Error).message, kind: row.kind, ref: row.ref }, 'change handler failed');
        }
      }
      if (this.batchHandlers.has(row.kind)) {
        let refs = batches.get(row.kind);
        if (!refs) batches.set(row.kind, (refs = new Set()));
        refs.add(row.ref);
      }
    }
    for (const [kind, refs] of batches) {
      for (const h of this.batchHandlers.get(kind)!) {
        try {
          h([...refs]);
        } catch (e) {
          this.log.error({ err: (e as Error).message, kind, refs: refs.size }, 'change handler failed');
        }
      }
    }
    // A burst: the rest on the next turn of the event loop rather than at the next interval.
    if ((taken < rows.length || rows.length >= BURST_ROWS) && this.timer && !this.continuing) {
      this.continuing = setImmediate(() => {
        this.continuing = undefined;
        this.poll();
      });
    }
    return taken;
  }
}

/** Time one poll may spend on rows before yielding the event loop (a RADIUS answer takes well under 1 ms). */
export const TURN_BUDGET_MS = 5;

/** A poll that read this many rows probably left more behind (sources answer in pages of 500). */
const BURST_ROWS = 500;
