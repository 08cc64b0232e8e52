// CHAP over RADIUS (RFC 2865 §5.3, §5.40, §2.2; RFC 1994 §4.1), in-process through the
// engine against real users on a temp data folder, also through the daemon's wrappers
// (user lookup cache, PAP cache): accept with CHAP-Challenge and with the Request
// Authenticator as the challenge, and every refusal with its reason. The password is kept
// sealed only for users added or changed with `chap: true`.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/ca/storage.js';
import { parseCidr } from '../../src/core/cidr.js';
import type { AuthDecision } from '../../src/core/auth-log.js';
import type { Logger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { RadiusAuthEngine, REJECT_MESSAGE } from '../../src/radius/auth.js';
import { Attr, Code, decodePacket, encodePacket, joinAttribute, type RadiusAttribute } from '../../src/radius/codec/index.js';
import { CHAP_NOT_ENABLED_REASON, chapResponse, decideChap } from '../../src/radius/methods/chap.js';
import { PapCache, withPapCache } from '../../src/radius/pap-cache.js';
import { UserLookupCache, withUserLookupCache } from '../../src/radius/user-cache.js';
import { codeOf } from '../helpers/unit.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const SECRET = Buffer.from('chap-shared-S3cret');
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');

const PASSWORD = 'clientPass';
const CHALLENGE = unhex('5B5D7C7D7B3F2F3E3C2C602132262628');
const IDENT = 0x2a;
// `printf '\x2aclientPass' > v; printf 5B5D...28 | xxd -r -p >> v; openssl dgst -md5 v`
const GOLDEN_RESPONSE = '9966cfdea8173477fb942a7606aeb0c7';

let tmp: string;
let pki: Pki;
const logged: unknown[] = [];
const decisions: AuthDecision[] = [];
const recordingLog: Logger = {
  debug: (o) => void logged.push(o), warn: (o) => void logged.push(o), error: (o) => void logged.push(o),
  info: (o) => void logged.push(o),
  child: () => recordingLog,
};

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-chap-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'CHAP Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  pki.users.add({ username: 'carol', password: PASSWORD, groups: ['staff'], chap: true }, by);
  pki.users.add({ username: 'dave', password: PASSWORD }, by);
  pki.users.add({ username: 'erin', password: PASSWORD, chap: true }, by);
  pki.users.setEnabled('erin', false, by);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const client: NasClient = { name: 'ap', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'wlan', requireMessageAuthenticator: true };

function engine(users: object): RadiusAuthEngine {
  return new RadiusAuthEngine({
    clients: new NasTable([client]), users: users as Pki['users'], dummyPasswordHash: 'none', log: recordingLog,
    decisions: { record: (d) => void decisions.push(d) },
  });
}

/** An Access-Request as a NAS sends it after a CHAP exchange; `challenge: undefined` uses the Request Authenticator. */
function request(opts: { user?: string; password?: string; challenge?: Buffer | null; extra?: RadiusAttribute[] } = {}): Buffer {
  const authenticator = randomBytes(16);
  const challenge = opts.challenge === null ? undefined : (opts.challenge ?? CHALLENGE);
  const response = chapResponse(IDENT, Buffer.from(opts.password ?? PASSWORD), challenge ?? authenticator);
  const attributes: RadiusAttribute[] = [
    { type: Attr.UserName, value: Buffer.from(opts.user ?? 'carol') },
    { type: Attr.ChapPassword, value: Buffer.concat([Buffer.of(IDENT), response]) },
    ...(challenge ? [{ type: Attr.ChapChallenge, value: challenge }] : []),
    ...(opts.extra ?? []),
  ];
  return encodePacket({ code: Code.AccessRequest, identifier: 7, authenticator, secret: SECRET, attributes });
}

async function send(data: Buffer, users: object = pki.users) {
  logged.length = 0;
  decisions.length = 0;
  const reply = await engine(users).handle({ data, address: '127.0.0.1', port: 50000 }, 'auth');
  expect(reply).toBeDefined();
  expect(decisions).toHaveLength(1);
  return { packet: decodePacket(reply!), decision: decisions[0] };
}

describe('the CHAP response (RFC 1994 §4.1)', () => {
  it('is MD5(ident || password || challenge): a golden vector from openssl, and node:crypto agrees', () => {
    const expected = createHash('md5').update(Buffer.concat([Buffer.of(IDENT), Buffer.from(PASSWORD), CHALLENGE])).digest('hex');
    expect(expected).toBe(GOLDEN_RESPONSE);
    expect(chapResponse(IDENT, Buffer.from(PASSWORD), CHALLENGE).toString('hex')).toBe(GOLDEN_RESPONSE);
  });
});

describe('keeping the password for CHAP', () => {
  it('seals it only for a user with chap, under its own AAD, and passwd without chap drops it', () => {
    const carol = pki.users.get('carol');
    const dave = pki.users.get('dave');
    expect(dave.chapPasswordSealed).toBeNull();
    expect(pki.users.chapPasswordOf(dave)).toBeUndefined();
    expect(carol.chapPasswordSealed!.includes(Buffer.from(PASSWORD))).toBe(false);
    expect(pki.users.chapPasswordOf(carol)!.toString('utf8')).toBe(PASSWORD);
    // The sealed NT hash does not open as a CHAP password, nor another user's copy.
    expect(codeOf(() => pki.users.chapPasswordOf({ id: carol.id, chapPasswordSealed: carol.ntHashSealed }))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => pki.users.chapPasswordOf({ id: dave.id, chapPasswordSealed: carol.chapPasswordSealed }))).toBe('KEY_DECRYPT_FAILED');

    pki.users.add({ username: 'frank', password: PASSWORD, chap: true }, by);
    expect(pki.users.setPassword('frank', 'frank-new-pw', by).chapPasswordSealed).toBeNull();
    expect(pki.users.setPassword('frank', 'frank-newer-pw', by, { chap: true }).chapPasswordSealed).not.toBeNull();
    expect(pki.users.chapPasswordOf(pki.users.get('frank'))!.toString()).toBe('frank-newer-pw');
    const audit = pki.store.changes.listAudit(1000).filter((a) => a.target === 'frank').reverse();
    expect(audit.map((a) => [a.action, JSON.parse(a.detail!).chap])).toEqual([
      ['user.add', true], ['user.passwd', false], ['user.passwd', true],
    ]);
    for (const a of audit) expect(a.detail).not.toContain('frank-new');
  });
});

