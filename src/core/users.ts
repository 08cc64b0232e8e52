// Local users (the rules for names and passwords are in user-rules.ts) and the forms a password
// is kept in. PAP checks a slow hash (scrypt); MS-CHAPv2 needs the NT hash itself (RFC 2759
// §8.3), so that is kept too, sealed with the master key and the user id as AAD, so a
// copy of the database alone reveals neither. CHAP (RFC 1994 §4.1) needs the password
// itself: it is kept, sealed the same way, only for a user added or changed with --chap.
import { randomInt } from 'node:crypto';
import type { Actor } from './actor.js';
import { seal as sealKey, unseal as unsealKey } from './seal.js';
import { AppError } from './errors.js';
import { ntHash } from './md4.js';
import { otpStatusOf, UserOtp, type OtpStatus, type UserOtpState, type UserOtpStorage } from './user-otp.js';
import {
  DEFAULT_PASSWORD_POLICY, hashPassword, validateGroupName, validatePassword, validateProfile, validateUsername, verifyPasswordHash,
  verifyPasswordHashSync, type PasswordPolicy, type ProfileChange,
} from './user-rules.js';

// The rules live in user-rules.ts; their names stay importable from here.
export {
  DEFAULT_PASSWORD_POLICY, GROUP_NAME_MAX, hashPassword, PASSWORD_MAX, PASSWORD_MIN, SCRYPT_PARAMS, USERNAME_MAX, validateGroupName,
  validatePassword, validateProfile, validateUsername, verifyPasswordHash, type PasswordPolicy, type ProfileChange,
} from './user-rules.js';

/** The OTP columns are always read from the store; optional so that hand-built records (tests, devices) need not name them. */
export interface UserRecord extends Partial<UserOtpState> {
  id: number;
  username: string;
  /** scrypt$N$r$p$salt$hash, or null for a user whose password is checked elsewhere. */
  passwordHash: string | null;
  ntHashSealed: Buffer | null;
  /** The password for CHAP, sealed; null unless CHAP was enabled for this user. */
  chapPasswordSealed: Buffer | null;
  enabled: boolean;
  /** 'local', or the directory a later issue syncs it from. */
  source: string;
  groups: string[];
  createdAt: number;
  updatedAt: number;
  displayName: string | null;
  email: string | null;
  /** ms since the epoch; null: the account never expires. */
  accountExpiresAt: number | null;
  /** When the password was last set; null for a user without a local password. */
  passwordChangedAt: number | null;
  /** Locked after too many failed attempts until then; null: not locked. */
  lockedUntil: number | null;
}

export interface NewUserRow extends ProfileChange {
  username: string;
  passwordHash: string;
  groups: string[];
  enabled: boolean;
  at: number;
}

/** A user whose password is checked elsewhere (a directory): no hash, no NT hash. */
export interface ExternalUserRow extends ProfileChange {
  username: string;
  groups: string[];
  enabled: boolean;
  /** Where it comes from, e.g. 'ldap:corp'. */
  source: string;
  at: number;
}

/** Why an account may not authenticate now, whatever its credentials; in the decision log's words. */
export type AccountRefusal = 'account disabled' | 'account expired' | 'account locked' | 'password expired';

/** What accountRefusal reads of a user; a RADIUS engine's user may carry only `enabled`. */
export type AccountStanding = Pick<UserRecord, 'enabled'> & Partial<Pick<UserRecord, 'accountExpiresAt' | 'lockedUntil' | 'passwordChangedAt'>>;

/**
 * The refusal through a users engine that knows the clock and the policy (UserService.refusalOf,
 * inherited by the RADIUS wrappers), or, for one that does not, only whether it is disabled.
 */
export function refusalVia(users: object, user: AccountStanding, method: 'password' | 'certificate'): AccountRefusal | undefined {
  const f = (users as { refusalOf?: (u: AccountStanding, m: 'password' | 'certificate') => AccountRefusal | undefined }).refusalOf;
  if (typeof f === 'function') return f.call(users, user, method);
  return user.enabled ? undefined : 'account disabled';
}

/**
 * The account's standing at `now`: disabled, expired, locked (until lockedUntil), or, for
 * a password method, a password older than the policy allows. Undefined: it may go on.
 */
export function accountRefusal(
  user: AccountStanding,
  now: number, password?: { maxAgeDays: number },
): AccountRefusal | undefined {
  if (!user.enabled) return 'account disabled';
  if (user.accountExpiresAt != null && now >= user.accountExpiresAt) return 'account expired';
  if (user.lockedUntil != null && now < user.lockedUntil) return 'account locked';
  if (password && password.maxAgeDays > 0 && user.passwordChangedAt != null && now >= user.passwordChangedAt + password.maxAgeDays * 86_400_000) {
    return 'password expired';
  }
  return undefined;
}

