// CHAP carried in RADIUS (RFC 2865 §5.3, §5.40; RFC 1994 §4.1): the NAS ran the exchange
// with the peer and forwards the peer's ident and response. The check needs the password
// itself, which authbox keeps (sealed) only for users who opted in with --chap; for the
// others CHAP is refused with that reason in the log, and the NAS should offer PAP,
// MS-CHAPv2 or EAP instead.
import { createHash, timingSafeEqual } from 'node:crypto';
import { Attr, joinAttribute, type RadiusPacket } from '../codec/index.js';
import { refusalVia } from '../../core/users.js';
import type { MethodDecision } from './decision.js';

export const CHAP_NOT_ENABLED_REASON = 'CHAP needs a reversible password: enable it with `authbox user passwd --chap`';

/** RFC 2865 §5.3: one octet of CHAP Ident, then the 16-octet response. */
export const CHAP_PASSWORD_LENGTH = 17;
const CHAP_RESPONSE_LENGTH = 16;
/** RFC 2865 §5.40: Length >= 7, so at least 5 octets of challenge. */
export const CHAP_CHALLENGE_MIN = 5;

export interface ChapUser {
  username: string;
  enabled: boolean;
  groups?: readonly string[];
}

/** What CHAP needs from the users engine (core/users.ts UserService fits). */
export interface ChapUsers<U extends ChapUser = ChapUser> {
  find(username: string): U | undefined;
  /** The password as set (UTF-8), or undefined for a user without CHAP; the caller zeroes it. */
  chapPasswordOf(user: U): Buffer | undefined;
}

/** RFC 2865 §5.3: a request is CHAP when it carries CHAP-Password. */
export const isChapRequest = (packet: RadiusPacket): boolean =>
  packet.attributes.some((a) => a.vendor === undefined && a.type === Attr.ChapPassword);

/** RFC 1994 §4.1: the response is MD5(Identifier || secret || Challenge). */
export function chapResponse(ident: number, password: Uint8Array, challenge: Uint8Array): Buffer {
  return createHash('md5').update(Uint8Array.of(ident)).update(password).update(challenge).digest();
}

/** Stands in for the password of an unknown user or one without CHAP, so every refusal costs one MD5. */
const DUMMY_PASSWORD = Buffer.alloc(16);

const reject = (reason: string, username?: string): MethodDecision =>
  ({ outcome: 'reject', reason, ...(username ? { username } : {}) });

/** Decides one CHAP Access-Request. */
export function decideChap<U extends ChapUser>(users: ChapUsers<U>, packet: RadiusPacket, username: string): MethodDecision {
  const value = joinAttribute(packet.attributes, Attr.ChapPassword);
  if (!value || value.length !== CHAP_PASSWORD_LENGTH) return reject('malformed CHAP-Password', username);
  // RFC 2865 §2.2: without CHAP-Challenge, the Request Authenticator is the challenge.
  const challenge = joinAttribute(packet.attributes, Attr.ChapChallenge) ?? packet.authenticator;
  if (challenge.length < CHAP_CHALLENGE_MIN) return reject('malformed CHAP-Challenge', username);
  const ident = value[0]!;
  const response = value.subarray(1, 1 + CHAP_RESPONSE_LENGTH);
  const user = users.find(username);
  const password = user ? users.chapPasswordOf(user) : undefined;
  try {
    // The same work whatever is refused, so the timing does not tell an unknown user from a known one.
    const expected = chapResponse(ident, password ?? DUMMY_PASSWORD, challenge);
    const ok = timingSafeEqual(expected, response);
    if (!user) return reject('unknown user', username);
    if (!password) return reject(CHAP_NOT_ENABLED_REASON, user.username);
    const refused = refusalVia(users, user, 'password');
    if (refused) return reject(refused, user.username);
    if (!ok) return reject('wrong password', user.username);
    return { outcome: 'accept', username: user.username, ...(user.groups ? { groups: user.groups } : {}) };
  } finally {
    password?.fill(0);
  }
}
