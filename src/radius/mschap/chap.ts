// CHAP (RFC 1994) as RADIUS carries it (RFC 2865 §5.3, §5.40): the NAS ran the challenge
// with the peer and forwards the identifier, the peer's MD5 response and the challenge.
// The server needs the clear-text password, so only users whose password is kept in a
// recoverable form can use CHAP; the check itself is a pure function.
import { createHash, timingSafeEqual } from 'node:crypto';

/** RFC 2865 §5.3: CHAP-Password is the CHAP Identifier (1 octet) and the 16-octet Response. */
export const CHAP_PASSWORD_LENGTH = 17;
/** RFC 1994 §4.1: the MD5 response is 16 octets. */
export const CHAP_RESPONSE_LENGTH = 16;
/** RFC 2865 §3: the Request Authenticator is 16 octets. */
const REQUEST_AUTHENTICATOR_LENGTH = 16;

/**
 * RFC 2865 §5.3: the challenge is CHAP-Challenge (§5.40) if the request carries one,
 * otherwise the Request Authenticator.
 */
export function chapChallenge(chapChallengeAttribute: Uint8Array | undefined, requestAuthenticator: Uint8Array): Buffer {
  if (chapChallengeAttribute !== undefined) return Buffer.from(chapChallengeAttribute);
  if (requestAuthenticator.length !== REQUEST_AUTHENTICATOR_LENGTH) {
    throw new RangeError(`Request Authenticator must be ${REQUEST_AUTHENTICATOR_LENGTH} octets, got ${requestAuthenticator.length}`);
  }
  return Buffer.from(requestAuthenticator);
}

/** RFC 1994 §4.1: Response = MD5(Identifier | secret | Challenge). */
export function chapResponse(ident: number, password: string | Uint8Array, challenge: Uint8Array): Buffer {
  const secret = typeof password === 'string' ? Buffer.from(password, 'utf8') : password;
  return createHash('md5').update(Buffer.from([ident & 0xff])).update(secret).update(challenge).digest();
}

export interface ChapInput {
  /** The user's clear-text password (UTF-8 if a string). */
  password: string | Uint8Array;
  /** The CHAP-Password attribute value: ident + 16-octet response (RFC 2865 §5.3). */
  chapPassword: Uint8Array;
  /** From `chapChallenge`: CHAP-Challenge, or the Request Authenticator. */
  challenge: Uint8Array;
}

/**
 * True if the peer's response matches the password (RFC 1994 §4.1), compared in constant
 * time. A CHAP-Password of the wrong size, or an empty challenge, is a failure.
 */
export function verifyChap(input: ChapInput): boolean {
  if (input.chapPassword.length !== CHAP_PASSWORD_LENGTH || input.challenge.length === 0) return false;
  const ident = input.chapPassword[0]!;
  const expected = chapResponse(ident, input.password, input.challenge);
  return timingSafeEqual(expected, input.chapPassword.subarray(1));
}
