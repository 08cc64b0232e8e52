import { describe, expect, it } from 'vitest';
import { ReplyCache } from '../../src/radius/reply-cache.js';

const request = (id: number, fill = 1): Buffer => {
  const b = Buffer.alloc(40, fill);
  b[1] = id;
  return b;
};

describe('ReplyCache (RFC 5080 duplicate detection)', () => {
  const make = (maxEntries = 100, ttlMs = 5_000) => {
    let now = 1_000_000;
    const cache = new ReplyCache({ maxEntries, ttlMs, now: () => now });
    return { cache, advance: (ms: number) => (now += ms) };
  };

  it('answers a retransmission with the same reply within the TTL, and not after', async () => {
    const { cache, advance } = make();
    const req = request(7);
    const key = ReplyCache.key('192.0.2.1', 1645, req);
    const reply = Promise.resolve(Buffer.from('reply'));
    cache.set(key, req, reply);
    expect(cache.get(key, Buffer.from(req))).toBe(reply);
    advance(4_999);
    expect(cache.get(key, req)).toBe(reply);
    advance(1);
    expect(cache.get(key, req)).toBeUndefined();
  });

  it('does not treat other bytes under the same key as a retransmission', () => {
    const { cache } = make();
    const req = request(7);
    const key = ReplyCache.key('192.0.2.1', 1645, req);
    cache.set(key, req, Promise.resolve(undefined));
    const other = Buffer.from(req);
    other[30] ^= 0xff;
    expect(ReplyCache.key('192.0.2.1', 1645, other)).toBe(key);
    expect(cache.get(key, other)).toBeUndefined();
  });

  it('keys on address, port, identifier and authenticator', () => {
    const req = request(7);
    const keys = new Set([
      ReplyCache.key('192.0.2.1', 1645, req), ReplyCache.key('192.0.2.2', 1645, req),
      ReplyCache.key('192.0.2.1', 1646, req), ReplyCache.key('192.0.2.1', 1645, request(8)),
      ReplyCache.key('192.0.2.1', 1645, request(7, 2)),
    ]);
    expect(keys.size).toBe(5);
  });

  it('stays within maxEntries under a flood of distinct requests, keeping the newest', () => {
    const { cache, advance } = make(1_000, 60_000);
    let last = '';
    for (let i = 0; i < 50_000; i++) {
      const req = request(i & 0xff);
      req.writeUInt32BE(i, 4);
      last = ReplyCache.key('192.0.2.1', 1645, req);
      cache.set(last, req, Promise.resolve(undefined));
      expect(cache.size).toBeLessThanOrEqual(1_000);
      if (i % 1000 === 0) advance(1);
    }
    expect(cache.size).toBeGreaterThanOrEqual(500);
    const newest = request(49_999 & 0xff);
    newest.writeUInt32BE(49_999, 4);
    expect(cache.get(last, newest)).toBeDefined();
  });

  it('forgets a deleted entry (a request whose evaluation failed is evaluated again)', () => {
    const { cache } = make();
    const req = request(3);
    const key = ReplyCache.key('192.0.2.1', 1645, req);
    cache.set(key, req, Promise.resolve(undefined));
    cache.delete(key);
    expect(cache.get(key, req)).toBeUndefined();
  });
});
