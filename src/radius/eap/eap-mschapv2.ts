// EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2-02), the Type-Data of EAP type 26: OpCode,
// MS-CHAPv2-ID, MS-Length (from OpCode to the end), then the op's data. Pure functions.
import { MSCHAPV2_CHALLENGE_LENGTH, MSCHAPV2_NT_RESPONSE_LENGTH } from '../mschap/mschapv2.js';

export const MsChapV2Op = { Challenge: 1, Response: 2, Success: 3, Failure: 4, ChangePassword: 7 } as const;

/** Peer-Challenge (16), Reserved (8), NT-Response (24), Flags (1). */
const RESPONSE_VALUE_SIZE = 49;

function packet(op: number, id: number, body: Buffer): Buffer {
  const out = Buffer.alloc(4 + body.length);
  out[0] = op;
  out[1] = id & 0xff;
  out.writeUInt16BE(out.length, 2);
  body.copy(out, 4);
  return out;
}

/** Challenge Request: Value-Size 16, the authenticator challenge, the server's name. */
export const mschapv2Challenge = (id: number, challenge: Buffer, serverName: string): Buffer =>
  packet(MsChapV2Op.Challenge, id, Buffer.concat([Buffer.of(MSCHAPV2_CHALLENGE_LENGTH), challenge, Buffer.from(serverName, 'utf8')]));

/** Success Request: the RFC 2759 §5 message "S=<auth response> M=<text>". */
export const mschapv2SuccessRequest = (id: number, authenticatorResponse: string, message = 'OK'): Buffer =>
  packet(MsChapV2Op.Success, id, Buffer.from(`${authenticatorResponse} M=${message}`, 'ascii'));

/** RFC 2759 §6: ERROR_AUTHENTICATION_FAILURE, the code Windows expects for any refusal. */
export const MSCHAP_ERROR_AUTHENTICATION_FAILURE = 691;

/**
 * Failure Request (draft-kamath §2.4): the RFC 2759 §6 message "E=691 R=0 C=<challenge>
 * V=3 M=<text>"; R=0 (no retry), so C, a fresh challenge in 32 hex digits, is never used.
 */
export const mschapv2FailureRequest = (id: number, challenge: Buffer, message = 'Authentication failed'): Buffer =>
  packet(MsChapV2Op.Failure, id, Buffer.from(
    `E=${MSCHAP_ERROR_AUTHENTICATION_FAILURE} R=0 C=${challenge.toString('hex').toUpperCase()} V=3 M=${message}`, 'ascii'));

export interface MsChapV2PeerResponse {
  id: number;
  peerChallenge: Buffer;
  ntResponse: Buffer;
  flags: number;
  name: string;
}

/** The peer's Response (OpCode 2); undefined if it is not one or is malformed. */
export function parseMschapv2Response(data: Buffer): MsChapV2PeerResponse | undefined {
  if (data.length < 5 + RESPONSE_VALUE_SIZE || data[0] !== MsChapV2Op.Response || data[4] !== RESPONSE_VALUE_SIZE) return undefined;
  const v = data.subarray(5, 5 + RESPONSE_VALUE_SIZE);
  return {
    id: data[1]!,
    peerChallenge: Buffer.from(v.subarray(0, MSCHAPV2_CHALLENGE_LENGTH)),
    ntResponse: Buffer.from(v.subarray(24, 24 + MSCHAPV2_NT_RESPONSE_LENGTH)),
    flags: v[48]!,
    name: data.subarray(5 + RESPONSE_VALUE_SIZE).toString('utf8'),
  };
}
