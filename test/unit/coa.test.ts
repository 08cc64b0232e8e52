// RFC 5176 Disconnect-Request: the packet and its authenticators against fixed vectors (computed
// apart from this codec, with Python's hashlib/hmac), the reply checks, and the CoA engine over a
// real SQLite store and the UDP sender, with a NAS played by a dgram socket on 127.0.0.1.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { createHash, createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountingSession } from '../../src/core/accounting.js';
import {
  CoaEngine, CoaLog, checkDisconnectReply, coaAddress, disconnectAttributes, encodeDisconnect, type CoaCertificate, type CoaTarget,
} from '../../src/core/coa.js';
import { silentLogger } from '../../src/core/logger.js';
import { UdpCoaClient } from '../../src/radius/coa-client.js';
import { Attr, Code, decodePacket, makeAttribute } from '../../src/radius/codec/index.js';
import { SqliteAccountingStore } from '../../src/store/accounting-store.js';
import { ChangeLog } from '../../src/store/changes.js';
import { SqliteCoaStore } from '../../src/store/coa-store.js';
import { openDatabase, type Db } from '../../src/store/db.js';

const SECRET = 'coa-shared-S3cret';
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Disconnect-Request, Identifier 0x2a: Message-Authenticator, User-Name "alice", Acct-Session-Id "sess-1",
// NAS-IP-Address 192.0.2.10, Calling-Station-Id "02-00-00-00-00-01", Event-Timestamp 1700000000.
const REQUEST = hex('282a00547ce7f484ecfb4f5e28ce93cecc0435675012f14fd5ad2ae2c1a461485ea177e284210107616c6963652c08736573732d310406c000020a'
  + '1f1330322d30302d30302d30302d30302d303137066553f100');
// Disconnect-ACK to it with a Message-Authenticator; Disconnect-NAK with Error-Cause 503 and none.
const ACK = hex('292a0026791f165eda38ba1e791f65fa8b818ccd501220c10e88eae1c2b1e80ccb1cdd9923d9');
const NAK_503 = hex('2a2a001a1df4405a6f70b9dde680434737d9ddd96506000001f7');

describe('Disconnect-Request codec (RFC 5176 §2.3, §3.4; RFC 3579 §3.2)', () => {
  const attrs = [
    makeAttribute('User-Name', 'alice'), makeAttribute('Acct-Session-Id', 'sess-1'), makeAttribute('NAS-IP-Address', '192.0.2.10'),
    makeAttribute('Calling-Station-Id', '02-00-00-00-00-01'), makeAttribute('Event-Timestamp', 1700000000),
  ];

  it('encodes the fixed vector: Request Authenticator as for Accounting-Request, Message-Authenticator first', () => {
    expect(encodeDisconnect(0x2a, attrs, SECRET).toString('hex')).toBe(REQUEST.toString('hex'));
  });

  it('builds the attributes from a session: identification, Event-Timestamp', () => {
    const session = { username: 'alice', sessionId: 'sess-1', nasIp: '192.0.2.10', nasIdentifier: null, callingStationId: '02-00-00-00-00-01' };
    const built = disconnectAttributes(session as AccountingSession, new Date(1700000000_500));
    expect(encodeDisconnect(0x2a, built, SECRET)).toEqual(REQUEST);
  });

  it('accepts the ACK and the NAK with their Error-Cause', () => {
    expect(checkDisconnectReply(ACK, REQUEST, SECRET)).toEqual({ kind: 'ack', errorCause: null });
    expect(checkDisconnectReply(NAK_503, REQUEST, SECRET)).toEqual({ kind: 'nak', errorCause: 503 });
  });

  it('refuses a reply with a wrong secret, an altered Message-Authenticator, another Identifier or another code', () => {
    expect(checkDisconnectReply(ACK, REQUEST, 'another-secret')).toMatchObject({ kind: 'invalid', why: 'bad Response Authenticator' });
    // The Response Authenticator recomputed over an altered Message-Authenticator: only the HMAC catches it.
    const altered = Buffer.from(ACK);
    altered[30] ^= 1;
    altered.fill(0, 4, 20);
    REQUEST.copy(altered, 4, 4, 20);
    createHash('md5').update(altered).update(SECRET).digest().copy(altered, 4);
    expect(checkDisconnectReply(altered, REQUEST, SECRET)).toMatchObject({ kind: 'invalid', why: 'bad Message-Authenticator' });
    const otherId = Buffer.from(REQUEST);
    otherId[1] = 0x2b;
    expect(checkDisconnectReply(ACK, otherId, SECRET)).toMatchObject({ kind: 'invalid', why: 'Identifier does not match' });
    const coaAck = Buffer.from(NAK_503);
    coaAck[0] = Code.CoaAck;
    expect(checkDisconnectReply(coaAck, REQUEST, SECRET)).toMatchObject({ kind: 'invalid' });
  });

  it('chooses the configured address, else NAS-IP-Address, else a single-host client address', () => {
    const t = (address: string | null, network: string): CoaTarget => ({ name: 'ap', port: 3799, secret: Buffer.from(SECRET), address, network });
    const s = (nasIp: string | null) => ({ nasIp }) as AccountingSession;
    expect(coaAddress(t('192.0.2.99', '192.0.2.0/24'), s('192.0.2.10'))).toBe('192.0.2.99');
    expect(coaAddress(t(null, '192.0.2.0/24'), s('192.0.2.10'))).toBe('192.0.2.10');
    expect(coaAddress(t(null, '192.0.2.7/32'), s(null))).toBe('192.0.2.7');
    expect(coaAddress(t(null, '192.0.2.0/24'), s(null))).toBeUndefined();
  });
});

