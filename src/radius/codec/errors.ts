// The codec's failures, each a closed set of named reasons (FreeRADIUS style): a transport
// turns a decode failure into silence, never into a reply (RFC 2865 §3 "silently discarded").

export type RadiusDecodeReason =
  | 'TOO_SHORT' // datagram under 20 octets, or its Length field under 20 (RFC 2865 §3)
  | 'TOO_LONG' // datagram or Length field over 4096 octets (RFC 2865 §3)
  | 'LENGTH_MISMATCH' // fewer octets received than the Length field says (RFC 2865 §3)
  | 'UNKNOWN_CODE' // a Code this codec does not know (RFC 2865 §3)
  | 'BAD_ATTRIBUTE_LENGTH' // attribute Length under 2 or past the end of the packet (RFC 2865 §5)
  | 'BAD_VALUE_LENGTH' // a fixed-size value (integer, address, date, Message-Authenticator) of the wrong size
  | 'BAD_VSA' // Vendor-Specific too short, or its sub-attributes do not tile it (RFC 2865 §5.26)
  | 'BAD_HIDDEN_VALUE'; // a hidden value (User-Password, Tunnel-Password, MS-MPPE key) that cannot be unhidden

export class RadiusDecodeError extends Error {
  override readonly name = 'RadiusDecodeError';
  constructor(readonly reason: RadiusDecodeReason, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}

export type RadiusEncodeReason =
  | 'VALUE_TOO_LONG' // a value that may not be split is over its attribute's room
  | 'PACKET_TOO_LONG' // the packet would exceed 4096 octets (RFC 2865 §3)
  | 'BAD_AUTHENTICATOR' // authenticator missing, or not 16 octets
  | 'BAD_VALUE' // a value that does not fit its type (tag out of range, integer out of range, ...)
  | 'UNKNOWN_ATTRIBUTE'; // a name the dictionary does not know

export class RadiusEncodeError extends Error {
  override readonly name = 'RadiusEncodeError';
  constructor(readonly reason: RadiusEncodeReason, detail?: string) {
    super(detail ? `${reason}: ${detail}` : reason);
  }
}
