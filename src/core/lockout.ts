// Account lockout: too many failed password attempts within a window lock the account for
// a while (like Active Directory's lockout threshold, window and duration). It watches the
// decision stream of the RADIUS engine — every refusal for a wrong password, whichever
// method or worker thread it came from — and counts in memory; only the lock itself is
// written (UserService.lock: a change row and an audit row), which every thread sees
// through the change feed. An accept resets the count.
import type { AuthDecision } from './auth-log.js';

export interface LockoutPolicy {
  /** Failed attempts that lock the account; 0 turns lockout off. */
  attempts: number;
  windowMinutes: number;
  durationMinutes: number;
}

export interface LockoutDeps {
  policy: LockoutPolicy;
  /** Locks the account until `until` (ms); false if it was already locked that long. */
  lock(username: string, until: number, failures: number): boolean;
  now?: () => number;
  /** Counters kept at most (an attack over many names cannot grow memory without bound). */
  maxTracked?: number;
}

interface Count {
  first: number;
  failures: number;
}

/** The refusal reasons that count as a failed password attempt. */
// A wrong one-time code counts too: with the password known, codes must not be guessable one challenge at a time.
const FAILED_PASSWORD = new Set(['wrong password', 'wrong or reused one-time code']);

export class LockoutTracker {
  private readonly counts = new Map<string, Count>();
  private readonly now: () => number;
  private readonly maxTracked: number;
  readonly stats = { locked: 0 };

  /** A new policy (SIGHUP): counts so far are kept. */
  setPolicy(policy: LockoutPolicy): void {
    this.deps.policy = policy;
  }

  constructor(private readonly deps: LockoutDeps) {
    this.now = deps.now ?? Date.now;
    this.maxTracked = deps.maxTracked ?? 100_000;
  }

  /** Feeds one final decision; never throws (a failed lock write is the caller's to log). */
  observe(d: Pick<AuthDecision, 'outcome' | 'username' | 'reason'>): void {
    const { attempts, windowMinutes, durationMinutes } = this.deps.policy;
    if (attempts <= 0 || !d.username) return;
    const key = d.username.toLowerCase();
    if (d.outcome === 'accept') {
      this.counts.delete(key);
      return;
    }
    if (!d.reason || !FAILED_PASSWORD.has(d.reason)) return;
    const now = this.now();
    let c = this.counts.get(key);
    if (!c || now - c.first >= windowMinutes * 60_000) {
      c = { first: now, failures: 0 };
      this.counts.delete(key);
      if (this.counts.size >= this.maxTracked) this.counts.delete(this.counts.keys().next().value!);
      this.counts.set(key, c);
    }
    c.failures++;
    if (c.failures < attempts) return;
    this.counts.delete(key);
    if (this.deps.lock(d.username, now + durationMinutes * 60_000, c.failures)) this.stats.locked++;
  }
}
