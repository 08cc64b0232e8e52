// radius/pap-otp.ts on its own, with a users engine and a clock of the test's: what the
// radclient test cannot reach quickly — a State that expired (60 s), the cap on challenges
// waiting, a State answered by another client or for another user, the joined field read
// first and a password that itself ends in six digits, and requests that are not OTP's.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { RadiusAuthEngine } from '../../src/radius/auth.js';
import {
  Attr, Code, decodePacket, encodePacket, hideUserPassword, joinAttribute, verifyResponseAuthenticator, verifyResponseMessageAuthenticator,
  type RadiusPacket,
} from '../../src/radius/codec/index.js';
import { OTP_CHALLENGE_TTL_MS, OTP_PROMPT, OTP_REASONS, PapOtp, splitJoined, type OtpDecision, type OtpUser } from '../../src/radius/pap-otp.js';

const client = (name: string): NasClient => ({ name, kind: 'gateway' } as NasClient);
const GW = client('gw');

interface TestUser extends OtpUser { password: string; enrolled: boolean; codes: Set<string> }

function setup(options: { required?: boolean; maxPending?: number } = {}) {
  let now = 1_000_000;
  const table = new Map<string, TestUser>();
  const add = (username: string, password: string, enrolled = true, codes: string[] = ['123456', '654321']) =>
    table.set(username.toLowerCase(), { username, password, enabled: true, passwordHash: 'x', groups: ['staff'], enrolled, codes: new Set(codes) });
  const checked: string[] = [];
  const users = {
    find: (n: string) => table.get(n.toLowerCase()),
    verifyPassword: async (u: OtpUser, pw: Uint8Array) => {
      checked.push(Buffer.from(pw).toString());
      return Buffer.from(pw).toString() === (u as TestUser).password;
    },
    otpEnrolled: (u: object) => (u as TestUser).enrolled,
    // Each code once, as UserService.useOtpCode.
    useOtpCode: (u: object, c: string) => (u as TestUser).codes.delete(c),
  };
  const otp = new PapOtp({
    users, policy: { otpRequired: () => options.required ?? true }, now: () => now,
    ...(options.maxPending ? { maxPending: options.maxPending } : {}),
  });
  return { otp, add, checked, advance: (ms: number) => void (now += ms) };
}

const packet = (user: string | undefined, state?: Buffer): RadiusPacket => ({
  code: 1, identifier: 1, authenticator: Buffer.alloc(16),
  attributes: [
    ...(user !== undefined ? [{ type: Attr.UserName, value: Buffer.from(user) }] : []),
    ...(state ? [{ type: Attr.State, value: state }] : []),
  ],
} as RadiusPacket);

async function decide(otp: PapOtp, user: string | undefined, field: string, state?: Buffer, nas = GW): Promise<OtpDecision | undefined> {
  const buf = Buffer.from(field);
  const d = await otp.claim(packet(user, state), nas, buf);
  // Whatever it decided, the password bytes are zeroed once it answered.
  if (d) expect(buf.every((b) => b === 0)).toBe(true);
  return d;
}

const stateOf = (d: OtpDecision | undefined): Buffer => {
  expect(d?.outcome).toBe('challenge');
  return (d as { attributes: { type: number; value: Buffer }[] }).attributes.find((a) => a.type === Attr.State)!.value;
};

