// RADIUS packets to and from bytes (RFC 2865 §3, §5), with the authenticators each code
// needs and Message-Authenticator first in every packet that carries one (BlastRADIUS,
// CVE-2024-3596). Pure: the secret, authenticators and attributes are all given.
import {
  ATTRIBUTE_HEADER_LENGTH, AUTHENTICATOR_LENGTH, Attr, HEADER_LENGTH, MAX_ATTRIBUTE_VALUE_LENGTH, MAX_PACKET_LENGTH,
  MAX_TAG, MAX_VSA_VALUE_LENGTH, MESSAGE_AUTHENTICATOR_LENGTH, MIN_PACKET_LENGTH, VENDOR_ID_LENGTH, VSA_HEADER_LENGTH,
  Code, isKnownCode, isRandomAuthenticatorCode, isReplyCode, isSignedRequestCode, type RadiusCode,
} from './constants.js';
import { attributeByType, requiredValueSize, type AttributeDefinition } from './dictionary.js';
import { RadiusDecodeError, RadiusEncodeError } from './errors.js';
import { hmacMd5, md5Authenticator, type Secret } from './authenticator.js';

/**
 * One attribute. A vendor's sub-attribute has `vendor` set and `type` is the Vendor-Type
 * (RFC 2865 §5.26). `tag` is the RFC 2868 §3 tag octet, present when the wire carried one.
 * For a tagged integer (Tunnel-Type, Tunnel-Medium-Type, Tunnel-Preference) `value` is the
 * four octets with the tag octet zeroed, so that readUInt32BE gives the 24-bit value.
 */
export interface RadiusAttribute {
  type: number;
  vendor?: number;
  value: Buffer;
  tag?: number;
}

export interface RadiusPacket {
  code: RadiusCode;
  identifier: number;
  authenticator: Buffer;
  attributes: RadiusAttribute[];
}

// ---------------------------------------------------------------- decoding

function decodeTagged(def: AttributeDefinition, raw: Buffer, attr: RadiusAttribute): void {
  if (def.valueType === 'integer') {
    // RFC 2868 §3.1: the tag octet always takes the first of the four value octets.
    if (raw.length !== 4) throw new RadiusDecodeError('BAD_VALUE_LENGTH', `${def.name} is ${raw.length} octets`);
    attr.tag = raw[0]!;
    attr.value = Buffer.concat([Buffer.alloc(1), raw.subarray(1)]);
  } else if (def.type === Attr.TunnelPassword) {
    // RFC 2868 §3.5: the tag octet is always present, then Salt and String.
    if (raw.length < 1) throw new RadiusDecodeError('BAD_VALUE_LENGTH', 'Tunnel-Password without a tag');
    attr.tag = raw[0]!;
    attr.value = Buffer.from(raw.subarray(1));
  } else if (raw.length > 0 && raw[0]! <= MAX_TAG) {
    // RFC 2868 §3.3: a first octet of 0x00-0x1F is a tag; anything above is text.
    attr.tag = raw[0]!;
    attr.value = Buffer.from(raw.subarray(1));
  }
}

function decodeValue(type: number, vendor: number | undefined, raw: Buffer): RadiusAttribute {
  const attr: RadiusAttribute = { type, value: Buffer.from(raw) };
  if (vendor !== undefined) attr.vendor = vendor;
  const def = attributeByType(type, vendor);
  if (!def) return attr;
  if (def.tagged) {
    decodeTagged(def, raw, attr);
    return attr;
  }
  const size = requiredValueSize(def);
  if (size !== undefined && raw.length !== size) {
    throw new RadiusDecodeError('BAD_VALUE_LENGTH', `${def.name} is ${raw.length} octets, not ${size}`);
  }
  return attr;
}

