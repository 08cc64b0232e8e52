// Accounting (RFC 2866): parsing Accounting-Requests into session events, the SQLite session
// store (Start, Interim-Update, Stop, Accounting-On/Off, duplicates), grouping concurrent
// requests into one transaction, and the engine answering only after the commit.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountingEvent } from '../../src/core/accounting.js';
import { parseCidr } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { AccountingRecorder, parseAccounting } from '../../src/radius/accounting.js';
import { RadiusAuthEngine } from '../../src/radius/auth.js';
import {
  AcctStatusType, AcctTerminateCause, Attr, Code, decodePacket, encodePacket, type RadiusAttribute,
} from '../../src/radius/codec/index.js';
import { SqliteAccountingStore } from '../../src/store/accounting-store.js';
import { openDatabase, type Db } from '../../src/store/db.js';

const SECRET = Buffer.from('s3cret-shared');
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const str = (type: number, s: string): RadiusAttribute => ({ type, value: Buffer.from(s) });
const int = (type: number, n: number): RadiusAttribute => ({ type, value: u32(n) });

function acct(status: number, extra: RadiusAttribute[] = [], id = 1): Buffer {
  return encodePacket({ code: Code.AccountingRequest, identifier: id, attributes: [int(Attr.AcctStatusType, status), ...extra], secret: SECRET });
}

let dir: string;
let db: Db;
let store: SqliteAccountingStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authbox-acct-'));
  db = openDatabase(join(dir, 'test.db'));
  store = new SqliteAccountingStore(db);
});

afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const ev = (e: Partial<AccountingEvent> & Pick<AccountingEvent, 'status'>): AccountingEvent => ({
  at: 1_000_000, nas: 'ap1', nasAddress: '192.0.2.1', ...e,
});

describe('parseAccounting', () => {
  it('reads who, where, counters with Gigawords, the delay and the terminate cause by name', () => {
    const packet = decodePacket(acct(AcctStatusType.Stop, [
      str(Attr.UserName, 'alice'), str(Attr.AcctSessionId, 'S-1'), { type: Attr.FramedIpAddress, value: Buffer.from([10, 0, 0, 7]) },
      { type: Attr.NasIpAddress, value: Buffer.from([192, 0, 2, 1]) }, int(Attr.NasPort, 12), str(Attr.CallingStationId, '02-00-00-00-00-01'),
      int(Attr.AcctInputOctets, 5), int(Attr.AcctInputGigawords, 2), int(Attr.AcctOutputOctets, 700), int(Attr.AcctSessionTime, 60),
      int(Attr.AcctInputPackets, 9), int(Attr.AcctOutputPackets, 11), int(Attr.AcctDelayTime, 3),
      int(Attr.AcctTerminateCause, AcctTerminateCause.UserRequest),
    ]));
    const parsed = parseAccounting(packet, 'ap1', '192.0.2.1', 100_000);
    expect(parsed).toEqual({
      kind: 'event',
      event: {
        status: 'stop', nas: 'ap1', nasAddress: '192.0.2.1', at: 97_000, sessionId: 'S-1', username: 'alice', nasIp: '192.0.2.1',
        nasPort: 12, framedIp: '10.0.0.7', callingStationId: '02-00-00-00-00-01', sessionTime: 60,
        inputOctets: 2 * 2 ** 32 + 5, outputOctets: 700, inputPackets: 9, outputPackets: 11, terminateCause: 'User-Request',
      },
    });
  });

  it('refuses a session event without Acct-Session-Id and a request without Acct-Status-Type; ignores tunnel types', () => {
    expect(parseAccounting(decodePacket(acct(AcctStatusType.Start)), 'n', 'a', 0)).toEqual({ kind: 'invalid', reason: 'no Acct-Session-Id' });
    const none = encodePacket({ code: Code.AccountingRequest, identifier: 1, attributes: [str(Attr.UserName, 'x')], secret: SECRET });
    expect(parseAccounting(decodePacket(none), 'n', 'a', 0)).toEqual({ kind: 'invalid', reason: 'no Acct-Status-Type' });
    expect(parseAccounting(decodePacket(acct(AcctStatusType.AccountingOn)), 'n', 'a', 0).kind).toBe('event');
    expect(parseAccounting(decodePacket(acct(AcctStatusType.TunnelStart)), 'n', 'a', 0)).toEqual({ kind: 'ignored', status: AcctStatusType.TunnelStart });
  });
});

