// Duplicate detection (RFC 5080 §2.2.2): a retransmitted request (same client address
// and port, Identifier and Request Authenticator, and the same bytes) gets the reply
// already made for it, or waits for the one being made, never a second evaluation.
//
// Two generations of Maps instead of one Map trimmed from its oldest end: deleting from
// the front of a V8 Map leaves holes that every later walk from the front has to skip,
// which cost several microseconds per request at 16,000 entries. An entry lives at least
// ttlMs (one generation) and is found for up to two; the cache holds at most maxEntries.

interface Entry {
  request: Buffer;
  reply: Promise<Buffer | undefined>;
  expiresAt: number;
}

export class ReplyCache {
  private current = new Map<string, Entry>();
  private previous = new Map<string, Entry>();
  private rotatedAt: number;

  constructor(private readonly options: { maxEntries: number; ttlMs: number; now: () => number }) {
    this.rotatedAt = options.now();
  }

  static key(address: string, port: number, request: Buffer): string {
    return `${address}|${port}|${request[1]}|${request.subarray(4, 20).toString('hex')}`;
  }

  get(key: string, request: Buffer): Promise<Buffer | undefined> | undefined {
    const e = this.current.get(key) ?? this.previous.get(key);
    if (!e || e.expiresAt <= this.options.now()) return undefined;
    // Same key, other bytes: not a retransmission, so it is evaluated on its own.
    return e.request.equals(request) ? e.reply : undefined;
  }

  set(key: string, request: Buffer, reply: Promise<Buffer | undefined>): void {
    const now = this.options.now();
    // A new generation when the current one is ttlMs old or holds half of what may be kept.
    if (now - this.rotatedAt >= this.options.ttlMs || this.current.size >= Math.max(1, this.options.maxEntries >> 1)) {
      this.previous = this.current;
      this.current = new Map();
      this.rotatedAt = now;
    }
    this.previous.delete(key);
    // The datagram itself, not a copy: a received packet is never written to.
    this.current.set(key, { request, reply, expiresAt: now + this.options.ttlMs });
  }

  delete(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }
}
