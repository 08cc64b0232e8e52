// What an authentication method decides for one Access-Request: the outcome, the reason in
// plain words for the log (never sent to the NAS), and the attributes its reply carries.
import type { RadiusAttribute } from '../codec/index.js';

export interface MethodDecision {
  outcome: 'accept' | 'reject';
  /** Why a request was refused, for the log only. */
  reason?: string;
  username?: string;
  /** The user's groups, read with the user, for the authorization policy. */
  groups?: readonly string[];
  /** Method attributes for the reply (MS-CHAP2-Success, MPPE keys, MS-CHAP-Error). */
  attributes?: RadiusAttribute[];
  /** Non-secret context for the decision log (e.g. otp: challenge | joined). */
  details?: Record<string, string>;
}
