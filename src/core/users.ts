// Local users: the rules for names and passwords, and the two forms a password is kept
// in. PAP checks a slow hash (scrypt); MS-CHAPv2 needs the NT hash itself (RFC 2759
// §8.3), so that is kept too, sealed with the master key and the user id as AAD, so a
// copy of the database alone reveals neither. CHAP (RFC 1994 §4.1) needs the password
// itself: it is kept, sealed the same way, only for a user added or changed with --chap.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import type { Actor } from './actor.js';
import { seal as sealKey, unseal as unsealKey } from './seal.js';
import { AppError } from './errors.js';
import { ntHash } from './md4.js';

export const USERNAME_MAX = 128;
export const PASSWORD_MIN = 8;
/** RFC 2759 allows 256 Unicode characters; 128 leaves room and bounds the hashing work. */
export const PASSWORD_MAX = 128;
export const GROUP_NAME_MAX = 64;

/** scrypt parameters for new hashes; stored ones carry their own, so these can grow. */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1 } as const;
const SCRYPT_SALT_BYTES = 16;
const SCRYPT_KEY_BYTES = 32;
/** Bounds accepted when reading a stored hash, so a damaged row cannot ask for gigabytes. */
const SCRYPT_MAX_N = 2 ** 20;
const SCRYPT_MAX_RP = 64;

export interface UserRecord {
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
}

export interface NewUserRow {
  username: string;
  passwordHash: string;
  groups: string[];
  enabled: boolean;
  at: number;
}

/** The reversible forms of a password, each sealed under the master key with the user id. */
export interface SealedPasswords {
  ntHash: Buffer;
  /** Null: CHAP is not enabled, and no reversible copy of the password is kept. */
  chapPassword: Buffer | null;
}

/** What the users engine needs from storage; store/users-store.ts implements it. */
export interface UserStorage {
  /**
   * Inserts a user and its groups in one transaction with a change row and an audit row.
   * `sealPasswords` gets the new id (bound into the sealed values) inside that transaction.
   * Throws USER_EXISTS when the name is taken, whatever its case.
   */
  insertUser(row: NewUserRow, sealPasswords: (id: number) => SealedPasswords, by: Actor): UserRecord;
  /** Replaces the hash and both sealed forms; a null `chapPassword` drops the CHAP copy. */
  updatePassword(id: number, passwordHash: string, sealed: SealedPasswords, at: number, by: Actor): void;
  setEnabled(id: number, enabled: boolean, at: number, by: Actor): void;
  /** Case-insensitive. */
  findUser(username: string): UserRecord | undefined;
  listUsers(): UserRecord[];
}

const CONTROL_CHARS = /\p{Cc}/u;
const charCount = (s: string): number => [...s].length;

export function validateUsername(username: string): void {
  const n = charCount(username);
  if (n < 1 || n > USERNAME_MAX) throw new AppError('USERNAME_INVALID', `a user name has 1 to ${USERNAME_MAX} characters`);
  if (CONTROL_CHARS.test(username)) throw new AppError('USERNAME_INVALID', 'a user name cannot contain control characters');
  if (username.trim() !== username) throw new AppError('USERNAME_INVALID', 'a user name cannot start or end with a space');
}

export function validateGroupName(group: string): void {
  const n = charCount(group);
  if (n < 1 || n > GROUP_NAME_MAX || CONTROL_CHARS.test(group) || group.trim() !== group) {
    throw new AppError('BAD_INPUT', `a group name has 1 to ${GROUP_NAME_MAX} characters, no control characters and no outer spaces`);
  }
}

/** Minimal rules for now; the message never repeats the password. */
export function validatePassword(password: string): void {
  const n = charCount(password);
  if (n < PASSWORD_MIN) throw new AppError('PASSWORD_POLICY', `the password is too short: at least ${PASSWORD_MIN} characters`);
  if (n > PASSWORD_MAX) throw new AppError('PASSWORD_POLICY', `the password is too long: at most ${PASSWORD_MAX} characters`);
}

const scryptOptions = (N: number, r: number, p: number) => ({ N, r, p, maxmem: 128 * N * r * 2 });

