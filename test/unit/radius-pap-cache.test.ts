// The verified-password cache for PAP: a repeat of a password that passed the slow hash is
// answered with one HMAC and no scrypt; wrong passwords are never cached; a password change
// or a change-feed event drops the entry; entries expire; the table stays bounded (LRU).
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import { NasTable } from '../../src/core/nas.js';
import { hashPassword, UserService } from '../../src/core/users.js';
import { RadiusAuthEngine } from '../../src/radius/auth.js';
import { Attr, Code, decodePacket, encodePacket, hideUserPassword } from '../../src/radius/codec/index.js';
import { PAP_CACHE_MAX_ENTRIES, PAP_CACHE_TTL_MS, PapCache, withPapCache, type CacheableUser } from '../../src/radius/pap-cache.js';

const pw = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A stand-in for the slow hash: "h:<password>" is the stored hash of <password>; calls are counted. */
function spyVerify() {
  const calls: string[] = [];
  const verify = async (user: Pick<CacheableUser, 'passwordHash'>, password: Uint8Array): Promise<boolean> => {
    calls.push(String(user.passwordHash));
    return user.passwordHash === `h:${Buffer.from(password).toString('utf8')}`;
  };
  return { calls, verify };
}

function setup(options: { maxEntries?: number; ttlMs?: number } = {}) {
  let now = 1_000_000;
  const spy = spyVerify();
  const cache = new PapCache({ verify: spy.verify, now: () => now, ...options });
  return { cache, calls: spy.calls, advance: (ms: number) => void (now += ms) };
}

describe('PapCache', () => {
  it('has the documented defaults: 100,000 entries, 15 minutes', () => {
    expect(PAP_CACHE_MAX_ENTRIES).toBe(100_000);
    expect(PAP_CACHE_TTL_MS).toBe(15 * 60 * 1000);
  });

  it('answers a repeat of a verified password without the slow hash', async () => {
    const { cache, calls } = setup();
    const alice = { id: 1, passwordHash: 'h:alice-password' };
    expect(await cache.verify(alice, pw('alice-password'))).toBe(true);
    expect(calls).toHaveLength(1);
    for (let i = 0; i < 5; i++) expect(await cache.verify(alice, pw('alice-password'))).toBe(true);
    expect(calls).toHaveLength(1);
    expect(cache.stats).toEqual({ hits: 5, misses: 1 });
  });

  it('never caches a wrong password, and a wrong password after a cached right one still takes the slow hash', async () => {
    const { cache, calls } = setup();
    const alice = { id: 1, passwordHash: 'h:alice-password' };
    expect(await cache.verify(alice, pw('guess-1'))).toBe(false);
    expect(await cache.verify(alice, pw('guess-1'))).toBe(false);
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(0);
    await cache.verify(alice, pw('alice-password'));
    expect(await cache.verify(alice, pw('alice-passwore'))).toBe(false);
    expect(await cache.verify(alice, pw(''))).toBe(false);
    expect(calls).toHaveLength(5);
    // The right password is still a hit after the misses.
    expect(await cache.verify(alice, pw('alice-password'))).toBe(true);
    expect(calls).toHaveLength(5);
  });

  it('misses once the stored hash changes (passwd), and the old password no longer passes', async () => {
    const { cache, calls } = setup();
    await cache.verify({ id: 1, passwordHash: 'h:old-password' }, pw('old-password'));
    const changed = { id: 1, passwordHash: 'h:new-password' };
    expect(await cache.verify(changed, pw('old-password'))).toBe(false);
    expect(await cache.verify(changed, pw('new-password'))).toBe(true);
    expect(calls).toEqual(['h:old-password', 'h:new-password', 'h:new-password']);
    expect(await cache.verify(changed, pw('new-password'))).toBe(true);
    expect(calls).toHaveLength(3);
  });

  it('does not let one user hit on another user\'s entry', async () => {
    const { cache, calls } = setup();
    await cache.verify({ id: 1, passwordHash: 'h:shared-password' }, pw('shared-password'));
    expect(await cache.verify({ id: 2, passwordHash: 'h:other' }, pw('shared-password'))).toBe(false);
    expect(calls).toHaveLength(2);
  });

  it('drops a user\'s entry on invalidate (the change feed: disable, passwd, lockout)', async () => {
    const { cache, calls } = setup();
    const alice = { id: 1, passwordHash: 'h:alice-password' };
    const bob = { id: 2, passwordHash: 'h:bob-password' };
    await cache.verify(alice, pw('alice-password'));
    await cache.verify(bob, pw('bob-password'));
    cache.invalidate(1);
    await cache.verify(alice, pw('alice-password'));
    await cache.verify(bob, pw('bob-password'));
    expect(calls).toEqual(['h:alice-password', 'h:bob-password', 'h:alice-password']);
  });

  it('expires entries after the TTL', async () => {
    const { cache, calls, advance } = setup({ ttlMs: 60_000 });
    const alice = { id: 1, passwordHash: 'h:alice-password' };
    await cache.verify(alice, pw('alice-password'));
    advance(59_999);
    await cache.verify(alice, pw('alice-password'));
    expect(calls).toHaveLength(1);
    advance(1);
    expect(await cache.verify(alice, pw('alice-password'))).toBe(true);
    expect(calls).toHaveLength(2);
    // The slow check renewed the entry.
    advance(30_000);
    await cache.verify(alice, pw('alice-password'));
    expect(calls).toHaveLength(2);
  });

  it('stays within its bound, dropping the least recently used entry', async () => {
    const { cache, calls } = setup({ maxEntries: 3 });
    const user = (id: number) => ({ id, passwordHash: `h:pw-${id}` });
    for (const id of [1, 2, 3]) await cache.verify(user(id), pw(`pw-${id}`));
    await cache.verify(user(1), pw('pw-1')); // 1 is now the most recently used
    await cache.verify(user(4), pw('pw-4')); // evicts 2
    expect(cache.size).toBe(3);
    calls.length = 0;
    for (const id of [1, 3, 4]) await cache.verify(user(id), pw(`pw-${id}`));
    expect(calls).toEqual([]);
    await cache.verify(user(2), pw('pw-2'));
    expect(calls).toEqual(['h:pw-2']);
    expect(cache.size).toBe(3);
    for (let id = 10; id < 100; id++) await cache.verify(user(id), pw(`pw-${id}`));
    expect(cache.size).toBe(3);
  });

  it('passes users without a stored hash to the slow check, uncached', async () => {
    const { cache, calls } = setup();
    expect(await cache.verify({ id: 1, passwordHash: null }, pw('anything'))).toBe(false);
    expect(await cache.verify({ id: 1, passwordHash: null }, pw('anything'))).toBe(false);
    expect(calls).toHaveLength(2);
    expect(cache.size).toBe(0);
  });
});