/** RFC 2865 §5.26: Vendor-Id, then sub-attributes in the recommended format that exactly tile the rest. */
function decodeVendorSpecific(raw: Buffer, out: RadiusAttribute[]): void {
  if (raw.length < VENDOR_ID_LENGTH + VSA_HEADER_LENGTH) throw new RadiusDecodeError('BAD_VSA', 'too short');
  if (raw[0] !== 0) throw new RadiusDecodeError('BAD_VSA', 'Vendor-Id high octet is not zero');
  const vendor = raw.readUInt32BE(0);
  let at = VENDOR_ID_LENGTH;
  while (at < raw.length) {
    if (raw.length - at < VSA_HEADER_LENGTH) throw new RadiusDecodeError('BAD_VSA', 'truncated sub-attribute');
    const vtype = raw[at]!;
    const vlen = raw[at + 1]!;
    if (vlen < VSA_HEADER_LENGTH || at + vlen > raw.length) {
      throw new RadiusDecodeError('BAD_VSA', `sub-attribute ${vtype} length ${vlen}`);
    }
    out.push(decodeValue(vtype, vendor, raw.subarray(at + VSA_HEADER_LENGTH, at + vlen)));
    at += vlen;
  }
}

/**
 * Decodes one datagram. RFC 2865 §3: octets past the Length field are padding and are
 * ignored; fewer octets than Length, a Length outside 20..4096, or an attribute that
 * overruns the packet means the packet is silently discarded (a RadiusDecodeError here).
 */
export function decodePacket(bytes: Uint8Array): RadiusPacket {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MIN_PACKET_LENGTH) throw new RadiusDecodeError('TOO_SHORT', `${buf.length} octets`);
  if (buf.length > MAX_PACKET_LENGTH) throw new RadiusDecodeError('TOO_LONG', `${buf.length} octets`);
  const code = buf[0]!;
  const identifier = buf[1]!;
  const length = buf.readUInt16BE(2);
  if (length < MIN_PACKET_LENGTH) throw new RadiusDecodeError('TOO_SHORT', `Length field ${length}`);
  if (length > MAX_PACKET_LENGTH) throw new RadiusDecodeError('TOO_LONG', `Length field ${length}`);
  if (length > buf.length) throw new RadiusDecodeError('LENGTH_MISMATCH', `Length ${length}, received ${buf.length}`);
  if (!isKnownCode(code)) throw new RadiusDecodeError('UNKNOWN_CODE', `code ${code}`);
  // A view, not a copy: nothing writes into a received packet (verify.ts works on its own copy).
  const authenticator = buf.subarray(4, HEADER_LENGTH);
  const attributes: RadiusAttribute[] = [];
  let at = HEADER_LENGTH;
  while (at < length) {
    if (length - at < ATTRIBUTE_HEADER_LENGTH) throw new RadiusDecodeError('BAD_ATTRIBUTE_LENGTH', 'truncated attribute header');
    const type = buf[at]!;
    const alen = buf[at + 1]!;
    if (alen < ATTRIBUTE_HEADER_LENGTH || at + alen > length) {
      throw new RadiusDecodeError('BAD_ATTRIBUTE_LENGTH', `attribute ${type} length ${alen} at offset ${at}`);
    }
    const raw = buf.subarray(at + ATTRIBUTE_HEADER_LENGTH, at + alen);
    if (type === Attr.VendorSpecific) decodeVendorSpecific(raw, attributes);
    else attributes.push(decodeValue(type, undefined, raw));
    at += alen;
  }
  return { code, identifier, authenticator, attributes };
}

/**
 * The value of an attribute that was split over several (EAP-Message, RFC 3579 §3.1; any
 * long string or octets value), concatenated in packet order; undefined if absent.
 */
export function joinAttribute(attrs: readonly RadiusAttribute[], type: number, vendor?: number): Buffer | undefined {
  // Called several times per request: one pass, and no copy when the value is in one attribute.
  let first: Buffer | undefined;
  let parts: Buffer[] | undefined;
  for (const a of attrs) {
    if (a.type !== type || a.vendor !== vendor) continue;
    if (first === undefined) first = a.value;
    else (parts ??= [first]).push(a.value);
  }
  return parts ? Buffer.concat(parts) : first;
}

// ---------------------------------------------------------------- encoding

/** Types whose long values may be carried over consecutive attributes (RFC 3579 §3.1, RFC 2865 §5.18). */
const isSplittable = (def: AttributeDefinition | undefined): boolean =>
  !def || def.valueType === 'string' || def.valueType === 'text' || def.valueType === 'octets';

