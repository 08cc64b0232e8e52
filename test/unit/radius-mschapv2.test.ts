// MS-CHAPv2 over RADIUS without EAP (RFC 2548 §2.3, RFC 2759), in-process through the
// engine against real users on a temp data folder: the RFC 2759 §9.2 exchange is accepted
// with its exact authenticator response and the RFC 3079 §3.5.3 MPPE keys (hidden per RFC
// 2548 §2.4.2), and every refusal carries MS-CHAP-Error 691. CHAP, for a user without --chap, is refused with its reason.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/ca/storage.js';
import { parseCidr } from '../../src/core/cidr.js';
import type { Logger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { RadiusAuthEngine, REJECT_MESSAGE } from '../../src/radius/auth.js';
import {
  Attr, Code, MsAttr, MsMppeEncryptionPolicy, MsMppeEncryptionTypes, VENDOR_MICROSOFT, decodePacket, encodePacket,
  joinAttribute, unhideMsMppeKey, verifyResponseAuthenticator, verifyResponseMessageAuthenticator, type RadiusAttribute,
} from '../../src/radius/codec/index.js';
import { CHAP_NOT_ENABLED_REASON } from '../../src/radius/methods/chap.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const SECRET = Buffer.from('mschap-shared-S3cret');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

// RFC 2759 §9.2.
const USER = 'User';
const PASSWORD = 'clientPass';
const AUTHENTICATOR_CHALLENGE = unhex('5B5D7C7D7B3F2F3E3C2C602132262628');
const PEER_CHALLENGE = unhex('21402324255E262A28295F2B3A337C7E');
const NT_RESPONSE = unhex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');
const AUTHENTICATOR_RESPONSE = 'S=407A5589115FD0D6209F510FE9C04566932CDA56';
// RFC 3079 §3.5.3 for that exchange, from the server's side.
const SERVER_SEND_KEY = '8B7CDC149B993A1BA118CB153F56DCCB';
const SERVER_RECEIVE_KEY = 'D5F0E9521E3EA9589645E86051C82226';
const IDENT = 0x2a;

let tmp: string;
let pki: Pki;
const logged: Record<string, unknown>[] = [];
const recordingLog: Logger = {
  warn: () => {}, error: () => {},
  // Accepts are logged at debug, refusals at info: both are kept here.
  debug: (o) => void logged.push(o as Record<string, unknown>),
  info: (o) => void logged.push(o as Record<string, unknown>),
  child: () => recordingLog,
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-mschapv2-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'MS-CHAPv2 Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  pki.users.add({ username: USER, password: PASSWORD }, by);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const client: NasClient = { name: 'vpn', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'vpn', requireMessageAuthenticator: true };

function engine(users: object = pki.users): RadiusAuthEngine {
  return new RadiusAuthEngine({
    clients: new NasTable([client]), users: users as Pki['users'], dummyPasswordHash: 'none', log: recordingLog,
  });
}

const ms = (type: number, value: Buffer): RadiusAttribute => ({ vendor: VENDOR_MICROSOFT, type, value });

/** RFC 2548 §2.3.2 MS-CHAP2-Response: Ident, Flags, Peer-Challenge, 8 reserved octets, NT-Response. */
const chap2Response = (ntResponse: Buffer): Buffer =>
  Buffer.concat([Buffer.of(IDENT, 0), PEER_CHALLENGE, Buffer.alloc(8), ntResponse]);

function request(opts: { user?: string; ntResponse?: Buffer; extra?: RadiusAttribute[] } = {}) {
  const authenticator = randomBytes(16);
  const data = encodePacket({
    code: Code.AccessRequest, identifier: 9, authenticator, secret: SECRET,
    attributes: [
      { type: Attr.UserName, value: Buffer.from(opts.user ?? USER) },
      ms(MsAttr.ChapChallenge, AUTHENTICATOR_CHALLENGE),
      ms(MsAttr.Chap2Response, chap2Response(opts.ntResponse ?? NT_RESPONSE)),
      ...(opts.extra ?? []),
    ],
  });
  return { data, authenticator };
}

async function send(data: Buffer, users?: object) {
  logged.length = 0;
  const reply = await engine(users).handle({ data, address: '127.0.0.1', port: 50000 }, 'auth');
  expect(reply).toBeDefined();
  return { bytes: reply!, packet: decodePacket(reply!), decision: logged.find((o) => 'outcome' in o) };
}

const msValue = (attrs: RadiusAttribute[], type: number): Buffer | undefined => joinAttribute(attrs, type, VENDOR_MICROSOFT);
const ERROR_691 = /^E=691 R=0 C=[0-9A-F]{32} V=3 M=Authentication failure$/;

function expectMsChapError(attrs: RadiusAttribute[]): void {
  const error = msValue(attrs, MsAttr.ChapError);
  expect(error).toBeDefined();
  expect(error![0]).toBe(IDENT);
  expect(error!.subarray(1).toString('utf8')).toMatch(ERROR_691);
  expect(msValue(attrs, MsAttr.Chap2Success)).toBeUndefined();
  expect(msValue(attrs, MsAttr.MppeSendKey)).toBeUndefined();
  expect(msValue(attrs, MsAttr.MppeRecvKey)).toBeUndefined();
  expect(joinAttribute(attrs, Attr.ReplyMessage)?.toString()).toBe(REJECT_MESSAGE);
}

describe('MS-CHAPv2 over RADIUS (RFC 2548 §2.3), the RFC 2759 §9.2 exchange', () => {
  it('accepts with MS-CHAP2-Success, hidden MPPE keys (RFC 3079 §3.5.3) and the encryption policy and types', async () => {
    const { data, authenticator } = request();
    const { bytes, packet, decision } = await send(data);
    expect(packet.code).toBe(Code.AccessAccept);
    expect(verifyResponseAuthenticator(bytes, authenticator, SECRET)).toBe(true);
    expect(verifyResponseMessageAuthenticator(bytes, authenticator, SECRET)).toBe('valid');
    const success = msValue(packet.attributes, MsAttr.Chap2Success)!;
    expect(success[0]).toBe(IDENT);
    expect(success.subarray(1).toString('ascii')).toBe(AUTHENTICATOR_RESPONSE);

    const sendHidden = msValue(packet.attributes, MsAttr.MppeSendKey)!;
    const recvHidden = msValue(packet.attributes, MsAttr.MppeRecvKey)!;
    // RFC 2548 §2.4.2: salted (high bit set, unique per attribute), never the key in clear.
    expect(sendHidden[0]! & 0x80).toBe(0x80);
    expect(sendHidden.subarray(0, 2)).not.toEqual(recvHidden.subarray(0, 2));
    expect(sendHidden.includes(unhex(SERVER_SEND_KEY))).toBe(false);
    expect(unhideMsMppeKey(sendHidden, SECRET, authenticator).toString('hex').toUpperCase()).toBe(SERVER_SEND_KEY);
    expect(unhideMsMppeKey(recvHidden, SECRET, authenticator).toString('hex').toUpperCase()).toBe(SERVER_RECEIVE_KEY);

    expect(msValue(packet.attributes, MsAttr.MppeEncryptionPolicy)!.readUInt32BE(0)).toBe(MsMppeEncryptionPolicy.EncryptionAllowed);
    expect(msValue(packet.attributes, MsAttr.MppeEncryptionTypes)!.readUInt32BE(0)).toBe(MsMppeEncryptionTypes.Rc4_40or128);
    expect(joinAttribute(packet.attributes, Attr.ReplyMessage)).toBeUndefined();
    expect(decision).toMatchObject({ outcome: 'accept', user: USER });
  });

  it('accepts a "DOMAIN\\User" name (the domain is not hashed, RFC 2759 §8.2)', async () => {
    // The user is looked up by the name as sent, so only a store that knows the full name accepts.
    const users = Object.assign(Object.create(pki.users) as Pki['users'], {
      find: (name: string) => (name === 'EXAMPLE\\User' ? pki.users.find(USER) : undefined),
    });
    const { packet } = await send(request({ user: 'EXAMPLE\\User' }).data, users);
    expect(packet.code).toBe(Code.AccessAccept);
    expect(msValue(packet.attributes, MsAttr.Chap2Success)!.subarray(1).toString('ascii')).toBe(AUTHENTICATOR_RESPONSE);
  });

  it('rejects a wrong password with MS-CHAP-Error 691', async () => {
    const wrong = Buffer.from(NT_RESPONSE);
    wrong[0] = wrong[0]! ^ 1;
    const { packet, decision } = await send(request({ ntResponse: wrong }).data);
    expect(packet.code).toBe(Code.AccessReject);
    expectMsChapError(packet.attributes);
    expect(decision).toMatchObject({ outcome: 'reject', reason: 'wrong password', user: USER });
  });

  it('rejects a disabled user even with the right response, with the same 691', async () => {
    pki.users.setEnabled(USER, false, by);
    try {
      const { packet, decision } = await send(request().data);
      expect(packet.code).toBe(Code.AccessReject);
      expectMsChapError(packet.attributes);
      expect(decision).toMatchObject({ outcome: 'reject', reason: 'account disabled' });
    } finally {
      pki.users.setEnabled(USER, true, by);
    }
    expect((await send(request().data)).packet.code).toBe(Code.AccessAccept);
  });

  it('rejects an unknown user and a user without an NT hash, with the reason logged', async () => {
    const unknown = await send(request({ user: 'nobody' }).data);
    expect(unknown.packet.code).toBe(Code.AccessReject);
    expectMsChapError(unknown.packet.attributes);
    expect(unknown.decision).toMatchObject({ reason: 'unknown user' });

    const noNtHash = Object.assign(Object.create(pki.users) as Pki['users'], { ntHashOf: () => undefined });
    const { packet, decision } = await send(request().data, noNtHash);
    expect(packet.code).toBe(Code.AccessReject);
    expectMsChapError(packet.attributes);
    expect(decision).toMatchObject({ outcome: 'reject', reason: expect.stringContaining('no NT hash') });
  });

  // An MS-CHAP2-Response of the wrong size never gets here: the codec drops the packet (fixed-size attribute).
  it('rejects an MS-CHAP-Challenge of the wrong size', async () => {
    const authenticator = randomBytes(16);
    const data = encodePacket({
      code: Code.AccessRequest, identifier: 3, authenticator, secret: SECRET,
      attributes: [{ type: Attr.UserName, value: Buffer.from(USER) }, ms(MsAttr.ChapChallenge, randomBytes(8)), ms(MsAttr.Chap2Response, chap2Response(NT_RESPONSE))],
    });
    const badChallenge = await send(data);
    expect(badChallenge.packet.code).toBe(Code.AccessReject);
    expectMsChapError(badChallenge.packet.attributes);
    expect(badChallenge.decision).toMatchObject({ reason: 'missing or malformed MS-CHAP-Challenge' });
  });

  it('never logs the NT hash, the response or the keys', async () => {
    const { data } = request();
    await send(data);
    const text = JSON.stringify(logged);
    for (const secret of [NT_RESPONSE.toString('hex'), SERVER_SEND_KEY, SERVER_RECEIVE_KEY, 'clientPass']) {
      expect(text.toLowerCase()).not.toContain(secret.toLowerCase());
    }
  });
});

describe('CHAP', () => {
  it('is refused for a user without --chap (no reversible password kept), and the log says so', async () => {
    const authenticator = randomBytes(16);
    const data = encodePacket({
      code: Code.AccessRequest, identifier: 4, authenticator, secret: SECRET,
      attributes: [{ type: Attr.UserName, value: Buffer.from(USER) }, { type: Attr.ChapPassword, value: randomBytes(17) }],
    });
    const { packet, decision } = await send(data);
    expect(packet.code).toBe(Code.AccessReject);
    expect(joinAttribute(packet.attributes, Attr.ReplyMessage)?.toString()).toBe(REJECT_MESSAGE);
    expect(decision).toMatchObject({ outcome: 'reject', reason: CHAP_NOT_ENABLED_REASON, user: USER });
    expect(CHAP_NOT_ENABLED_REASON).toBe('CHAP needs a reversible password: enable it with `authbox user passwd --chap`');
  });
});
