// The RADIUS engine in-process, packets built with the codec: client lookup by source
// address (longest prefix), BlastRADIUS drops, malformed drops by reason, PAP decisions,
// Proxy-State, accounting, and retransmissions answered from the cache without a second
// evaluation.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCidr, formatCidr, addressBytes } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { RadiusAuthEngine, REJECT_MESSAGE, type PapUser } from '../../src/radius/auth.js';
import {
  Attr, Code, decodePacket, encodePacket, hideUserPassword, joinAttribute, verifyResponseAuthenticator,
  verifyResponseMessageAuthenticator, type RadiusAttribute,
} from '../../src/radius/codec/index.js';

const SECRET = Buffer.from('s3cret-shared');
const client = (name: string, cidr: string, extra: Partial<NasClient> = {}): NasClient => ({
  name, network: parseCidr(cidr)!, secret: SECRET, kind: 'wlan', requireMessageAuthenticator: true, ...extra,
});

describe('CIDR and the client table', () => {
  it('parses IPv4 and IPv6 networks and bare addresses, canonically', () => {
    expect(formatCidr(parseCidr('10.0.0.0/8')!)).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('192.0.2.7')!)).toBe('192.0.2.7/32');
    expect(formatCidr(parseCidr('2001:DB8:0:0::/64')!)).toBe('2001:db8::/64');
    expect(formatCidr(parseCidr('::1')!)).toBe('::1/128');
    expect(formatCidr(parseCidr('::/0')!)).toBe('::/0');
    for (const bad of ['10.0.0.1/8', '10.0.0.0/33', '300.1.1.1', 'host.example', '2001:db8::/129', '', '1.2.3.4/']) {
      expect(parseCidr(bad), bad).toBeUndefined();
    }
  });

  it('folds IPv4-mapped IPv6 source addresses to IPv4', () => {
    expect(addressBytes('::ffff:127.0.0.1')).toEqual({ family: 4, bytes: Buffer.from([127, 0, 0, 1]) });
  });

  it('finds the client with the longest matching prefix', () => {
    const table = new NasTable([client('wide', '10.0.0.0/8'), client('narrow', '10.1.2.0/24'), client('v6', '2001:db8::/32')]);
    expect(table.lookup('10.1.2.3')?.name).toBe('narrow');
    expect(table.lookup('10.9.9.9')?.name).toBe('wide');
    expect(table.lookup('::ffff:10.1.2.3')?.name).toBe('narrow');
    expect(table.lookup('2001:db8:1::5')?.name).toBe('v6');
    expect(table.lookup('192.0.2.1')).toBeUndefined();
    expect(table.lookup('not an address')).toBeUndefined();
  });
});

/** A fake users engine: counts verifications; "pw-<name>" is everyone's password. */
function fakeUsers(users: PapUser[]) {
  const calls: string[] = [];
  return {
    calls,
    find: (name: string) => users.find((u) => u.username.toLowerCase() === name.toLowerCase()),
    verifyPassword: async (user: Pick<PapUser, 'passwordHash'>, password: Uint8Array): Promise<boolean> => {
      calls.push(String(user.passwordHash));
      await new Promise((r) => setTimeout(r, 5));
      return user.passwordHash === `pw:${Buffer.from(password).toString('utf8')}`;
    },
  };
}

function setup(clients: NasClient[] = [client('lo', '127.0.0.1/32'), client('legacy', '127.0.0.2/32', { requireMessageAuthenticator: false })]) {
  const users = fakeUsers([
    { username: 'alice', enabled: true, passwordHash: 'pw:alice-password' },
    { username: 'bob', enabled: false, passwordHash: 'pw:bob-password' },
  ]);
  const engine = new RadiusAuthEngine({ clients: new NasTable(clients), users, dummyPasswordHash: 'dummy', log: silentLogger });
  return { engine, users };
}

