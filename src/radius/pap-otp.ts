// A one-time code after the password, for PAP from clients whose policy requires it
// (core/policy.ts PolicyEngine.otpRequired: per client kind, per group). Two ways in:
//
// - The challenge (RFC 2865 §4.4): a right password is answered by Access-Challenge with a
//   fresh random State (§5.24) and a Reply-Message (§5.18) asking for the code; the client
//   sends a new Access-Request carrying that State, the same User-Name and the code as
//   User-Password. A State is good for one answer, for the same user and client, for
//   OTP_CHALLENGE_TTL_MS; a wrong code uses it up too (the user starts again).
// - The joined field, for clients that cannot show a challenge: password and code in one
//   User-Password, the code its last six digits.
//
// The ambiguous case: a field ending in six digits may be a joined field or a password that
// ends in digits. The joined reading is tried first (the part before the digits checked as
// the password, then the code); only when that part is not the password is the whole field
// checked as the password, and a right one gets the challenge. So a correct joined field is
// never challenged, and a password ending in digits still works (at the cost of a second
// password check). A code is never cached: only a password that verified goes into the PAP
// cache (pap-cache.ts), and the code is checked by UserService.useOtpCode every time.
import { randomBytes } from 'node:crypto';
import type { NasClient, NasKind } from '../core/nas.js';
import { refusalVia } from '../core/users.js';
import { Attr, joinAttribute, type RadiusAttribute, type RadiusPacket } from './codec/index.js';
import type { MethodDecision } from './methods/decision.js';

export const OTP_CHALLENGE_TTL_MS = 60_000;
/** Challenges waiting for their code; the oldest gives way beyond this. */
export const OTP_CHALLENGE_MAX = 10_000;
export const OTP_CODE_DIGITS = 6;
/** RFC 2865 §5.18: shown to the user by the client; fixed English text. */
export const OTP_PROMPT = 'Enter the one-time code from your authenticator app';
export const OTP_NOT_ENROLLED_MESSAGE = 'A one-time code is required, but none is enrolled for this account: contact the helpdesk';

/** Decision-log reasons. */
export const OTP_REASONS = {
  notEnrolled: 'one-time code required but not enrolled',
  wrongCode: 'wrong or reused one-time code',
  unknownState: 'challenge unknown, expired or already answered',
  otherClient: 'challenge answered by another client',
  otherUser: 'challenge answered for another user',
  /** An accept by a method that cannot carry a code (CHAP, MS-CHAPv2, PEAP, TTLS without a joined code) where one is required. */
  methodWithoutCode: 'one-time code required: this method cannot carry one',
} as const;

/** Distinguishes our State from any other a client might echo. */
const STATE_PREFIX = Buffer.from('OTP1', 'ascii');
const STATE_RANDOM_BYTES = 16;

export interface OtpUser {
  username: string;
  enabled: boolean;
  passwordHash: string | null;
  groups?: readonly string[];
}

/** What this needs of the users engine (UserService, wrapped by the PAP cache, fits). */
export interface OtpUsers {
  find(username: string): OtpUser | undefined;
  verifyPassword(user: OtpUser, password: Uint8Array): Promise<boolean>;
  verifyPasswordCached?(user: OtpUser, password: Uint8Array): boolean | undefined;
  otpEnrolled(user: object): boolean;
  useOtpCode(user: object, code: string): boolean;
}

export interface OtpPolicy {
  otpRequired(kind: NasKind, groups: readonly string[]): boolean;
}

/** A method decision, or the challenge that asks for the code. */
export type OtpDecision = (MethodDecision & { details?: Record<string, string> })
  | { outcome: 'challenge'; username: string; attributes: RadiusAttribute[] };

interface Pending {
  username: string;
  client: string;
  expires: number;
}

const canOtp = (users: object): users is OtpUsers =>
  typeof (users as Partial<OtpUsers>).useOtpCode === 'function' && typeof (users as Partial<OtpUsers>).otpEnrolled === 'function';