describe('PAP through the engine with the cache', () => {
  const SECRET = Buffer.from('pap-cache-S3cret');
  const clients = new NasTable([{ name: 'lo', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'vpn', requireMessageAuthenticator: true }]);
  const request = (user: string, password: string): Buffer => {
    const authenticator = randomBytes(16);
    return encodePacket({
      code: Code.AccessRequest, identifier: 1, authenticator, secret: SECRET,
      attributes: [{ type: Attr.UserName, value: Buffer.from(user) }, { type: Attr.UserPassword, value: hideUserPassword(password, SECRET, authenticator) }],
    });
  };

  it('runs scrypt once for repeats of the right password, every time for wrong ones and unknown users', async () => {
    const users = [
      { id: 1, username: 'alice', enabled: true, passwordHash: hashPassword('alice-password'), ntHashSealed: null },
      { id: 2, username: 'bob', enabled: false, passwordHash: hashPassword('bob-password'), ntHashSealed: null },
    ];
    const service = new UserService({ storage: { findUser: (n: string) => users.find((u) => u.username === n) } as never, master: Buffer.alloc(32) });
    let scrypts = 0;
    const slow = service.verifyPassword.bind(service);
    service.verifyPassword = (user, password) => {
      scrypts++;
      return slow(user, password);
    };
    const cache = new PapCache({ verify: (u, p) => service.verifyPassword(u, p) });
    const engine = new RadiusAuthEngine({ clients, users: withPapCache(service, cache), dummyPasswordHash: hashPassword('dummy-password'), log: silentLogger });
    const code = async (user: string, password: string) =>
      decodePacket((await engine.handle({ data: request(user, password), address: '127.0.0.1', port: 40000 }, 'auth'))!).code;

    expect(await code('alice', 'alice-password')).toBe(Code.AccessAccept);
    expect(scrypts).toBe(1);
    for (let i = 0; i < 3; i++) expect(await code('alice', 'alice-password')).toBe(Code.AccessAccept);
    expect(scrypts).toBe(1);
    expect(await code('alice', 'wrong-password')).toBe(Code.AccessReject);
    expect(await code('mallory', 'alice-password')).toBe(Code.AccessReject);
    expect(scrypts).toBe(3);
    // A disabled account stays refused, cached password or not.
    expect(await code('bob', 'bob-password')).toBe(Code.AccessReject);
    expect(await code('bob', 'bob-password')).toBe(Code.AccessReject);
    expect(scrypts).toBe(4);
    // A password change (a new stored hash) misses at once.
    users[0]!.passwordHash = hashPassword('new-alice-password');
    expect(await code('alice', 'alice-password')).toBe(Code.AccessReject);
    expect(await code('alice', 'new-alice-password')).toBe(Code.AccessAccept);
    expect(scrypts).toBe(6);
  });
});
