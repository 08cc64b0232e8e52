// The RADIUS server under 100,000+ random, mutated and "signed garbage" datagrams from a
// seeded PRNG, in-process: RadiusAuthEngine with the EAP engine (EAP-TLS, PEAP and TTLS
// offered) as the daemon wires them, real users on a temp data folder, a strict client, a
// legacy client (no Message-Authenticator required) and unknown sources. Nothing may escape
// the engine; nothing that fails decoding or a signature check is answered; every answer
// decodes, is signed (Message-Authenticator first on Access-* replies, Response
// Authenticator) and matches its request; the counters add up; the tables stay bounded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CertStatusIndex } from '../../src/ca/cert-status.js';
import { toPem } from '../../src/ca/pem.js';
import type { Actor } from '../../src/ca/storage.js';
import { parseCidr } from '../../src/core/cidr.js';
import type { Logger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { eapCertificateSource } from '../../src/eap-wiring.js';
import { initDataDir, openPkiAt, serverTlsCredentials, type Pki } from '../../src/main.js';
import { RadiusAuthEngine, type RadiusService } from '../../src/radius/auth.js';
import {
  Attr, Code, MsAttr, VENDOR_MICROSOFT, decodePacket, encodePacket, hideUserPassword, joinAttribute, verifyAccountingRequest,
  verifyRequestMessageAuthenticator, verifyResponseAuthenticator, verifyResponseMessageAuthenticator, type RadiusAttribute,
} from '../../src/radius/codec/index.js';
import { EapCode, EapType, TlsFlag, encodeEap, encodeEapTls } from '../../src/radius/eap/codec.js';
import { EapEngine } from '../../src/radius/eap/engine.js';
import { innerAuthenticator, type InnerUsers } from '../../src/radius/eap/inner-auth.js';
import type { UserRecord } from '../../src/core/users.js';
import { eapTlsContext } from '../../src/radius/eap/tls-context.js';
import { PapCache, withPapCache } from '../../src/radius/pap-cache.js';
import { AccountingRecorder } from '../../src/radius/accounting.js';
import { prngUint32 } from '../helpers/unit.js';

const SEED = 0x5eed_3a11;
const PACKETS = 100_000;
const BATCH = 16;
const MAX_EAP_SESSIONS = 48;
const MAX_CACHE = 256;

const by: Actor = { actor: 'test:unit', source: 'cli' };
const USER = 'User';
const PASSWORD = 'clientPass';
// RFC 2759 §9.2: the MS-CHAPv2 exchange for User / clientPass.
const unhex = (s: string): Buffer => Buffer.from(s, 'hex');
const AUTH_CHALLENGE = unhex('5B5D7C7D7B3F2F3E3C2C602132262628');
const PEER_CHALLENGE = unhex('21402324255E262A28295F2B3A337C7E');
const NT_RESPONSE = unhex('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF');

const STRICT: NasClient = { name: 'wlan', network: parseCidr('192.0.2.10/32')!, secret: Buffer.from('fuzz-strict-S3cret'), kind: 'wlan', requireMessageAuthenticator: true };
const LEGACY: NasClient = { name: 'legacy', network: parseCidr('192.0.2.20/32')!, secret: Buffer.from('fuzz-legacy-S3cret'), kind: 'vpn', requireMessageAuthenticator: false };
const V6: NasClient = { name: 'v6', network: parseCidr('2001:db8::/64')!, secret: Buffer.from('fuzz-v6-S3cret!!'), kind: 'gateway', requireMessageAuthenticator: true };
const CLIENTS = [STRICT, LEGACY, V6];
const KNOWN_ADDRESSES = ['192.0.2.10', '192.0.2.20', '2001:db8::7', '2001:db8::ffff:1'];
const UNKNOWN_FIXED = ['192.0.2.11', '127.0.0.1', '::1', '2001:db9::1', '', 'not-an-address', '::ffff:192.0.2.10', '192.0.2.010'];

const quietLog: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => quietLog };

let tmp: string;
let pki: Pki;
let hello: Buffer;

