// A minimal DER writer for the few structures we encode by hand: where a schema
// library would allocate an object per element (a CRL of 100,000 entries) or has no
// schema at all (PBES2 parameters). X.690 §8 and §10.

export const Tag = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  SEQUENCE: 0x30,
  SET: 0x31,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
} as const;

export function lengthBytes(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  const bytes: number[] = [];
  for (let n = len; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** Tag-length-value with any number of already-encoded parts as the value. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  const body = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), lengthBytes(body.length), body]);
}

export const seq = (...parts: Uint8Array[]): Buffer => tlv(Tag.SEQUENCE, ...parts);
export const octets = (value: Uint8Array): Buffer => tlv(Tag.OCTET_STRING, value);
export const derNull = (): Buffer => Buffer.from([Tag.NULL, 0]);
/** Context-specific constructed tag [n]. */
export const explicit = (n: number, ...parts: Uint8Array[]): Buffer => tlv(0xa0 | n, ...parts);

/** An unsigned big-endian magnitude as a DER INTEGER (leading zeros trimmed, sign byte added). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const body = trimmed.length > 0 && trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(Tag.INTEGER, body.length ? body : Buffer.from([0]));
}

export function smallInteger(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a small non-negative integer: ${n}`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return unsignedInteger(Uint8Array.from(bytes.length ? bytes : [0]));
}

export function enumerated(n: number): Buffer {
  return tlv(Tag.ENUMERATED, smallInteger(n).subarray(2));
}

export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new Error(`bad OID ${dotted}`);
    return BigInt(a);
  });
  // X.660: the first arc is 0, 1 or 2, and under 0 and 1 the second is below 40; else
  // the first subidentifier would decode as a different OID.
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! >= 40n)) throw new Error(`bad OID ${dotted}`);
  const out: number[] = [];
  const push = (v: bigint): void => {
    const chunk: number[] = [Number(v & 0x7fn)];
    for (let r = v >> 7n; r > 0n; r >>= 7n) chunk.unshift(Number(r & 0x7fn) | 0x80);
    out.push(...chunk);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const arc of arcs.slice(2)) push(arc);
  return tlv(Tag.OID, Uint8Array.from(out));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, seconds, Zulu. */
export function x509Time(date: Date): Buffer {
  const y = date.getUTCFullYear();
  const rest =
    pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) + pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z';
  if (y >= 1950 && y < 2050) return tlv(Tag.UTC_TIME, Buffer.from(pad2(y % 100) + rest, 'ascii'));
  return generalizedTime(date);
}

export function generalizedTime(date: Date): Buffer {
  const text =
    String(date.getUTCFullYear()).padStart(4, '0') + pad2(date.getUTCMonth() + 1) + pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) + pad2(date.getUTCMinutes()) + pad2(date.getUTCSeconds()) + 'Z';
  return tlv(Tag.GENERALIZED_TIME, Buffer.from(text, 'ascii'));
}

/** BIT STRING with no unused bits, as signatures and keys are carried. */
export function bitString(bytes: Uint8Array): Buffer {
  return tlv(Tag.BIT_STRING, Buffer.from([0]), bytes);
}

/** One element read from DER: where its value starts and ends inside the buffer. */
export interface DerElement {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first value byte. */
  valueStart: number;
  /** Offset one past the last value byte. */
  end: number;
}

export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

/**
 * Reads the element at `offset`, bounded by `limit`. Strict DER: single-byte tags
 * only, definite minimal lengths, nothing past the limit.
 */
export function readElement(buf: Uint8Array, offset = 0, limit = buf.length): DerElement {
  if (offset + 2 > limit) throw new DerError('truncated element');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let pos = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported length encoding');
    if (pos + n > limit) throw new DerError('truncated length');
    if (buf[pos] === 0) throw new DerError('non-minimal length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[pos + i]!;
    if (len < 0x80) throw new DerError('non-minimal length');
    pos += n;
  }
  if (pos + len > limit) throw new DerError('element runs past its container');
  return { tag, start: offset, valueStart: pos, end: pos + len };
}

/** The children of a constructed element, in order. */
export function readChildren(buf: Uint8Array, parent: DerElement): DerElement[] {
  const out: DerElement[] = [];
  for (let pos = parent.valueStart; pos < parent.end; ) {
    const el = readElement(buf, pos, parent.end);
    out.push(el);
    pos = el.end;
  }
  return out;
}

/** Reads an element and checks its tag. */
export function expectElement(buf: Uint8Array, offset: number, limit: number, tag: number, what: string): DerElement {
  const el = readElement(buf, offset, limit);
  if (el.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${el.tag.toString(16)}`);
  return el;
}

/** Dotted form of an OBJECT IDENTIFIER's value bytes. */
export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) throw new DerError('empty OID');
  const arcs: bigint[] = [];
  let acc = 0n;
  for (let i = 0; i < value.length; i++) {
    const b = value[i]!;
    if (acc === 0n && b === 0x80) throw new DerError('non-minimal OID arc');
    acc = (acc << 7n) | BigInt(b & 0x7f);
    if (!(b & 0x80)) {
      arcs.push(acc);
      acc = 0n;
    } else if (i === value.length - 1) {
      throw new DerError('truncated OID');
    }
  }
  const first = arcs[0]!;
  const head = first < 80n ? [first / 40n, first % 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}