describe('CHAP through the engine', () => {
  it('accepts a user with CHAP, with CHAP-Challenge and with the Request Authenticator as challenge (RFC 2865 §2.2)', async () => {
    for (const challenge of [CHALLENGE, null]) {
      const { packet, decision } = await send(request({ challenge }));
      expect(packet.code, JSON.stringify(decision)).toBe(Code.AccessAccept);
      expect(decision).toMatchObject({ outcome: 'accept', username: 'carol', method: 'chap' });
    }
  });

  it('is reachable through the wrappers the daemon puts in front of the users engine', async () => {
    const wrapped = withPapCache(withUserLookupCache(pki.users, new UserLookupCache((u) => pki.users.find(u))),
      new PapCache({ verify: (user, password) => pki.users.verifyPassword(user, password) }));
    expect((await send(request(), wrapped)).packet.code).toBe(Code.AccessAccept);
    expect((await send(request({ password: 'not-it' }), wrapped)).decision).toMatchObject({ reason: 'wrong password' });
  });

  it.each([
    ['a wrong password', { password: 'clientPasx' }, 'wrong password', 'carol'],
    ['an unknown user', { user: 'mallory' }, 'unknown user', 'mallory'],
    ['a user without CHAP', { user: 'dave' }, CHAP_NOT_ENABLED_REASON, 'dave'],
    ['a disabled user, even with the right password', { user: 'erin' }, 'account disabled', 'erin'],
    ['two CHAP-Passwords', { extra: [{ type: Attr.ChapPassword, value: randomBytes(17) }] }, 'malformed CHAP-Password', 'carol'],
    ['a CHAP-Challenge of 4 octets', { challenge: randomBytes(4) }, 'malformed CHAP-Challenge', 'carol'],
  ])('rejects %s, with the reason in the log', async (_, opts, reason, user) => {
    const { packet, decision } = await send(request(opts));
    expect(packet.code).toBe(Code.AccessReject);
    expect(joinAttribute(packet.attributes, Attr.ReplyMessage)?.toString()).toBe(REJECT_MESSAGE);
    expect(decision).toMatchObject({ outcome: 'reject', reason, username: user, method: 'chap' });
  });

  it('uses the user name as stored, and never logs the password', async () => {
    const { decision } = await send(request({ user: 'CAROL' }));
    expect(decision).toMatchObject({ outcome: 'accept', username: 'carol', method: 'chap' });
    expect(logged.length).toBeGreaterThan(0);
    expect(JSON.stringify([logged, decisions])).not.toContain(PASSWORD);
  });
});

describe('decideChap', () => {
  it('zeroes the password it was given, whatever the outcome', () => {
    const given: Buffer[] = [];
    const users = {
      find: (username: string) => (username === 'z' ? { username: 'z', enabled: true } : undefined),
      chapPasswordOf: () => {
        const b = Buffer.from(PASSWORD);
        given.push(b);
        return b;
      },
    };
    const packet = decodePacket(request({ user: 'z' }));
    expect(decideChap(users, packet, 'z').outcome).toBe('accept');
    expect(decideChap(users, decodePacket(request({ user: 'z', password: 'wrong-one' })), 'z').outcome).toBe('reject');
    expect(given).toHaveLength(2);
    for (const b of given) expect(b.equals(Buffer.alloc(b.length))).toBe(true);
  });

  it('is not claimed by the engine when the users engine keeps no CHAP passwords', async () => {
    const papOnly = {
      find: (u: string) => pki.users.find(u),
      verifyPassword: async () => false,
    };
    const { decision } = await send(request(), papOnly);
    expect(decision).toMatchObject({ outcome: 'reject', reason: 'method not supported yet' });
  });
});
