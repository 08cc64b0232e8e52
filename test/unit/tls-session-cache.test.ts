import { describe, expect, it } from 'vitest';
import { TlsSessionCache } from '../../src/radius/eap/tls-session-cache.js';

const id = (n: number): Buffer => Buffer.alloc(32, n);

describe('TlsSessionCache (TLS 1.2 session ids for EAP resumption)', () => {
  it('answers resumeSession with the session stored by newSession, and null for an unknown id', () => {
    const cache = new TlsSessionCache();
    let done = false;
    cache.emit('newSession', id(1), Buffer.from('session-1'), () => (done = true));
    expect(done).toBe(true);
    const answers: (Buffer | null)[] = [];
    cache.emit('resumeSession', id(1), (_e: Error | null, s: Buffer | null) => answers.push(s));
    cache.emit('resumeSession', id(2), (_e: Error | null, s: Buffer | null) => answers.push(s));
    expect(answers[0]?.toString()).toBe('session-1');
    expect(answers[1]).toBeNull();
  });

  it('forgets a session after its lifetime', () => {
    let now = 1_000;
    const cache = new TlsSessionCache({ ttlMs: 500, now: () => now });
    cache.store(id(1), Buffer.from('s'));
    now += 499;
    expect(cache.lookup(id(1))).toBeDefined();
    now += 1;
    expect(cache.lookup(id(1))).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('is bounded: the oldest session goes first', () => {
    const cache = new TlsSessionCache({ maxSessions: 2 });
    cache.store(id(1), Buffer.from('a'));
    cache.store(id(2), Buffer.from('b'));
    cache.store(id(3), Buffer.from('c'));
    expect(cache.size).toBe(2);
    expect(cache.lookup(id(1))).toBeUndefined();
    expect(cache.lookup(id(3))?.toString()).toBe('c');
  });
});