describe('PAP with a one-time code', () => {
  it('challenges a right password with a State and the prompt, and accepts the code once', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    const c = await decide(t.otp, 'alice', 'alice-pw');
    const state = stateOf(c);
    expect(state).toHaveLength(20);
    expect((c as { attributes: { type: number; value: Buffer }[] }).attributes.find((a) => a.type === Attr.ReplyMessage)!.value.toString()).toBe(OTP_PROMPT);
    expect(await decide(t.otp, 'Alice', '123456', state)).toMatchObject({ outcome: 'accept', username: 'alice', groups: ['staff'], details: { otp: 'challenge' } });
    expect(await decide(t.otp, 'alice', '654321', state)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.unknownState });
    expect(t.otp.size).toBe(0);
  });

  it('uses up a State with a wrong code', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    const state = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    expect(await decide(t.otp, 'alice', '000000', state)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.wrongCode });
    expect(await decide(t.otp, 'alice', '123456', state)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.unknownState });
  });

  it('refuses a State older than 60 seconds', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    const s1 = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    const s2 = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    t.advance(OTP_CHALLENGE_TTL_MS - 1);
    expect((await decide(t.otp, 'alice', '123456', s1))?.outcome).toBe('accept');
    t.advance(1);
    expect(await decide(t.otp, 'alice', '654321', s2)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.unknownState });
  });

  it('binds a State to its client and its user', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    t.add('bob', 'bob-pw');
    const s1 = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    expect(await decide(t.otp, 'alice', '123456', s1, client('other'))).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.otherClient });
    const s2 = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    expect(await decide(t.otp, 'bob', '123456', s2)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.otherUser, username: 'bob' });
    const s3 = stateOf(await decide(t.otp, 'alice', 'alice-pw'));
    expect(await decide(t.otp, undefined, '123456', s3)).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.otherUser });
  });

  it('keeps at most maxPending challenges, dropping the oldest', async () => {
    const t = setup({ maxPending: 2 });
    t.add('alice', 'alice-pw', true, ['111111', '222222', '333333']);
    const states = [];
    for (let i = 0; i < 3; i++) states.push(stateOf(await decide(t.otp, 'alice', 'alice-pw')));
    expect(t.otp.size).toBe(2);
    expect(t.otp.stats.evicted).toBe(1);
    expect(await decide(t.otp, 'alice', '111111', states[0])).toMatchObject({ reason: OTP_REASONS.unknownState });
    expect((await decide(t.otp, 'alice', '111111', states[2]))?.outcome).toBe('accept');
  });

  it('reads a field ending in six digits as password + code first', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    expect(await decide(t.otp, 'alice', 'alice-pw123456')).toMatchObject({ outcome: 'accept', details: { otp: 'joined' } });
    expect(t.checked).toEqual(['alice-pw']);
    expect(await decide(t.otp, 'alice', 'alice-pw123456')).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.wrongCode, details: { otp: 'joined' } });
  });

  it('challenges a password that itself ends in six digits', async () => {
    const t = setup();
    t.add('carol', 'carol-999999');
    const state = stateOf(await decide(t.otp, 'carol', 'carol-999999'));
    // The joined reading ("carol-" and a code) was tried first and failed; then the whole field.
    expect(t.checked).toEqual(['carol-', 'carol-999999']);
    expect((await decide(t.otp, 'carol', '123456', state))?.outcome).toBe('accept');
    // And the joined field works for it too.
    expect((await decide(t.otp, 'carol', 'carol-999999654321'))?.outcome).toBe('accept');
  });

  it('refuses a wrong password, and a user without an enrolment with a Reply-Message', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    t.add('dave', 'dave-pw', false);
    expect(await decide(t.otp, 'alice', 'wrong')).toMatchObject({ outcome: 'reject', reason: 'wrong password' });
    const d = await decide(t.otp, 'dave', 'dave-pw');
    expect(d).toMatchObject({ outcome: 'reject', reason: OTP_REASONS.notEnrolled });
    expect((d as { attributes: { value: Buffer }[] }).attributes[0]!.value.toString()).toMatch(/none is enrolled/);
    expect(await decide(t.otp, 'dave', 'dave-pw123456')).toMatchObject({ reason: OTP_REASONS.notEnrolled });
  });

  it('leaves to ordinary PAP what is not its business', async () => {
    const t = setup({ required: false });
    t.add('alice', 'alice-pw');
    expect(await decide(t.otp, 'alice', 'alice-pw')).toBeUndefined();
    expect(await decide(t.otp, 'nobody', 'x')).toBeUndefined();
    expect(await decide(t.otp, undefined, 'x')).toBeUndefined();
    // A State that is not ours (another server's, echoed by a proxy) is not an answer.
    expect(await decide(t.otp, 'alice', 'alice-pw', Buffer.from('something else'))).toBeUndefined();
    expect(t.checked).toEqual([]);
  });

  it('refuses, where a code is required, an accept by a method that checked none', () => {
    const required = setup({ required: true }).otp;
    const refused = OTP_REASONS.methodWithoutCode;
    expect(required.refusal('gateway', [], 'mschapv2', undefined)).toBe(refused);
    expect(required.refusal('gateway', [], 'chap', undefined)).toBe(refused);
    expect(required.refusal('gateway', [], 'peap', { method: 'peap', inner: 'eap-mschapv2' })).toBe(refused);
    expect(required.refusal('gateway', [], 'ttls', { method: 'eap-ttls', inner: 'pap' })).toBe(refused);
    expect(required.refusal('gateway', [], 'pap', undefined)).toBe(refused);
    expect(required.refusal('gateway', [], undefined, undefined)).toBe(refused);
    expect(required.refusal('gateway', [], 'ttls', { method: 'eap-ttls', inner: 'pap+otp' })).toBeUndefined();
    expect(required.refusal('gateway', [], 'pap', { otp: 'challenge' })).toBeUndefined();
    expect(required.refusal('gateway', [], 'eap-tls', undefined)).toBeUndefined();
    expect(required.refusal('gateway', [], 'mab', undefined)).toBeUndefined();
    expect(setup({ required: false }).otp.refusal('gateway', [], 'mschapv2', undefined)).toBeUndefined();
  });

  it('splits a joined field only on six ASCII digits after something', () => {
    expect(splitJoined(Buffer.from('pw123456'))).toEqual({ password: Buffer.from('pw'), code: '123456' });
    expect(splitJoined(Buffer.from('123456'))).toBeUndefined();
    expect(splitJoined(Buffer.from('pw12345x'))).toBeUndefined();
    expect(splitJoined(Buffer.from('pw١٢٣٤٥٦'))).toBeUndefined();
  });
});

