// src/radius/codec: golden vectors from the RFCs, strict decoding, splitting, authenticators.
// Cross-checks are computed here with node:crypto directly, independently of the codec.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Attr, Code, MsAttr, RadiusDecodeError, VENDOR_MICROSOFT, decodePacket, encodePacket, hideUserPassword, joinAttribute,
  makeAttribute, readAttribute, unhideUserPassword, verifyRequestMessageAuthenticator, verifyResponseAuthenticator,
  type RadiusDecodeReason,
} from '../../src/radius/codec/index.js';

const h = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const md5 = (...p: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(p)).digest();

// RFC 2865 §7.1: User Telnet to Specified Host; shared secret "xyzzy5461", password "arctangent".
const RFC2865_SECRET = 'xyzzy5461';
const RFC2865_7_1_REQUEST = h(`01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb
  98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8
  01 10 05 06 00 00 00 03`);
const RFC2865_7_1_ACCEPT = h(`02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf
  9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 00 0e 06 c0 a8 01 03`);
// RFC 2865 §7.2: Framed User Authenticating with CHAP (the Request Authenticator is the challenge).
const RFC2865_7_2_REQUEST = h(`01 01 00 47 2a ee 86 f0 8d 0d 55 96 9c a5 97 8e
  0d 33 67 a2 01 08 66 6c 6f 70 73 79 03 13 16 e9 75 57 c3 16 18 58 95 f2 93 ff 63 44 07 72 75 04
  06 c0 a8 01 10 05 06 00 00 00 14 06 06 00 00 00 02 07 06 00 00 00 01`);

const reasonOf = (f: () => unknown): RadiusDecodeReason | 'no error' => {
  try {
    f();
    return 'no error';
  } catch (e) {
    if (e instanceof RadiusDecodeError) return e.reason;
    throw e;
  }
};

describe('RFC 2865 §7.1 (PAP): exact bytes', () => {
  const ra = RFC2865_7_1_REQUEST.subarray(4, 20);

  it('encodes the Access-Request byte for byte, User-Password hidden per §5.2', () => {
    const bytes = encodePacket({
      code: Code.AccessRequest, identifier: 0, authenticator: ra, secret: RFC2865_SECRET,
      messageAuthenticator: false, // 1997 example: no Message-Authenticator
      attributes: [
        makeAttribute('User-Name', 'nemo'),
        { type: Attr.UserPassword, value: hideUserPassword('arctangent', RFC2865_SECRET, ra) },
        makeAttribute('NAS-IP-Address', '192.168.1.16'),
        makeAttribute('NAS-Port', 3),
      ],
    });
    expect(bytes.toString('hex')).toBe(RFC2865_7_1_REQUEST.toString('hex'));
  });

  it('decodes it and unhides "arctangent"', () => {
    const p = decodePacket(RFC2865_7_1_REQUEST);
    expect(p.code).toBe(Code.AccessRequest);
    expect(p.identifier).toBe(0);
    expect(p.attributes.map(readAttribute)).toEqual([
      { name: 'User-Name', value: 'nemo' },
      { name: 'User-Password', value: h('0dbe708d93d413ce3196e43f782a0aee') },
      { name: 'NAS-IP-Address', value: '192.168.1.16' },
      { name: 'NAS-Port', value: 3 },
    ]);
    const pw = joinAttribute(p.attributes, Attr.UserPassword)!;
    expect(unhideUserPassword(pw, RFC2865_SECRET, p.authenticator).toString()).toBe('arctangent');
    expect(verifyRequestMessageAuthenticator(RFC2865_7_1_REQUEST, RFC2865_SECRET)).toBe('missing');
  });

  it('an independent §5.2 computation agrees: c1 = p1 xor MD5(S + RA)', () => {
    const p1 = Buffer.alloc(16);
    Buffer.from('arctangent').copy(p1);
    const b1 = md5(Buffer.from(RFC2865_SECRET), ra);
    const c1 = Buffer.from(p1.map((x, i) => x ^ b1[i]!));
    expect(hideUserPassword('arctangent', RFC2865_SECRET, ra)).toEqual(c1);
  });

  it('encodes the Access-Accept with the RFC\'s Response Authenticator', () => {
    const bytes = encodePacket({
      code: Code.AccessAccept, identifier: 0, requestAuthenticator: ra, secret: RFC2865_SECRET,
      messageAuthenticator: false,
      attributes: [makeAttribute('Service-Type', 'Login-User'), makeAttribute('Login-Service', 0), makeAttribute('Login-IP-Host', '192.168.1.3')],
    });
    expect(bytes.toString('hex')).toBe(RFC2865_7_1_ACCEPT.toString('hex'));
    expect(verifyResponseAuthenticator(RFC2865_7_1_ACCEPT, ra, RFC2865_SECRET)).toBe(true);
    expect(verifyResponseAuthenticator(RFC2865_7_1_ACCEPT, ra, 'xyzzy5462')).toBe(false);
    const tampered = Buffer.from(RFC2865_7_1_ACCEPT);
    tampered[tampered.length - 1] = 4;
    expect(verifyResponseAuthenticator(tampered, ra, RFC2865_SECRET)).toBe(false);
  });
});

