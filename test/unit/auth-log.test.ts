// The decision log: decisions are batched in memory (by time and by size), the buffer is
// bounded, failed writes are retried, old rows pruned; the engine records every final
// decision with its reason in plain words and never a password.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DecisionLog, type AuthDecision, type DecisionStorage } from '../../src/core/auth-log.js';
import { parseCidr } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import { NasTable, type NasClient } from '../../src/core/nas.js';
import { RadiusAuthEngine, type PapUser } from '../../src/radius/auth.js';
import { Attr, Code, encodePacket, hideUserPassword, type RadiusAttribute } from '../../src/radius/codec/index.js';
import { SqliteAuthLogStore } from '../../src/store/auth-log-store.js';
import { openDatabase, type Db } from '../../src/store/db.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const decision = (i: number, at = 1_000): AuthDecision => ({ at, nas: 'ap1', nasAddress: '192.0.2.1', username: `u${i}`, outcome: 'accept', method: 'pap' });

function fakeStorage() {
  const batches: AuthDecision[][] = [];
  let failures = 0;
  const storage: DecisionStorage & { failNext(n: number): void } = {
    appendDecisions: (rows) => {
      if (failures > 0) {
        failures--;
        throw new Error('database is locked');
      }
      batches.push([...rows]);
    },
    pruneDecisions: () => 0,
    failNext: (n) => void (failures = n),
  };
  return { storage, batches };
}

describe('DecisionLog batching', () => {
  it('writes nothing on record; one batch after the flush interval', async () => {
    const { storage, batches } = fakeStorage();
    const log = new DecisionLog({ storage, log: silentLogger, flushIntervalMs: 30 });
    for (let i = 0; i < 5; i++) log.record(decision(i));
    expect(batches).toEqual([]);
    expect(log.pending).toBe(5);
    await sleep(80);
    expect(batches.map((b) => b.length)).toEqual([5]);
    expect(log.stats.written).toBe(5);
    log.close();
  });

  it('flushes at once (next turn) when a batch is full, in transactions of at most batchSize', async () => {
    const { storage, batches } = fakeStorage();
    const log = new DecisionLog({ storage, log: silentLogger, flushIntervalMs: 60_000, batchSize: 500 });
    for (let i = 0; i < 1200; i++) log.record(decision(i));
    await sleep(10);
    expect(batches.map((b) => b.length)).toEqual([500, 500, 200]);
    expect(batches[2]![199]!.username).toBe('u1199');
    log.close();
  });

  it('bounds the buffer: what does not fit is dropped and counted', () => {
    const { storage, batches } = fakeStorage();
    const log = new DecisionLog({ storage, log: silentLogger, flushIntervalMs: 60_000, batchSize: 1000, maxBuffered: 10 });
    for (let i = 0; i < 15; i++) log.record(decision(i));
    expect(log.pending).toBe(10);
    expect(log.stats.dropped).toBe(5);
    log.close();
    expect(batches.flat().map((d) => d.username)).toEqual([...Array(10).keys()].map((i) => `u${i}`));
  });

  it('keeps decisions when a write fails and writes them on the retry', async () => {
    const { storage, batches } = fakeStorage();
    const log = new DecisionLog({ storage, log: silentLogger, flushIntervalMs: 20 });
    storage.failNext(1);
    log.record(decision(1));
    await sleep(30);
    expect(log.stats.failedFlushes).toBe(1);
    expect(log.pending).toBe(1);
    await sleep(50);
    expect(batches.flat()).toHaveLength(1);
    expect(log.pending).toBe(0);
    log.close();
  });

  it('writes what waits on close and drops later decisions', () => {
    const { storage, batches } = fakeStorage();
    const log = new DecisionLog({ storage, log: silentLogger, flushIntervalMs: 60_000 });
    log.record(decision(1));
    log.close();
    expect(batches.flat()).toHaveLength(1);
    log.record(decision(2));
    expect(log.stats.dropped).toBe(1);
  });
});

