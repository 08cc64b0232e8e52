// EAP on worker threads, so that TLS handshakes use every core while the thread that holds
// the RADIUS sockets stays free for PAP, accounting and routing. Each worker runs its own
// EapEngine; every State it makes starts with its index (sessions.ts stateTag), so the
// next round of a conversation goes back to the worker holding its TLS connection. A
// conversation's first round (no State) goes to the worker with the fewest rounds in
// flight. The pool has the EapEngine's handle(), so the RADIUS engine cannot tell the two
// apart.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../core/logger.js';
import { Attr, joinAttribute, type RadiusAttribute, type RadiusPacket, type Secret } from '../codec/index.js';
import type { NasKind } from '../../core/nas.js';
import type { EapMethodFilter, EapPolicyMethod, EapRequestContext, EapResult } from './engine.js';
import { stateTagOf } from './sessions.js';

export const EAP_POLICY_METHODS: readonly EapPolicyMethod[] = ['eap-tls', 'peap', 'ttls'];

/** What the RADIUS engine asks of EAP: EapEngine and EapWorkerPool both answer it. */
export interface EapHandler {
  handle(packet: RadiusPacket, eapMessage: Buffer, secret: Secret, allowed?: EapMethodFilter, context?: EapRequestContext): Promise<EapResult>;
}

// ------------------------------------------------------------------ messages
/** Main → worker. Buffers cross as Uint8Array and are wrapped again on arrival. */
export type ToWorker =
  | {
    type: 'eap'; id: number; authenticator: Uint8Array; attributes: RadiusAttribute[]; eapMessage: Uint8Array; secret: Uint8Array;
    allowed?: EapPolicyMethod[]; kind?: NasKind;
  }
  /** A change-feed event the worker's caches follow (kind 'cert', 'user', 'ca', 'policy', ...). */
  | { type: 'change'; kind: string; refs: string[] }
  | { type: 'close' };

/** Worker → main. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; result: EapResult; sessions: number }
  | { type: 'error'; id: number; error: string; sessions: number };

export const asBuffer = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
/**
 * A copy of just these octets. A Buffer is often a view into a larger ArrayBuffer (Node's
 * 8 KiB pool, a whole datagram), and postMessage copies the whole ArrayBuffer behind a view.
 */
export const compact = (u: Uint8Array): Uint8Array => new Uint8Array(u);
/** Attributes about to cross a thread boundary: each value its own small array. */
export const compactAttributes = (attrs: readonly RadiusAttribute[]): RadiusAttribute[] =>
  attrs.map((a) => ({ ...a, value: compact(a.value) as Buffer }));
/** Attributes that crossed a thread boundary: their values are Buffers again. */
export const reviveAttributes = (attrs: readonly RadiusAttribute[]): RadiusAttribute[] =>
  attrs.map((a) => ({ ...a, value: asBuffer(a.value) }));

// ------------------------------------------------------------------ pool
export interface EapWorkerPoolOptions {
  /** How many worker threads (1-255). */
  workers: number;
  /** The worker's entry module. */
  script: URL;
  /** Given to every worker as workerData, with its `index` added. */
  workerData: Record<string, unknown>;
  log: Logger;
  /** A worker that has not answered a round within this long is treated as failed for that round. */
  roundTimeoutMs?: number;
}

interface Pending {
  resolve: (r: EapResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  slot: Slot;
}

interface Slot {
  index: number;
  worker: Worker;
  inFlight: number;
  sessions: number;
  restarts: number;
}

export interface EapPoolStats {
  workers: number;
  /** EAP conversations held by the workers, as last reported by each. */
  sessions: number;
  rounds: number;
  restarts: number;
}

export class EapWorkerPool implements EapHandler {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private rounds = 0;

  private constructor(private readonly options: EapWorkerPoolOptions) {}

