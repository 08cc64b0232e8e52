// What a local user's name, profile and password must be, and how a password is hashed for
// PAP (scrypt, parameters stored with each hash so they can grow). users.ts holds the engine.
import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { AppError } from './errors.js';

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

/** Name, e-mail and expiry: undefined leaves a field as it is, null clears it. */
export interface ProfileChange {
  displayName?: string | null;
  email?: string | null;
  accountExpiresAt?: number | null;
}

/** The password rules (config `passwords`). */
export interface PasswordPolicy {
  minLength: number;
  /** How many of lower case, upper case, digits and other characters a password needs (1-4). */
  minClasses: number;
  /** A new password may not be any of this many earlier ones (0: no rule). */
  history: number;
  /** Days a password is good for (0: forever); an older one is refused for password methods. */
  maxAgeDays: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: PASSWORD_MIN, minClasses: 1, history: 0, maxAgeDays: 0 };

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

/** Length and character classes; the message never repeats the password. */
export function validatePassword(password: string, policy: Pick<PasswordPolicy, 'minLength' | 'minClasses'> = DEFAULT_PASSWORD_POLICY): void {
  const n = charCount(password);
  const min = Math.max(PASSWORD_MIN, policy.minLength);
  if (n < min) throw new AppError('PASSWORD_POLICY', `the password is too short: at least ${min} characters`);
  if (n > PASSWORD_MAX) throw new AppError('PASSWORD_POLICY', `the password is too long: at most ${PASSWORD_MAX} characters`);
  const classes = [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{Ll}\p{Lu}\p{Nd}]/u].filter((re) => re.test(password)).length;
  if (classes < policy.minClasses) {
    throw new AppError('PASSWORD_POLICY', `the password needs ${policy.minClasses} of: lower case, upper case, digits, other characters`);
  }
}

const EMAIL = /^[^\s@]+@[^\s@]+$/;
/** Checks what `user add/set` take besides the name and password. */
export function validateProfile(change: ProfileChange): void {
  if (change.displayName != null && (charCount(change.displayName) > 256 || CONTROL_CHARS.test(change.displayName))) {
    throw new AppError('BAD_INPUT', 'a display name has at most 256 characters and no control characters');
  }
  if (change.email != null && (change.email.length > 254 || !EMAIL.test(change.email))) {
    throw new AppError('BAD_INPUT', `"${change.email}" is not an e-mail address`);
  }
  if (change.accountExpiresAt != null && !Number.isFinite(change.accountExpiresAt)) throw new AppError('BAD_INPUT', 'bad expiry date');
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

/** Whether `password` matches a stored scrypt hash; false for a hash that does not parse. Off the thread (libuv's pool). */
export async function verifyPasswordHash(encoded: string, password: string | Uint8Array): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const candidate = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password, parsed.salt, parsed.hash.length, scryptOptions(parsed.N, parsed.r, parsed.p),
      (err, key) => (err ? reject(err) : resolve(key)));
  });
  return timingSafeEqual(candidate, parsed.hash);
}

/** verifyPasswordHash on this thread: for the password history check of an operator's change, not for RADIUS. */
export function verifyPasswordHashSync(encoded: string, password: string): boolean {
  const parsed = parseHash(encoded);
  if (!parsed) return false;
  const candidate = scryptSync(password, parsed.salt, parsed.hash.length, scryptOptions(parsed.N, parsed.r, parsed.p));
  return timingSafeEqual(candidate, parsed.hash);
}
