// IPv4 and IPv6 addresses and networks as bytes, for matching a datagram's source address
// against the networks RADIUS clients are registered for (longest prefix wins).
import { isIPv4, isIPv6 } from 'node:net';

export interface Network {
  family: 4 | 6;
  /** The network address: host bits are zero. */
  bytes: Buffer;
  prefix: number;
}

function ipv4Bytes(text: string): Buffer | undefined {
  if (!isIPv4(text)) return undefined;
  return Buffer.from(text.split('.').map(Number));
}

function ipv6Bytes(text: string): Buffer | undefined {
  if (!isIPv6(text)) return undefined;
  let s = text.replace(/%.*$/, '');
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = ipv4Bytes(v4[1]!);
    if (!b) return undefined;
    s = s.slice(0, -v4[1]!.length) + `${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
  const groups = (p: string): string[] => (p === '' ? [] : p.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  const all = [...left, ...Array<string>(fill).fill('0'), ...right];
  if (all.length !== 8) return undefined;
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** An address as bytes, IPv4-mapped IPv6 (::ffff:a.b.c.d, as a dual-stack socket reports) folded to IPv4. */
export function addressBytes(text: string): { family: 4 | 6; bytes: Buffer } | undefined {
  const v4 = ipv4Bytes(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = ipv6Bytes(text);
  if (!v6) return undefined;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: Buffer.from(v6.subarray(12)) } : { family: 6, bytes: v6 };
}

/**
 * "192.0.2.0/24", "2001:db8::/32", or a bare address (a /32 or /128). Undefined when it is
 * not one, or when bits are set past the prefix (192.0.2.1/24 is almost always a typo).
 */
export function parseCidr(text: string): Network | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const addr = ipv4Bytes(m[1]!) ? { family: 4 as const, bytes: ipv4Bytes(m[1]!)! } : (() => {
    const b = ipv6Bytes(m[1]!);
    return b && { family: 6 as const, bytes: b };
  })();
  if (!addr) return undefined;
  const max = addr.family === 4 ? 32 : 128;
  const prefix = m[2] === undefined ? max : Number(m[2]);
  if (prefix > max) return undefined;
  const masked = mask(addr.bytes, prefix);
  if (!masked.equals(addr.bytes)) return undefined;
  return { family: addr.family, bytes: masked, prefix };
}

function mask(bytes: Buffer, prefix: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = out[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

export function contains(net: Network, addr: { family: 4 | 6; bytes: Buffer }): boolean {
  if (net.family !== addr.family) return false;
  return mask(addr.bytes, net.prefix).equals(net.bytes);
}

/** The canonical text of a network: 192.0.2.0/24, 2001:db8::/32 (RFC 5952 zero compression). */
export function formatCidr(net: Network): string {
  return `${formatAddress(net)}/${net.prefix}`;
}

export function formatAddress(a: { family: 4 | 6; bytes: Buffer }): string {
  if (a.family === 4) return [...a.bytes].join('.');
  const groups = Array.from({ length: 8 }, (_, i) => a.bytes.readUInt16BE(i * 2));
  // RFC 5952 §4.2: the longest run of two or more zero groups becomes "::", the first on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
