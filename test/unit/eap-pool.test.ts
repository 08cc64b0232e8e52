import { afterEach, describe, expect, it } from 'vitest';
import { Attr, type RadiusPacket } from '../../src/radius/codec/index.js';
import { EapWorkerPool } from '../../src/radius/eap/pool.js';
import { EapSessionTable, STATE_LENGTH, stateTagOf } from '../../src/radius/eap/sessions.js';
import { silentLogger } from '../../src/core/logger.js';

const script = new URL('../fixtures/eap-fake-worker.mjs', import.meta.url);
const packet = (state?: Buffer): RadiusPacket => ({
  code: 1, identifier: 1, authenticator: Buffer.alloc(16, 7),
  attributes: state ? [{ type: Attr.State, value: state }] : [],
});
const stateOf = (attrs: { type: number; value: Buffer }[]): Buffer => attrs.find((a) => a.type === Attr.State)!.value;
const replyMessage = (attrs: { type: number; value: Buffer }[]): string => attrs.find((a) => a.type === Attr.ReplyMessage)!.value.toString();

describe('EapSessionTable state tags', () => {
  it('puts the tag in front of every State and keeps the rest random', () => {
    const table = new EapSessionTable<string>({ stateTag: 3 });
    const states = Array.from({ length: 50 }, (_, i) => table.create(`s${i}`)!);
    for (const s of states) {
      expect(s.length).toBe(STATE_LENGTH);
      expect(stateTagOf(s)).toBe(3);
    }
    expect(new Set(states.map((s) => s.toString('hex'))).size).toBe(50);
    expect(table.get(states[7]!)).toBe('s7');
  });

  it('refuses a tag that is not an octet, and reads no tag from a State of another size', () => {
    expect(() => new EapSessionTable({ stateTag: 256 })).toThrow(RangeError);
    expect(() => new EapSessionTable({ stateTag: -1 })).toThrow(RangeError);
    expect(stateTagOf(Buffer.alloc(8))).toBeUndefined();
    expect(stateTagOf(undefined)).toBeUndefined();
  });
});

describe('EapWorkerPool', () => {
  let pool: EapWorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('sends every later round of a conversation to the worker whose tag its State carries', async () => {
    pool = await EapWorkerPool.start({ workers: 3, script, workerData: {}, log: silentLogger });
    // Open conversations at once: the least busy worker takes each, so all three get some.
    const first = await Promise.all(Array.from({ length: 30 }, () => pool!.handle(packet(), Buffer.from([2, 1, 0, 5, 1]), 'secret')));
    const owners = first.map((r) => stateTagOf(stateOf(r.attributes))!);
    expect(new Set(owners)).toEqual(new Set([0, 1, 2]));
    for (let round = 0; round < 3; round++) {
      const next = await Promise.all(first.map((r) => pool!.handle(packet(stateOf(r.attributes)), Buffer.from([2, 2, 0, 5, 1]), 'secret')));
      next.forEach((r, i) => {
        expect(r.code).toBe(11); // the owner knew the session: routing by State worked
        expect(replyMessage(r.attributes)).toMatch(new RegExp(`^worker ${owners[i]} `));
        expect(Buffer.isBuffer(r.attributes[0]!.value)).toBe(true);
      });
    }
    expect(pool.stats).toMatchObject({ workers: 3, sessions: 30, rounds: 120, restarts: 0 });
  });

  it('passes the methods the client kind allows as a list', async () => {
    pool = await EapWorkerPool.start({ workers: 1, script, workerData: {}, log: silentLogger });
    const r = await pool.handle(packet(), Buffer.from([2, 1, 0, 5, 1]), 'secret', (m) => m !== 'eap-tls');
    expect(replyMessage(r.attributes)).toBe('worker 0 allowed peap,ttls');
  });

  it('fails the rounds of a worker that dies, and replaces it', async () => {
    pool = await EapWorkerPool.start({ workers: 2, script, workerData: {}, log: silentLogger });
    const a = await pool.handle(packet(), Buffer.from([2, 1, 0, 5, 1]), 'secret');
    const owner = stateTagOf(stateOf(a.attributes))!;
    const state = Buffer.from(stateOf(a.attributes));
    state.fill(0, 1); // same owner tag
    await expect(pool.handle(packet(state), Buffer.from([0xee]), 'secret')).rejects.toThrow(/exited/);
    for (let i = 0; i < 100 && pool.stats.restarts === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(pool.stats.restarts).toBe(1);
    // The replacement answers under the same index; the old conversation is gone (a new one starts).
    await new Promise((r) => setTimeout(r, 200));
    const again = await pool.handle(packet(stateOf(a.attributes)), Buffer.from([2, 2, 0, 5, 1]), 'secret');
    expect(again.code).toBe(3);
    expect(replyMessage(again.attributes)).toMatch(new RegExp(`^worker ${owner} `));
  });

  it('gives up on a round a worker does not answer in time', async () => {
    pool = await EapWorkerPool.start({ workers: 1, script, workerData: {}, log: silentLogger, roundTimeoutMs: 100 });
    await expect(pool.handle(packet(), Buffer.from([0xdd]), 'secret')).rejects.toThrow(/did not answer within 100 ms/);
    const ok = await pool.handle(packet(), Buffer.from([2, 1, 0, 5, 1]), 'secret');
    expect(ok.code).toBe(11);
  });

  it('does not start when a worker cannot build its engine', async () => {
    await expect(EapWorkerPool.start({ workers: 2, script, workerData: { failStart: true }, log: silentLogger }))
      .rejects.toThrow(/no server TLS certificate/);
  });

  it('refuses rounds once closed', async () => {
    pool = await EapWorkerPool.start({ workers: 1, script, workerData: {}, log: silentLogger });
    await pool.close();
    await expect(pool.handle(packet(), Buffer.from([2, 1, 0, 5, 1]), 'secret')).rejects.toThrow(/stopped/);
  });
});
