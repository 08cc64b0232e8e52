// Console operators: accounts of the people who run authbox (not the network users it
// authenticates), each with one role, a password, TOTP (required for admins), server-side
// sessions and API tokens. Session ids and tokens are random; only their SHA-256 is stored.
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { Actor } from './actor.js';
import { AppError } from './errors.js';
import { seal, unseal } from './seal.js';
import { newTotpSecret, otpauthUri, verifyTotp } from './totp.js';
import { hashPassword } from './users.js';

export const OPERATOR_ROLES = ['admin', 'network', 'helpdesk', 'auditor'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];
export const OPERATOR_PASSWORD_MIN = 12;
export const OPERATOR_PASSWORD_MAX = 128;
const OPERATOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const TOKEN_PREFIX = 'abx_';
/** The operator made from `init --admin-password`. */
export const BOOTSTRAP_OPERATOR = 'admin';

export interface OperatorRecord {
  id: number;
  username: string;
  passwordHash: string;
  role: OperatorRole;
  totpSealed: Buffer | null;
  totpPending: Buffer | null;
  totpLastStep: number | null;
  enabled: boolean;
  failedCount: number;
  failedSince: number | null;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What may leave the process: no hash, no secret. */
export interface OperatorView {
  username: string;
  role: OperatorRole;
  enabled: boolean;
  otpEnrolled: boolean;
  lockedUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRecord {
  idHash: string;
  operatorId: number;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  client: string | null;
}

export interface TokenRecord {
  id: number;
  operatorId: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface TotpState {
  totpSealed: Buffer | null;
  totpPending: Buffer | null;
  totpLastStep: number | null;
}

/** store/operators-store.ts implements it; each write has its change row and audit row. */
export interface OperatorStorage {
  insertOperator(row: { username: string; passwordHash: string; role: OperatorRole; at: number }, by: Actor): OperatorRecord;
  /** Makes the `init --admin-password` hash the operator "admin" when there is no operator yet; false when nothing to do. */
  adoptBootstrap(at: number, by: Actor): boolean;
  findOperator(username: string): OperatorRecord | undefined;
  operatorById(id: number): OperatorRecord | undefined;
  listOperators(): OperatorRecord[];
  /** Also ends every session of the operator. */
  setPassword(id: number, passwordHash: string, at: number, by: Actor): void;
  /** Disabling also ends every session of the operator. */
  setEnabled(id: number, enabled: boolean, at: number, by: Actor): void;
  setTotp(id: number, state: TotpState, at: number, by: Actor, action: string): void;
  /** Failed login bookkeeping, audited as operator.login_failed (and operator.lock when locked). */
  recordFailure(id: number, count: number, since: number, lockedUntil: number | null, at: number, by: Actor): void;
  /** A new session; clears the failure count and stores the TOTP step used, audited as operator.login. */
  insertSession(session: SessionRecord, totpLastStep: number | null, by: Actor): void;
  findSession(idHash: string): SessionRecord | undefined;
  touchSession(idHash: string, at: number): void;
  deleteSession(idHash: string, by: Actor, action: string): void;
  insertToken(operatorId: number, name: string, tokenHash: string, at: number, by: Actor): void;
  findToken(tokenHash: string): TokenRecord | undefined;
  touchToken(id: number, at: number): void;
  revokeToken(operatorId: number, name: string, at: number, by: Actor): boolean;
  listTokens(operatorId: number): TokenRecord[];
}

export interface OperatorPolicy {
  /** Failed logins within windowMs that lock the operator for durationMs. */
  lockout: { attempts: number; windowMs: number; durationMs: number };
  sessions: { idleMs: number; absoluteMs: number };
}

export const DEFAULT_OPERATOR_POLICY: OperatorPolicy = {
  lockout: { attempts: 5, windowMs: 15 * 60_000, durationMs: 15 * 60_000 },
  sessions: { idleMs: 15 * 60_000, absoluteMs: 8 * 3_600_000 },
};

export type LoginResult =
  | { kind: 'session'; sessionId: string; session: SessionRecord; operator: OperatorView }
  /** The password was right; a code is needed (the operator is enrolled). */
  | { kind: 'otp-required' }
  /** The password was right; an admin without TOTP must enrol: scan this URI, then log in with a code. */
  | { kind: 'enrolment-required'; otpauthUri: string };

export const sha256Hex = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');
const totpAad = (id: number): string => `operator:${id}:totp`;
const pendingAad = (id: number): string => `operator:${id}:totp-pending`;
// A fixed hash to spend the same scrypt time on an unknown name as on a known one; made on
// first use, so that importing this module costs nothing.
let dummyHash: string | undefined;
const dummy = (): string => (dummyHash ??= hashPassword(randomBytes(16).toString('hex')));

export function validateOperatorName(name: string): void {
  if (!OPERATOR_NAME.test(name)) throw new AppError('BAD_INPUT', 'an operator name is 1 to 64 letters, digits, ".", "_", "@" or "-"');
}

export function validateOperatorPassword(password: string): void {
  const n = [...password].length;
  if (n < OPERATOR_PASSWORD_MIN || n > OPERATOR_PASSWORD_MAX) {
    throw new AppError('PASSWORD_POLICY', `an operator password has ${OPERATOR_PASSWORD_MIN} to ${OPERATOR_PASSWORD_MAX} characters`);
  }
}

export function parseRole(text: string): OperatorRole {
  if (!(OPERATOR_ROLES as readonly string[]).includes(text)) throw new AppError('BAD_INPUT', `the role must be one of ${OPERATOR_ROLES.join(', ')}`);
  return text as OperatorRole;
}

export function viewOf(o: OperatorRecord): OperatorView {
  return {
    username: o.username, role: o.role, enabled: o.enabled, otpEnrolled: o.totpSealed !== null, lockedUntil: o.lockedUntil,
    createdAt: o.createdAt, updatedAt: o.updatedAt,
  };
}

async function verifyScrypt(encoded: string, password: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (!Number.isInteger(N) || N < 2 || N > 2 ** 20 || (N & (N - 1)) !== 0 || !(r >= 1 && r <= 32) || !(p >= 1 && p <= 16)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const hash = Buffer.from(parts[5]!, 'base64');
  if (salt.length === 0 || hash.length === 0) return false;
  const candidate = await new Promise<Buffer>((resolve, reject) => {
    scrypt(password, salt, hash.length, { N, r, p, maxmem: 128 * N * r * 2 }, (err, key) => (err ? reject(err) : resolve(key)));
  });
  return timingSafeEqual(candidate, hash);
}

/** 24 characters of base64url: about 144 bits. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export class OperatorService {
  private readonly clock: () => Date;
  private readonly policy: OperatorPolicy;

  constructor(private readonly deps: {
    storage: OperatorStorage; master: Buffer; clock?: () => Date; policy?: OperatorPolicy; issuer?: string;
  }) {
    this.clock = deps.clock ?? (() => new Date());
    this.policy = deps.policy ?? DEFAULT_OPERATOR_POLICY;
  }

  private now(): number {
    return this.clock().getTime();
  }

  /** The bootstrap admin from `init --admin-password`, made on first use. */
  adoptBootstrap(by: Actor = { actor: 'system', source: 'system' }): boolean {
    return this.deps.storage.adoptBootstrap(this.now(), by);
  }

  add(input: { username: string; role: OperatorRole; password?: string }, by: Actor): { operator: OperatorView; password?: string } {
    validateOperatorName(input.username);
    parseRole(input.role);
    const generated = input.password === undefined ? generatePassword() : undefined;
    const password = input.password ?? generated!;
    validateOperatorPassword(password);
    this.adoptBootstrap();
    if (this.deps.storage.findOperator(input.username)) throw new AppError('CONFLICT', `operator "${input.username}" already exists`);
    const op = this.deps.storage.insertOperator({ username: input.username, passwordHash: hashPassword(password), role: input.role, at: this.now() }, by);
    return { operator: viewOf(op), ...(generated !== undefined ? { password: generated } : {}) };
  }

  list(): OperatorView[] {
    this.adoptBootstrap();
    return this.deps.storage.listOperators().map(viewOf);
  }

  get(username: string): OperatorRecord {
    const op = this.deps.storage.findOperator(username);
    if (!op) throw new AppError('NOT_FOUND', `no operator "${username}"`);
    return op;
  }

  setPassword(username: string, password: string, by: Actor): void {
    validateOperatorPassword(password);
    this.adoptBootstrap();
    this.deps.storage.setPassword(this.get(username).id, hashPassword(password), this.now(), by);
  }

  setEnabled(username: string, enabled: boolean, by: Actor): boolean {
    this.adoptBootstrap();
    const op = this.get(username);
    if (op.enabled === enabled) return false;
    this.deps.storage.setEnabled(op.id, enabled, this.now(), by);
    return true;
  }

  /** Forgets the TOTP enrolment; an admin enrols again at the next login. */
  resetOtp(username: string, by: Actor): void {
    this.adoptBootstrap();
    const op = this.get(username);
    this.deps.storage.setTotp(op.id, { totpSealed: null, totpPending: null, totpLastStep: null }, this.now(), by, 'operator.otp_reset');
  }

  /** A new API token, returned once; only its SHA-256 is kept. */
  createToken(username: string, name: string, by: Actor): string {
    if (!TOKEN_NAME.test(name)) throw new AppError('BAD_INPUT', 'a token name is 1 to 64 letters, digits, ".", "_" or "-"');
    this.adoptBootstrap();
    const op = this.get(username);
    if (this.deps.storage.listTokens(op.id).some((t) => t.revokedAt === null && t.name.toLowerCase() === name.toLowerCase())) {
      throw new AppError('CONFLICT', `operator "${op.username}" already has a token "${name}"`);
    }
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.deps.storage.insertToken(op.id, name, sha256Hex(token), this.now(), by);
    return token;
  }

  revokeToken(username: string, name: string, by: Actor): void {
    if (!this.deps.storage.revokeToken(this.get(username).id, name, this.now(), by)) {
      throw new AppError('NOT_FOUND', `operator "${username}" has no token "${name}"`);
    }
  }

  tokens(username: string): TokenRecord[] {
    return this.deps.storage.listTokens(this.get(username).id);
  }

  /**
   * Password, then TOTP. LOGIN_FAILED for a wrong name, password or code alike (each counted
   * against the operator); OPERATOR_LOCKED while locked, whatever was given.
   */
  async login(input: { username: string; password: string; otp?: string }, client: string): Promise<LoginResult> {
    this.adoptBootstrap();
    const by: Actor = { actor: `operator:${input.username.slice(0, 64)}`, source: 'api' };
    const op = typeof input.username === 'string' ? this.deps.storage.findOperator(input.username) : undefined;
    const passwordOk = await verifyScrypt(op?.passwordHash ?? dummy(), String(input.password));
    const now = this.now();
    if (!op || !op.enabled) throw new AppError('LOGIN_FAILED', 'wrong user name, password or code');
    if (op.lockedUntil !== null && op.lockedUntil > now) throw new AppError('OPERATOR_LOCKED', 'too many failed logins; try again later');
    if (!passwordOk) return this.fail(op, now, { actor: `operator:${op.username}`, source: 'api' });
    const opBy: Actor = { actor: `operator:${op.username}`, source: by.source };
    let step: number | null = op.totpLastStep;
    if (op.totpSealed) {
      if (input.otp === undefined || input.otp === '') return { kind: 'otp-required' };
      const found = verifyTotp(unseal(this.deps.master, totpAad(op.id), op.totpSealed), String(input.otp), now, op.totpLastStep);
      if (found === undefined) return this.fail(op, now, opBy);
      step = found;
    } else if (op.role === 'admin') {
      if (!op.totpPending || input.otp === undefined || input.otp === '') {
        return { kind: 'enrolment-required', otpauthUri: this.pendingUri(op, opBy) };
      }
      const secret = unseal(this.deps.master, pendingAad(op.id), op.totpPending);
      const found = verifyTotp(secret, String(input.otp), now, null);
      if (found === undefined) return this.fail(op, now, opBy);
      this.confirm(op, secret, found, opBy);
      step = found;
    }
    const sessionId = randomBytes(32).toString('base64url');
    const session: SessionRecord = {
      idHash: sha256Hex(sessionId), operatorId: op.id, csrfToken: randomBytes(32).toString('base64url'),
      createdAt: now, lastSeenAt: now, client,
    };
    this.deps.storage.insertSession(session, step, opBy);
    return { kind: 'session', sessionId, session, operator: viewOf(this.get(op.username)) };
  }

  private fail(op: OperatorRecord, now: number, by: Actor): never {
    const { attempts, windowMs, durationMs } = this.policy.lockout;
    const fresh = op.failedSince === null || now - op.failedSince > windowMs;
    const count = fresh ? 1 : op.failedCount + 1;
    const since = fresh ? now : op.failedSince!;
    const locked = attempts > 0 && count >= attempts ? now + durationMs : null;
    this.deps.storage.recordFailure(op.id, locked ? 0 : count, locked ? now : since, locked, now, by);
    throw new AppError('LOGIN_FAILED', 'wrong user name, password or code');
  }

  /** The enrolment under way, or a new one. */
  private pendingUri(op: OperatorRecord, by: Actor): string {
    let secret: Buffer;
    if (op.totpPending) {
      secret = unseal(this.deps.master, pendingAad(op.id), op.totpPending);
    } else {
      secret = newTotpSecret();
      this.deps.storage.setTotp(op.id, { totpSealed: op.totpSealed, totpPending: seal(this.deps.master, pendingAad(op.id), secret), totpLastStep: op.totpLastStep },
        this.now(), by, 'operator.otp_begin');
    }
    return otpauthUri(secret, this.deps.issuer ?? 'authbox', op.username);
  }

  private confirm(op: OperatorRecord, secret: Buffer, step: number, by: Actor): void {
    this.deps.storage.setTotp(op.id, { totpSealed: seal(this.deps.master, totpAad(op.id), secret), totpPending: null, totpLastStep: step },
      this.now(), by, 'operator.otp_enrol');
  }

  /** Enrolment by a logged-in operator (any role): returns the otpauth:// URI to scan. */
  beginEnrolment(operatorId: number, by: Actor): string {
    const op = this.deps.storage.operatorById(operatorId);
    if (!op) throw new AppError('NOT_FOUND', 'no such operator');
    if (op.totpSealed) throw new AppError('CONFLICT', 'a one-time password is already enrolled; an admin resets it first');
    return this.pendingUri(op, by);
  }

  confirmEnrolment(operatorId: number, code: string, by: Actor): void {
    const op = this.deps.storage.operatorById(operatorId);
    if (!op?.totpPending) throw new AppError('CONFLICT', 'no enrolment under way');
    const secret = unseal(this.deps.master, pendingAad(op.id), op.totpPending);
    const found = verifyTotp(secret, String(code), this.now(), null);
    if (found === undefined) throw new AppError('BAD_INPUT', 'the code does not match');
    this.confirm(op, secret, found, by);
  }

  /** The live session and its operator, or undefined (unknown, expired, operator disabled). */
  session(sessionId: string): { session: SessionRecord; operator: OperatorRecord } | undefined {
    if (typeof sessionId !== 'string' || sessionId.length === 0 || sessionId.length > 128) return undefined;
    const idHash = sha256Hex(sessionId);
    const s = this.deps.storage.findSession(idHash);
    if (!s) return undefined;
    const now = this.now();
    const { idleMs, absoluteMs } = this.policy.sessions;
    const op = this.deps.storage.operatorById(s.operatorId);
    if (now - s.lastSeenAt >= idleMs || now - s.createdAt >= absoluteMs || !op || !op.enabled) {
      this.deps.storage.deleteSession(idHash, { actor: 'system', source: 'system' }, 'operator.session_expired');
      return undefined;
    }
    // One write per quarter minute at most: idle expiry does not need more precision.
    if (now - s.lastSeenAt >= 15_000) this.deps.storage.touchSession(idHash, now);
    return { session: { ...s, lastSeenAt: now }, operator: op };
  }

  sessionExpiry(s: SessionRecord): number {
    return Math.min(s.lastSeenAt + this.policy.sessions.idleMs, s.createdAt + this.policy.sessions.absoluteMs);
  }

  logout(sessionId: string, by: Actor): void {
    this.deps.storage.deleteSession(sha256Hex(sessionId), by, 'operator.logout');
  }

  /** The operator behind an API token, or undefined (unknown, revoked, operator disabled). */
  tokenOperator(token: string): OperatorRecord | undefined {
    if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX) || token.length > 128) return undefined;
    const t = this.deps.storage.findToken(sha256Hex(token));
    if (!t || t.revokedAt !== null) return undefined;
    const op = this.deps.storage.operatorById(t.operatorId);
    if (!op || !op.enabled) return undefined;
    const now = this.now();
    if (t.lastUsedAt === null || now - t.lastUsedAt >= 60_000) this.deps.storage.touchToken(t.id, now);
    return op;
  }
}