/** Whether the field reads as password + code: something before six ASCII digits. */
export function splitJoined(field: Buffer): { password: Buffer; code: string } | undefined {
  if (field.length <= OTP_CODE_DIGITS) return undefined;
  const tail = field.subarray(field.length - OTP_CODE_DIGITS);
  if (!tail.every((b) => b >= 0x30 && b <= 0x39)) return undefined;
  return { password: field.subarray(0, field.length - OTP_CODE_DIGITS), code: tail.toString('ascii') };
}

export class PapOtp {
  private readonly pending = new Map<string, Pending>();
  private readonly now: () => number;
  private readonly ttlMs: number;
  private readonly max: number;
  readonly stats = { challenges: 0, evicted: 0 };

  constructor(private readonly deps: {
    users: object; policy: OtpPolicy; now?: () => number; ttlMs?: number; maxPending?: number;
  }) {
    this.now = deps.now ?? Date.now;
    this.ttlMs = deps.ttlMs ?? OTP_CHALLENGE_TTL_MS;
    this.max = deps.maxPending ?? OTP_CHALLENGE_MAX;
  }

  get size(): number {
    return this.pending.size;
  }

  /**
   * The decision of a PAP request that is OTP's business: an answer to our challenge, or a
   * user whose policy on this client requires a code. Undefined: ordinary PAP. When a promise
   * is returned, this owns `field` and zeroes it.
   */
  claim(packet: RadiusPacket, client: NasClient, field: Buffer): Promise<OtpDecision> | undefined {
    const users = this.deps.users;
    if (!canOtp(users)) return undefined;
    const state = joinAttribute(packet.attributes, Attr.State);
    const username = joinAttribute(packet.attributes, Attr.UserName)?.toString('utf8');
    if (state && state.length === STATE_PREFIX.length + STATE_RANDOM_BYTES && state.subarray(0, STATE_PREFIX.length).equals(STATE_PREFIX)) {
      try {
        return Promise.resolve(this.answer(users, state, client, username, field));
      } finally {
        field.fill(0);
      }
    }
    if (!username) return undefined;
    const user = users.find(username);
    if (!user || !this.deps.policy.otpRequired(client.kind, user.groups ?? [])) return undefined;
    return this.passwordFirst(users, user, client, field).finally(() => field.fill(0));
  }

  /** A password (and perhaps the code joined to it) from a user who needs a code here. */
  private async passwordFirst(users: OtpUsers, user: OtpUser, client: NasClient, field: Buffer): Promise<OtpDecision> {
    const enrolled = users.otpEnrolled(user);
    const base = { username: user.username, ...(user.groups ? { groups: user.groups } : {}) };
    const joined = splitJoined(field);
    if (joined && await this.checkPassword(users, user, joined.password)) {
      const refused = refusalVia(users, user, 'password');
      if (refused) return { outcome: 'reject', reason: refused, username: user.username };
      if (!enrolled) return notEnrolled(user.username);
      if (!users.useOtpCode(user, joined.code)) return { outcome: 'reject', reason: OTP_REASONS.wrongCode, username: user.username, details: { otp: 'joined' } };
      return { outcome: 'accept', ...base, details: { otp: 'joined' } };
    }
    // The password is checked whatever the account's state, so that its state does not show in the timing.
    const ok = await this.checkPassword(users, user, field);
    const refused = refusalVia(users, user, 'password');
    if (refused) return { outcome: 'reject', reason: refused, username: user.username };
    if (!ok) return { outcome: 'reject', reason: 'wrong password', username: user.username };
    if (!enrolled) return notEnrolled(user.username);
    return { outcome: 'challenge', username: user.username, attributes: this.issue(user.username, client) };
  }

  private async checkPassword(users: OtpUsers, user: OtpUser, password: Buffer): Promise<boolean> {
    if (users.verifyPasswordCached?.(user, password) === true) return true;
    return users.verifyPassword(user, password);
  }

