// Methods other than PAP that arrive without a User-Password: CHAP (RFC 2865 §5.3, for users
// who opted in) and MS-CHAPv2 (RFC 2548). The engine asks here first and falls back to its
// own PAP path when no method here claims the request.
import { Attr, joinAttribute, type RadiusPacket, type Secret } from '../codec/index.js';
import { decideChap, isChapRequest, type ChapUsers } from './chap.js';
import type { MethodDecision } from './decision.js';
import { decideMschapv2, isMschapv2Request, type MschapUsers } from './mschapv2.js';

export type { MethodDecision } from './decision.js';

export interface PasswordlessMethodDeps {
  /**
   * The users engine, if it can give NT hashes and CHAP passwords (UserService can); without
   * them MS-CHAPv2 and CHAP are not claimed.
   */
  users: object;
}

const canMschap = (users: object): users is MschapUsers<never> =>
  typeof (users as Partial<MschapUsers>).ntHashOf === 'function' && typeof (users as Partial<MschapUsers>).find === 'function';

const canChap = (users: object): users is ChapUsers<never> =>
  typeof (users as Partial<ChapUsers>).chapPasswordOf === 'function' && typeof (users as Partial<ChapUsers>).find === 'function';

/** The decision of CHAP or MS-CHAPv2 for a request without User-Password, or undefined when neither applies. */
export function decidePasswordlessMethod(packet: RadiusPacket, secret: Secret, deps: PasswordlessMethodDeps): Promise<MethodDecision> | undefined {
  const username = joinAttribute(packet.attributes, Attr.UserName)?.toString('utf8');
  if (isChapRequest(packet) && canChap(deps.users)) {
    if (!username) return Promise.resolve({ outcome: 'reject', reason: 'no user name' });
    return Promise.resolve(decideChap(deps.users as ChapUsers, packet, username));
  }
  if (!isMschapv2Request(packet) || !canMschap(deps.users)) return undefined;
  if (!username) return Promise.resolve({ outcome: 'reject', reason: 'no user name' });
  return Promise.resolve(decideMschapv2(deps.users as MschapUsers, { packet, username, secret }));
}
