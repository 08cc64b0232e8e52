// The codec against a real peer: FreeRADIUS's radclient (Debian freeradius-utils) talks to a
// test-local UDP responder on 127.0.0.1 that decodes, verifies and answers with the codec only.
import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Attr, Code, decodePacket, encodePacket, joinAttribute, makeAttribute, readAttribute, unhideUserPassword,
  verifyAccountingRequest, verifyRequestMessageAuthenticator, type RadiusAttribute, type RadiusPacket,
} from '../../src/radius/codec/index.js';

const SECRET = 'testing123';

interface Seen { packet: RadiusPacket; ma: string; password?: string; eap?: Buffer; accountingValid?: boolean }

/** How the responder answers the next request: the attributes, and the secret it signs with. */
let replyWith: { attributes: RadiusAttribute[]; secret: string; tamper?: (reply: Buffer, requestAuthenticator: Buffer) => void } =
  { attributes: [], secret: SECRET };
const seen: Seen[] = [];
const failures: unknown[] = [];
let server: Socket;
let port = 0;

function runRadclient(input: string, command: 'auth' | 'acct' = 'auth'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('radclient', ['-x', '-t', '2', '-r', '1', `127.0.0.1:${port}`, command, SECRET]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(input);
  });
}

// radclient is a real peer installed by `make test-deps`: a missing one fails, it never skips.
describe('radclient (freeradius-utils) against the codec', () => {
  beforeAll(async () => {
    server = createSocket('udp4');
    server.on('message', (msg, rinfo) => {
      try {
        answer(msg, rinfo.port, rinfo.address);
      } catch (e) {
        failures.push(e);
      }
    });
    const answer = (msg: Buffer, rport: number, raddress: string): void => {
      const packet = decodePacket(msg);
      const entry: Seen = { packet, ma: verifyRequestMessageAuthenticator(msg, SECRET) };
      const pw = joinAttribute(packet.attributes, Attr.UserPassword);
      if (pw) entry.password = unhideUserPassword(pw, SECRET, packet.authenticator).toString('utf8');
      const eap = joinAttribute(packet.attributes, Attr.EapMessage);
      if (eap) entry.eap = eap;
      if (packet.code === Code.AccountingRequest) entry.accountingValid = verifyAccountingRequest(msg, SECRET);
      seen.push(entry);
      const reply = encodePacket({
        code: packet.code === Code.AccountingRequest ? Code.AccountingResponse : Code.AccessAccept,
        identifier: packet.identifier, requestAuthenticator: packet.authenticator, secret: replyWith.secret, attributes: replyWith.attributes,
      });
      replyWith.tamper?.(reply, packet.authenticator);
      server.send(reply, rport, raddress);
    };
    await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
    port = server.address().port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => expect(failures).toEqual([]));

  it('PAP with Message-Authenticator: unhidden, verified, and our Access-Accept is accepted', async () => {
    seen.length = 0;
    replyWith = {
      secret: SECRET,
      attributes: [
        makeAttribute('Tunnel-Type', 'VLAN', 1),
        makeAttribute('Tunnel-Medium-Type', 'IEEE-802', 1),
        makeAttribute('Tunnel-Private-Group-Id', 'vlan42', 1),
        makeAttribute('Reply-Message', 'R'.repeat(400)),
        makeAttribute('Class', Buffer.from('class-0123')),
        makeAttribute('Session-Timeout', 3600),
      ],
    };
    const { code, out } = await runRadclient('User-Name = alice, User-Password = secret, Message-Authenticator = 0x00\n');
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.packet.code).toBe(Code.AccessRequest);
    expect(req.ma).toBe('valid');
    expect(req.password).toBe('secret');
    expect(req.packet.attributes.map(readAttribute)).toContainEqual({ name: 'User-Name', value: 'alice' });
    expect(out, out).toMatch(/^Received Access-Accept Id/m);
    expect(out).not.toMatch(/invalid|Message-Authenticator.*(?:fail|bad|incorrect)|No reply/i);
    expect(out).toMatch(/Tunnel-Private-Group-Id:1 = "vlan42"/);
    expect(out).toMatch(/Tunnel-Type:1 = VLAN/);
    expect(code).toBe(0);
  });

  it('a reply signed with another secret is refused by radclient', async () => {
    seen.length = 0;
    replyWith = { secret: 'not-the-secret', attributes: [makeAttribute('Reply-Message', 'forged')] };
    const { code, out } = await runRadclient('User-Name = alice, User-Password = secret, Message-Authenticator = 0x00\n');
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(out, out).not.toMatch(/^Received Access-Accept Id/m);
    expect(out).toMatch(/invalid Message-Authenticator!\s+\(Shared secret is incorrect\.\)/);
    expect(code).not.toBe(0);
  });

  it('a 1000-octet EAP-Message, split by radclient, is joined by the codec', async () => {
    seen.length = 0;
    replyWith = { secret: SECRET, attributes: [{ type: Attr.EapMessage, value: Buffer.from('03010004', 'hex') }] };
    const eap = Buffer.concat([Buffer.from('0201', 'hex'), Buffer.from([0x03, 0xe8]), randomBytes(996)]);
    // radclient's input parser stops at about 510 octets of hex per value ("Expected end of
    // line or comma"), so the 1000 octets go in as two values, which radclient splits to 253+247 each.
    const [a, b] = [eap.subarray(0, 500), eap.subarray(500)];
    const { out } = await runRadclient(
      `User-Name = bob, EAP-Message = 0x${a.toString('hex')}, EAP-Message += 0x${b.toString('hex')}, Message-Authenticator = 0x00\n`,
    );
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.ma).toBe('valid');
    expect(req.packet.attributes.filter((x) => x.type === Attr.EapMessage).map((x) => x.value.length)).toEqual([253, 247, 253, 247]);
    expect(req.eap).toEqual(eap);
    expect(out, out).toMatch(/^Received Access-Accept Id/m);
    expect(out).toMatch(/EAP-Message = 0x03010004/);
  });

  it('a flipped bit in our Message-Authenticator, Response Authenticator recomputed, is refused', async () => {
    replyWith = {
      secret: SECRET, attributes: [makeAttribute('Reply-Message', 'hello')],
      tamper: (reply, ra) => {
        reply[22] ^= 1;
        const copy = Buffer.from(reply);
        ra.copy(copy, 4);
        createHash('md5').update(copy).update(SECRET).digest().copy(reply, 4);
      },
    };
    const { out } = await runRadclient('User-Name = alice, User-Password = secret, Message-Authenticator = 0x00\n');
    expect(out, out).not.toMatch(/^Received Access-Accept Id/m);
    expect(out).toMatch(/invalid Message-Authenticator/);
  });

  it('a wrong Response Authenticator with a correct Message-Authenticator is refused', async () => {
    replyWith = { secret: SECRET, attributes: [makeAttribute('Reply-Message', 'hello')], tamper: (reply) => { reply[4] ^= 1; } };
    const { out } = await runRadclient('User-Name = alice, User-Password = secret, Message-Authenticator = 0x00\n');
    expect(out, out).not.toMatch(/^Received Access-Accept Id/m);
    expect(out).toMatch(/invalid Response Authenticator/);
  });

  it('without Message-Authenticator in the input, the codec reports it missing; CHAP-Password decodes', async () => {
    seen.length = 0;
    replyWith = { secret: SECRET, attributes: [] };
    const { out } = await runRadclient('User-Name = carol, CHAP-Password = "hunter2"\n');
    expect(out, out).toMatch(/^Received Access-Accept Id/m);
    const req = seen[0]!;
    expect(req.ma).toBe('missing');
    // RFC 1994 §4.1 / RFC 2865 §2.2: response = MD5(ident + password + challenge); no CHAP-Challenge means the Request Authenticator.
    const chap = joinAttribute(req.packet.attributes, Attr.ChapPassword)!;
    const challenge = joinAttribute(req.packet.attributes, Attr.ChapChallenge) ?? req.packet.authenticator;
    const expected = createHash('md5').update(chap.subarray(0, 1)).update('hunter2').update(challenge).digest();
    expect(chap.subarray(1)).toEqual(expected);
  });

  it('Accounting-Request: the RFC 2866 §3 authenticator verifies, and our Accounting-Response is accepted', async () => {
    seen.length = 0;
    replyWith = { secret: SECRET, attributes: [] };
    const { code, out } = await runRadclient(
      'User-Name = alice, Acct-Status-Type = Interim-Update, Acct-Session-Id = "s-1", Acct-Input-Octets = 1234, Event-Timestamp = 1700000000\n', 'acct',
    );
    expect(out, out).toMatch(/^Received Accounting-Response Id/m);
    expect(code).toBe(0);
    const req = seen[0]!;
    expect(req.accountingValid).toBe(true);
    expect(req.packet.attributes.map(readAttribute)).toEqual(expect.arrayContaining([
      { name: 'Acct-Status-Type', value: 'Interim-Update' },
      { name: 'Acct-Input-Octets', value: 1234 },
      { name: 'Event-Timestamp', value: 1700000000 },
    ]));
  });
});