  /** Starts every worker and waits until each has built its engine; a worker that cannot is an error. */
  static async start(options: EapWorkerPoolOptions): Promise<EapWorkerPool> {
    if (!(Number.isInteger(options.workers) && options.workers >= 1 && options.workers <= 255)) {
      throw new RangeError('an EAP worker pool has 1 to 255 workers');
    }
    const pool = new EapWorkerPool(options);
    try {
      await Promise.all(Array.from({ length: options.workers }, (_, index) => pool.spawn(index, 0)));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  get stats(): EapPoolStats {
    return {
      workers: this.slots.length,
      sessions: this.slots.reduce((n, s) => n + s.sessions, 0),
      rounds: this.rounds,
      restarts: this.slots.reduce((n, s) => n + s.restarts, 0),
    };
  }

  handle(packet: RadiusPacket, eapMessage: Buffer, secret: Secret, allowed?: EapMethodFilter, context: EapRequestContext = {}): Promise<EapResult> {
    if (this.closed) return Promise.reject(new Error('the EAP workers are stopped'));
    const slot = this.route(joinAttribute(packet.attributes, Attr.State));
    const id = this.nextId++;
    this.rounds++;
    const message: ToWorker = {
      type: 'eap', id, authenticator: compact(packet.authenticator), attributes: compactAttributes(packet.attributes), eapMessage: compact(eapMessage),
      secret: compact(typeof secret === 'string' ? Buffer.from(secret, 'utf8') : secret),
      ...(allowed ? { allowed: EAP_POLICY_METHODS.filter((m) => allowed(m)) } : {}), ...(context.kind ? { kind: context.kind } : {}),
    };
    return new Promise<EapResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        slot.inFlight--;
        reject(new Error(`EAP worker ${slot.index} did not answer within ${this.options.roundTimeoutMs ?? 10_000} ms`));
      }, this.options.roundTimeoutMs ?? 10_000);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer, slot });
      slot.inFlight++;
      slot.worker.postMessage(message);
    });
  }

  /** Passes one poll's change-feed events of a kind to every worker (revocations, user changes, CA reloads). */
  broadcast(kind: string, refs: string[]): void {
    const message: ToWorker = { type: 'change', kind, refs };
    for (const s of this.slots) s.worker.postMessage(message);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('the EAP workers are stopped'));
      this.pending.delete(id);
    }
    await Promise.all(this.slots.map((s) => s.worker.terminate().catch(() => 0)));
  }

  /** The worker whose tag the State carries; a new conversation goes to the least busy one. */
  private route(state: Buffer | undefined): Slot {
    const tag = stateTagOf(state);
    if (tag !== undefined && tag < this.slots.length) return this.slots[tag]!;
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.inFlight < best.inFlight || (s.inFlight === best.inFlight && s.sessions < best.sessions)) best = s;
    return best;
  }

  private spawn(index: number, restarts: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = new Worker(this.options.script, { workerData: { ...this.options.workerData, index } });
      const slot: Slot = { index, worker, inFlight: 0, sessions: 0, restarts };
      this.slots[index] = slot;
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          ready = true;
          resolve();
        } else if (m.type === 'failed') {
          reject(new Error(m.error));
        } else this.settle(slot, m);
      });
      worker.on('error', (e) => {
        if (!ready) reject(e);
        else this.options.log.error({ worker: index, err: e.message }, 'EAP worker failed');
      });
      worker.on('exit', (code) => {
        if (!ready) {
          reject(new Error(`EAP worker ${index} exited with code ${code} before it was ready`));
          return;
        }
        this.lost(slot, code);
      });
    });
  }

  private settle(slot: Slot, m: Extract<FromWorker, { id: number }>): void {
    slot.sessions = m.sessions;
    const p = this.pending.get(m.id);
    if (!p) return; // timed out already
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    slot.inFlight--;
    if (m.type === 'error') {
      p.reject(new Error(m.error));
      return;
    }
    const r = m.result;
    p.resolve({ ...r, attributes: reviveAttributes(r.attributes) });
  }

  /** A worker died: its rounds fail (the NAS retransmits, the conversations restart) and it is replaced. */
  private lost(slot: Slot, code: number): void {
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new Error(`EAP worker ${slot.index} exited`));
    }
    slot.inFlight = 0;
    slot.sessions = 0;
    if (this.closed) return;
    this.options.log.error({ worker: slot.index, code, restarts: slot.restarts + 1 }, 'EAP worker exited; starting another');
    void this.spawn(slot.index, slot.restarts + 1).catch((e: Error) => {
      this.options.log.error({ worker: slot.index, err: e.message }, 'EAP worker could not be restarted');
    });
  }
}