describe('SqliteAccountingStore', () => {
  it('opens on Start, updates on Interim-Update, closes on Stop with bytes and duration', () => {
    expect(store.applyAccounting([ev({ status: 'start', sessionId: 's1', username: 'alice', framedIp: '10.0.0.7' })])).toEqual(['opened']);
    expect(store.listSessions({ open: true })).toHaveLength(1);
    expect(store.applyAccounting([ev({ status: 'interim-update', sessionId: 's1', at: 1_030_000, sessionTime: 30, inputOctets: 100, outputOctets: 200 })]))
      .toEqual(['updated']);
    expect(store.applyAccounting([ev({
      status: 'stop', sessionId: 's1', at: 1_060_000, sessionTime: 60, inputOctets: 5 * 2 ** 32, outputOctets: 400, terminateCause: 'User-Request',
    })])).toEqual(['closed']);
    const [s] = store.listSessions();
    expect(s).toMatchObject({
      sessionId: 's1', username: 'alice', framedIp: '10.0.0.7', open: false, startedAt: 1_000_000, stoppedAt: 1_060_000, sessionTime: 60,
      inputOctets: 5 * 2 ** 32, outputOctets: 400, interimUpdates: 1, terminateCause: 'User-Request',
    });
    expect(store.listSessions({ open: true })).toEqual([]);
  });

  it('treats a repeated Start, Interim-Update or Stop as a duplicate, and never reopens a stopped session', () => {
    store.applyAccounting([ev({ status: 'start', sessionId: 's1', username: 'alice' })]);
    expect(store.applyAccounting([ev({ status: 'start', sessionId: 's1', username: 'alice' })])).toEqual(['duplicate']);
    const interim = ev({ status: 'interim-update', sessionId: 's1', sessionTime: 30, inputOctets: 100 });
    store.applyAccounting([interim, interim]);
    expect(store.listSessions()[0]).toMatchObject({ sessionTime: 30, inputOctets: 100, open: true });
    const stop = ev({ status: 'stop', sessionId: 's1', sessionTime: 40, inputOctets: 150 });
    expect(store.applyAccounting([stop, stop, interim])).toEqual(['closed', 'duplicate', 'duplicate']);
    expect(store.listSessions()).toHaveLength(1);
    expect(store.listSessions()[0]).toMatchObject({ sessionTime: 40, inputOctets: 150, open: false });
    // A late, older Interim-Update never lowers the counters.
    store.applyAccounting([ev({ status: 'start', sessionId: 's2' }), ev({ status: 'interim-update', sessionId: 's2', sessionTime: 90, inputOctets: 900 }),
      ev({ status: 'interim-update', sessionId: 's2', sessionTime: 30, inputOctets: 300 })]);
    expect(store.listSessions()[0]).toMatchObject({ sessionId: 's2', sessionTime: 90, inputOctets: 900 });
  });

  it('records a Stop whose Start was lost, started Acct-Session-Time before', () => {
    expect(store.applyAccounting([ev({ status: 'stop', sessionId: 'lost', at: 2_000_000, sessionTime: 100 })])).toEqual(['closed']);
    expect(store.listSessions()[0]).toMatchObject({ startedAt: 1_900_000, stoppedAt: 2_000_000, open: false });
  });

  it('closes only that NAS\'s open sessions on Accounting-On and Accounting-Off', () => {
    store.applyAccounting([
      ev({ status: 'start', sessionId: 'a' }), ev({ status: 'start', sessionId: 'b' }),
      ev({ status: 'start', sessionId: 'c', nas: 'ap2', nasAddress: '192.0.2.2' }),
    ]);
    expect(store.applyAccounting([ev({ status: 'accounting-on', at: 1_500_000 })])).toEqual([{ closedByNas: 2 }]);
    expect(store.listSessions({ open: true }).map((s) => s.sessionId)).toEqual(['c']);
    expect(store.listSessions().find((s) => s.sessionId === 'a')).toMatchObject({ terminateCause: 'NAS-Reboot', stoppedAt: 1_500_000 });
    expect(store.applyAccounting([ev({ status: 'accounting-on' })])).toEqual([{ closedByNas: 0 }]);
    store.applyAccounting([ev({ status: 'accounting-off', nas: 'ap2', nasAddress: '192.0.2.2' })]);
    expect(store.listSessions({ open: true })).toEqual([]);
  });

  it('filters by user case-insensitively and appends one change row per stored batch', () => {
    const before = (db.prepare("SELECT count(*) AS n FROM changes WHERE kind = 'acct'").get() as { n: number }).n;
    store.applyAccounting([ev({ status: 'start', sessionId: 'x', username: 'Alice' }), ev({ status: 'start', sessionId: 'y', username: 'bob' })]);
    store.applyAccounting([ev({ status: 'start', sessionId: 'x', username: 'Alice' })]); // duplicate only: no change row
    expect(store.listSessions({ user: 'alice' }).map((s) => s.sessionId)).toEqual(['x']);
    expect((db.prepare("SELECT count(*) AS n FROM changes WHERE kind = 'acct'").get() as { n: number }).n).toBe(before + 1);
  });
});

