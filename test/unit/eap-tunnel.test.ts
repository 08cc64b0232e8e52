// The pieces of PEAPv0 and EAP-TTLS in-process: Diameter AVPs (RFC 5281 §10), the PEAP
// Result TLV, and the PEAPv0/EAP-MSCHAPv2 and TTLS conversations driven with the RFC 2759
// §9.2 vectors (user "User", password "clientPass").
import { describe, expect, it } from 'vitest';
import { EapCode, EapType, encodeEap } from '../../src/radius/eap/codec.js';
import { AvpDecodeError, decodeAvps, encodeAvp } from '../../src/radius/eap/diameter-avp.js';
import { innerAuthenticator, type InnerUser } from '../../src/radius/eap/inner-auth.js';
import { EAP_TYPE_EXTENSIONS, PeapTunnel, TlvResult, resultOf, resultTlvRequest } from '../../src/radius/eap/peap.js';
import { TtlsTunnel } from '../../src/radius/eap/ttls.js';

const AUTH_CHALLENGE = Buffer.from('5B5D7C7D7B3F2F3E3C2C602132262628', 'hex');
const PEER_CHALLENGE = Buffer.from('21402324255E262A28295F2B3A337C7E', 'hex');
const NT_RESPONSE = Buffer.from('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF', 'hex');
const NT_HASH = Buffer.from('44EBBA8D5312B8D611474411F56989AE', 'hex');
const AUTH_RESPONSE = 'S=407A5589115FD0D6209F510FE9C04566932CDA56';

function users(enabled = true) {
  const user: InnerUser = { username: 'User', enabled, passwordHash: 'h' };
  return innerAuthenticator({
    find: (n) => (n === 'User' ? user : undefined),
    verifyPassword: async (_u, pw) => Buffer.from(pw).toString() === 'clientPass',
    ntHashOf: () => Buffer.from(NT_HASH),
  });
}

/** The peer's compressed EAP-MSCHAPv2 Response (draft-kamath §2.2). */
function mschapResponse(id: number, ntResponse = NT_RESPONSE): Buffer {
  const value = Buffer.concat([PEER_CHALLENGE, Buffer.alloc(8), ntResponse, Buffer.of(0)]);
  const body = Buffer.concat([Buffer.of(2, id, 0, 0, 49), value, Buffer.from('User')]);
  body.writeUInt16BE(body.length, 2);
  return Buffer.concat([Buffer.of(EapType.MsChapV2), body]);
}

describe('Diameter AVPs (RFC 5281 §10)', () => {
  it('encodes with the V and M flags, the vendor and padding, and decodes back', () => {
    const plain = encodeAvp({ code: 1, mandatory: true, data: Buffer.from('alice') });
    expect(plain.toString('hex')).toBe('00000001' + '40' + '00000d' + Buffer.from('alice').toString('hex') + '000000');
    const vendor = encodeAvp({ code: 26, vendor: 311, mandatory: true, data: Buffer.from('ab') });
    expect(vendor.toString('hex')).toBe('0000001a' + 'c0' + '00000e' + '00000137' + '6162' + '0000');
    expect(decodeAvps(Buffer.concat([plain, vendor]))).toEqual([
      { code: 1, mandatory: true, data: Buffer.from('alice') },
      { code: 26, vendor: 311, mandatory: true, data: Buffer.from('ab') },
    ]);
  });

  it('refuses a truncated AVP', () => {
    expect(() => decodeAvps(Buffer.from('0000000140000020616c', 'hex'))).toThrow(AvpDecodeError);
    expect(() => decodeAvps(Buffer.from('00000001', 'hex'))).toThrow(AvpDecodeError);
  });
});

