// src/radius/codec encodePacket: Message-Authenticator first and correct (RFC 3579 §3.2,
// BlastRADIUS), authenticators per code (RFC 2865 §3, RFC 2866 §3, RFC 5176 §2.3), long
// values split (RFC 3579 §3.1), tags (RFC 2868 §3) and Microsoft VSAs (RFC 2548).
// Every check recomputes the expected digest here with node:crypto.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  Attr, Code, MsAttr, RadiusEncodeError, VENDOR_MICROSOFT, decodePacket, encodePacket, joinAttribute, makeAttribute,
  readAttribute, verifyAccountingRequest, verifyRequestMessageAuthenticator, verifyResponseAuthenticator,
  verifyResponseMessageAuthenticator, type RadiusAttribute,
} from '../../src/radius/codec/index.js';

const SECRET = 'testing123';
const RA = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const md5 = (...p: Buffer[]): Buffer => createHash('md5').update(Buffer.concat(p)).digest();
const hmac = (key: string, data: Buffer): Buffer => createHmac('md5', key).update(data).digest();

/** RFC 3579 §3.2 by hand: HMAC-MD5 over the packet with the MA value zeroed and `auth` in the Authenticator field. */
function expectedMa(packet: Buffer, maAt: number, auth: Buffer): Buffer {
  const copy = Buffer.from(packet);
  copy.fill(0, maAt + 2, maAt + 18);
  auth.copy(copy, 4);
  return hmac(SECRET, copy);
}

describe('Access-Request with Message-Authenticator', () => {
  const bytes = encodePacket({
    code: Code.AccessRequest, identifier: 7, authenticator: RA, secret: SECRET,
    attributes: [makeAttribute('User-Name', 'alice'), makeAttribute('NAS-Port-Type', 'Wireless-802.11')],
  });
  it('puts the Message-Authenticator first and computes it per RFC 3579 §3.2', () => {
    expect(bytes[20]).toBe(Attr.MessageAuthenticator);
    expect(bytes[21]).toBe(18);
    expect(bytes.subarray(22, 38)).toEqual(expectedMa(bytes, 20, RA));
    expect(bytes.subarray(4, 20)).toEqual(RA);
    expect(verifyRequestMessageAuthenticator(bytes, SECRET)).toBe('valid');
  });
  it('says invalid for a wrong secret, a flipped bit anywhere, or two MAs', () => {
    expect(verifyRequestMessageAuthenticator(bytes, 'testing124')).toBe('invalid');
    for (const at of [1, 5, 25, bytes.length - 1]) {
      const t = Buffer.from(bytes);
      t[at] ^= 1;
      expect(verifyRequestMessageAuthenticator(t, SECRET)).toBe('invalid');
    }
    const two = Buffer.concat([bytes, bytes.subarray(20, 38)]);
    two.writeUInt16BE(two.length, 2);
    expect(verifyRequestMessageAuthenticator(two, SECRET)).toBe('invalid');
  });
  it('a caller-supplied Message-Authenticator is replaced, not duplicated', () => {
    const again = encodePacket({
      code: Code.AccessRequest, identifier: 7, authenticator: RA, secret: SECRET,
      attributes: [makeAttribute('User-Name', 'alice'), { type: Attr.MessageAuthenticator, value: Buffer.alloc(16, 9) }, makeAttribute('NAS-Port-Type', 19)],
    });
    expect(again).toEqual(bytes);
  });
  it('needs a 16-octet authenticator', () => {
    expect(() => encodePacket({ code: Code.AccessRequest, identifier: 1, secret: SECRET, attributes: [] })).toThrow(RadiusEncodeError);
  });
});

