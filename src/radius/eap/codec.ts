// EAP packets (RFC 3748 §4) and the EAP-TLS framing inside them (RFC 5216 §3.1): pure
// functions of bytes. A packet that does not parse is a closed set of named reasons.

/** RFC 3748 §4. */
export const EapCode = { Request: 1, Response: 2, Success: 3, Failure: 4 } as const;
export type EapCodeValue = (typeof EapCode)[keyof typeof EapCode];

/** RFC 3748 §5 and the IANA EAP method registry. */
export const EapType = {
  Identity: 1, // RFC 3748 §5.1
  Notification: 2, // RFC 3748 §5.2
  Nak: 3, // RFC 3748 §5.3.1
  Md5Challenge: 4, // RFC 3748 §5.4
  Tls: 13, // RFC 5216
  Ttls: 21, // RFC 5281
  Peap: 25,
  MsChapV2: 26,
} as const;

/** RFC 5216 §3.1: the Flags octet of an EAP-TLS packet. */
export const TlsFlag = { Length: 0x80, More: 0x40, Start: 0x20 } as const;

/** Code, Identifier, Length (RFC 3748 §4). */
export const EAP_HEADER_LENGTH = 4;
/** Flags and the four-octet TLS Message Length (RFC 5216 §3.1). */
export const EAP_TLS_HEADER_MAX = EAP_HEADER_LENGTH + 1 + 1 + 4;

export type EapDecodeReason = 'TOO_SHORT' | 'LENGTH_MISMATCH' | 'BAD_CODE' | 'NO_TYPE' | 'BAD_TLS_LENGTH';

export class EapDecodeError extends Error {
  constructor(readonly reason: EapDecodeReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'EapDecodeError';
  }
}

export interface EapPacket {
  code: EapCodeValue;
  identifier: number;
  /** Requests and Responses only (RFC 3748 §4.1). */
  type?: number;
  /** Type-Data: what follows the Type octet. */
  data: Buffer;
}

/** RFC 3748 §4: octets past Length are padding and ignored; fewer than Length is an error. */
export function decodeEap(bytes: Buffer): EapPacket {
  if (bytes.length < EAP_HEADER_LENGTH) throw new EapDecodeError('TOO_SHORT', `${bytes.length} octets`);
  const code = bytes[0]!;
  const identifier = bytes[1]!;
  const length = bytes.readUInt16BE(2);
  if (length < EAP_HEADER_LENGTH || length > bytes.length) {
    throw new EapDecodeError('LENGTH_MISMATCH', `Length ${length}, received ${bytes.length}`);
  }
  if (code < EapCode.Request || code > EapCode.Failure) throw new EapDecodeError('BAD_CODE', `code ${code}`);
  if (code === EapCode.Success || code === EapCode.Failure) {
    return { code: code as EapCodeValue, identifier, data: Buffer.alloc(0) };
  }
  if (length < EAP_HEADER_LENGTH + 1) throw new EapDecodeError('NO_TYPE', 'Request or Response without a Type');
  return { code: code as EapCodeValue, identifier, type: bytes[4]!, data: Buffer.from(bytes.subarray(5, length)) };
}

export function encodeEap(p: EapPacket): Buffer {
  const withType = p.code === EapCode.Request || p.code === EapCode.Response;
  const out = Buffer.alloc(EAP_HEADER_LENGTH + (withType ? 1 + p.data.length : 0));
  out[0] = p.code;
  out[1] = p.identifier & 0xff;
  out.writeUInt16BE(out.length, 2);
  if (withType) {
    out[4] = p.type ?? 0;
    p.data.copy(out, 5);
  }
  return out;
}

export interface EapTlsData {
  flags: number;
  /** The TLS Message Length, present when the L flag is set. */
  totalLength?: number;
  tls: Buffer;
}

/** RFC 5216 §3.1/§3.2: Flags, then the TLS Message Length if L is set, then TLS data. */
export function decodeEapTls(data: Buffer): EapTlsData {
  if (data.length === 0) return { flags: 0, tls: Buffer.alloc(0) };
  const flags = data[0]!;
  if (flags & TlsFlag.Length) {
    if (data.length < 5) throw new EapDecodeError('BAD_TLS_LENGTH', 'L flag without a four-octet length');
    return { flags, totalLength: data.readUInt32BE(1), tls: data.subarray(5) };
  }
  return { flags, tls: data.subarray(1) };
}

export function encodeEapTls(d: EapTlsData): Buffer {
  const head = d.totalLength === undefined ? Buffer.of(d.flags & ~TlsFlag.Length) : Buffer.alloc(5);
  if (d.totalLength !== undefined) {
    head[0] = d.flags | TlsFlag.Length;
    head.writeUInt32BE(d.totalLength, 1);
  }
  return Buffer.concat([head, d.tls]);
}