const chunks = (value: Buffer, max: number): Buffer[] => {
  if (value.length === 0) return [value];
  const out: Buffer[] = [];
  for (let i = 0; i < value.length; i += max) out.push(value.subarray(i, i + max));
  return out;
};

/** The wire value of a tagged attribute (RFC 2868 §3), tag octet included where one is written. */
function taggedValue(def: AttributeDefinition, attr: RadiusAttribute): Buffer {
  const tag = attr.tag ?? 0;
  if (!Number.isInteger(tag) || tag < 0 || tag > MAX_TAG) throw new RadiusEncodeError('BAD_VALUE', `tag ${tag} on ${def.name}`);
  if (def.valueType === 'integer') {
    if (attr.value.length !== 4 || attr.value[0] !== 0) {
      throw new RadiusEncodeError('BAD_VALUE', `${def.name} must be four octets with a 24-bit value`);
    }
    return Buffer.concat([Buffer.of(tag), attr.value.subarray(1)]);
  }
  // A string whose first octet looks like a tag gets an explicit 0x00 tag so it reads back whole.
  const needsTag = attr.tag !== undefined || def.type === Attr.TunnelPassword || (attr.value.length > 0 && attr.value[0]! <= MAX_TAG);
  return needsTag ? Buffer.concat([Buffer.of(tag), attr.value]) : attr.value;
}

function encodeAttribute(attr: RadiusAttribute): Buffer[] {
  if (!Number.isInteger(attr.type) || attr.type < 1 || attr.type > 255) throw new RadiusEncodeError('BAD_VALUE', `type ${attr.type}`);
  const def = attributeByType(attr.type, attr.vendor);
  let value = attr.value;
  if (def?.tagged) value = taggedValue(def, attr);
  else if (attr.tag !== undefined) throw new RadiusEncodeError('BAD_VALUE', `attribute ${attr.type} takes no tag`);
  const size = def && !def.tagged ? requiredValueSize(def) : undefined;
  if (size !== undefined && value.length !== size) {
    throw new RadiusEncodeError('BAD_VALUE', `${def!.name} must be ${size} octets, not ${value.length}`);
  }
  if (attr.vendor === undefined) {
    if (value.length > MAX_ATTRIBUTE_VALUE_LENGTH && (def?.tagged || !isSplittable(def) || attr.type === Attr.VendorSpecific)) {
      throw new RadiusEncodeError('VALUE_TOO_LONG', `attribute ${attr.type}: ${value.length} octets`);
    }
    return chunks(value, MAX_ATTRIBUTE_VALUE_LENGTH).map((c) =>
      Buffer.concat([Buffer.of(attr.type, ATTRIBUTE_HEADER_LENGTH + c.length), c]));
  }
  if (!Number.isInteger(attr.vendor) || attr.vendor < 0 || attr.vendor > 0xffffff) {
    throw new RadiusEncodeError('BAD_VALUE', `vendor ${attr.vendor}`);
  }
  if (value.length > MAX_VSA_VALUE_LENGTH && (def?.tagged || !isSplittable(def))) {
    throw new RadiusEncodeError('VALUE_TOO_LONG', `vendor ${attr.vendor} attribute ${attr.type}: ${value.length} octets`);
  }
  // One sub-attribute per Vendor-Specific, as FreeRADIUS writes them (RFC 2865 §5.26).
  return chunks(value, MAX_VSA_VALUE_LENGTH).map((c) => {
    const out = Buffer.alloc(ATTRIBUTE_HEADER_LENGTH + VENDOR_ID_LENGTH + VSA_HEADER_LENGTH + c.length);
    out[0] = Attr.VendorSpecific;
    out[1] = out.length;
    out.writeUInt32BE(attr.vendor!, 2);
    out[6] = attr.type;
    out[7] = VSA_HEADER_LENGTH + c.length;
    c.copy(out, 8);
    return out;
  });
}