describe('replies: MA first over the Request Authenticator, then the Response Authenticator', () => {
  const attrs: RadiusAttribute[] = [
    makeAttribute('Tunnel-Type', 'VLAN', 1),
    makeAttribute('Tunnel-Medium-Type', 'IEEE-802', 1),
    makeAttribute('Tunnel-Private-Group-Id', '42', 1),
    makeAttribute('Reply-Message', 'x'.repeat(300)),
  ];
  for (const code of [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge]) {
    it(`code ${code}`, () => {
      const bytes = encodePacket({ code, identifier: 9, requestAuthenticator: RA, secret: SECRET, attributes: attrs });
      expect(bytes[20]).toBe(Attr.MessageAuthenticator);
      expect(bytes.subarray(22, 38)).toEqual(expectedMa(bytes, 20, RA));
      const withRa = Buffer.from(bytes);
      RA.copy(withRa, 4);
      expect(bytes.subarray(4, 20)).toEqual(md5(withRa, Buffer.from(SECRET)));
      expect(verifyResponseAuthenticator(bytes, RA, SECRET)).toBe(true);
      expect(verifyResponseMessageAuthenticator(bytes, RA, SECRET)).toBe('valid');
      expect(verifyResponseMessageAuthenticator(bytes, Buffer.alloc(16), SECRET)).toBe('invalid');
    });
  }
  it('tags and the split Reply-Message read back', () => {
    const p = decodePacket(encodePacket({ code: Code.AccessAccept, identifier: 9, requestAuthenticator: RA, secret: SECRET, attributes: attrs }));
    expect(p.attributes.slice(1, 4).map((a) => [readAttribute(a), a.tag])).toEqual([
      [{ name: 'Tunnel-Type', value: 'VLAN' }, 1],
      [{ name: 'Tunnel-Medium-Type', value: 'IEEE-802' }, 1],
      [{ name: 'Tunnel-Private-Group-Id', value: '42' }, 1],
    ]);
    expect(p.attributes.filter((a) => a.type === Attr.ReplyMessage).map((a) => a.value.length)).toEqual([253, 47]);
    expect(joinAttribute(p.attributes, Attr.ReplyMessage)!.toString()).toBe('x'.repeat(300));
  });
  it('Accounting-Response has no MA by default; its authenticator is still checked', () => {
    const bytes = encodePacket({ code: Code.AccountingResponse, identifier: 3, requestAuthenticator: RA, secret: SECRET, attributes: [] });
    expect(bytes.length).toBe(20);
    expect(verifyResponseAuthenticator(bytes, RA, SECRET)).toBe(true);
  });
});

describe('Accounting-Request, CoA-Request, Disconnect-Request (RFC 2866 §3, RFC 5176 §2.3)', () => {
  for (const code of [Code.AccountingRequest, Code.CoaRequest, Code.DisconnectRequest]) {
    it(`code ${code}: MD5 over the packet with a zero authenticator`, () => {
      const bytes = encodePacket({
        code, identifier: 4, secret: SECRET,
        attributes: [makeAttribute('Acct-Status-Type', 'Interim-Update'), makeAttribute('Acct-Session-Id', 's-1')],
      });
      const zeroed = Buffer.from(bytes);
      zeroed.fill(0, 4, 20);
      expect(bytes.subarray(4, 20)).toEqual(md5(zeroed, Buffer.from(SECRET)));
      expect(verifyAccountingRequest(bytes, SECRET)).toBe(true);
      expect(verifyAccountingRequest(bytes, 'other')).toBe(false);
      expect(verifyRequestMessageAuthenticator(bytes, SECRET)).toBe('missing');
    });
  }
  it('with a Message-Authenticator: computed over a zero authenticator, then the MD5 covers it (RFC 5176 §3.3)', () => {
    const bytes = encodePacket({ code: Code.CoaRequest, identifier: 5, secret: SECRET, messageAuthenticator: true, attributes: [makeAttribute('Session-Timeout', 60)] });
    expect(bytes[20]).toBe(Attr.MessageAuthenticator);
    expect(bytes.subarray(22, 38)).toEqual(expectedMa(bytes, 20, Buffer.alloc(16)));
    expect(verifyRequestMessageAuthenticator(bytes, SECRET)).toBe('valid');
    expect(verifyAccountingRequest(bytes, SECRET)).toBe(true);
  });
  it('verifyAccountingRequest is false for an Access-Request', () => {
    const bytes = encodePacket({ code: Code.AccessRequest, identifier: 1, authenticator: RA, secret: SECRET, attributes: [] });
    expect(verifyAccountingRequest(bytes, SECRET)).toBe(false);
  });
});