/** A new scrypt hash with a random salt, encoded as scrypt$N$r$p$salt$hash (base64). */
export function hashPassword(password: string): string {
  const { N, r, p } = SCRYPT_PARAMS;
  const salt = randomBytes(SCRYPT_SALT_BYTES);
  const hash = scryptSync(password, salt, SCRYPT_KEY_BYTES, scryptOptions(N, r, p));
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

interface ParsedHash { N: number; r: number; p: number; salt: Buffer; hash: Buffer }

function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const powerOfTwo = Number.isInteger(N) && N > 1 && N <= SCRYPT_MAX_N && (N & (N - 1)) === 0;
  const small = (v: number): boolean => Number.isInteger(v) && v >= 1 && v <= SCRYPT_MAX_RP;
  if (!powerOfTwo || !small(r) || !small(p)) return undefined;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || hash.length === 0) return undefined;
  return { N, r, p, salt, hash };
}

export const ntHashAad = (id: number): string => `user:${id}`;
/** Not the NT hash's AAD, so neither sealed value opens in the other's column. */
export const chapPasswordAad = (id: number): string => `user:${id}:chap`;

/** The users engine: adds users, changes passwords and checks them, over a UserStorage. */
export class UserService {
  private readonly storage: UserStorage;
  private readonly master: Buffer;
  private readonly clock: () => Date;

  constructor(deps: { storage: UserStorage; master: Buffer; clock?: () => Date }) {
    if (deps.master.length !== 32) throw new AppError('MASTER_KEY_INVALID', 'the master key must be 32 bytes');
    this.storage = deps.storage;
    this.master = deps.master;
    this.clock = deps.clock ?? (() => new Date());
  }

  /** `chap`: also keep the password sealed, so that CHAP can check it (off by default). */
  add(input: { username: string; password: string; groups?: readonly string[]; enabled?: boolean; chap?: boolean }, by: Actor): UserRecord {
    validateUsername(input.username);
    validatePassword(input.password);
    const groups = dedupeGroups(input.groups ?? []);
    groups.forEach(validateGroupName);
    // Refused before the slow hash; the unique index still decides a race.
    if (this.storage.findUser(input.username)) throw new AppError('USER_EXISTS', `user "${input.username}" already exists`);
    const nt = ntHash(input.password);
    const clear = input.chap ? Buffer.from(input.password, 'utf8') : undefined;
    try {
      return this.storage.insertUser(
        { username: input.username, passwordHash: hashPassword(input.password), groups, enabled: input.enabled ?? true, at: this.now() },
        (id) => this.sealPasswords(id, nt, clear),
        by,
      );
    } finally {
      nt.fill(0);
      clear?.fill(0);
    }
  }

  /** Without `chap`, any sealed CHAP copy of the old password is dropped. */
  setPassword(username: string, password: string, by: Actor, options: { chap?: boolean } = {}): UserRecord {
    const user = this.get(username);
    validatePassword(password);
    const nt = ntHash(password);
    const clear = options.chap ? Buffer.from(password, 'utf8') : undefined;
    try {
      this.storage.updatePassword(user.id, hashPassword(password), this.sealPasswords(user.id, nt, clear), this.now(), by);
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

  /**
   * Whether `password` is the user's password (PAP). Says nothing about whether the
   * account is enabled: policy decides that. A string is hashed as UTF-8, as when it was set;
   * bytes (a PAP User-Password) are hashed as they are.
   */
  async verifyPassword(user: Pick<UserRecord, 'passwordHash'>, password: string | Uint8Array): Promise<boolean> {
    const parsed = user.passwordHash ? parseHash(user.passwordHash) : undefined;
    if (!parsed) return false;
    const candidate = await new Promise<Buffer>((resolve, reject) => {
      scrypt(password, parsed.salt, parsed.hash.length, scryptOptions(parsed.N, parsed.r, parsed.p),
        (err, key) => (err ? reject(err) : resolve(key)));
    });
    return timingSafeEqual(candidate, parsed.hash);
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
