// EAP conversations in flight, keyed by the RADIUS State attribute (RFC 2865 §5.24,
// RFC 3579 §2.6.1). Each handshake holds a TLS connection (tens of KiB), so the table is
// bounded in count and age; abandoned conversations are reclaimed on the next insert.
import { randomBytes } from 'node:crypto';

export const STATE_LENGTH = 16;

export interface SessionTableOptions {
  maxSessions?: number;
  maxAgeMs?: number;
  now?: () => number;
  /** Called for every session removed, so that its TLS connection is torn down. */
  dispose?: (value: unknown) => void;
  /**
   * The first octet of every State this table makes (0-255): which EAP worker thread owns
   * the conversation, so that the thread holding the sockets can route the next round to it.
   */
  stateTag?: number;
}

/** The worker tag of a State made by a tagged table, or undefined for a State of another shape. */
export const stateTagOf = (state: Buffer | undefined): number | undefined =>
  state && state.length === STATE_LENGTH ? state[0] : undefined;

interface Entry<T> {
  value: T;
  createdAt: number;
}

export class EapSessionTable<T> {
  private readonly map = new Map<string, Entry<T>>();
  private readonly max: number;
  private readonly maxAge: number;
  private readonly now: () => number;
  private readonly dispose: (value: T) => void;
  private readonly stateTag: number | undefined;

  constructor(options: SessionTableOptions = {}) {
    this.max = options.maxSessions ?? 10_000;
    this.maxAge = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.dispose = (options.dispose as ((value: T) => void) | undefined) ?? (() => {});
    if (options.stateTag !== undefined && !(Number.isInteger(options.stateTag) && options.stateTag >= 0 && options.stateTag <= 255)) {
      throw new RangeError('stateTag must be an octet');
    }
    this.stateTag = options.stateTag;
  }

  get size(): number {
    return this.map.size;
  }

  /** A new session under a fresh random State, or undefined when the table is full. */
  create(value: T): Buffer | undefined {
    this.reclaim();
    if (this.map.size >= this.max) return undefined;
    // 128 random bits, or 120 behind the worker's tag: either way not guessable.
    const state = randomBytes(STATE_LENGTH);
    if (this.stateTag !== undefined) state[0] = this.stateTag;
    this.map.set(state.toString('hex'), { value, createdAt: this.now() });
    return state;
  }

  get(state: Buffer): T | undefined {
    if (state.length !== STATE_LENGTH) return undefined;
    const key = state.toString('hex');
    const e = this.map.get(key);
    if (!e) return undefined;
    if (this.now() - e.createdAt >= this.maxAge) {
      this.remove(key, e);
      return undefined;
    }
    return e.value;
  }

  delete(state: Buffer): void {
    const key = state.toString('hex');
    const e = this.map.get(key);
    if (e) this.remove(key, e);
  }

  /** Drops expired sessions: the Map keeps insertion order, so the oldest are first. */
  reclaim(): number {
    const limit = this.now() - this.maxAge;
    let n = 0;
    for (const [key, e] of this.map) {
      if (e.createdAt > limit) break;
      this.remove(key, e);
      n++;
    }
    return n;
  }

  clear(): void {
    for (const [key, e] of this.map) this.remove(key, e);
  }

  private remove(key: string, e: Entry<T>): void {
    this.map.delete(key);
    try {
      this.dispose(e.value);
    } catch { /* a teardown failure must not stop reclaiming */ }
  }
}