function accessRequest(opts: { user?: string; password?: string; ma?: boolean; secret?: Buffer; id?: number; extra?: RadiusAttribute[] }): Buffer {
  const authenticator = randomBytes(16);
  const secret = opts.secret ?? SECRET;
  const attributes: RadiusAttribute[] = [];
  if (opts.user !== undefined) attributes.push({ type: Attr.UserName, value: Buffer.from(opts.user) });
  if (opts.password !== undefined) attributes.push({ type: Attr.UserPassword, value: hideUserPassword(opts.password, secret, authenticator) });
  attributes.push(...(opts.extra ?? []));
  return encodePacket({
    code: Code.AccessRequest, identifier: opts.id ?? 7, authenticator, attributes, secret, messageAuthenticator: opts.ma ?? true,
  });
}

const from = (data: Buffer, address = '127.0.0.1', port = 40000) => ({ data, address, port });

describe('Access-Request', () => {
  it('accepts the right password, with a valid Message-Authenticator first and a valid Response Authenticator', async () => {
    const { engine } = setup();
    const req = accessRequest({ user: 'ALICE', password: 'alice-password' });
    const reply = (await engine.handle(from(req), 'auth'))!;
    const p = decodePacket(reply);
    expect(p.code).toBe(Code.AccessAccept);
    expect(p.identifier).toBe(7);
    expect(p.attributes[0]!.type).toBe(Attr.MessageAuthenticator);
    const ra = req.subarray(4, 20);
    expect(verifyResponseAuthenticator(reply, ra, SECRET)).toBe(true);
    expect(verifyResponseMessageAuthenticator(reply, ra, SECRET)).toBe('valid');
    expect(engine.stats).toMatchObject({ received: 1, requests: 1, accepts: 1, rejects: 0 });
  });

  it.each([
    ['a wrong password', 'alice', 'wrong-password'],
    ['an unknown user', 'mallory', 'whatever-pass'],
    ['a disabled user with the right password', 'bob', 'bob-password'],
  ])('rejects %s with the same generic Reply-Message', async (_what, user, password) => {
    const { engine, users } = setup();
    const reply = (await engine.handle(from(accessRequest({ user, password })), 'auth'))!;
    const p = decodePacket(reply);
    expect(p.code).toBe(Code.AccessReject);
    expect(joinAttribute(p.attributes, Attr.ReplyMessage)!.toString()).toBe(REJECT_MESSAGE);
    // Every refusal costs one slow hash, so timing does not tell which case it was.
    expect(users.calls).toHaveLength(1);
    expect(engine.stats.rejects).toBe(1);
  });

  it('rejects a request without a password (CHAP is not supported yet) and copies Proxy-State', async () => {
    const { engine } = setup();
    const proxy = { type: Attr.ProxyState, value: Buffer.from('hop-1') };
    const reply = (await engine.handle(from(accessRequest({ user: 'alice', extra: [{ type: Attr.ChapPassword, value: randomBytes(17) }, proxy] })), 'auth'))!;
    const p = decodePacket(reply);
    expect(p.code).toBe(Code.AccessReject);
    expect(joinAttribute(p.attributes, Attr.ProxyState)).toEqual(Buffer.from('hop-1'));
  });

  it('drops a request without Message-Authenticator, unless the client is marked legacy', async () => {
    const { engine } = setup();
    expect(await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password', ma: false })), 'auth')).toBeUndefined();
    expect(engine.stats.dropped.missingMessageAuthenticator).toBe(1);
    const legacy = await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password', ma: false }), '127.0.0.2'), 'auth');
    expect(decodePacket(legacy!).code).toBe(Code.AccessAccept);
  });

  it('drops a request signed with another secret (bad Message-Authenticator), even from a legacy client', async () => {
    const { engine } = setup();
    const wrong = Buffer.from('not-the-secret');
    expect(await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password', secret: wrong })), 'auth')).toBeUndefined();
    expect(await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password', secret: wrong }), '127.0.0.2'), 'auth')).toBeUndefined();
    expect(engine.stats.dropped.badMessageAuthenticator).toBe(2);
    expect(engine.stats.requests).toBe(0);
  });

  it('drops datagrams from unknown sources and malformed ones, counted by reason', async () => {
    const { engine } = setup();
    expect(await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password' }), '192.0.2.1'), 'auth')).toBeUndefined();
    expect(await engine.handle(from(randomBytes(7)), 'auth')).toBeUndefined();
    const bad = accessRequest({ user: 'alice', password: 'alice-password' });
    bad.writeUInt16BE(bad.length + 10, 2);
    expect(await engine.handle(from(bad), 'auth')).toBeUndefined();
    expect(engine.stats.dropped).toMatchObject({ unknownClient: 1, malformed: 2 });
    expect(engine.stats.malformed).toEqual({ TOO_SHORT: 1, LENGTH_MISMATCH: 1 });
  });

  it('drops an Accounting-Request on the authentication port and an Access-Request on the accounting port', async () => {
    const { engine } = setup();
    expect(await engine.handle(from(accessRequest({ user: 'alice', password: 'alice-password' })), 'acct')).toBeUndefined();
    const acct = encodePacket({ code: Code.AccountingRequest, identifier: 1, attributes: [], secret: SECRET });
    expect(await engine.handle(from(acct), 'auth')).toBeUndefined();
    expect(engine.stats.dropped.unsupportedCode).toBe(2);
  });

  it('answers a retransmission with the identical cached reply without verifying again', async () => {
    const { engine, users } = setup();
    const req = accessRequest({ user: 'alice', password: 'alice-password', id: 42 });
    // The second copy arrives while the first is still being verified, the third after.
    const [first, second] = await Promise.all([engine.handle(from(req), 'auth'), engine.handle(from(req), 'auth')]);
    const third = await engine.handle(from(req), 'auth');
    expect(first).toBeDefined();
    expect(second!.equals(first!)).toBe(true);
    expect(third!.equals(first!)).toBe(true);
    expect(users.calls).toHaveLength(1);
    expect(engine.stats).toMatchObject({ requests: 1, accepts: 1, retransmissions: 2 });
    // Another source port is another request.
    await engine.handle(from(req, '127.0.0.1', 40001), 'auth');
    expect(users.calls).toHaveLength(2);
  });

  it('forgets cached replies after their lifetime', async () => {
    let now = 1_000_000;
    const users = fakeUsers([{ username: 'alice', enabled: true, passwordHash: 'pw:alice-password' }]);
    const engine = new RadiusAuthEngine({
      clients: new NasTable([client('lo', '127.0.0.1/32')]), users, dummyPasswordHash: 'd', log: silentLogger,
      now: () => now, retransmitCache: { ttlMs: 5000 },
    });
    const req = accessRequest({ user: 'alice', password: 'alice-password' });
    await engine.handle(from(req), 'auth');
    now += 6000;
    await engine.handle(from(req), 'auth');
    expect(users.calls).toHaveLength(2);
    expect(engine.stats.retransmissions).toBe(0);
  });
});

describe('Accounting-Request', () => {
  it('answers a correctly signed request with Accounting-Response and drops a wrongly signed one', async () => {
    const { engine } = setup();
    const attrs = [{ type: Attr.AcctStatusType, value: Buffer.from([0, 0, 0, 1]) }];
    const good = encodePacket({ code: Code.AccountingRequest, identifier: 3, attributes: attrs, secret: SECRET });
    const reply = (await engine.handle(from(good), 'acct'))!;
    expect(decodePacket(reply).code).toBe(Code.AccountingResponse);
    expect(verifyResponseAuthenticator(reply, good.subarray(4, 20), SECRET)).toBe(true);
    const bad = encodePacket({ code: Code.AccountingRequest, identifier: 4, attributes: attrs, secret: 'other-secret' });
    expect(await engine.handle(from(bad), 'acct')).toBeUndefined();
    expect(engine.stats.accounting).toEqual({ requests: 1, responses: 1 });
    expect(engine.stats.dropped.badAuthenticator).toBe(1);
  });
});