/** The reversible forms of a password, each sealed under the master key with the user id. */
export interface SealedPasswords {
  ntHash: Buffer;
  /** Null: CHAP is not enabled, and no reversible copy of the password is kept. */
  chapPassword: Buffer | null;
}

/** What the users engine needs from storage; store/users-store.ts implements it. */
export interface UserStorage extends UserOtpStorage {
  /**
   * Inserts a user and its groups in one transaction with a change row and an audit row.
   * `sealPasswords` gets the new id (bound into the sealed values) inside that transaction.
   * Throws USER_EXISTS when the name is taken, whatever its case.
   */
  insertUser(row: NewUserRow, sealPasswords: (id: number) => SealedPasswords, by: Actor): UserRecord;
  /** Replaces the hash and both sealed forms; a null `chapPassword` drops the CHAP copy. */
  updatePassword(id: number, passwordHash: string, sealed: SealedPasswords, at: number, by: Actor, options?: { reset?: boolean }): void;
  setEnabled(id: number, enabled: boolean, at: number, by: Actor): void;
  /** In one transaction, ids in order; USER_EXISTS when a name is taken, whatever its case. */
  insertExternalUsers(rows: readonly ExternalUserRow[], by: Actor): number[];
  setGroups(id: number, groups: readonly string[], at: number, by: Actor): void;
  updateProfile(id: number, change: ProfileChange, at: number, by: Actor): void;
  setLockedUntil(id: number, until: number | null, at: number, by: Actor, detail?: Record<string, unknown>): void;
  /** The newest `n` earlier password hashes. */
  passwordHistory(id: number, n: number): string[];
  /** Case-insensitive. */
  findUser(username: string): UserRecord | undefined;
  /** The users with one of these ids or (case-insensitive) names, each once. */
  findUsers(ids: readonly number[], usernames: readonly string[]): UserRecord[];
  listUsers(): UserRecord[];
}

export const ntHashAad = (id: number): string => `user:${id}`;
/** Not the NT hash's AAD, so neither sealed value opens in the other's column. */
export const chapPasswordAad = (id: number): string => `user:${id}:chap`;

/** The users engine: adds users, changes passwords and checks them, over a UserStorage. */
export class UserService {
  private readonly storage: UserStorage;
  private readonly master: Buffer;
  private readonly clock: () => Date;

  private readonly otp: UserOtp;

  policy: PasswordPolicy;

  /** `issuer`: the name authenticator apps show beside the account (the organization). */
  constructor(deps: { storage: UserStorage; master: Buffer; clock?: () => Date; policy?: PasswordPolicy; issuer?: string }) {
    if (deps.master.length !== 32) throw new AppError('MASTER_KEY_INVALID', 'the master key must be 32 bytes');
    this.storage = deps.storage;
    this.master = deps.master;
    this.clock = deps.clock ?? (() => new Date());
    this.policy = deps.policy ?? DEFAULT_PASSWORD_POLICY;
    this.otp = new UserOtp({ storage: deps.storage, master: deps.master, now: () => this.now(), issuer: deps.issuer ?? 'authbox' });
  }

  /**
   * Starts a one-time code enrolment: a new secret, pending until confirmOtp. The otpauth://
   * URI (for a QR code) is the only time the secret leaves; CONFLICT when one is enrolled.
   */
  beginOtpEnrollment(username: string, by: Actor): { uri: string } {
    return this.otp.begin(this.get(username), by);
  }

  /** Confirms the enrolment under way with a first code (BAD_INPUT if it does not match; CONFLICT if none is under way). */
  confirmOtp(username: string, code: string, by: Actor): OtpStatus {
    this.otp.confirm(this.get(username), code, by);
    return this.otpStatus(username);
  }

  /** Helpdesk: forgets the user's one-time code (and any enrolment under way); false when there was none. */
  resetOtp(username: string, by: Actor): boolean {
    return this.otp.reset(this.get(username), by);
  }

  /** none, pending or enrolled; never the secret. */
  otpStatus(user: string | Pick<UserRecord, 'otpSealed' | 'otpPending' | 'otpEnrolledAt'>): OtpStatus {
    return otpStatusOf(typeof user === 'string' ? this.get(user) : user);
  }

  /** Whether the user has a confirmed one-time code (RADIUS asks before a challenge). */
  otpEnrolled(user: Partial<Pick<UserRecord, 'otpSealed'>>): boolean {
    return !!user.otpSealed;
  }

