// MS-CHAPv2 carried in RADIUS without EAP (RFC 2548 §2.3, RFC 2759): the NAS ran the
// exchange with the peer and forwards MS-CHAP-Challenge and MS-CHAP2-Response. The answer is
// checked against the user's sealed NT hash; success carries MS-CHAP2-Success and the
// 128-bit MPPE keys (RFC 3079 §3.5) hidden for the NAS (RFC 2548 §2.4.2-§2.4.3), failure
// carries MS-CHAP-Error (RFC 2548 §2.1.5, RFC 2759 §6).
import { randomBytes } from 'node:crypto';
import {
  MsAttr, MsMppeEncryptionPolicy, MsMppeEncryptionTypes, VENDOR_MICROSOFT, hideMsMppeKeys, joinAttribute,
  type RadiusAttribute, type RadiusPacket, type RandomSource, type Secret,
} from '../codec/index.js';
import {
  MSCHAPV2_CHALLENGE_LENGTH, MSCHAP_ERROR, msChap2SuccessValue, msChapErrorValue, mppeKeys128, mschapv2ErrorMessage,
  parseMsChap2Response, verifyMschapv2,
} from '../mschap/mschapv2.js';
import { refusalVia } from '../../core/users.js';
import type { MethodDecision } from './decision.js';

export interface MschapUser {
  username: string;
  enabled: boolean;
  groups?: readonly string[];
}

/** What MS-CHAPv2 needs from the users engine (core/users.ts UserService fits). */
export interface MschapUsers<U extends MschapUser = MschapUser> {
  find(username: string): U | undefined;
  /** The NT hash (RFC 2759 §8.3), or undefined for a user who has none. */
  ntHashOf(user: U): Buffer | undefined;
}

export interface MschapRequest {
  packet: RadiusPacket;
  username: string;
  secret: Secret;
  random?: RandomSource;
}

const ms = (type: number, value: Buffer): RadiusAttribute => ({ vendor: VENDOR_MICROSOFT, type, value });
const uint32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** RFC 2548 §2.3.2: MS-CHAPv2 is a request carrying MS-CHAP2-Response. */
export const isMschapv2Request = (packet: RadiusPacket): boolean =>
  packet.attributes.some((a) => a.vendor === VENDOR_MICROSOFT && a.type === MsAttr.Chap2Response);

/**
 * RFC 2759 §6 through RFC 2548 §2.1.5: one failure for every refusal (691), so the peer
 * learns nothing about which check failed; no retry is offered (R=0), and C= is a fresh
 * challenge as §6 asks.
 */
function failure(ident: number, random: RandomSource, reason: string, username?: string): MethodDecision {
  const message = mschapv2ErrorMessage({ error: MSCHAP_ERROR.AUTHENTICATION_FAILURE, challenge: random(MSCHAPV2_CHALLENGE_LENGTH) });
  return {
    outcome: 'reject', reason, ...(username ? { username } : {}),
    attributes: [ms(MsAttr.ChapError, msChapErrorValue(ident, message))],
  };
}

/** Decides one MS-CHAPv2 Access-Request. Pure apart from the random salts and challenge. */
export function decideMschapv2<U extends MschapUser>(users: MschapUsers<U>, request: MschapRequest): MethodDecision {
  const random = request.random ?? randomBytes;
  const { packet, username } = request;
  const challenge = joinAttribute(packet.attributes, MsAttr.ChapChallenge, VENDOR_MICROSOFT);
  const responseValue = joinAttribute(packet.attributes, MsAttr.Chap2Response, VENDOR_MICROSOFT);
  const response = responseValue && parseMsChap2Response(responseValue);
  if (!response) return failure(0, random, 'malformed MS-CHAP2-Response', username);
  if (!challenge || challenge.length !== MSCHAPV2_CHALLENGE_LENGTH) {
    return failure(response.ident, random, 'missing or malformed MS-CHAP-Challenge', username);
  }
  const user = users.find(username);
  if (!user) return failure(response.ident, random, 'unknown user', username);
  const ntHash = users.ntHashOf(user);
  if (!ntHash) return failure(response.ident, random, 'no NT hash kept for this user (MS-CHAPv2 needs one)', user.username);
  try {
    // RFC 2759 §8.2: the name hashed is the one the peer typed; the mschap module drops a domain.
    const result = verifyMschapv2({
      ntHash, authenticatorChallenge: challenge, peerChallenge: response.peerChallenge, userName: username,
      ntResponse: response.ntResponse,
    });
    const refused = refusalVia(users, user, 'password');
    if (refused) return failure(response.ident, random, refused, user.username);
    if (!result.ok) return failure(response.ident, random, 'wrong password', user.username);
    const keys = mppeKeys128(ntHash, response.ntResponse);
    const hidden = hideMsMppeKeys({ send: keys.sendKey, recv: keys.receiveKey }, request.secret, packet.authenticator, random);
    keys.masterKey.fill(0);
    keys.sendKey.fill(0);
    keys.receiveKey.fill(0);
    return {
      outcome: 'accept', username: user.username, ...(user.groups ? { groups: user.groups } : {}),
      attributes: [
        ms(MsAttr.Chap2Success, msChap2SuccessValue(response.ident, result.authenticatorResponse)),
        ms(MsAttr.MppeRecvKey, hidden.recv),
        ms(MsAttr.MppeSendKey, hidden.send),
        ms(MsAttr.MppeEncryptionPolicy, uint32(MsMppeEncryptionPolicy.EncryptionAllowed)),
        ms(MsAttr.MppeEncryptionTypes, uint32(MsMppeEncryptionTypes.Rc4_40or128)),
      ],
    };
  } finally {
    ntHash.fill(0);
  }
}