describe('SqliteAuthLogStore', () => {
  let dir: string;
  let db: Db;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'authbox-authlog-'));
    db = openDatabase(join(dir, 'test.db'));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores a batch in one transaction with one change row, lists newest first, filters by user', () => {
    const store = new SqliteAuthLogStore(db);
    store.appendDecisions([
      { ...decision(1), username: 'Alice', callingStationId: '02-00-00-00-00-01', details: { policy: 'staff' } },
      { ...decision(2), username: 'bob', outcome: 'reject', reason: 'wrong password' },
      { ...decision(3), username: 'alice', outcome: 'reject', reason: 'certificate revoked', method: 'eap-tls' },
    ]);
    expect((db.prepare("SELECT count(*) AS n FROM changes WHERE kind = 'authlog'").get() as { n: number }).n).toBe(1);
    expect(store.listDecisions().map((d) => d.username)).toEqual(['alice', 'bob', 'Alice']);
    expect(store.listDecisions({ user: 'ALICE' }).map((d) => d.reason ?? 'accepted')).toEqual(['certificate revoked', 'accepted']);
    expect(store.listDecisions({ limit: 1 })).toHaveLength(1);
    expect(store.listDecisions({ user: 'alice' })[1]).toMatchObject({ callingStationId: '02-00-00-00-00-01', details: { policy: 'staff' } });
  });

  it('prunes decisions past their retention from the flush job', () => {
    const store = new SqliteAuthLogStore(db);
    const day = 86_400_000;
    const now = 200 * day;
    store.appendDecisions([decision(1, now - 100 * day), decision(2, now - 10 * day)]);
    const log = new DecisionLog({ storage: store, log: silentLogger, now: () => now, retentionMs: 90 * day });
    log.start();
    expect(store.listDecisions().map((d) => d.username)).toEqual(['u2']);
    expect(log.stats.pruned).toBe(1);
    log.close();
  });
});

describe('the engine records every decision with its reason', () => {
  const SECRET = Buffer.from('s3cret-shared');
  const nas: NasClient = { name: 'ap1', network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind: 'wlan', requireMessageAuthenticator: true };
  const users: PapUser[] = [
    { username: 'alice', enabled: true, passwordHash: 'pw:alice-password' },
    { username: 'bob', enabled: false, passwordHash: 'pw:bob-password' },
  ];
  const papUsers = {
    find: (name: string) => users.find((u) => u.username === name),
    verifyPassword: async (u: Pick<PapUser, 'passwordHash'>, pw: Uint8Array) => u.passwordHash === `pw:${Buffer.from(pw).toString('utf8')}`,
  };
  function request(user: string, password: string, extra: RadiusAttribute[] = []): Buffer {
    const authenticator = randomBytes(16);
    return encodePacket({
      code: Code.AccessRequest, identifier: 1, authenticator, secret: SECRET, messageAuthenticator: true, attributes: [
        { type: Attr.UserName, value: Buffer.from(user) }, { type: Attr.UserPassword, value: hideUserPassword(password, SECRET, authenticator) },
        ...extra,
      ],
    });
  }

  it('accept, wrong password, unknown user, account disabled: with NAS, calling station and method, never the password', async () => {
    const recorded: AuthDecision[] = [];
    let now = 5_000;
    const engine = new RadiusAuthEngine({
      clients: new NasTable([nas]), users: papUsers, dummyPasswordHash: 'd', log: silentLogger, now: () => now++,
      decisions: { record: (d) => recorded.push(d) },
    });
    const station = { type: Attr.CallingStationId, value: Buffer.from('02-00-00-00-00-01') };
    for (const [u, p] of [['alice', 'alice-password'], ['alice', 'guess-1'], ['mallory', 'guess-2'], ['bob', 'bob-password']] as const) {
      await engine.handle({ data: request(u, p, [station]), address: '127.0.0.1', port: 40000 }, 'auth');
    }
    expect(recorded.map((d) => [d.username, d.outcome, d.reason])).toEqual([
      ['alice', 'accept', undefined], ['alice', 'reject', 'wrong password'], ['mallory', 'reject', 'unknown user'],
      ['bob', 'reject', 'account disabled'],
    ]);
    expect(recorded[0]).toMatchObject({ nas: 'ap1', nasAddress: '127.0.0.1', callingStationId: '02-00-00-00-00-01', method: 'pap' });
    expect(recorded[0]!.at).toBeGreaterThanOrEqual(5_000);
    const text = JSON.stringify(recorded);
    for (const secret of ['alice-password', 'guess-1', 'guess-2', 'bob-password', SECRET.toString()]) expect(text).not.toContain(secret);
  });
});
