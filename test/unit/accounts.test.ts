import { describe, expect, it } from 'vitest';
import { accountRefusal, validatePassword } from '../../src/core/users.js';
import { LockoutTracker } from '../../src/core/lockout.js';

const DAY = 86_400_000;

describe('accountRefusal', () => {
  const base = { enabled: true, accountExpiresAt: null, lockedUntil: null, passwordChangedAt: 1_000 };
  it('says why, in order: disabled, expired, locked, password expired (password methods only)', () => {
    expect(accountRefusal(base, 5_000)).toBeUndefined();
    expect(accountRefusal({ ...base, enabled: false, accountExpiresAt: 1 }, 5_000)).toBe('account disabled');
    expect(accountRefusal({ ...base, accountExpiresAt: 5_000 }, 5_000)).toBe('account expired');
    expect(accountRefusal({ ...base, accountExpiresAt: 5_001 }, 5_000)).toBeUndefined();
    expect(accountRefusal({ ...base, lockedUntil: 5_001 }, 5_000)).toBe('account locked');
    expect(accountRefusal({ ...base, lockedUntil: 5_000 }, 5_000)).toBeUndefined();
    expect(accountRefusal(base, 1_000 + 30 * DAY, { maxAgeDays: 30 })).toBe('password expired');
    expect(accountRefusal(base, 1_000 + 30 * DAY - 1, { maxAgeDays: 30 })).toBeUndefined();
    expect(accountRefusal(base, 1_000 + 300 * DAY, { maxAgeDays: 0 })).toBeUndefined();
    // A certificate method passes no password rule.
    expect(accountRefusal(base, 1_000 + 300 * DAY)).toBeUndefined();
  });
});

describe('validatePassword', () => {
  it('counts lower case, upper case, digits and other characters (any script)', () => {
    expect(() => validatePassword('abcdefgh', { minLength: 8, minClasses: 2 })).toThrow(/needs 2 of/);
    expect(() => validatePassword('abcdefg1', { minLength: 8, minClasses: 2 })).not.toThrow();
    expect(() => validatePassword('パスワードです12', { minLength: 8, minClasses: 2 })).not.toThrow();
    expect(() => validatePassword('Abcdefg1', { minLength: 12, minClasses: 1 })).toThrow(/at least 12/);
    // The floor of 8 holds whatever the policy says.
    expect(() => validatePassword('Ab1-', { minLength: 4, minClasses: 1 })).toThrow(/at least 8/);
  });
});

describe('LockoutTracker', () => {
  const make = (attempts = 3) => {
    let now = 0;
    const locks: [string, number, number][] = [];
    const t = new LockoutTracker({
      policy: { attempts, windowMinutes: 10, durationMinutes: 15 }, now: () => now,
      lock: (u, until, n) => (locks.push([u, until, n]), true), maxTracked: 100,
    });
    return { t, locks, at: (ms: number) => (now = ms) };
  };
  const wrong = (username: string) => ({ outcome: 'reject' as const, username, reason: 'wrong password' });

  it('locks on the Nth wrong password within the window, for the configured duration', () => {
    const { t, locks, at } = make();
    t.observe(wrong('Taro'));
    at(60_000);
    t.observe(wrong('taro'));
    expect(locks).toEqual([]);
    at(120_000);
    t.observe(wrong('TARO'));
    expect(locks).toEqual([['TARO', 120_000 + 15 * 60_000, 3]]);
    expect(t.stats.locked).toBe(1);
  });

  it('starts over after the window, after an accept, and ignores refusals that are not wrong passwords', () => {
    const { t, locks, at } = make();
    t.observe(wrong('a'));
    t.observe(wrong('a'));
    at(10 * 60_000);
    t.observe(wrong('a'));
    t.observe(wrong('a'));
    t.observe({ outcome: 'accept', username: 'a' });
    t.observe(wrong('a'));
    t.observe({ outcome: 'reject', username: 'a', reason: 'account disabled' });
    t.observe({ outcome: 'reject', username: 'a', reason: 'unknown user' });
    t.observe(wrong('a'));
    expect(locks).toEqual([]);
  });

  it('counts a wrong or reused one-time code like a wrong password (codes cannot be guessed one challenge at a time)', () => {
    const { t, locks } = make();
    t.observe(wrong('hana'));
    t.observe({ outcome: 'reject', username: 'hana', reason: 'wrong or reused one-time code' });
    t.observe({ outcome: 'reject', username: 'hana', reason: 'wrong or reused one-time code' });
    expect(locks.map((l) => l[0])).toEqual(['hana']);
  });

  it('does nothing with attempts 0, and keeps at most maxTracked counters', () => {
    const off = make(0);
    for (let i = 0; i < 10; i++) off.t.observe(wrong('a'));
    expect(off.locks).toEqual([]);
    const { t, locks } = make(2);
    for (let i = 0; i < 1000; i++) t.observe(wrong(`user${i}`));
    t.observe(wrong('user999'));
    expect(locks.map((l) => l[0])).toEqual(['user999']);
    t.observe(wrong('user0')); // forgotten: its count started again
    expect(locks).toHaveLength(1);
  });
});
