// MS-CHAPv2 (RFC 2759) for the authenticator side: checking the peer's NT-Response,
// building the authenticator response and the failure message, and deriving the 128-bit
// MPPE keys (RFC 3079 §3). Pure functions of their inputs; the NT hash (RFC 2759 §8.3) is
// what the user store keeps, so nothing here sees a clear-text password except
// `generateNtResponse`, which also serves tests and a future client side.
import { createHash, timingSafeEqual } from 'node:crypto';
import { md4 } from '../../core/md4.js';
import { desEncrypt, DES_KEY56_LENGTH } from './des.js';

/** RFC 2759 §4: the Authenticator Challenge and Peer-Challenge are 16 octets. */
export const MSCHAPV2_CHALLENGE_LENGTH = 16;
/** RFC 2759 §4: the NT-Response is 24 octets. */
export const MSCHAPV2_NT_RESPONSE_LENGTH = 24;
/** RFC 2759 §8.3: NtPasswordHash is the 16-octet MD4 digest. */
export const NT_HASH_LENGTH = 16;
/** RFC 2759 §8.2: ChallengeHash keeps the first 8 octets of the SHA-1 digest. */
const CHALLENGE_HASH_LENGTH = 8;
/** RFC 2759 §8.5: the password hash is zero-padded to 21 octets, three 7-octet DES keys. */
const ZPASSWORD_HASH_LENGTH = 21;

/** RFC 2759 §8.7: "Magic server to client signing constant". */
const AUTH_RESPONSE_MAGIC1 = Buffer.from('Magic server to client signing constant', 'ascii');
/** RFC 2759 §8.7: "Pad to make it do more than one iteration". */
const AUTH_RESPONSE_MAGIC2 = Buffer.from('Pad to make it do more than one iteration', 'ascii');
/** RFC 2759 §8.7: the authenticator response is "S=" and 40 upper-case hex digits. */
const AUTH_RESPONSE_PREFIX = 'S=';

/** RFC 3079 §3.4 GetMasterKey: Magic1. */
const MPPE_MASTER_MAGIC = Buffer.from('This is the MPPE Master Key', 'ascii');
/** RFC 3079 §3.4 GetAsymmetricStartKey: Magic2, the client's send key and the server's receive key. */
const MPPE_CLIENT_SEND_MAGIC = Buffer.from(
  'On the client side, this is the send key; on the server side, it is the receive key.',
  'ascii',
);
/** RFC 3079 §3.4 GetAsymmetricStartKey: Magic3, the client's receive key and the server's send key. */
const MPPE_CLIENT_RECEIVE_MAGIC = Buffer.from(
  'On the client side, this is the receive key; on the server side, it is the send key.',
  'ascii',
);
/** RFC 3079 §3.4: SHSpad1 (40 octets of 0x00) and SHSpad2 (40 octets of 0xF2). */
const SHS_PAD1 = Buffer.alloc(40, 0x00);
const SHS_PAD2 = Buffer.alloc(40, 0xf2);
/** RFC 3079 §3.4 GetMasterKey keeps 16 octets; §3.5 uses 16-octet (128-bit) session keys. */
export const MPPE_MASTER_KEY_LENGTH = 16;
export const MPPE_KEY128_LENGTH = 16;

const sha1 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

function checkLength(name: string, value: Uint8Array, length: number): void {
  if (value.length !== length) throw new RangeError(`${name} must be ${length} octets, got ${value.length}`);
}

/**
 * RFC 2759 §8.2 note: "the user name ... without any domain prefix". The peer hashes only
 * what follows the last backslash of "DOMAIN\user".
 */
export function userNameWithoutDomain(userName: string): string {
  const slash = userName.lastIndexOf('\\');
  return slash === -1 ? userName : userName.slice(slash + 1);
}

/** RFC 2759 §8.2 ChallengeHash: SHA-1(PeerChallenge | AuthenticatorChallenge | UserName), 8 octets. */
export function challengeHash(peerChallenge: Uint8Array, authenticatorChallenge: Uint8Array, userName: string): Buffer {
  checkLength('Peer-Challenge', peerChallenge, MSCHAPV2_CHALLENGE_LENGTH);
  checkLength('Authenticator Challenge', authenticatorChallenge, MSCHAPV2_CHALLENGE_LENGTH);
  // RFC 2759 §8.2: the user name is the ASCII (here UTF-8) octets, as the peer sent them.
  const name = Buffer.from(userNameWithoutDomain(userName), 'utf8');
  return sha1(peerChallenge, authenticatorChallenge, name).subarray(0, CHALLENGE_HASH_LENGTH);
}

/** RFC 2759 §8.5 ChallengeResponse: the 8-octet challenge DES-encrypted under three 7-octet slices of the hash. */
export function challengeResponse(challenge: Uint8Array, passwordHash: Uint8Array): Buffer {
  checkLength('challenge', challenge, CHALLENGE_HASH_LENGTH);
  checkLength('password hash', passwordHash, NT_HASH_LENGTH);
  const zPasswordHash = Buffer.alloc(ZPASSWORD_HASH_LENGTH);
  zPasswordHash.set(passwordHash);
  const blocks = [0, 1, 2].map((i) =>
    desEncrypt(challenge, zPasswordHash.subarray(i * DES_KEY56_LENGTH, (i + 1) * DES_KEY56_LENGTH)),
  );
  return Buffer.concat(blocks);
}