describe('splitting long values (RFC 3579 §3.1) and joining them', () => {
  it('a 1000-octet EAP-Message goes out as 253+253+253+241 and joins back', () => {
    const eap = Buffer.alloc(1000);
    for (let i = 0; i < eap.length; i++) eap[i] = (i * 7) & 0xff;
    const bytes = encodePacket({ code: Code.AccessChallenge, identifier: 1, requestAuthenticator: RA, secret: SECRET, attributes: [{ type: Attr.EapMessage, value: eap }, makeAttribute('State', Buffer.from('st'))] });
    const p = decodePacket(bytes);
    expect(p.attributes.filter((a) => a.type === Attr.EapMessage).map((a) => a.value.length)).toEqual([253, 253, 253, 241]);
    expect(joinAttribute(p.attributes, Attr.EapMessage)).toEqual(eap);
    expect(joinAttribute(p.attributes, Attr.Class)).toBeUndefined();
  });
  it('a long Microsoft value is split over several VSAs of at most 247 octets', () => {
    const v = Buffer.alloc(300, 0x61);
    const p = decodePacket(encodePacket({ code: Code.AccessAccept, identifier: 1, requestAuthenticator: RA, secret: SECRET, attributes: [{ type: MsAttr.ChapMppeKeys, vendor: VENDOR_MICROSOFT, value: v }] }));
    expect(p.attributes.slice(1).map((a) => [a.vendor, a.type, a.value.length])).toEqual([[311, 12, 247], [311, 12, 53]]);
    expect(joinAttribute(p.attributes, MsAttr.ChapMppeKeys, VENDOR_MICROSOFT)).toEqual(v);
  });
  it('refuses what cannot be split or does not fit', () => {
    const enc = (attributes: RadiusAttribute[]) => () => encodePacket({ code: Code.AccessAccept, identifier: 1, requestAuthenticator: RA, secret: SECRET, attributes });
    expect(enc([makeAttribute('Tunnel-Private-Group-Id', 'x'.repeat(253), 1)])).toThrow(/VALUE_TOO_LONG/);
    expect(enc([{ type: Attr.EapMessage, value: Buffer.alloc(4100) }])).toThrow(/PACKET_TOO_LONG/);
    expect(enc([{ type: Attr.SessionTimeout, value: Buffer.alloc(3) }])).toThrow(/BAD_VALUE/);
    expect(() => makeAttribute('Tunnel-Type', 'VLAN', 32)).toThrow(/BAD_VALUE/);
    expect(() => makeAttribute('No-Such-Thing', 1)).toThrow(/UNKNOWN_ATTRIBUTE/);
  });
});

describe('tags (RFC 2868 §3)', () => {
  const roundTrip = (attrs: RadiusAttribute[]) =>
    decodePacket(encodePacket({ code: Code.AccessAccept, identifier: 1, requestAuthenticator: RA, secret: SECRET, attributes: attrs })).attributes.slice(1);
  it('a tagged integer keeps its tag in the first octet', () => {
    const bytes = encodePacket({ code: Code.AccessAccept, identifier: 1, requestAuthenticator: RA, secret: SECRET, messageAuthenticator: false, attributes: [makeAttribute('Tunnel-Type', 13, 3)] });
    expect(bytes.subarray(20).toString('hex')).toBe('4006' + '0300000d');
  });
  it('an untagged string whose first octet looks like a tag is protected with a 0x00 tag', () => {
    const [a] = roundTrip([{ type: Attr.TunnelPrivateGroupId, value: Buffer.from('\x05abc', 'latin1') }]);
    expect(a).toEqual({ type: Attr.TunnelPrivateGroupId, tag: 0, value: Buffer.from('\x05abc', 'latin1') });
    const [b] = roundTrip([makeAttribute('Tunnel-Private-Group-Id', 'vlan10')]);
    expect(b).toEqual({ type: Attr.TunnelPrivateGroupId, value: Buffer.from('vlan10') });
  });
  it('Tunnel-Password always carries its tag octet', () => {
    const [a] = roundTrip([{ type: Attr.TunnelPassword, value: Buffer.alloc(18, 0x80) }]);
    expect(a).toEqual({ type: Attr.TunnelPassword, tag: 0, value: Buffer.alloc(18, 0x80) });
  });
});