  /** RADIUS: whether `code` is the user's current, unused code; a match is used up. */
  useOtpCode(user: Pick<UserRecord, 'id' | 'otpSealed' | 'otpLastStep'>, code: string): boolean {
    return this.otp.use(user, code);
  }

  /** `chap`: also keep the password sealed, so that CHAP can check it (off by default). */
  add(input: { username: string; password: string; groups?: readonly string[]; enabled?: boolean; chap?: boolean } & ProfileChange, by: Actor): UserRecord {
    validateUsername(input.username);
    validatePassword(input.password, this.policy);
    validateProfile(input);
    const groups = dedupeGroups(input.groups ?? []);
    groups.forEach(validateGroupName);
    // Refused before the slow hash; the unique index still decides a race.
    if (this.storage.findUser(input.username)) throw new AppError('USER_EXISTS', `user "${input.username}" already exists`);
    const nt = ntHash(input.password);
    const clear = input.chap ? Buffer.from(input.password, 'utf8') : undefined;
    try {
      return this.storage.insertUser(
        {
          username: input.username, passwordHash: hashPassword(input.password), groups, enabled: input.enabled ?? true, at: this.now(),
          ...profileOf(input),
        },
        (id) => this.sealPasswords(id, nt, clear),
        by,
      );
    } finally {
      nt.fill(0);
      clear?.fill(0);
    }
  }

  /** Without `chap`, any sealed CHAP copy of the old password is dropped. A new password also ends a lockout. */
  setPassword(username: string, password: string, by: Actor, options: { chap?: boolean; reset?: boolean } = {}): UserRecord {
    const user = this.get(username);
    if (user.source !== 'local') {
      throw new AppError('BAD_INPUT', `"${user.username}" comes from ${user.source}: its password is the directory's (change it there)`);
    }
    validatePassword(password, this.policy);
    this.refuseReuse(user, password);
    const nt = ntHash(password);
    const clear = options.chap ? Buffer.from(password, 'utf8') : undefined;
    try {
      this.storage.updatePassword(user.id, hashPassword(password), this.sealPasswords(user.id, nt, clear), this.now(), by,
        options.reset ? { reset: true } : {});
    } finally {
      nt.fill(0);
      clear?.fill(0);
    }
    return this.get(username);
  }

  /** Returns false when the account was already in that state (nothing written). */
  setEnabled(username: string, enabled: boolean, by: Actor): boolean {
    const user = this.get(username);
    if (user.enabled === enabled) return false;
    this.storage.setEnabled(user.id, enabled, this.now(), by);
    return true;
  }

  /**
   * A one-time temporary password that meets the policy, set at once (helpdesk reset); the
   * caller shows it once. The user should change it (`user passwd`).
   */
  resetPassword(username: string, by: Actor, options: { chap?: boolean } = {}): { user: UserRecord; password: string } {
    const length = Math.max(16, this.policy.minLength);
    // Unambiguous characters of every class; 16 of them carry about 90 bits.
    const sets = ['abcdefghjkmnpqrstuvwxyz', 'ABCDEFGHJKLMNPQRSTUVWXYZ', '23456789', '-_.!'];
    const pick = (set: string): string => set[randomInt(set.length)]!;
    const chars = sets.map(pick);
    const all = sets.join('');
    while (chars.length < length) chars.push(pick(all));
    for (let i = chars.length - 1; i > 0; i--) {
      const j = randomInt(i + 1);
      [chars[i], chars[j]] = [chars[j]!, chars[i]!];
    }
    const password = chars.join('');
    return { user: this.setPassword(username, password, by, { ...options, reset: true }), password };
  }

  /** Name, e-mail, account expiry (null clears). */
  updateProfile(username: string, change: ProfileChange, by: Actor): UserRecord {
    const user = this.get(username);
    validateProfile(change);
    this.storage.updateProfile(user.id, change, this.now(), by);
    return this.get(username);
  }

  /** Replaces the user's groups. */
  setGroups(username: string, groups: readonly string[], by: Actor): UserRecord {
    const user = this.get(username);
    const clean = dedupeGroups(groups);
    clean.forEach(validateGroupName);
    this.storage.setGroups(user.id, clean, this.now(), by);
    return this.get(username);
  }

  /**
   * Users whose password a directory checks (LDAP sync): no local hash or NT hash. All or none,
   * in one transaction; their ids in order. A name already taken is USER_EXISTS (the store's unique index).
   */
  addExternalMany(inputs: readonly ({ username: string; source: string; groups?: readonly string[]; enabled?: boolean } & ProfileChange)[], by: Actor): number[] {
    const at = this.now();
    return this.storage.insertExternalUsers(inputs.map((input) => {
      validateUsername(input.username);
      validateProfile(input);
      const groups = dedupeGroups(input.groups ?? []);
      groups.forEach(validateGroupName);
      return { username: input.username, groups, enabled: input.enabled ?? true, source: input.source, at, ...profileOf(input) };
    }), by);
  }

