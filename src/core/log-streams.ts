// What the auth and audit log streams carry: each authentication decision and each audit
// row, as one record with plain fields (nothing secret is part of either).
import type { AuditRow } from '../store/changes.js';
import type { AuthDecision } from './auth-log.js';
import type { Logger } from './logger.js';

/** One record on the auth stream per decision. */
export function logDecision(log: Logger, d: AuthDecision): void {
  log.info({
    event: 'auth', outcome: d.outcome, user: d.username, nas: d.nas, nasAddress: d.nasAddress, callingStationId: d.callingStationId,
    method: d.method, reason: d.reason, ...(d.details ? { details: d.details } : {}),
  }, d.outcome === 'accept' ? 'authentication accepted' : `authentication refused: ${d.reason ?? 'refused'}`);
}

export interface AuditSource {
  auditSince(id: number, limit?: number): AuditRow[];
  latestAuditId(): number;
}

/**
 * Sends every audit row to the audit stream. Rows are written by the daemon and by the CLI
 * (another process), so the table is read by id every pollMs; rows written while no daemon
 * ran are not sent (they stay in the audit table).
 */
/**
 * Audit rows logged per turn of the event loop: 200 (pino with redaction, written at once)
 * took 5-30 ms a turn on a loaded box after a 10,000-user sync; 50 stay within a few ms.
 */
const AUDIT_CHUNK = 50;
/**
 * And at most this long a turn: a profile of the daemon absorbing a 10,000-user sync showed the
 * forwarder (pino's redaction of each record) as the longest stretches on the RADIUS thread.
 */
const AUDIT_TURN_BUDGET_MS = 4;

export class AuditForwarder {
  private last: number;
  private timer: NodeJS.Timeout | undefined;
  private pending: NodeJS.Immediate | undefined;

  constructor(private readonly source: AuditSource, private readonly log: Logger, private readonly pollMs = 500) {
    this.last = source.latestAuditId();
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.poll(AUDIT_CHUNK), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    this.poll();
  }

  /**
   * Forwards what was added since the last poll, in chunks of `chunk` rows with a turn of the
   * event loop between them (a directory sync writes 10,000 audit rows at once, and RADIUS
   * answers on this thread); returns how many rows this call forwarded.
   */
  poll(chunk = Infinity): number {
    let n = 0;
    const started = performance.now();
    const later = (): number => {
      this.pending ??= setImmediate(() => {
        this.pending = undefined;
        if (this.timer) this.poll(chunk);
      });
      return n;
    };
    try {
      for (;;) {
        const rows = this.source.auditSince(this.last, Math.min(1000, chunk - n));
        for (const r of rows) {
          // Only a chunked (timer) poll yields; stop() forwards everything before closing.
          if (chunk !== Infinity && n > 0 && performance.now() - started >= AUDIT_TURN_BUDGET_MS) return later();
          let detail: unknown = r.detail;
          try {
            detail = r.detail === null ? undefined : JSON.parse(r.detail);
          } catch { /* kept as text */ }
          this.log.info({
            event: 'audit', auditId: r.id, at: new Date(r.at).toISOString(), actor: r.actor, source: r.source,
            action: r.action, target: r.target, ...(detail !== undefined ? { detail } : {}),
          }, `${r.action}${r.target ? ` ${r.target}` : ''} by ${r.actor}`);
          this.last = r.id;
          n++;
        }
        if (rows.length === 0 || (rows.length < 1000 && n < chunk)) return n;
        if (n >= chunk) return later();
      }
    } catch {
      return n; // the database is closing or busy: the next poll picks up from the same id
    }
  }
}
