import { describe, expect, it } from 'vitest';
import type { UserRecord } from '../../src/core/users.js';
import { UserLookupCache, withUserLookupCache } from '../../src/radius/user-cache.js';

const alice = { id: 1, username: 'alice', enabled: true, groups: ['staff'] } as unknown as UserRecord;

describe('UserLookupCache', () => {
  it('answers repeat lookups, in any letter case, from memory; unknown names too', () => {
    const calls: string[] = [];
    const cache = new UserLookupCache((name) => (calls.push(name), name.toLowerCase() === 'alice' ? alice : undefined));
    expect(cache.find('alice')).toBe(alice);
    expect(cache.find('ALICE')).toBe(alice);
    expect(cache.find('mallory')).toBeUndefined();
    expect(cache.find('mallory')).toBeUndefined();
    expect(calls).toEqual(['alice', 'mallory']);
    expect(cache.stats).toEqual({ hits: 2, misses: 2 });
  });

  it('reads again after clear(), which the daemon calls on every user change', () => {
    let enabled = true;
    const cache = new UserLookupCache(() => ({ ...alice, enabled }) as UserRecord);
    expect(cache.find('alice')!.enabled).toBe(true);
    enabled = false;
    expect(cache.find('alice')!.enabled).toBe(true);
    cache.clear();
    expect(cache.find('alice')!.enabled).toBe(false);
  });

  it('wraps a users engine: find comes from the cache, every other method from the engine', () => {
    const engine = {
      lookups: 0,
      find(name: string): UserRecord | undefined { this.lookups++; return name === 'alice' ? alice : undefined; },
      describe(): string { return `engine with ${this.lookups} lookups`; },
    };
    const cache = new UserLookupCache((name) => engine.find(name));
    const wrapped = withUserLookupCache(engine, cache);
    wrapped.find('alice');
    wrapped.find('alice');
    expect(engine.lookups).toBe(1);
    expect(wrapped.describe()).toBe('engine with 1 lookups');
  });
});
