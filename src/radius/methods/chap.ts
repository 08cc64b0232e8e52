// CHAP (RFC 1994, RFC 2865 §5.3) needs the clear-text password on the server side. authbox
// keeps only a slow hash and the sealed NT hash, so CHAP is refused, by design, with that
// reason in the log: the NAS should offer PAP, MS-CHAPv2 or EAP instead.
import { Attr, type RadiusPacket } from '../codec/index.js';
import type { MethodDecision } from './decision.js';

export const CHAP_REFUSED_REASON = 'CHAP needs a reversible password, which authbox does not keep';

/** RFC 2865 §5.3: a request is CHAP when it carries CHAP-Password. */
export const isChapRequest = (packet: RadiusPacket): boolean =>
  packet.attributes.some((a) => a.vendor === undefined && a.type === Attr.ChapPassword);

export function refuseChap(username: string | undefined): MethodDecision {
  return { outcome: 'reject', reason: CHAP_REFUSED_REASON, ...(username ? { username } : {}) };
}