/** A NAS's Dynamic Authorization Server, checking each request with node:crypto on its own. */
class FakeNas {
  readonly requests: { packet: Buffer; ok: boolean }[] = [];
  answer: 'ack' | 'nak503' | 'silent' = 'ack';
  private constructor(readonly socket: Socket, readonly port: number) {}

  static async start(): Promise<FakeNas> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const nas = new FakeNas(socket, socket.address().port);
    socket.on('message', (m, rinfo) => nas.onRequest(m, rinfo));
    return nas;
  }

  private onRequest(packet: Buffer, rinfo: RemoteInfo): void {
    const zeroed = Buffer.from(packet);
    zeroed.fill(0, 4, 20);
    const authOk = createHash('md5').update(zeroed).update(SECRET).digest().equals(packet.subarray(4, 20));
    // Message-Authenticator is the first attribute, as this sender writes it.
    const maOk = packet[20] === Attr.MessageAuthenticator && (() => {
      const z = Buffer.from(zeroed);
      z.fill(0, 22, 38);
      return createHmac('md5', SECRET).update(z).digest().equals(packet.subarray(22, 38));
    })();
    this.requests.push({ packet, ok: authOk && maOk });
    if (this.answer === 'silent') return;
    const body = this.answer === 'ack' ? Buffer.alloc(0) : Buffer.from([Attr.ErrorCause, 6, 0, 0, 0x01, 0xf7]);
    const reply = Buffer.concat([Buffer.from([this.answer === 'ack' ? Code.DisconnectAck : Code.DisconnectNak, packet[1]!, 0, 20 + body.length]), packet.subarray(4, 20), body]);
    createHash('md5').update(reply).update(SECRET).digest().copy(reply, 4);
    this.socket.send(reply, rinfo.port, rinfo.address);
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

describe('the CoA engine', () => {
  let dir: string;
  let db: Db;
  let nas: FakeNas;
  let transport: UdpCoaClient;
  let certs: Map<string, CoaCertificate[]>;
  let coaEnabled: boolean;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authbox-coa-'));
    db = openDatabase(join(dir, 'authbox.db'));
    nas = await FakeNas.start();
    transport = new UdpCoaClient(silentLogger);
    certs = new Map();
    coaEnabled = true;
  });

  afterEach(async () => {
    await transport.close();
    await nas.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Long enough that a loaded machine still answers within the first wait; short for the silent NAS.
  const engine = (waitsMs = [1000, 1000, 1000]) => new CoaEngine({
    storage: new SqliteCoaStore(db), transport, log: silentLogger, waitsMs,
    certificates: (serial) => certs.get(serial) ?? [],
    target: (name) => (coaEnabled ? { name, port: nas.port, secret: Buffer.from(SECRET), address: null, network: '127.0.0.1/32' } : undefined),
  });
  const start = (user: string, sessionId: string, status: 'start' | 'stop' = 'start') => new SqliteAccountingStore(db).applyAccounting([{
    status, at: Date.now(), nas: 'ap1', nasAddress: '127.0.0.1', sessionId, username: user, nasIp: '127.0.0.1', callingStationId: '02-00-00-00-00-01',
  }]);
  const audit = (action: string, target: string, source = 'cli') => new ChangeLog(db).audit(source === 'cli' ? 'cli:root' : 'radius', source, action, target);
  const outcomes = () => new SqliteCoaStore(db).listCoa({}).map((r) => [r.username, r.sessionId, r.outcome, r.attempts, r.errorCause]);

  it('disconnects every open session of a disabled user, not a closed one, and records ACKs', async () => {
    start('alice', 'a-1');
    start('Alice', 'a-2');
    start('alice', 'a-3');
    start('alice', 'a-3', 'stop');
    start('bob', 'b-1');
    const e = engine();
    audit('user.disable', 'alice');
    e.poll();
    await e.idle();
    expect(nas.requests.map((r) => r.ok)).toEqual([true, true]);
    const ids = nas.requests.map((r) => decodePacket(r.packet).attributes.find((a) => a.type === Attr.AcctSessionId)!.value.toString()).sort();
    expect(ids).toEqual(['a-1', 'a-2']);
    expect(outcomes().sort()).toEqual([['Alice', 'a-2', 'ack', 1, null], ['alice', 'a-1', 'ack', 1, null]]);
    // Recorded as a system action, with a 'coa' change row.
    const rows = db.prepare("SELECT actor, source, target FROM audit WHERE action = 'coa.disconnect'").all();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({ actor: 'coa', source: 'system' });
    expect(db.prepare("SELECT count(*) AS n FROM changes WHERE kind = 'coa'").get()).toEqual({ n: 2 });
    // The console's view: by user, whatever the case, since a time.
    const log = new CoaLog(new SqliteCoaStore(db));
    expect(log.recent('ALICE', Date.now() - 60_000).map((r) => r.sessionId).sort()).toEqual(['a-1', 'a-2']);
    expect(log.recent('alice', Date.now() + 60_000)).toEqual([]);
    expect(log.recent('bob', 0)).toEqual([]);
  });

  it('finds a revoked certificate\'s sessions by its user and by its CN, and ignores one that is not revoked', async () => {
    start('carol', 'c-1');
    start('laptop-17.example', 'c-2');
    certs.set('0A0B', [{ status: 'revoked', username: 'carol', commonName: 'laptop-17.example', sans: [] }]);
    certs.set('0C0D', [{ status: 'valid', username: 'carol', commonName: 'x', sans: [] }]);
    const e = engine();
    audit('cert.revoke', '0C0D');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(0);
    audit('cert.revoke', '0A0B');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(2);
    expect(new SqliteCoaStore(db).listCoa({}).map((r) => [r.serial, r.reason, r.outcome])).toEqual([['0A0B', 'cert.revoke', 'ack'], ['0A0B', 'cert.revoke', 'ack']]);
  });

  it('after a restart, acts on what was confirmed while no engine ran; the first start begins at the present', async () => {
    start('gina', 'g-1');
    audit('user.disable', 'gina');
    const first = engine();
    first.poll();
    await first.idle();
    // Before the first start of the engine on this database: not its business.
    expect(nas.requests).toHaveLength(0);
    await first.stop();
    // The daemon is down (or killed) when the next one is confirmed.
    start('hugo', 'h-1');
    audit('user.disable', 'hugo');
    const second = engine();
    second.poll();
    await second.idle();
    expect(outcomes()).toEqual([['hugo', 'h-1', 'ack', 1, null]]);
    // And a third start does not send it again.
    const third = engine();
    third.poll();
    await third.idle();
    expect(nas.requests).toHaveLength(1);
  });

  it('sends one Disconnect per session when several revoked certificates (or a revoke and a disable) name the same user', async () => {
    start('ivan', 'i-1');
    certs.set('01', [{ status: 'revoked', username: 'ivan', commonName: 'ivan', sans: [] }]);
    certs.set('02', [{ status: 'revoked', username: 'ivan', commonName: 'ivan-phone', sans: [] }]);
    const e = engine();
    audit('cert.revoke', '01');
    audit('cert.revoke', '02');
    e.poll();
    audit('user.disable', 'ivan');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(1);
    expect(outcomes()).toEqual([['ivan', 'i-1', 'ack', 1, null]]);
  });

  it('records a NAK with Error-Cause 503 as such', async () => {
    start('dave', 'd-1');
    nas.answer = 'nak503';
    const e = engine();
    audit('user.disable', 'dave');
    e.poll();
    await e.idle();
    const [row] = new SqliteCoaStore(db).listCoa({});
    expect(row).toMatchObject({ outcome: 'nak', errorCause: 503, detail: 'Session-Context-Not-Found', attempts: 1 });
  });

  it('retransmits the same packet, then records a timeout', async () => {
    start('erin', 'e-1');
    nas.answer = 'silent';
    const e = engine([50, 100, 200]);
    audit('user.disable', 'erin');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(3);
    expect(nas.requests[1]!.packet).toEqual(nas.requests[0]!.packet);
    expect(nas.requests[2]!.packet).toEqual(nas.requests[0]!.packet);
    expect(outcomes()).toEqual([['erin', 'e-1', 'timeout', 3, null]]);
  });

  it('leaves alone a lockout from failed attempts, acts on an operator\'s lock, and records a client without CoA as an error', async () => {
    start('frank', 'f-1');
    const e = engine();
    audit('user.lock', 'frank', 'system');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(0);
    coaEnabled = false;
    audit('user.lock', 'frank', 'cli');
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(0);
    expect(new SqliteCoaStore(db).listCoa({})).toMatchObject([{ outcome: 'error', attempts: 0, detail: 'CoA is not enabled for this RADIUS client' }]);
  });

  it('acts only on what happened after it started', async () => {
    start('gina', 'g-1');
    audit('user.disable', 'gina');
    const e = engine();
    e.poll();
    await e.idle();
    expect(nas.requests).toHaveLength(0);
  });
});