describe('RFC 2865 §7.2 (CHAP): exact bytes', () => {
  it('decodes and re-encodes byte for byte; CHAP-Password is ident 0x16 + 16 octets', () => {
    const p = decodePacket(RFC2865_7_2_REQUEST);
    expect(p.identifier).toBe(1);
    expect(p.attributes.map(readAttribute)).toEqual([
      { name: 'User-Name', value: 'flopsy' },
      { name: 'CHAP-Password', value: h('16 e97557c316185895f293ff6344077275') },
      { name: 'NAS-IP-Address', value: '192.168.1.16' },
      { name: 'NAS-Port', value: 20 },
      { name: 'Service-Type', value: 'Framed-User' },
      { name: 'Framed-Protocol', value: 'PPP' },
    ]);
    const again = encodePacket({
      code: p.code, identifier: p.identifier, authenticator: p.authenticator, attributes: p.attributes,
      secret: RFC2865_SECRET, messageAuthenticator: false,
    });
    expect(again).toEqual(RFC2865_7_2_REQUEST);
  });
});

describe('decodePacket: RFC 2865 §3 and §5 validation', () => {
  const base = RFC2865_7_1_REQUEST;
  it('octets past Length are padding and ignored', () => {
    const padded = Buffer.concat([base, Buffer.from('deadbeef', 'hex')]);
    expect(decodePacket(padded)).toEqual(decodePacket(base));
    expect(verifyRequestMessageAuthenticator(padded, RFC2865_SECRET)).toBe('missing');
  });
  it('named reasons for each kind of damage', () => {
    expect(reasonOf(() => decodePacket(base.subarray(0, 19)))).toBe('TOO_SHORT');
    expect(reasonOf(() => decodePacket(base.subarray(0, 55)))).toBe('LENGTH_MISMATCH');
    expect(reasonOf(() => decodePacket(Buffer.alloc(4097, 1)))).toBe('TOO_LONG');
    const withLength = (n: number): Buffer => { const b = Buffer.from(base); b.writeUInt16BE(n, 2); return b; };
    expect(reasonOf(() => decodePacket(withLength(19)))).toBe('TOO_SHORT');
    expect(reasonOf(() => decodePacket(withLength(4097)))).toBe('TOO_LONG');
    expect(reasonOf(() => decodePacket(withLength(21)))).toBe('BAD_ATTRIBUTE_LENGTH'); // a lone type octet
    const code = Buffer.from(base); code[0] = 99;
    expect(reasonOf(() => decodePacket(code))).toBe('UNKNOWN_CODE');
    const zeroLen = Buffer.from(base); zeroLen[21] = 1;
    expect(reasonOf(() => decodePacket(zeroLen))).toBe('BAD_ATTRIBUTE_LENGTH');
    const overrun = Buffer.from(base); overrun[51] = 6 + 1; // NAS-Port runs past Length
    expect(reasonOf(() => decodePacket(overrun))).toBe('BAD_ATTRIBUTE_LENGTH');
    const shortInt = encodeRaw([[Attr.NasPort, h('000003')]]);
    expect(reasonOf(() => decodePacket(shortInt))).toBe('BAD_VALUE_LENGTH');
    const shortMa = encodeRaw([[Attr.MessageAuthenticator, Buffer.alloc(15)]]);
    expect(reasonOf(() => decodePacket(shortMa))).toBe('BAD_VALUE_LENGTH');
  });
  it('Vendor-Specific structure (RFC 2865 §5.26)', () => {
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137')]])))).toBe('BAD_VSA');
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('01000137 0b03 41')]])))).toBe('BAD_VSA');
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137 0b04 41')]])))).toBe('BAD_VSA');
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137 0b01')]])))).toBe('BAD_VSA');
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137 0b03 41 0b')]])))).toBe('BAD_VSA');
    // Two sub-attributes in one VSA, both read.
    const p = decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137 0b03 41 0706 00000002')]]));
    expect(p.attributes).toEqual([
      { type: MsAttr.ChapChallenge, vendor: VENDOR_MICROSOFT, value: h('41') },
      { type: MsAttr.MppeEncryptionPolicy, vendor: VENDOR_MICROSOFT, value: h('00000002') },
    ]);
    expect(readAttribute(p.attributes[1]!)).toEqual({ name: 'MS-MPPE-Encryption-Policy', value: 'Encryption-Required' });
    expect(reasonOf(() => decodePacket(encodeRaw([[Attr.VendorSpecific, h('00000137 0704 0000')]])))).toBe('BAD_VALUE_LENGTH');
  });
});

/** An Access-Request with raw attributes, no authenticator maths. */
function encodeRaw(attrs: [number, Buffer][]): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => Buffer.concat([Buffer.of(t, v.length + 2), v])));
  const head = Buffer.alloc(20);
  head[0] = Code.AccessRequest;
  head.writeUInt16BE(20 + body.length, 2);
  return Buffer.concat([head, body]);
}
