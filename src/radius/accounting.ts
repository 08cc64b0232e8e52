// Accounting-Requests (RFC 2866) turned into session events, and the recorder that stores
// them before the Accounting-Response goes out: requests that arrive together are grouped
// into one transaction (one fsync), and each is answered only once that commit returned.
import type { AccountingEvent, AcctStatus } from '../core/accounting.js';
import { AcctStatusType, Attr, joinAttribute, readAttribute, type RadiusPacket } from './codec/index.js';

const STATUS: ReadonlyMap<number, AcctStatus> = new Map([
  [AcctStatusType.Start, 'start'], [AcctStatusType.InterimUpdate, 'interim-update'], [AcctStatusType.Stop, 'stop'],
  [AcctStatusType.AccountingOn, 'accounting-on'], [AcctStatusType.AccountingOff, 'accounting-off'],
]);

const GIGAWORD = 2 ** 32;

/** Why an Accounting-Request cannot be stored: it is dropped, so the NAS retries or gives up. */
export type AccountingRefusal = 'no Acct-Status-Type' | 'no Acct-Session-Id';

export type ParsedAccounting =
  | { kind: 'event'; event: AccountingEvent }
  /** A status that is acknowledged without a record (tunnel accounting, Failed). */
  | { kind: 'ignored'; status: number }
  | { kind: 'invalid'; reason: AccountingRefusal };

function first(packet: RadiusPacket, type: number): Buffer | undefined {
  return packet.attributes.find((a) => a.vendor === undefined && a.type === type)?.value;
}

function int(packet: RadiusPacket, type: number): number | undefined {
  const v = first(packet, type);
  return v && v.length === 4 ? v.readUInt32BE(0) : undefined;
}

function text(packet: RadiusPacket, type: number): string | undefined {
  const v = joinAttribute(packet.attributes, type);
  return v && v.length > 0 ? v.toString('utf8') : undefined;
}

function ipv4(packet: RadiusPacket, type: number): string | undefined {
  const v = first(packet, type);
  return v && v.length === 4 ? [...v].join('.') : undefined;
}

/** RFC 2869 §5.1-5.2: the counters wrap at 2^32; Gigawords counts the wraps. */
function octets(packet: RadiusPacket, type: number, gigawordsType: number): number | undefined {
  const low = int(packet, type);
  const high = int(packet, gigawordsType);
  if (low === undefined && high === undefined) return undefined;
  return (high ?? 0) * GIGAWORD + (low ?? 0);
}

function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

/** The event one Accounting-Request reports, received at `now` from the client `nas` at `nasAddress`. */
export function parseAccounting(packet: RadiusPacket, nas: string, nasAddress: string, now: number): ParsedAccounting {
  const statusType = int(packet, Attr.AcctStatusType);
  if (statusType === undefined) return { kind: 'invalid', reason: 'no Acct-Status-Type' };
  const status = STATUS.get(statusType);
  if (!status) return { kind: 'ignored', status: statusType };
  const sessionId = text(packet, Attr.AcctSessionId);
  if (!sessionId && status !== 'accounting-on' && status !== 'accounting-off') return { kind: 'invalid', reason: 'no Acct-Session-Id' };
  const cause = first(packet, Attr.AcctTerminateCause);
  const causeName = cause ? readAttribute({ type: Attr.AcctTerminateCause, value: cause }).value : undefined;
  const event: AccountingEvent = defined({
    status, nas, nasAddress,
    // RFC 2866 §5.2: how long the NAS has been trying to send this one.
    at: now - (int(packet, Attr.AcctDelayTime) ?? 0) * 1000,
    sessionId,
    username: text(packet, Attr.UserName),
    nasIp: ipv4(packet, Attr.NasIpAddress),
    nasPort: int(packet, Attr.NasPort),
    nasIdentifier: text(packet, Attr.NasIdentifier),
    framedIp: ipv4(packet, Attr.FramedIpAddress),
    callingStationId: text(packet, Attr.CallingStationId),
    calledStationId: text(packet, Attr.CalledStationId),
    sessionTime: int(packet, Attr.AcctSessionTime),
    inputOctets: octets(packet, Attr.AcctInputOctets, Attr.AcctInputGigawords),
    outputOctets: octets(packet, Attr.AcctOutputOctets, Attr.AcctOutputGigawords),
    inputPackets: int(packet, Attr.AcctInputPackets),
    outputPackets: int(packet, Attr.AcctOutputPackets),
    terminateCause: typeof causeName === 'string' ? causeName : typeof causeName === 'number' ? String(causeName) : undefined,
  });
  return { kind: 'event', event };
}

/**
 * Stores events in groups: everything recorded within one turn of the event loop is one
 * transaction. The storage may commit in another thread (radius-writer.ts): then the group's
 * promises settle when it says so, and later groups are sent meanwhile, in order.
 */
export class AccountingRecorder {
  private pending: { event: AccountingEvent; resolve: () => void; reject: (e: unknown) => void }[] = [];
  private scheduled: NodeJS.Immediate | undefined;

  /** Only the write matters here: what it reports per event is the store's business. */
  constructor(private readonly storage: { applyAccounting(events: readonly AccountingEvent[]): unknown }) {}

  /** Resolves once the event is committed; rejects (and nothing of its group is stored) if the write failed. */
  record(event: AccountingEvent): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ event, resolve, reject });
      this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    let result: unknown;
    try {
      result = this.storage.applyAccounting(batch.map((b) => b.event));
    } catch (e) {
      for (const b of batch) b.reject(e);
      return;
    }
    if (result instanceof Promise) {
      result.then(() => { for (const b of batch) b.resolve(); }, (e: unknown) => { for (const b of batch) b.reject(e); });
      return;
    }
    for (const b of batch) b.resolve();
  }
}