describe('PEAPv0 with EAP-MSCHAPv2', () => {
  it('frames the Result TLV in a full EAP header ([MS-PEAP] §2.2.8.1)', () => {
    expect(resultTlvRequest(7, TlvResult.Success).toString('hex')).toBe('0107000b21' + '800300020001');
    expect(resultOf(Buffer.from('800300020002', 'hex'))).toBe(TlvResult.Failure);
  });

  it('runs Identity, Challenge, Response, Success and the Result TLV to an accept', async () => {
    const t = new PeapTunnel(users(), (n) => (n === 16 ? Buffer.from(AUTH_CHALLENGE) : Buffer.of(0x42)));
    expect(t.start()).toEqual(Buffer.of(EapType.Identity));
    const challenge = await t.receive(Buffer.concat([Buffer.of(EapType.Identity), Buffer.from('User')]), 3);
    expect(challenge.kind).toBe('send');
    const c = (challenge as { data: Buffer }).data;
    // Type 26, OpCode 1, MS-CHAPv2-ID, MS-Length, Value-Size 16, the challenge, the server's name.
    expect(c.subarray(0, 6).toString('hex')).toBe(`1a0142${(c.length - 1).toString(16).padStart(4, '0')}10`);
    expect(c.subarray(6, 22)).toEqual(AUTH_CHALLENGE);
    const success = await t.receive(mschapResponse(0x42), 4);
    expect(success.kind).toBe('send');
    expect((success as { data: Buffer }).data.subarray(5).toString()).toBe(`${AUTH_RESPONSE} M=OK`);
    const result = await t.receive(Buffer.of(EapType.MsChapV2, 3), 5);
    expect(result).toEqual({ kind: 'send', data: resultTlvRequest(5, TlvResult.Success) });
    const tlv = encodeEap({ code: EapCode.Response, identifier: 5, type: EAP_TYPE_EXTENSIONS, data: Buffer.from('800300020001', 'hex') });
    expect(await t.receive(tlv, 6)).toEqual({ kind: 'accept', username: 'User', inner: 'eap-mschapv2' });
  });

  it('refuses a wrong NT-Response, a disabled account, and a Result TLV of failure', async () => {
    const run = async (auth: ReturnType<typeof users>, nt = NT_RESPONSE) => {
      const t = new PeapTunnel(auth, (n) => (n === 16 ? Buffer.from(AUTH_CHALLENGE) : Buffer.of(1)));
      await t.receive(Buffer.concat([Buffer.of(EapType.Identity), Buffer.from('User')]), 1);
      return { t, step: await t.receive(mschapResponse(1, nt), 2) };
    };
    // [MS-PEAP]: the MS-CHAPv2 Failure request, the peer's Failure, a failure Result TLV both ways, then the reject.
    const failure = async (auth: ReturnType<typeof users>, nt?: typeof NT_RESPONSE) => {
      const { t, step } = await run(auth, nt);
      expect(step.kind).toBe('send');
      const f = (step as { data: Buffer }).data;
      expect(f.subarray(0, 5).toString('hex')).toBe(`1a0401${(f.length - 1).toString(16).padStart(4, '0')}`);
      expect(f.subarray(5).toString('ascii')).toBe(`E=691 R=0 C=${AUTH_CHALLENGE.toString('hex').toUpperCase()} V=3 M=Authentication failed`);
      expect(await t.receive(Buffer.of(EapType.MsChapV2, 4), 3)).toEqual({ kind: 'send', data: resultTlvRequest(3, TlvResult.Failure) });
      const tlv = encodeEap({ code: EapCode.Response, identifier: 3, type: EAP_TYPE_EXTENSIONS, data: Buffer.from('800300020002', 'hex') });
      return t.receive(tlv, 4);
    };
    expect(await failure(users(), Buffer.alloc(24))).toMatchObject({ kind: 'reject', reason: 'wrong password', username: 'User' });
    expect(await failure(users(false))).toMatchObject({ kind: 'reject', reason: 'account disabled' });
    // A peer that answers the Failure request with anything else is refused at once, for the same reason.
    const early = await run(users(), Buffer.alloc(24));
    expect(await early.t.receive(Buffer.of(EapType.Identity), 3)).toMatchObject({ kind: 'reject', reason: 'wrong password' });
    const { t } = await run(users());
    await t.receive(Buffer.of(EapType.MsChapV2, 3), 3);
    const tlv = encodeEap({ code: EapCode.Response, identifier: 3, type: EAP_TYPE_EXTENSIONS, data: Buffer.from('800300020002', 'hex') });
    expect(await t.receive(tlv, 4)).toMatchObject({ kind: 'reject', reason: 'inner method failed' });
  });
});

describe('EAP-TTLS inner methods (RFC 5281 §11.2)', () => {
  const implicit = Buffer.concat([AUTH_CHALLENGE, Buffer.of(0x42)]);
  const name = encodeAvp({ code: 1, mandatory: true, data: Buffer.from('User') });

  it('PAP: strips the null padding of User-Password and checks it', async () => {
    const t = new TtlsTunnel(users(), () => implicit);
    const pw = encodeAvp({ code: 2, mandatory: true, data: Buffer.concat([Buffer.from('clientPass'), Buffer.alloc(6)]) });
    expect(await t.receive(Buffer.concat([name, pw]))).toEqual({ kind: 'accept', username: 'User', inner: 'pap' });
    const bad = encodeAvp({ code: 2, mandatory: true, data: Buffer.from('nope') });
    expect(await new TtlsTunnel(users(), () => implicit).receive(Buffer.concat([name, bad]))).toMatchObject({ reason: 'wrong password' });
  });

  it('MS-CHAPv2: the challenge and ident must be the ones derived from TLS; success carries MS-CHAP2-Success', async () => {
    const response = (ident: number) => encodeAvp({
      code: 25, vendor: 311, mandatory: true,
      data: Buffer.concat([Buffer.of(ident, 0), PEER_CHALLENGE, Buffer.alloc(8), NT_RESPONSE]),
    });
    const challenge = encodeAvp({ code: 11, vendor: 311, mandatory: true, data: AUTH_CHALLENGE });
    const ok = await new TtlsTunnel(users(), () => implicit).receive(Buffer.concat([name, challenge, response(0x42)]));
    expect(ok).toMatchObject({ kind: 'send', done: { username: 'User', inner: 'mschapv2' } });
    const avp = decodeAvps((ok as { data: Buffer }).data)[0]!;
    expect(avp).toMatchObject({ code: 26, vendor: 311 });
    expect(avp.data.toString('latin1')).toBe(`\x42${AUTH_RESPONSE}`);
    const wrongIdent = await new TtlsTunnel(users(), () => implicit).receive(Buffer.concat([name, challenge, response(0x43)]));
    expect(wrongIdent).toMatchObject({ kind: 'reject', reason: 'EAP protocol error' });
  });
});
