// The UDP side of Dynamic Authorization (RFC 5176): sends Disconnect-Requests from an
// ephemeral port and hands each reply to the exchange waiting for its Identifier. One
// Identifier is held per destination for the whole exchange, so a late reply to a first
// transmission still answers its retransmission (RFC 5176 §2.3, RFC 5080 §2.2.1).
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { CoaExchange, CoaTransport } from '../core/coa.js';
import type { Logger } from '../core/logger.js';

/** RFC 2865 §3: one octet. */
const IDENTIFIERS = 256;

interface Pending {
  waiter?: (reply: Buffer) => void;
}

/** A dual-stack socket reports IPv4 senders as ::ffff:a.b.c.d. */
const plainAddress = (a: string): string => a.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');

export class UdpCoaClient implements CoaTransport {
  private readonly sockets = new Map<4 | 6, Socket>();
  private readonly pending = new Map<string, Pending>();
  private readonly next = new Map<string, number>();
  private closed = false;

  constructor(private readonly log: Logger) {}

  open(address: string, port: number): CoaExchange | undefined {
    if (this.closed) return undefined;
    const dest = `${plainAddress(address)}|${port}`;
    let id = this.next.get(dest) ?? randomInt(IDENTIFIERS);
    let tries = 0;
    while (this.pending.has(`${dest}|${id}`)) {
      if (++tries >= IDENTIFIERS) return undefined;
      id = (id + 1) % IDENTIFIERS;
    }
    this.next.set(dest, (id + 1) % IDENTIFIERS);
    const key = `${dest}|${id}`;
    const entry: Pending = {};
    this.pending.set(key, entry);
    const socket = this.socket(isIPv6(address) ? 6 : 4);
    return {
      identifier: id,
      send: (packet, waitMs) => new Promise<Buffer | undefined>((resolve, reject) => {
        const timer = setTimeout(() => {
          entry.waiter = undefined;
          resolve(undefined);
        }, waitMs);
        timer.unref();
        entry.waiter = (reply) => {
          clearTimeout(timer);
          entry.waiter = undefined;
          resolve(reply);
        };
        if (this.closed) {
          clearTimeout(timer);
          resolve(undefined);
          return;
        }
        socket.send(packet, port, address, (err) => {
          if (!err) return;
          clearTimeout(timer);
          entry.waiter = undefined;
          reject(err);
        });
      }),
      close: () => {
        if (this.pending.get(key) === entry) this.pending.delete(key);
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.sockets.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.sockets.clear();
  }

  private socket(family: 4 | 6): Socket {
    let s = this.sockets.get(family);
    if (s) return s;
    s = createSocket(family === 6 ? 'udp6' : 'udp4');
    s.on('message', (data, rinfo) => {
      if (data.length < 20) return; // RFC 2865 §3: too short to be a reply
      const entry = this.pending.get(`${plainAddress(rinfo.address)}|${rinfo.port}|${data[1]}`);
      // Nobody waits: a reply after the exchange ended, or a stray datagram.
      entry?.waiter?.(data);
    });
    s.on('error', (e) => this.log.error({ err: e.message }, 'CoA socket error'));
    // Unbound sockets are bound to an ephemeral port by the first send; unref'd so they never hold the process.
    s.unref();
    this.sockets.set(family, s);
    return s;
  }
}
