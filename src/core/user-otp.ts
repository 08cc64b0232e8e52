// One-time codes for users (issue 6): TOTP (RFC 6238, core/totp.ts) as a second factor for
// PAP from gateways and VPNs. The secret is sealed under the master key with the user id
// in the AAD (a different AAD for an enrolment under way, so a pending secret never opens
// as a confirmed one), as operators' TOTP is. An enrolment is confirmed by a first code;
// each code is used once: the last accepted step is stored, and a step is taken only by a
// conditional write, so two requests racing with one code cannot both pass.
import type { Actor } from './actor.js';
import { AppError } from './errors.js';
import { seal, unseal } from './seal.js';
import { newTotpSecret, otpauthUri, verifyTotp } from './totp.js';

export const otpAad = (id: number): string => `user:${id}:otp`;
export const otpPendingAad = (id: number): string => `user:${id}:otp-pending`;

/** The OTP columns of a user row; the sealed values never leave core/ and store/. */
export interface UserOtpState {
  otpSealed: Buffer | null;
  otpPending: Buffer | null;
  otpLastStep: number | null;
  /** ms since the epoch the enrolment was confirmed; null: not enrolled. */
  otpEnrolledAt: number | null;
}

export const NO_OTP: UserOtpState = { otpSealed: null, otpPending: null, otpLastStep: null, otpEnrolledAt: null };

/** What the console and `user show` may know of a user's OTP: never the secret. */
export interface OtpStatus {
  /** none: no code; pending: enrolment begun, not confirmed; enrolled: codes required where policy says so. */
  state: 'none' | 'pending' | 'enrolled';
  enrolledAt: number | null;
}

export function otpStatusOf(u: Partial<Pick<UserOtpState, 'otpSealed' | 'otpPending' | 'otpEnrolledAt'>>): OtpStatus {
  if (u.otpSealed) return { state: 'enrolled', enrolledAt: u.otpEnrolledAt ?? null };
  return { state: u.otpPending ? 'pending' : 'none', enrolledAt: null };
}

/** What OTP needs from storage (store/users-store.ts implements it). */
export interface UserOtpStorage {
  /** Replaces the OTP columns, in one transaction with a 'user' change row and an audit row (`action`, no secret). */
  setOtp(id: number, state: UserOtpState, at: number, by: Actor, action: string): void;
  /**
   * Records `step` as the last one used, only if it is later than the stored one; false when
   * another request took this step (or a later one) first. Not audited: the decision log
   * records the authentication.
   */
  takeOtpStep(id: number, step: number): boolean;
}

interface OtpUser extends Partial<UserOtpState> {
  id: number;
  username: string;
}

/** The OTP operations of UserService, apart so users.ts stays one concept. */
export class UserOtp {
  constructor(private readonly deps: { storage: UserOtpStorage; master: Buffer; now: () => number; issuer: string }) {}

  /** A new secret, pending until confirmed; an enrolment under way is replaced. Refused when one is enrolled. */
  begin(user: OtpUser, by: Actor): { uri: string } {
    if (user.otpSealed) {
      throw new AppError('CONFLICT', `"${user.username}" already has a one-time code enrolled: reset it first`);
    }
    const secret = newTotpSecret();
    try {
      this.deps.storage.setOtp(user.id, { ...NO_OTP, otpPending: seal(this.deps.master, otpPendingAad(user.id), secret) },
        this.deps.now(), by, 'user.otp_begin');
      return { uri: otpauthUri(secret, this.deps.issuer, user.username) };
    } finally {
      secret.fill(0);
    }
  }

  /** The first code from the authenticator makes the pending secret the user's; that code is used up. */
  confirm(user: OtpUser, code: string, by: Actor): void {
    if (!user.otpPending) throw new AppError('CONFLICT', `no one-time code enrolment is under way for "${user.username}"`);
    const secret = unseal(this.deps.master, otpPendingAad(user.id), user.otpPending);
    try {
      const now = this.deps.now();
      const step = verifyTotp(secret, String(code).trim(), now, null);
      if (step === undefined) throw new AppError('BAD_INPUT', 'the code does not match: check the device clock and enter the current code');
      this.deps.storage.setOtp(user.id, {
        otpSealed: seal(this.deps.master, otpAad(user.id), secret), otpPending: null, otpLastStep: step, otpEnrolledAt: now,
      }, now, by, 'user.otp_enrol');
    } finally {
      secret.fill(0);
    }
  }

  /** Forgets the secret and any enrolment under way; false when there was nothing to forget. */
  reset(user: OtpUser, by: Actor): boolean {
    if (!user.otpSealed && !user.otpPending) return false;
    this.deps.storage.setOtp(user.id, NO_OTP, this.deps.now(), by, 'user.otp_reset');
    return true;
  }

  /**
   * Whether `code` is the user's current code (±1 step) and not used before; a match takes
   * its step, so the same code is refused afterwards. KEY_DECRYPT_FAILED if the row was tampered with.
   */
  use(user: Pick<OtpUser, 'id' | 'otpSealed' | 'otpLastStep'>, code: string): boolean {
    if (!user.otpSealed) return false;
    const secret = unseal(this.deps.master, otpAad(user.id), user.otpSealed);
    try {
      // The stored step may be newer than the cached user's: takeOtpStep decides.
      const step = verifyTotp(secret, code, this.deps.now(), user.otpLastStep ?? null);
      return step !== undefined && this.deps.storage.takeOtpStep(user.id, step);
    } finally {
      secret.fill(0);
    }
  }
}