describe('AccountingRecorder', () => {
  it('groups requests recorded in the same turn into one transaction', async () => {
    const batches: number[] = [];
    const rec = new AccountingRecorder({ applyAccounting: (events) => (batches.push(events.length), events.map(() => 'opened' as const)) });
    await Promise.all([1, 2, 3].map((i) => rec.record(ev({ status: 'start', sessionId: `s${i}` }))));
    await rec.record(ev({ status: 'start', sessionId: 's4' }));
    expect(batches).toEqual([3, 1]);
  });

  it('rejects every request of a failed batch', async () => {
    const rec = new AccountingRecorder({ applyAccounting: () => { throw new Error('disk full'); } });
    const results = await Promise.allSettled([rec.record(ev({ status: 'start', sessionId: 'a' })), rec.record(ev({ status: 'start', sessionId: 'b' }))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
  });
});

describe('the engine and accounting', () => {
  const nas: NasClient = { name: 'ap1', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'wlan', requireMessageAuthenticator: true };
  const users = { find: () => undefined, verifyPassword: async () => false };
  const engineWith = (accounting: AccountingRecorder) =>
    new RadiusAuthEngine({ clients: new NasTable([nas]), users, dummyPasswordHash: 'd', log: silentLogger, accounting });
  const from = (data: Buffer) => ({ data, address: '127.0.0.1', port: 40000 });

  it('answers only after the session is committed, and stays silent when the write fails', async () => {
    const ok = engineWith(new AccountingRecorder(store));
    const reply = await ok.handle(from(acct(AcctStatusType.Start, [str(Attr.AcctSessionId, 'E-1'), str(Attr.UserName, 'alice')])), 'acct');
    expect(decodePacket(reply!).code).toBe(Code.AccountingResponse);
    expect(store.listSessions()[0]).toMatchObject({ nas: 'ap1', nasAddress: '127.0.0.1', sessionId: 'E-1', username: 'alice', open: true });

    const failing = engineWith(new AccountingRecorder({ applyAccounting: () => { throw new Error('SQLITE_FULL'); } }));
    expect(await failing.handle(from(acct(AcctStatusType.Start, [str(Attr.AcctSessionId, 'E-2')])), 'acct')).toBeUndefined();
    expect(failing.stats.dropped.internalError).toBe(1);
    expect(failing.stats.accounting).toEqual({ requests: 1, responses: 0 });
  });

  it('drops a Start without Acct-Session-Id and acknowledges tunnel accounting without a record', async () => {
    const engine = engineWith(new AccountingRecorder(store));
    expect(await engine.handle(from(acct(AcctStatusType.Start)), 'acct')).toBeUndefined();
    expect(engine.stats.dropped.invalidAccounting).toBe(1);
    expect(await engine.handle(from(acct(AcctStatusType.TunnelStart, [], 2)), 'acct')).toBeDefined();
    expect(store.listSessions()).toEqual([]);
  });
});