/** The inputs of one MS-CHAPv2 exchange, as the authenticator sees them. */
export interface Mschapv2Exchange {
  /** RFC 2759 §8.3 NtPasswordHash: MD4 of the UTF-16LE password (`ntHash` in core/md4). */
  ntHash: Uint8Array;
  authenticatorChallenge: Uint8Array;
  peerChallenge: Uint8Array;
  /** The name the peer sent in the Response packet; a "DOMAIN\" prefix is dropped. */
  userName: string;
}

/** RFC 2759 §8.1 GenerateNTResponse, from the NT hash rather than the password. */
export function generateNtResponse(exchange: Mschapv2Exchange): Buffer {
  const challenge = challengeHash(exchange.peerChallenge, exchange.authenticatorChallenge, exchange.userName);
  return challengeResponse(challenge, exchange.ntHash);
}

/** RFC 2759 §8.4 HashNtPasswordHash: MD4 of the NT hash. */
export function hashNtPasswordHash(ntHash: Uint8Array): Buffer {
  checkLength('NT hash', ntHash, NT_HASH_LENGTH);
  return md4(ntHash);
}

/** RFC 2759 §8.7 GenerateAuthenticatorResponse: "S=" and 40 upper-case hex digits. */
export function generateAuthenticatorResponse(exchange: Mschapv2Exchange & { ntResponse: Uint8Array }): string {
  checkLength('NT-Response', exchange.ntResponse, MSCHAPV2_NT_RESPONSE_LENGTH);
  const passwordHashHash = hashNtPasswordHash(exchange.ntHash);
  const digest = sha1(passwordHashHash, exchange.ntResponse, AUTH_RESPONSE_MAGIC1);
  const challenge = challengeHash(exchange.peerChallenge, exchange.authenticatorChallenge, exchange.userName);
  const signature = sha1(digest, challenge, AUTH_RESPONSE_MAGIC2);
  return AUTH_RESPONSE_PREFIX + signature.toString('hex').toUpperCase();
}

export type Mschapv2Verification =
  | { ok: true; authenticatorResponse: string }
  | { ok: false; authenticatorResponse?: undefined };

/**
 * RFC 2759 §5: the authenticator recomputes the NT-Response from the stored NT hash and
 * compares it in constant time. Only on success is there an authenticator response (§8.7)
 * to send back; a failure gets `mschapv2ErrorMessage` instead. Inputs of the wrong size
 * (from a malformed packet) are a failure, not an exception.
 */
export function verifyMschapv2(input: Mschapv2Exchange & { ntResponse: Uint8Array }): Mschapv2Verification {
  if (
    input.ntHash.length !== NT_HASH_LENGTH ||
    input.authenticatorChallenge.length !== MSCHAPV2_CHALLENGE_LENGTH ||
    input.peerChallenge.length !== MSCHAPV2_CHALLENGE_LENGTH ||
    input.ntResponse.length !== MSCHAPV2_NT_RESPONSE_LENGTH
  ) {
    return { ok: false };
  }
  const expected = generateNtResponse(input);
  if (!timingSafeEqual(expected, input.ntResponse)) return { ok: false };
  return { ok: true, authenticatorResponse: generateAuthenticatorResponse(input) };
}

/** RFC 3079 §3.4 GetMasterKey: SHA-1(PasswordHashHash | NTResponse | Magic1), first 16 octets. */
export function mppeMasterKey(passwordHashHash: Uint8Array, ntResponse: Uint8Array): Buffer {
  checkLength('password hash hash', passwordHashHash, NT_HASH_LENGTH);
  checkLength('NT-Response', ntResponse, MSCHAPV2_NT_RESPONSE_LENGTH);
  return sha1(passwordHashHash, ntResponse, MPPE_MASTER_MAGIC).subarray(0, MPPE_MASTER_KEY_LENGTH);
}

/**
 * RFC 3079 §3.4 GetAsymmetricStartKey: SHA-1(MasterKey | SHSpad1 | Magic | SHSpad2),
 * truncated to `keyLength`. The magic is chosen by direction and side: the server's send
 * key is the client's receive key.
 */
export function mppeAsymmetricStartKey(
  masterKey: Uint8Array,
  keyLength: number,
  isSend: boolean,
  isServer: boolean,
): Buffer {
  checkLength('master key', masterKey, MPPE_MASTER_KEY_LENGTH);
  if (keyLength < 1 || keyLength > MPPE_KEY128_LENGTH) throw new RangeError(`MPPE key length must be 1..16, got ${keyLength}`);
  const clientSend = isSend !== isServer;
  const magic = clientSend ? MPPE_CLIENT_SEND_MAGIC : MPPE_CLIENT_RECEIVE_MAGIC;
  return sha1(masterKey, SHS_PAD1, magic, SHS_PAD2).subarray(0, keyLength);
}

