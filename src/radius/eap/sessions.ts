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
}

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

  constructor(options: SessionTableOptions = {}) {
    this.max = options.maxSessions ?? 10_000;
    this.maxAge = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.dispose = (options.dispose as ((value: T) => void) | undefined) ?? (() => {});
  }

  get size(): number {
    return this.map.size;
  }

  /** A new session under a fresh random State, or undefined when the table is full. */
  create(value: T): Buffer | undefined {
    this.reclaim();
    if (this.map.size >= this.max) return undefined;
    const state = randomBytes(STATE_LENGTH);
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