export interface EncodeOptions {
  code: RadiusCode;
  identifier: number;
  /** Access-Request and Status-Server: the random Request Authenticator the caller chose (RFC 2865 §3). */
  authenticator?: Buffer;
  /** Replies: the Request Authenticator of the request being answered (RFC 2865 §3, RFC 2866 §4.2, RFC 5176 §2.3). */
  requestAuthenticator?: Buffer;
  /** Any Message-Authenticator here is ignored: the encoder writes its own, first. */
  attributes: readonly RadiusAttribute[];
  secret: Secret;
  /**
   * Whether to add a Message-Authenticator. Defaults to yes for Access-Request, Access-Accept,
   * Access-Reject, Access-Challenge and Status-Server (BlastRADIUS; RFC 3579 §3.2, RFC 5997 §3),
   * and for any packet whose attributes list one; otherwise no.
   */
  messageAuthenticator?: boolean;
}

const MA_BY_DEFAULT: ReadonlySet<number> = new Set([
  Code.AccessRequest, Code.AccessAccept, Code.AccessReject, Code.AccessChallenge, Code.StatusServer,
]);

const need16 = (b: Buffer | undefined, what: string): Buffer => {
  if (!b || b.length !== AUTHENTICATOR_LENGTH) throw new RadiusEncodeError('BAD_AUTHENTICATOR', `${what} must be 16 octets`);
  return b;
};

/** Encodes a packet with its authenticators computed. */
export function encodePacket(opts: EncodeOptions): Buffer {
  const { code, identifier } = opts;
  if (!isKnownCode(code)) throw new RadiusEncodeError('BAD_VALUE', `code ${code}`);
  if (!Number.isInteger(identifier) || identifier < 0 || identifier > 255) throw new RadiusEncodeError('BAD_VALUE', `identifier ${identifier}`);
  const isMa = (a: RadiusAttribute): boolean => a.vendor === undefined && a.type === Attr.MessageAuthenticator;
  const withMa = opts.messageAuthenticator ?? (MA_BY_DEFAULT.has(code) || opts.attributes.some(isMa));

  // What the Authenticator field holds while the Message-Authenticator is computed (RFC 3579 §3.2, RFC 5176 §3.3).
  let headerAuth: Buffer;
  if (isRandomAuthenticatorCode(code)) headerAuth = need16(opts.authenticator, 'authenticator');
  else if (isReplyCode(code)) headerAuth = need16(opts.requestAuthenticator, 'requestAuthenticator');
  else headerAuth = Buffer.alloc(AUTHENTICATOR_LENGTH);

  const parts: Buffer[] = [];
  let length = HEADER_LENGTH + (withMa ? ATTRIBUTE_HEADER_LENGTH + MESSAGE_AUTHENTICATOR_LENGTH : 0);
  for (const a of opts.attributes) {
    if (isMa(a)) continue;
    for (const p of encodeAttribute(a)) {
      parts.push(p);
      length += p.length;
    }
  }
  if (length > MAX_PACKET_LENGTH) throw new RadiusEncodeError('PACKET_TOO_LONG', `${length} octets`);
  // One allocation (from Node's pool for short packets) written in place; every octet is set below.
  const packet = Buffer.allocUnsafe(length);
  let at = HEADER_LENGTH;
  if (withMa) {
    packet[at] = Attr.MessageAuthenticator;
    packet[at + 1] = ATTRIBUTE_HEADER_LENGTH + MESSAGE_AUTHENTICATOR_LENGTH;
    packet.fill(0, at + ATTRIBUTE_HEADER_LENGTH, at + ATTRIBUTE_HEADER_LENGTH + MESSAGE_AUTHENTICATOR_LENGTH);
    at += ATTRIBUTE_HEADER_LENGTH + MESSAGE_AUTHENTICATOR_LENGTH;
  }
  for (const p of parts) at += p.copy(packet, at);

  packet[0] = code;
  packet[1] = identifier;
  packet.writeUInt16BE(packet.length, 2);
  headerAuth.copy(packet, 4);
  if (withMa) hmacMd5(packet, opts.secret).copy(packet, HEADER_LENGTH + ATTRIBUTE_HEADER_LENGTH);
  // RFC 2865 §3 (replies), RFC 2866 §3 and RFC 5176 §2.3 (signed requests): MD5 over the packet as it now stands.
  if (isReplyCode(code) || isSignedRequestCode(code)) md5Authenticator(packet, opts.secret).copy(packet, 4);
  return packet;
}
