// The password checks of the methods run inside PEAP and EAP-TTLS, against local users
// through the same users engine (and PAP cache) as RADIUS PAP and MS-CHAPv2, with the same
// reasons: unknown user, account disabled, wrong password.
//
// TTLS-PAP and one-time codes (issue 6): there is no challenge inside the tunnel, so a user
// with a code enrolled may join it to the password (the last six digits), read first as in
// RADIUS PAP (pap-otp.ts). A decision says whether a code was checked (`otp`); whether one
// was required is the policy's, asked by the RADIUS engine once the method accepts.
import { refusalVia, type AccountRefusal } from '../../core/users.js';
import { verifyMschapv2 } from '../mschap/mschapv2.js';
import { OTP_REASONS, splitJoined } from '../pap-otp.js';

export interface InnerUser {
  username: string;
  enabled: boolean;
  passwordHash: string | null;
}

/** core/users.ts UserService (wrapped by withPapCache) fits. */
export interface InnerUsers<U extends InnerUser = InnerUser> {
  find(username: string): U | undefined;
  verifyPassword(user: U | Pick<InnerUser, 'passwordHash'>, password: Uint8Array): Promise<boolean>;
  ntHashOf(user: U): Buffer | undefined;
}

export type InnerRefusal = 'unknown user' | AccountRefusal | 'wrong password' | 'no NT hash kept for this user'
  | typeof OTP_REASONS.wrongCode;

/** UserService's one-time code methods, when the users engine has them. */
interface OtpCapable {
  otpEnrolled(user: object): boolean;
  useOtpCode(user: object, code: string): boolean;
}

const canOtp = (users: object): users is OtpCapable =>
  typeof (users as Partial<OtpCapable>).useOtpCode === 'function' && typeof (users as Partial<OtpCapable>).otpEnrolled === 'function';

export type InnerDecision =
  | { ok: true; username: string; authenticatorResponse?: string; otp?: true }
  | { ok: false; reason: InnerRefusal; username: string };

export interface InnerAuthenticator {
  pap(username: string, password: Buffer): Promise<InnerDecision>;
  mschapv2(input: {
    username: string; peerName: string; authenticatorChallenge: Buffer; peerChallenge: Buffer; ntResponse: Buffer;
  }): InnerDecision;
}

export function innerAuthenticator<U extends InnerUser>(users: InnerUsers<U>, dummyPasswordHash?: string): InnerAuthenticator {
  return {
    async pap(username, password) {
      try {
        const user = users.find(username);
        if (!user) {
          // Unknown users cost the same scrypt time as known ones.
          if (dummyPasswordHash) await users.verifyPassword({ passwordHash: dummyPasswordHash }, password);
          return { ok: false, reason: 'unknown user', username };
        }
        const joined = canOtp(users) && users.otpEnrolled(user) ? splitJoined(password) : undefined;
        if (joined && await users.verifyPassword(user, joined.password)) {
          const refused = refusalVia(users, user, 'password');
          if (refused) return { ok: false, reason: refused, username: user.username };
          if (!(users as unknown as OtpCapable).useOtpCode(user, joined.code)) return { ok: false, reason: OTP_REASONS.wrongCode, username: user.username };
          return { ok: true, username: user.username, otp: true };
        }
        const ok = await users.verifyPassword(user, password);
        const refused = refusalVia(users, user, 'password');
        if (refused) return { ok: false, reason: refused, username: user.username };
        if (!ok) return { ok: false, reason: 'wrong password', username: user.username };
        return { ok: true, username: user.username };
      } finally {
        password.fill(0);
      }
    },
    mschapv2({ username, peerName, authenticatorChallenge, peerChallenge, ntResponse }) {
      const user = users.find(username);
      if (!user) return { ok: false, reason: 'unknown user', username };
      const ntHash = users.ntHashOf(user);
      if (!ntHash) return { ok: false, reason: 'no NT hash kept for this user', username: user.username };
      try {
        // RFC 2759 §8.2: the name hashed is the one the peer sent in its Response.
        const r = verifyMschapv2({ ntHash, authenticatorChallenge, peerChallenge, userName: peerName, ntResponse });
        const refused = refusalVia(users, user, 'password');
        if (refused) return { ok: false, reason: refused, username: user.username };
        if (!r.ok) return { ok: false, reason: 'wrong password', username: user.username };
        return { ok: true, username: user.username, authenticatorResponse: r.authenticatorResponse };
      } finally {
        ntHash.fill(0);
      }
    },
  };
}
