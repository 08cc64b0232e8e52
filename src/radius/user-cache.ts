// Users as RADIUS reads them: from memory, not a SQLite lookup per request. The daemon
// empties the table on every user change from the change feed, so a disable or a group
// change is live as soon as the feed delivers it (within a second, at once after a CLI
// write), exactly as the PAP cache's invalidation.
import type { UserRecord } from '../core/users.js';

/** At most this many names (unknown ones included) are remembered; then the table starts over. */
const MAX_ENTRIES = 100_000;

export class UserLookupCache {
  private readonly byName = new Map<string, UserRecord | null>();
  readonly stats = { hits: 0, misses: 0 };

  constructor(private readonly load: (username: string) => UserRecord | undefined) {}

  find(username: string): UserRecord | undefined {
    // Usernames compare without regard to case (the users table is COLLATE NOCASE).
    const key = username.toLowerCase();
    const cached = this.byName.get(key);
    if (cached !== undefined) {
      this.stats.hits++;
      return cached ?? undefined;
    }
    this.stats.misses++;
    const user = this.load(username);
    if (this.byName.size >= MAX_ENTRIES) this.byName.clear();
    this.byName.set(key, user ?? null);
    return user;
  }

  /** Any user change: forget everything (changes are rare; lookups are not). */
  clear(): void {
    this.byName.clear();
  }
}

/** The same users engine, with `find` answered from the cache. */
export function withUserLookupCache<T extends { find(username: string): UserRecord | undefined }>(users: T, cache: UserLookupCache): T {
  return Object.assign(Object.create(users) as T, { find: (username: string) => cache.find(username) });
}
