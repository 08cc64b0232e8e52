// Duplicate detection (RFC 5080 §2.2.2): a retransmitted request (same client address
// and port, Identifier and Request Authenticator, and the same bytes) gets the reply
// already made for it, or waits for the one being made, never a second evaluation.

interface Entry {
  request: Buffer;
  reply: Promise<Buffer | undefined>;
  expiresAt: number;
}

export class ReplyCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: { maxEntries: number; ttlMs: number; now: () => number }) {}

  static key(address: string, port: number, request: Buffer): string {
    return `${address}|${port}|${request[1]}|${request.subarray(4, 20).toString('hex')}`;
  }

  get(key: string, request: Buffer): Promise<Buffer | undefined> | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.options.now()) {
      this.entries.delete(key);
      return undefined;
    }
    // Same key, other bytes: not a retransmission, so it is evaluated on its own.
    return e.request.equals(request) ? e.reply : undefined;
  }

  set(key: string, request: Buffer, reply: Promise<Buffer | undefined>): void {
    const now = this.options.now();
    this.entries.delete(key);
    // Oldest first (Map keeps insertion order): drop what expired, then what no longer fits.
    for (const [k, e] of this.entries) {
      if (e.expiresAt > now && this.entries.size < this.options.maxEntries) break;
      this.entries.delete(k);
    }
    this.entries.set(key, { request: Buffer.from(request), reply, expiresAt: now + this.options.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