/** A real TLS ClientHello, as a supplicant's first EAP-TLS message would carry it, trusting authbox's CA. */
function clientHello(ca: string): Promise<Buffer> {
  return new Promise((resolve) => {
    const socket = new Duplex({
      read() {},
      write(chunk: Buffer, _encoding, callback) {
        resolve(Buffer.from(chunk));
        callback();
        setImmediate(() => conn.destroy());
      },
    });
    const conn = tlsConnect({ socket, ca, servername: 'localhost' });
    conn.on('error', () => {});
  });
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-server-fuzz-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Server Fuzz', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  pki.users.add({ username: USER, password: PASSWORD }, by);
  hello = await clientHello(pki.authority.chain().map((d) => toPem('CERTIFICATE', d)).join(''));
});
afterAll(() => {
  pki?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface Sent { data: Buffer; address: string; port: number; service: RadiusService; kind: string }
interface Conversation { state: Buffer; id: number; address: string; secret: Buffer; helloAt: number }

describe('RADIUS server fuzz (in-process RadiusAuthEngine with EAP)', () => {
  it(`survives ${PACKETS} random, mutated and signed-garbage datagrams without a crash or a reply to garbage`, async () => {
    let clock = 1_800_000_000_000;
    const now = (): number => clock;
    const table = new NasTable(CLIENTS);

    // Users as the daemon has them: the PAP cache in front of scrypt (its misses are the scrypt runs).
    const papCache = new PapCache({ verify: (u, p) => pki.users.verifyPassword(u, p), now });
    const users = withPapCache(pki.users, papCache);

    // The EAP engine as src/daemon.ts eapEngine() builds it, with a small session cap and a short age.
    const creds = serverTlsCredentials(pki)!;
    const context = eapTlsContext({ certDer: creds.certDer, key: pki.vault.load(creds.keyId), chain: pki.authority.chain() });
    const status = new CertStatusIndex(pki.store);
    const eap = new EapEngine({
      inner: innerAuthenticator(users as InnerUsers<UserRecord>),
      tls: () => context,
      log: quietLog,
      now,
      sessions: { maxSessions: MAX_EAP_SESSIONS, maxAgeMs: 3_000 },
      certificates: eapCertificateSource(pki, status, users, now),
    });
    // Access-Challenges are not in the engine's counters: counted here, from the EAP engine's results.
    let challenges = 0;
    const eapHandle = eap.handle.bind(eap);
    eap.handle = (...args) => eapHandle(...args).then((r) => {
      if (!r.outcome) challenges++;
      return r;
    });
    const errors: Record<string, unknown>[] = [];
    // Accounting is parsed and "stored" (counted), and every final decision is handed to the decision log.
    let stored = 0;
    let decisions = 0;
    const accounting = new AccountingRecorder({ applyAccounting: (events) => void (stored += events.length) });
    const engine = new RadiusAuthEngine({
      accounting, decisions: { record: () => void decisions++ },
      clients: table, users, eap, dummyPasswordHash: 'none', now, unknownClientLogIntervalMs: 1_000,
      retransmitCache: { maxEntries: MAX_CACHE, ttlMs: 2_000 },
      log: { ...quietLog, error: (o) => void errors.push(o as Record<string, unknown>), child: () => quietLog },
    });

    const next = prngUint32(SEED);
    const int = (n: number): number => next() % n;
    const chance = (p: number): boolean => next() / 4294967296 < p;
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const bytes = (n: number): Buffer => {
      const b = Buffer.alloc(n);
      let w = 0;
      for (let i = 0; i < n; i++) {
        if ((i & 3) === 0) w = next();
        b[i] = (w >>> ((i & 3) * 8)) & 0xff;
      }
      return b;
    };
    const secretOf = (address: string): Buffer => table.lookup(address)!.secret;
    const unknownAddress = (): string => (chance(0.5) ? pick(UNKNOWN_FIXED)
      : chance(0.5) ? `198.51.${int(256)}.${int(256)}` : `2001:db9::${int(65536).toString(16)}`);
    const knownAddress = (): string => pick(KNOWN_ADDRESSES);

    // ---- valid packets ----
    const accessRequest = (address: string, attributes: RadiusAttribute[], ma = true): Buffer => encodePacket({
      code: Code.AccessRequest, identifier: int(256), authenticator: bytes(16), secret: secretOf(address), attributes, messageAuthenticator: ma,
    });
    const nasAttrs = (): RadiusAttribute[] => [
      { type: Attr.NasIpAddress, value: Buffer.of(192, 0, 2, 10) },
      ...(chance(0.3) ? [{ type: Attr.ProxyState, value: bytes(1 + int(20)) }] : []),
      ...(chance(0.3) ? [{ type: Attr.FramedMtu, value: Buffer.from([0, 0, int(6), int(256)]) }] : []),
    ];
    const pap = (address: string, user = USER, password = PASSWORD): Buffer => {
      const authenticator = bytes(16);
      return encodePacket({
        code: Code.AccessRequest, identifier: int(256), authenticator, secret: secretOf(address), messageAuthenticator: chance(0.9),
        attributes: [{ type: Attr.UserName, value: Buffer.from(user) },
          { type: Attr.UserPassword, value: hideUserPassword(password, secretOf(address), authenticator) }, ...nasAttrs()],
      });
    };
    const ms = (type: number, value: Buffer): RadiusAttribute => ({ vendor: VENDOR_MICROSOFT, type, value });
    const mschapAttrs = (user: string): RadiusAttribute[] => [
      { type: Attr.UserName, value: Buffer.from(user) }, ms(MsAttr.ChapChallenge, AUTH_CHALLENGE),
      ms(MsAttr.Chap2Response, Buffer.concat([Buffer.of(0x2a, 0), PEER_CHALLENGE, Buffer.alloc(8), NT_RESPONSE])),
    ];
    const mschap = (address: string): Buffer => accessRequest(address, [...mschapAttrs(USER), ...nasAttrs()]);
    const eapIdentity = (address: string): Buffer => accessRequest(address, [
      { type: Attr.UserName, value: Buffer.from(USER) },
      { type: Attr.EapMessage, value: encodeEap({ code: EapCode.Response, identifier: int(256), type: EapType.Identity, data: Buffer.from(pick([USER, 'alice', 'anonymous@example.org'])) }) },
      ...nasAttrs(),
    ]);
    const eapResponse = (c: Conversation, type: number, data: Buffer): Buffer => accessRequest(c.address, [
      { type: Attr.UserName, value: Buffer.from(USER) }, { type: Attr.State, value: c.state },
      { type: Attr.EapMessage, value: encodeEap({ code: EapCode.Response, identifier: chance(0.95) ? c.id : int(256), type, data }) },
      ...nasAttrs(),
    ]);
    /** The next step of a live conversation: the ClientHello (whole or in fragments), an ACK, a Nak, or random TLS. */
    const eapStep = (c: Conversation): Buffer => {
      const r = int(10);
      if (r < 4) {
        const size = pick([hello.length, 64, 100, 200]);
        const piece = hello.subarray(c.helloAt, c.helloAt + size);
        const first = c.helloAt === 0;
        c.helloAt += piece.length;
        const more = c.helloAt < hello.length;
        if (!more) c.helloAt = 0;
        return eapResponse(c, EapType.Tls, encodeEapTls({
          flags: (first ? TlsFlag.Length : 0) | (more ? TlsFlag.More : 0), ...(first ? { totalLength: hello.length } : {}), tls: piece,
        }));
      }
      if (r < 6) return eapResponse(c, EapType.Tls, encodeEapTls({ flags: 0, tls: Buffer.alloc(0) }));
      if (r < 7) return eapResponse(c, EapType.Nak, chance(0.7) ? Buffer.of(pick([25, 21, 4, 13, 26])) : bytes(int(6)));
      if (r < 8) return eapResponse(c, pick([EapType.Peap, EapType.Ttls, EapType.Tls]), encodeEapTls({ flags: int(256) & 0xc0, totalLength: next(), tls: bytes(int(300)) }));
      return eapResponse(c, EapType.Tls, encodeEapTls({ flags: 0, tls: Buffer.concat([Buffer.of(0x16, 3, int(5)), bytes(int(400))]) }));
    };
    const acct = (address: string): Buffer => encodePacket({
      code: Code.AccountingRequest, identifier: int(256), secret: secretOf(address), messageAuthenticator: chance(0.5),
      attributes: [{ type: 40, value: Buffer.from([0, 0, 0, 1 + int(3)]) }, { type: 44, value: Buffer.from(bytes(8).toString('hex')) },
        { type: Attr.UserName, value: Buffer.from(USER) }, ...nasAttrs()],
    });
    const statusServer = (address: string): Buffer => encodePacket({
      code: Code.StatusServer, identifier: int(256), authenticator: bytes(16), secret: secretOf(address), attributes: nasAttrs(),
    });

    // ---- garbage ----
    const randomAttribute = (): RadiusAttribute => {
      const r = int(10);
      if (r < 2) return ms(int(3) === 0 ? int(256) : pick([1, 2, 11, 16, 17, 25, 26]), bytes(int(60)));
      if (r < 3) return { vendor: 1 + int(70_000), type: int(256), value: bytes(int(40)) };
      if (r < 5) return { type: Attr.EapMessage, value: chance(0.5) ? bytes(int(600)) : encodeEap({ code: 1 + int(4) as 1, identifier: int(256), type: int(256), data: bytes(int(300)) }) };
      if (r < 6) return { type: pick([Attr.UserName, Attr.State, Attr.ProxyState, Attr.FramedMtu, 3, 60]), value: bytes(1 + int(40)) };
      if (r < 7) return { type: Attr.UserPassword, value: bytes(16 * (1 + int(8)) + (chance(0.2) ? 1 + int(15) : 0)) };
      return { type: 1 + int(255), value: bytes(int(253)) };
    };
    const randomAttributes = (): RadiusAttribute[] => Array.from({ length: int(12) }, randomAttribute)
      .filter((a) => a.vendor !== undefined || a.type !== Attr.MessageAuthenticator)
      // a known user name with a random password costs a scrypt: unknown names instead (the PAP cache test covers the rest)
      .map((a) => (a.vendor === undefined && a.type === Attr.UserName && a.value.toString().toLowerCase() === USER.toLowerCase() ? { ...a, value: Buffer.from('nobody') } : a));
    /** A seed's attributes, some of them changed, and then signed again. */
    const corruptAttributes = (attrs: RadiusAttribute[]): RadiusAttribute[] => attrs.flatMap((a) => {
      if (!chance(0.4)) return [a];
      const r = int(5);
      if (r === 0) return [];
      if (r === 1) return [{ ...a, value: a.value.subarray(0, int(a.value.length + 1)) }];
      if (r === 2) return [{ ...a, value: Buffer.concat([a.value, bytes(1 + int(30))]).subarray(0, a.vendor === undefined ? 253 : 247) }];
      if (r === 3) {
        const v = Buffer.from(a.value);
        if (v.length) v[int(v.length)] ^= 1 << int(8);
        return [{ ...a, value: v }];
      }
      return [a, randomAttribute()];
    });
    const signedGarbage = (address: string): { data: Buffer; service: RadiusService } => {
      const secret = table.lookup(address)?.secret ?? bytes(16);
      const r = int(10);
      let attributes: RadiusAttribute[];
      if (r < 4) attributes = randomAttributes();
      else if (r < 6) attributes = corruptAttributes([...mschapAttrs(chance(0.5) ? USER : 'nobody'), ...nasAttrs()]);
      else if (r < 8 && live.length) {
        const c = pick(live);
        attributes = corruptAttributes([{ type: Attr.State, value: c.state }, { type: Attr.EapMessage, value: encodeEap({
          code: EapCode.Response, identifier: c.id, type: pick([EapType.Tls, EapType.Peap, EapType.Ttls, EapType.Nak]), data: encodeEapTls({ flags: int(256), totalLength: next(), tls: bytes(int(500)) }),
        }) }]);
      } else {
        attributes = corruptAttributes([{ type: Attr.UserName, value: Buffer.from('nobody') },
          { type: Attr.UserPassword, value: hideUserPassword('whatever1', secret, Buffer.alloc(16)) }, ...randomAttributes()]);
      }
      if (chance(0.05)) attributes.push(...Array.from({ length: 15 + int(3) }, () => ({ type: Attr.ProxyState, value: bytes(253) })));
      const acctPort = chance(0.2);
      // Accounting garbage with a status type (sometimes a sound one) and a session id gets past the required-attribute check to the parser.
      if (acctPort && chance(0.7)) {
        attributes = corruptAttributes([
          { type: Attr.AcctStatusType, value: chance(0.5) ? Buffer.from([0, 0, 0, pick([1, 2, 3, 7, 8, 15])]) : bytes(int(6)) },
          { type: Attr.AcctSessionId, value: bytes(1 + int(30)) },
          ...Array.from({ length: int(6) }, () => ({ type: pick([41, 42, 43, 45, 46, 47, 48, 49, 52, 53, 55, 8, 31, 30]), value: chance(0.6) ? bytes(4) : bytes(int(20)) })),
          ...attributes.slice(0, 3),
        ]);
      }
      const code = acctPort ? Code.AccountingRequest : Code.AccessRequest;
      try {
        const data = encodePacket({ code, identifier: int(256), ...(acctPort ? {} : { authenticator: bytes(16) }), secret, attributes, messageAuthenticator: chance(0.9) });
        return { data, service: acctPort ? 'acct' : 'auth' };
      } catch {
        // too long for one packet: random attributes can add up past 4096 octets
        return { data: bytes(20 + int(200)), service: 'auth' };
      }
    };
    const mutate = (src: Buffer): Buffer => {
      const b = Buffer.from(src);
      const r = int(10);
      if (r < 3) {
        for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] ^= 1 << int(8);
        return b;
      }
      if (r < 4) {
        for (let i = 1 + int(4); i > 0; i--) b[int(b.length)] = int(256);
        return b;
      }
      if (r < 5) return b.subarray(0, int(b.length));
      if (r < 6) return Buffer.concat([b, bytes(1 + int(60))]);
      if (r < 7 && b.length >= 4) {
        b.writeUInt16BE(chance(0.5) ? Math.max(0, b.length + int(9) - 4) : int(5000), 2);
        return b;
      }
      // an attribute's Length pointed elsewhere
      let at = 20;
      for (let hops = int(8); hops > 0 && at + 1 < b.length && b[at + 1]! >= 2; hops--) at += b[at + 1]!;
      if (at + 1 < b.length) b[at + 1] = chance(0.3) ? pick([0, 1, 2, 3, 255]) : int(256);
      return b;
    };
    const seedPacket = (address: string): { data: Buffer; service: RadiusService } => {
      const r = int(12);
      if (r < 2) return { data: pap(address, chance(0.8) ? USER : 'nobody', PASSWORD), service: 'auth' };
      if (r < 4) return { data: mschap(address), service: 'auth' };
      if (r < 6) return { data: eapIdentity(address), service: 'auth' };
      if (r < 9 && live.length) {
        const c = pick(live);
        return { data: eapStep(c), service: 'auth' };
      }
      if (r < 11) return { data: acct(address), service: 'acct' };
      return { data: statusServer(address), service: chance(0.5) ? 'auth' : 'acct' };
    };

    // ---- the oracle ----
    /** True when the engine must stay silent: unknown source, undecodable, wrong code for the port, or a failed signature check. */
    const mustBeSilent = (s: Sent): boolean => {
      const client = table.lookup(s.address);
      if (!client) return true;
      let packet;
      try {
        packet = decodePacket(s.data);
      } catch {
        return true;
      }
      if (s.service === 'auth') {
        if (packet.code !== Code.AccessRequest) return true;
        const ma = verifyRequestMessageAuthenticator(s.data, client.secret);
        if (ma === 'invalid') return true;
        if (ma === 'missing' && (client.requireMessageAuthenticator || joinAttribute(packet.attributes, Attr.EapMessage))) return true;
        return false;
      }
      if (packet.code !== Code.AccountingRequest) return true;
      return !verifyAccountingRequest(s.data, client.secret) || verifyRequestMessageAuthenticator(s.data, client.secret) === 'invalid';
    };

    const live: Conversation[] = [];
    const history: Sent[] = [];
    const failures: string[] = [];
    const fail = (s: Sent, what: string): void => {
      if (failures.length < 20) failures.push(`${what} [${s.kind} ${s.service} from ${s.address}: ${s.data.toString('hex').slice(0, 200)}]`);
      else failures.push(what);
    };
    const replies: Record<string, number> = {};
    const bySource: Record<string, number> = {};
    let answeredGarbage = 0;
    let serverFlights = 0;
    let maxSessions = 0;
    let maxCache = 0;

    const check = (s: Sent, reply: Buffer | undefined): void => {
      const silent = mustBeSilent(s);
      if (!reply) return;
      if (silent) return fail(s, 'a reply to a packet that fails decoding or a signature check');
      const client = table.lookup(s.address)!;
      const request = decodePacket(s.data);
      let packet;
      try {
        packet = decodePacket(reply);
      } catch (e) {
        return fail(s, `a reply that does not decode: ${(e as Error).message}`);
      }
      if (packet.identifier !== request.identifier) fail(s, 'a reply with another Identifier');
      const allowed = s.service === 'auth' ? [Code.AccessAccept, Code.AccessReject, Code.AccessChallenge] : [Code.AccountingResponse];
      if (!(allowed as number[]).includes(packet.code)) fail(s, `a reply with code ${packet.code} on ${s.service}`);
      if (!verifyResponseAuthenticator(reply, request.authenticator, client.secret)) fail(s, 'a bad Response Authenticator');
      if (s.service === 'auth') {
        if (reply[20] !== Attr.MessageAuthenticator || reply[21] !== 18) fail(s, 'no Message-Authenticator first');
        if (verifyResponseMessageAuthenticator(reply, request.authenticator, client.secret) !== 'valid') fail(s, 'a bad Message-Authenticator');
      } else if (verifyResponseMessageAuthenticator(reply, request.authenticator, client.secret) === 'invalid') {
        fail(s, 'a bad Message-Authenticator on an Accounting-Response');
      }
      // Proxy-State comes back unchanged, in order (RFC 2865 §5.33).
      const ps = (p: typeof packet) => p.attributes.filter((a) => a.vendor === undefined && a.type === Attr.ProxyState).map((a) => a.value.toString('hex')).join();
      if (ps(packet) !== ps(request)) fail(s, 'Proxy-State not echoed');
      // Only the one user's right credentials are ever accepted.
      if (packet.code === Code.AccessAccept && joinAttribute(request.attributes, Attr.UserName)?.toString().toLowerCase() !== USER.toLowerCase()) fail(s, 'an accept for another user');
      replies[`${s.kind}:${packet.code}`] = (replies[`${s.kind}:${packet.code}`] ?? 0) + 1;
      if (s.kind !== 'seed' && s.kind !== 'retransmission') answeredGarbage++;
      // Follow EAP conversations, so that later packets carry a live State and the expected Identifier.
      const state = joinAttribute(packet.attributes, Attr.State);
      const eapMsg = joinAttribute(packet.attributes, Attr.EapMessage);
      const requestState = joinAttribute(request.attributes, Attr.State);
      if (requestState) {
        const i = live.findIndex((c) => c.state.equals(requestState));
        if (i >= 0 && (packet.code !== Code.AccessChallenge || !state)) live.splice(i, 1);
      }
      if (packet.code === Code.AccessChallenge && eapMsg && eapMsg.length > 100) serverFlights++;
      if (packet.code === Code.AccessChallenge && state && eapMsg && eapMsg.length >= 2) {
        const c = live.find((x) => x.state.equals(state));
        if (c) c.id = eapMsg[1]!;
        else live.push({ state, id: eapMsg[1]!, address: s.address, secret: client.secret, helloAt: 0 });
        while (live.length > 2 * MAX_EAP_SESSIONS) live.shift();
      }
    };

    const nextPacket = (): Sent => {
      const port = 1024 + int(4);
      const r = int(100);
      if (r < 15) {
        const len = chance(0.9) ? int(300) : int(4200);
        const data = bytes(len);
        if (len >= 20 && chance(0.6)) {
          data[0] = pick([1, 2, 3, 4, 5, 11, 12, 40, 43]);
          data.writeUInt16BE(chance(0.8) ? len : int(5000), 2);
        }
        return { data, address: chance(0.7) ? knownAddress() : unknownAddress(), port, service: chance(0.7) ? 'auth' : 'acct', kind: 'random' };
      }
      if (r < 50) {
        const address = knownAddress();
        const seed = seedPacket(address);
        let data = mutate(seed.data);
        if (chance(0.2)) data = mutate(data);
        return { data, address: chance(0.9) ? address : unknownAddress(), port, service: seed.service, kind: 'mutated' };
      }
      if (r < 80) {
        const address = chance(0.8) ? knownAddress() : unknownAddress();
        return { ...signedGarbage(address), address, port, kind: 'signed-garbage' };
      }
      if (r < 95 || history.length === 0) {
        const address = knownAddress();
        return { ...seedPacket(address), address, port, kind: 'seed' };
      }
      return { ...pick(history.slice(-64)), kind: 'retransmission' };
    };

    const started = Date.now();
    let sent = 0;
    while (sent < PACKETS) {
      const batch: Sent[] = [];
      for (let i = 0; i < BATCH; i++) batch.push(nextPacket());
      const results = await Promise.all(batch.map(async (s) => {
        clock += 1;
        try {
          return { s, reply: await engine.handle({ data: s.data, address: s.address, port: s.port }, s.service) };
        } catch (e) {
          fail(s, `an exception escaped: ${(e as Error)?.stack ?? String(e)}`);
          return { s, reply: undefined };
        }
      }));
      for (const { s, reply } of results) {
        check(s, reply);
        bySource[s.kind] = (bySource[s.kind] ?? 0) + 1;
        history.push(s);
      }
      if (history.length > 256) history.splice(0, history.length - 64);
      sent += batch.length;
      maxSessions = Math.max(maxSessions, eap.activeSessions);
      maxCache = Math.max(maxCache, (engine as unknown as { cache: { size: number } }).cache.size);
    }
    const elapsed = Date.now() - started;

    const st = engine.stats;
    const d = st.dropped;
    // Every drop reason the engine counts, whatever it counts (the list grows with the engine).
    const drops = Object.values(d).reduce((a, b) => a + b, 0);
    const summary = { elapsedMs: elapsed, stats: st, challenges, replies, bySource, answeredGarbage, serverFlights, maxSessions, maxCache, scrypt: papCache.stats.misses, papCache: papCache.stats, stored, decisions, errors: errors.slice(0, 5) };
    console.log(JSON.stringify(summary));

    expect(failures.slice(0, 20)).toEqual([]);
    expect(errors).toEqual([]);
    expect(d.internalError).toBe(0);
    // received = replies + drops (nothing pending: every promise has settled)
    expect(st.received).toBe(sent);
    expect(st.received).toBe(drops + st.retransmissions + st.accepts + st.rejects + challenges + st.accounting.responses);
    expect(st.requests).toBe(st.accepts + st.rejects);
    expect(st.accounting.requests).toBe(st.accounting.responses);
    // every stored record was answered; statuses that carry no record (tunnel accounting, Failed, unknown) are answered unstored
    expect(stored).toBeLessThanOrEqual(st.accounting.responses);
    expect(stored).toBeGreaterThan(1000);
    expect(decisions).toBe(st.accepts + st.rejects);
    expect(d.malformed).toBe(Object.values(st.malformed).reduce((a, b) => a + (b ?? 0), 0));
    // Bounded: EAP sessions by their cap, the retransmission cache by its size, the unknown-source log table.
    expect(maxSessions).toBeLessThanOrEqual(MAX_EAP_SESSIONS);
    expect(maxCache).toBeLessThanOrEqual(MAX_CACHE);
    expect((engine as unknown as { drops: { unknownLogged: Map<string, number> } }).drops.unknownLogged.size).toBeLessThanOrEqual(1024);
    // The fuzz reached what it meant to: every drop reason, every method, and garbage that passed the signature checks.
    for (const reason of ['unknownClient', 'malformed', 'missingMessageAuthenticator', 'badMessageAuthenticator', 'badAuthenticator', 'unsupportedCode'] as const) {
      expect(d[reason], reason).toBeGreaterThan(100);
    }
    expect(st.accepts).toBeGreaterThan(100);
    expect(st.rejects).toBeGreaterThan(1000);
    expect(challenges).toBeGreaterThan(1000);
    // the real ClientHello got the server's TLS flight back (fragments of it), so handshakes did run
    expect(serverFlights).toBeGreaterThan(50);
    expect(answeredGarbage).toBeGreaterThan(5000);
    expect(st.retransmissions).toBeGreaterThan(100);
    expect(st.accounting.responses).toBeGreaterThan(1000);
    // PAP for the known user goes through the cache: scrypt runs only for the first and for the legacy client's flipped passwords.
    expect(papCache.stats.misses).toBeLessThan(200);
    expect(papCache.stats.hits).toBeGreaterThan(1000);
    eap.close();
    expect(eap.activeSessions).toBe(0);
  }, 120_000);

  // Found by aiming the fuzz's Proxy-State padding: a signed request of 4096 octets whose reply
  // (MS-CHAP-Error and Reply-Message added, the Proxy-State echoed) cannot fit in one packet.
  // The engine stays silent and counts it as replyTooLong, not as an internal error.
  it('stays silent, without a throw, when the reply to a signed request cannot fit in 4096 octets', async () => {
    const recorded: unknown[] = [];
    const engine = new RadiusAuthEngine({
      clients: new NasTable(CLIENTS), users: pki.users, dummyPasswordHash: 'none', log: quietLog, decisions: { record: (d) => void recorded.push(d) },
    });
    const attrs: RadiusAttribute[] = [
      { type: Attr.UserName, value: Buffer.from(USER) },
      { vendor: VENDOR_MICROSOFT, type: MsAttr.ChapChallenge, value: AUTH_CHALLENGE },
      { vendor: VENDOR_MICROSOFT, type: MsAttr.Chap2Response, value: Buffer.concat([Buffer.of(1, 0), PEER_CHALLENGE, Buffer.alloc(8), Buffer.alloc(24, 0xee)]) },
      ...Array.from({ length: 15 }, () => ({ type: Attr.ProxyState, value: Buffer.alloc(253, 7) })),
    ];
    const sized = (room: number): Buffer => encodePacket({
      code: Code.AccessRequest, identifier: 1, authenticator: Buffer.alloc(16, 3), secret: STRICT.secret,
      attributes: [...attrs, { type: Attr.ProxyState, value: Buffer.alloc(room, 9) }],
    });
    const data = sized(4096 - sized(1).length + 1);
    expect(data.length).toBe(4096);
    const reply = await engine.handle({ data, address: '192.0.2.10', port: 1 }, 'auth');
    expect(reply).toBeUndefined();
    expect(engine.stats.dropped).toMatchObject({ replyTooLong: 1, internalError: 0 });
    // Nothing was sent, so nothing was decided: no refusal counted or logged.
    expect(engine.stats).toMatchObject({ accepts: 0, rejects: 0 });
    expect(recorded).toEqual([]);
  });
});