/** The 128-bit MPPE keys of one successful MS-CHAPv2 exchange, from the server's side. */
export interface MppeKeys128 {
  masterKey: Buffer;
  /** Server to peer: MS-MPPE-Send-Key (RFC 2548 §2.4.2). */
  sendKey: Buffer;
  /** Peer to server: MS-MPPE-Recv-Key (RFC 2548 §2.4.3). */
  receiveKey: Buffer;
}

/**
 * RFC 3079 §3.5 (128-bit keys), authenticator side: the keys the RADIUS server returns in
 * MS-MPPE-Send-Key and MS-MPPE-Recv-Key after an MS-CHAPv2 success (RFC 2548 §2.4.2-2.4.3).
 */
export function mppeKeys128(ntHash: Uint8Array, ntResponse: Uint8Array): MppeKeys128 {
  const masterKey = mppeMasterKey(hashNtPasswordHash(ntHash), ntResponse);
  return {
    masterKey,
    sendKey: mppeAsymmetricStartKey(masterKey, MPPE_KEY128_LENGTH, true, true),
    receiveKey: mppeAsymmetricStartKey(masterKey, MPPE_KEY128_LENGTH, false, true),
  };
}

/** RFC 2548 §2.3.2 MS-CHAP2-Response: Ident, Flags, Peer-Challenge(16), Reserved(8), Response(24). */
export const MS_CHAP2_RESPONSE_LENGTH = 50;
const RESPONSE_PEER_CHALLENGE_OFFSET = 2;
const RESPONSE_NT_RESPONSE_OFFSET = 26;

export interface MsChap2Response {
  ident: number;
  flags: number;
  peerChallenge: Buffer;
  ntResponse: Buffer;
}

/** Splits an MS-CHAP2-Response value (RFC 2548 §2.3.2); undefined if it is not 50 octets. */
export function parseMsChap2Response(value: Uint8Array): MsChap2Response | undefined {
  if (value.length !== MS_CHAP2_RESPONSE_LENGTH) return undefined;
  const v = Buffer.from(value);
  return {
    ident: v[0]!,
    flags: v[1]!,
    peerChallenge: v.subarray(RESPONSE_PEER_CHALLENGE_OFFSET, RESPONSE_PEER_CHALLENGE_OFFSET + MSCHAPV2_CHALLENGE_LENGTH),
    ntResponse: v.subarray(RESPONSE_NT_RESPONSE_OFFSET, RESPONSE_NT_RESPONSE_OFFSET + MSCHAPV2_NT_RESPONSE_LENGTH),
  };
}

/** RFC 2548 §2.3.3 MS-CHAP2-Success: the Ident of the response, then the 42-octet "S=..." string. */
export function msChap2SuccessValue(ident: number, authenticatorResponse: string): Buffer {
  return Buffer.concat([Buffer.from([ident & 0xff]), Buffer.from(authenticatorResponse, 'ascii')]);
}

/** RFC 2759 §6: the failure codes a Failure packet's "E=" field may carry. */
export const MSCHAP_ERROR = {
  RESTRICTED_LOGON_HOURS: 646,
  ACCT_DISABLED: 647,
  PASSWD_EXPIRED: 648,
  NO_DIALIN_PERMISSION: 649,
  AUTHENTICATION_FAILURE: 691,
  CHANGING_PASSWORD: 709,
} as const;
export type MschapErrorCode = (typeof MSCHAP_ERROR)[keyof typeof MSCHAP_ERROR];

/** RFC 2759 §6: "V=3" for MS-CHAPv2 (password change version). */
const MSCHAPV2_ERROR_VERSION = 3;

export interface MschapErrorOptions {
  error?: MschapErrorCode;
  /** "R=1" if the peer may retry; authbox does not offer a retry, so false by default. */
  retry?: boolean;
  /** The new 16-octet authenticator challenge for a retry or password change ("C="). */
  challenge: Uint8Array;
  message?: string;
}

/**
 * RFC 2759 §6 Failure packet message: "E=eeeeeeeeee R=r C=cccc... V=vvvvvvvvvv M=<msg>".
 * C is the challenge as 32 upper-case hex digits.
 */
export function mschapv2ErrorMessage(options: MschapErrorOptions): string {
  checkLength('challenge', options.challenge, MSCHAPV2_CHALLENGE_LENGTH);
  const error = options.error ?? MSCHAP_ERROR.AUTHENTICATION_FAILURE;
  const retry = options.retry ? 1 : 0;
  const challenge = Buffer.from(options.challenge).toString('hex').toUpperCase();
  const message = options.message ?? 'Authentication failure';
  return `E=${error} R=${retry} C=${challenge} V=${MSCHAPV2_ERROR_VERSION} M=${message}`;
}

/** RFC 2548 §2.1.5 MS-CHAP-Error: the Ident of the response, then the RFC 2759 §6 message. */
export function msChapErrorValue(ident: number, message: string): Buffer {
  return Buffer.concat([Buffer.from([ident & 0xff]), Buffer.from(message, 'utf8')]);
}
