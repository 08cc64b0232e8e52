// RADIUS accounting (RFC 2866) as sessions: what one Accounting-Request says, what a stored
// session holds, and the storage a recorder needs. Parsing packets lives in radius/.

export type AcctStatus = 'start' | 'interim-update' | 'stop' | 'accounting-on' | 'accounting-off';

/** One Accounting-Request, decoded; nothing here is secret (no password ever reaches accounting). */
export interface AccountingEvent {
  status: AcctStatus;
  /** When the event happened: received time less Acct-Delay-Time (RFC 2866 §5.2), ms since the epoch. */
  at: number;
  /** The RADIUS client's name, and the source address the request came from: together, the NAS. */
  nas: string;
  nasAddress: string;
  /** Acct-Session-Id: required for start, interim-update and stop (RFC 2866 §5.5). */
  sessionId?: string;
  username?: string;
  nasIp?: string;
  nasPort?: number;
  nasIdentifier?: string;
  framedIp?: string;
  callingStationId?: string;
  calledStationId?: string;
  /** Seconds (Acct-Session-Time). */
  sessionTime?: number;
  /** Octets including Acct-Input/Output-Gigawords (RFC 2869 §5.1-5.2). */
  inputOctets?: number;
  outputOctets?: number;
  inputPackets?: number;
  outputPackets?: number;
  terminateCause?: string;
}

export interface AccountingSession {
  id: number;
  nas: string;
  nasAddress: string;
  sessionId: string;
  username: string | null;
  nasIp: string | null;
  nasPort: number | null;
  nasIdentifier: string | null;
  framedIp: string | null;
  callingStationId: string | null;
  calledStationId: string | null;
  startedAt: number;
  updatedAt: number;
  stoppedAt: number | null;
  sessionTime: number;
  inputOctets: number;
  outputOctets: number;
  inputPackets: number;
  outputPackets: number;
  interimUpdates: number;
  terminateCause: string | null;
  open: boolean;
}

/** What happened to one event: duplicates (same NAS, Acct-Session-Id and status) change nothing. */
export type AccountingEffect = 'opened' | 'updated' | 'closed' | 'duplicate' | { closedByNas: number };

export interface SessionQuery {
  user?: string;
  open?: boolean;
  limit?: number;
}

export interface AccountingStorage {
  /** Applies every event in one durable transaction, in order; throws if nothing was stored. */
  applyAccounting(events: readonly AccountingEvent[]): AccountingEffect[];
  listSessions(query?: SessionQuery): AccountingSession[];
}