describe('the RADIUS engine with PapOtp', () => {
  const SECRET = Buffer.from('otp-engine-S3cret');
  const request = (user: string, password: string, state?: Buffer) => {
    const authenticator = randomBytes(16);
    const data = encodePacket({
      code: Code.AccessRequest, identifier: 9, authenticator, secret: SECRET, messageAuthenticator: true,
      attributes: [
        { type: Attr.UserName, value: Buffer.from(user) }, { type: Attr.UserPassword, value: hideUserPassword(password, SECRET, authenticator) },
        ...(state ? [{ type: Attr.State, value: state }] : []),
      ],
    });
    return { data, authenticator };
  };

  it('sends a signed Access-Challenge, counts it, and logs only the final decision', async () => {
    const t = setup();
    t.add('alice', 'alice-pw');
    const decisions: { outcome: string; reason?: string; details?: Record<string, string> }[] = [];
    const users = { find: (n: string) => (n === 'alice' ? { username: 'alice', enabled: true, passwordHash: 'x' } : undefined), verifyPassword: async () => false };
    const engine = new RadiusAuthEngine({
      clients: new NasTable([{ name: 'gw', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'gateway', requireMessageAuthenticator: true }]),
      users, dummyPasswordHash: 'dummy', log: silentLogger, otp: t.otp, decisions: { record: (d) => void decisions.push(d) },
    });
    const first = request('alice', 'alice-pw');
    const reply = (await engine.handle({ data: first.data, address: '127.0.0.1', port: 1000 }, 'auth'))!;
    expect(reply[0]).toBe(Code.AccessChallenge);
    expect(verifyResponseAuthenticator(reply, first.authenticator, SECRET)).toBe(true);
    // BlastRADIUS: the Message-Authenticator comes first in every reply, a challenge too.
    expect(verifyResponseMessageAuthenticator(reply, first.authenticator, SECRET)).toBe('valid');
    const decoded = decodePacket(reply);
    expect(decoded.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
    const state = joinAttribute(decoded.attributes, Attr.State)!;
    expect(engine.stats.challenges).toBe(1);
    expect(decisions).toEqual([]);
    const second = request('alice', '123456', state);
    const accept = (await engine.handle({ data: second.data, address: '127.0.0.1', port: 1001 }, 'auth'))!;
    expect(accept[0]).toBe(Code.AccessAccept);
    expect(decisions).toMatchObject([{ outcome: 'accept', method: 'pap', details: { otp: 'challenge' } }]);
  });
});
