// Diameter AVPs as EAP-TTLS carries them inside the tunnel (RFC 5281 §10): Code (4),
// Flags (V 0x80, M 0x40), Length (3, header and data, not padding), Vendor-ID (4) if V,
// Data, then padding to a multiple of four octets. Pure functions of bytes.

export const AvpFlag = { Vendor: 0x80, Mandatory: 0x40 } as const;

export interface Avp {
  code: number;
  vendor?: number;
  mandatory: boolean;
  data: Buffer;
}

export class AvpDecodeError extends Error {
  constructor(detail: string) {
    super(`bad Diameter AVP: ${detail}`);
    this.name = 'AvpDecodeError';
  }
}

export function decodeAvps(bytes: Buffer): Avp[] {
  const out: Avp[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 8) throw new AvpDecodeError(`${bytes.length - at} octets left, less than a header`);
    const code = bytes.readUInt32BE(at);
    const flags = bytes[at + 4]!;
    const length = bytes.readUIntBE(at + 5, 3);
    const header = flags & AvpFlag.Vendor ? 12 : 8;
    if (length < header || at + length > bytes.length) throw new AvpDecodeError(`AVP ${code} length ${length}`);
    const vendor = flags & AvpFlag.Vendor ? bytes.readUInt32BE(at + 8) : undefined;
    out.push({
      code, mandatory: (flags & AvpFlag.Mandatory) !== 0, data: Buffer.from(bytes.subarray(at + header, at + length)),
      ...(vendor !== undefined ? { vendor } : {}),
    });
    at += (length + 3) & ~3;
  }
  return out;
}

export function encodeAvp(avp: Avp): Buffer {
  const header = avp.vendor !== undefined ? 12 : 8;
  const length = header + avp.data.length;
  const out = Buffer.alloc((length + 3) & ~3);
  out.writeUInt32BE(avp.code, 0);
  out[4] = (avp.vendor !== undefined ? AvpFlag.Vendor : 0) | (avp.mandatory ? AvpFlag.Mandatory : 0);
  out.writeUIntBE(length, 5, 3);
  if (avp.vendor !== undefined) out.writeUInt32BE(avp.vendor, 8);
  avp.data.copy(out, header);
  return out;
}

export const findAvp = (avps: readonly Avp[], code: number, vendor?: number): Avp | undefined =>
  avps.find((a) => a.code === code && a.vendor === vendor);
