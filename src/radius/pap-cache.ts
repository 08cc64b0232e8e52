// A verified-password cache for PAP. scrypt (N=2^15) costs 50-100 ms of CPU per check; a
// VPN concentrator re-authenticating thousands of users would saturate the box. Once a
// password has passed the slow hash, this remembers a keyed SHA-256 of it under a key
// drawn at random for this process, so a repeat of the same password is checked with one
// hash and timingSafeEqual. Nothing stored here can be reversed or used outside this
// process. A failed password is never cached, so wrong guesses still pay the slow hash.
// An entry is bound to the stored hash string it was verified against, so a password
// change misses at once; the change feed also drops a user's entry on any change (passwd,
// disable, lockout). Entries expire and the table is bounded, least recently used first.
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';

export const PAP_CACHE_MAX_ENTRIES = 100_000;
export const PAP_CACHE_TTL_MS = 15 * 60 * 1000;
const KEY_BYTES = 32;

/** The user as PAP sees it: an id and the stored slow hash (null: no password here). */
export interface CacheableUser {
  id: number;
  passwordHash: string | null;
}

/** The slow check (UserService.verifyPassword). */
export type VerifyPassword = (user: Pick<CacheableUser, 'passwordHash'>, password: Uint8Array) => Promise<boolean>;

export interface PapCacheOptions {
  verify: VerifyPassword;
  maxEntries?: number;
  ttlMs?: number;
  now?: () => number;
  /** The key; random per process unless a test gives one. */
  key?: Buffer;
}

interface Entry {
  /** The stored hash string the password was verified against. */
  passwordHash: string;
  mac: Buffer;
  expires: number;
}

export class PapCache {
  private readonly entries = new Map<number, Entry>();
  private readonly verifySlow: VerifyPassword;
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly key: Buffer;
  readonly stats = { hits: 0, misses: 0 };

  constructor(options: PapCacheOptions) {
    this.verifySlow = options.verify;
    this.maxEntries = options.maxEntries ?? PAP_CACHE_MAX_ENTRIES;
    this.ttlMs = options.ttlMs ?? PAP_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.key = options.key ?? randomBytes(KEY_BYTES);
    if (!(this.maxEntries >= 1)) throw new RangeError('maxEntries must be at least 1');
  }

  get size(): number {
    return this.entries.size;
  }

  /** Whether `password` is the user's password: from the cache when it passed before, else the slow hash. */
  async verify(user: CacheableUser, password: Uint8Array): Promise<boolean> {
    const passwordHash = user.passwordHash;
    if (passwordHash === null) return this.verifySlow(user, password);
    if (this.verifyCached(user, password)) return true;
    this.stats.misses++;
    // Computed before the slow check: the caller zeroes the password once it has its answer.
    const mac = this.mac(user.id, password);
    const ok = await this.verifySlow(user, password);
    if (ok) this.store(user.id, { passwordHash, mac, expires: this.now() + this.ttlMs });
    return ok;
  }

  /** true when this password passed the slow hash for this user and stored hash before; undefined otherwise. Never slow. */
  verifyCached(user: CacheableUser, password: Uint8Array): boolean | undefined {
    const entry = this.entries.get(user.id);
    if (!entry || user.passwordHash === null || entry.passwordHash !== user.passwordHash || entry.expires <= this.now()) return undefined;
    if (!timingSafeEqual(entry.mac, this.mac(user.id, password))) return undefined;
    // Map order is insertion order: re-inserting marks the entry most recently used.
    this.entries.delete(user.id);
    this.entries.set(user.id, entry);
    this.stats.hits++;
    return true;
  }

  /** Drops what is cached for one user (change feed: kind 'user', ref = the user id). */
  invalidate(userId: number): void {
    this.entries.delete(userId);
  }

  clear(): void {
    this.entries.clear();
  }

  /**
   * SHA-256 over the process key, the user id and the password: keyed by the prefix rather
   * than HMAC (half the cost per request). Length extension does not apply: the digest never
   * leaves this process and every input has the same shape. The entry is bound to the stored
   * hash by comparing it (verify above).
   */
  private mac(userId: number, password: Uint8Array): Buffer {
    const k = this.key.length;
    const input = Buffer.allocUnsafe(k + 8 + password.length);
    this.key.copy(input, 0);
    input.writeDoubleBE(userId, k);
    input.set(password, k + 8);
    const digest = hash('sha256', input, 'buffer');
    input.fill(0);
    return digest;
  }

  private store(userId: number, entry: Entry): void {
    this.entries.delete(userId);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(userId, entry);
  }
}

/**
 * A users engine for RadiusAuthEngine whose password check goes through the cache. Users
 * without an id (the dummy hash checked for unknown users) always take the slow path.
 */
export function withPapCache<T extends { verifyPassword: VerifyPassword }>(users: T, cache: PapCache): T {
  const verifyPassword: VerifyPassword = (user, password) => {
    const id = (user as Partial<CacheableUser>).id;
    return typeof id === 'number' ? cache.verify({ id, passwordHash: user.passwordHash }, password) : users.verifyPassword(user, password);
  };
  const verifyPasswordCached = (user: Pick<CacheableUser, 'passwordHash'>, password: Uint8Array): boolean | undefined => {
    const id = (user as Partial<CacheableUser>).id;
    return typeof id === 'number' ? cache.verifyCached({ id, passwordHash: user.passwordHash }, password) : undefined;
  };
  // The wrapper inherits everything else (find, ntHashOf) from the engine it wraps.
  return Object.assign(Object.create(users) as T, { verifyPassword, verifyPasswordCached });
}