  /** RFC 2865 §4.4: the State and the prompt of a new challenge. */
  private issue(username: string, client: NasClient): RadiusAttribute[] {
    const now = this.now();
    if (this.pending.size >= this.max) this.sweep(now);
    while (this.pending.size >= this.max) {
      const oldest = this.pending.keys().next();
      if (oldest.done) break;
      this.pending.delete(oldest.value);
      this.stats.evicted++;
    }
    const state = Buffer.concat([STATE_PREFIX, randomBytes(STATE_RANDOM_BYTES)]);
    this.pending.set(state.toString('hex'), { username, client: client.name, expires: now + this.ttlMs });
    this.stats.challenges++;
    return [{ type: Attr.State, value: state }, { type: Attr.ReplyMessage, value: Buffer.from(OTP_PROMPT, 'utf8') }];
  }

  /** The second request of a challenge: its State is used up whatever the outcome. */
  private answer(users: OtpUsers, state: Buffer, client: NasClient, username: string | undefined, field: Buffer): OtpDecision {
    const key = state.toString('hex');
    const p = this.pending.get(key);
    this.pending.delete(key);
    const who = username ? { username } : {};
    if (!p || p.expires <= this.now()) return { outcome: 'reject', reason: OTP_REASONS.unknownState, ...who };
    if (p.client !== client.name) return { outcome: 'reject', reason: OTP_REASONS.otherClient, ...who };
    if (username === undefined || username.toLowerCase() !== p.username.toLowerCase()) return { outcome: 'reject', reason: OTP_REASONS.otherUser, ...who };
    const user = users.find(p.username);
    if (!user) return { outcome: 'reject', reason: 'unknown user', username: p.username };
    // The account may have been disabled or locked since the password was checked.
    const refused = refusalVia(users, user, 'password');
    if (refused) return { outcome: 'reject', reason: refused, username: user.username };
    const code = field.toString('latin1');
    if (!users.useOtpCode(user, code)) {
      return { outcome: 'reject', reason: OTP_REASONS.wrongCode, username: user.username, details: { otp: 'challenge' } };
    }
    return { outcome: 'accept', username: user.username, ...(user.groups ? { groups: user.groups } : {}), details: { otp: 'challenge' } };
  }

  /**
   * After a method accepted: the refusal when the policy requires a code from this user on
   * this client and the method did not check one (a password alone must not get around the
   * second factor through MS-CHAPv2 or PEAP). EAP-TLS (a certificate) and MAB (a device) are
   * not password methods and pass; so does PEAP/TTLS with a required, matching client certificate.
   */
  refusal(kind: NasKind, groups: readonly string[], method: string | undefined, details: Record<string, string> | undefined): string | undefined {
    if (method === 'eap-tls' || method === 'mab') return undefined;
    if (method === 'pap' && details?.otp !== undefined) return undefined;
    if (method === 'ttls' && details?.inner === 'pap+otp') return undefined;
    // PEAP/TTLS whose outer handshake carried the certificate the policy required, of the inner
    // user: certificate plus password are the two factors (issue 6: "two factors on Wi-Fi without a second prompt").
    if ((method === 'peap' || method === 'ttls') && details?.factor === 'client-cert') return undefined;
    return this.deps.policy.otpRequired(kind, groups) ? OTP_REASONS.methodWithoutCode : undefined;
  }

  private sweep(now: number): void {
    for (const [k, p] of this.pending) if (p.expires <= now) this.pending.delete(k);
  }
}

function notEnrolled(username: string): OtpDecision {
  return {
    outcome: 'reject', reason: OTP_REASONS.notEnrolled, username,
    attributes: [{ type: Attr.ReplyMessage, value: Buffer.from(OTP_NOT_ENROLLED_MESSAGE, 'utf8') }],
  };
}