  /** Locks the account until `until` (too many failed attempts); false when it is already locked that long. */
  lock(username: string, until: number, by: Actor, detail?: Record<string, unknown>): boolean {
    const user = this.get(username);
    if (user.lockedUntil !== null && user.lockedUntil >= until) return false;
    this.storage.setLockedUntil(user.id, until, this.now(), by, detail);
    return true;
  }

  /** Ends a lockout; false when the account was not locked. */
  unlock(username: string, by: Actor): boolean {
    const user = this.get(username);
    if (user.lockedUntil === null) return false;
    this.storage.setLockedUntil(user.id, null, this.now(), by);
    return true;
  }

  /** Why the account may not authenticate now (see accountRefusal); `password`: a password method, so its age counts. */
  refusalOf(user: AccountStanding, method: 'password' | 'certificate'): AccountRefusal | undefined {
    return accountRefusal(user, this.now(), method === 'password' ? this.policy : undefined);
  }

  find(username: string): UserRecord | undefined {
    return this.storage.findUser(username);
  }

  get(username: string): UserRecord {
    const user = this.storage.findUser(username);
    if (!user) throw new AppError('USER_NOT_FOUND', `no user "${username}"`);
    return user;
  }

  list(): UserRecord[] {
    return this.storage.listUsers();
  }

  /** Only the users asked for (a directory sync's changed entries), not every user. */
  findMany(ids: readonly number[], usernames: readonly string[] = []): UserRecord[] {
    if (ids.length === 0 && usernames.length === 0) return [];
    return this.storage.findUsers(ids, usernames);
  }

  /**
   * Whether `password` is the user's password (PAP). Says nothing about whether the
   * account is enabled: policy decides that. A string is hashed as UTF-8, as when it was set;
   * bytes (a PAP User-Password) are hashed as they are.
   */
  async verifyPassword(user: Pick<UserRecord, 'passwordHash'>, password: string | Uint8Array): Promise<boolean> {
    return user.passwordHash ? verifyPasswordHash(user.passwordHash, password) : false;
  }

  /** The NT hash for MS-CHAPv2, or undefined when the user has none. KEY_DECRYPT_FAILED if tampered. */
  ntHashOf(user: Pick<UserRecord, 'id' | 'ntHashSealed'>): Buffer | undefined {
    if (!user.ntHashSealed) return undefined;
    return unsealKey(this.master, ntHashAad(user.id), user.ntHashSealed);
  }

  /**
   * The password for CHAP (UTF-8), or undefined when CHAP is not enabled for the user.
   * The caller zeroes it after use. KEY_DECRYPT_FAILED if tampered.
   */
  chapPasswordOf(user: Pick<UserRecord, 'id' | 'chapPasswordSealed'>): Buffer | undefined {
    if (!user.chapPasswordSealed) return undefined;
    return unsealKey(this.master, chapPasswordAad(user.id), user.chapPasswordSealed);
  }

  /** The reuse rule: none of the last `history` passwords (each an scrypt check). */
  private refuseReuse(user: UserRecord, password: string): void {
    const n = this.policy.history;
    if (n <= 0) return;
    const earlier = [user.passwordHash, ...this.storage.passwordHistory(user.id, n - 1)].filter((h): h is string => !!h);
    if (earlier.some((h) => verifyPasswordHashSync(h, password))) {
      throw new AppError('PASSWORD_POLICY', `the password was used before: choose one that is not among the last ${n}`);
    }
  }

  private sealPasswords(id: number, nt: Buffer, clear: Buffer | undefined): SealedPasswords {
    return {
      ntHash: sealKey(this.master, ntHashAad(id), nt),
      chapPassword: clear ? sealKey(this.master, chapPasswordAad(id), clear) : null,
    };
  }

  private now(): number {
    return this.clock().getTime();
  }
}

const profileOf = (p: ProfileChange): ProfileChange => ({
  ...(p.displayName !== undefined ? { displayName: p.displayName } : {}),
  ...(p.email !== undefined ? { email: p.email } : {}),
  ...(p.accountExpiresAt !== undefined ? { accountExpiresAt: p.accountExpiresAt } : {}),
});

/** Groups compare case-insensitively (the column is NOCASE): keep the first spelling. */
function dedupeGroups(groups: readonly string[]): string[] {
  const seen = new Set<string>();
  return groups.filter((g) => {
    const key = g.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
