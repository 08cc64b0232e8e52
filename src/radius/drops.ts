// What the RADIUS engine drops without an answer: counted by reason in its stats, and told in
// the log at a bounded rate (an unknown client once per address per interval, a storage failure
// once per interval), so a flood of bad packets cannot flood the log.
import type { Logger } from '../core/logger.js';
import type { NasClient } from '../core/nas.js';
import { RadiusDecodeError, RadiusEncodeError } from './codec/index.js';
import type { RadiusStats } from './stats.js';

/** Addresses remembered for the unknown-client log's rate limit; beyond, the table starts again. */
const UNKNOWN_LOG_TABLE_MAX = 1024;

export class DropCounter {
  private readonly unknownLogged = new Map<string, number>();
  private storageLoggedAt = -Infinity;

  constructor(private readonly stats: RadiusStats, private readonly log: Logger, private readonly now: () => number, private readonly intervalMs: number) {}

  /** A request that failed after its client was known: counted by kind; our own failures logged. */
  error(e: unknown, client: NasClient): void {
    if (e instanceof RadiusDecodeError) {
      this.stats.dropped.malformed++;
      this.stats.malformed[e.reason] = (this.stats.malformed[e.reason] ?? 0) + 1;
      return;
    }
    // A client can pad a signed request with Proxy-State until its reply cannot be encoded
    // (RFC 2865 §3: 4096 octets at most): counted, and not an error of ours to log each time.
    if (e instanceof RadiusEncodeError && e.reason === 'PACKET_TOO_LONG') {
      this.stats.dropped.replyTooLong++;
      return;
    }
    // A full disk or a failing one: counted, and logged at most once per interval, not once per request.
    const code = (e as { code?: unknown })?.code;
    if (typeof code === 'string' && /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY)/.test(code)) {
      this.stats.dropped.storageFailed++;
      const now = this.now();
      if (now - this.storageLoggedAt >= this.intervalMs) {
        this.storageLoggedAt = now;
        this.log.error({ nas: client.name, err: (e as Error).message, code, failed: this.stats.dropped.storageFailed },
          'cannot store a RADIUS request: it is not answered, and the NAS will retry');
      }
      return;
    }
    this.stats.dropped.internalError++;
    this.log.error({ nas: client.name, err: (e as Error)?.message ?? String(e) }, 'RADIUS request failed');
  }

  /** A datagram from an address no client covers. */
  unknownClient(address: string): void {
    this.stats.dropped.unknownClient++;
    const now = this.now();
    const last = this.unknownLogged.get(address);
    if (last !== undefined && now - last < this.intervalMs) return;
    if (this.unknownLogged.size >= UNKNOWN_LOG_TABLE_MAX) this.unknownLogged.clear();
    this.unknownLogged.set(address, now);
    this.log.warn({ address, dropped: this.stats.dropped.unknownClient }, 'RADIUS request from an address no client covers: dropped');
  }
}
