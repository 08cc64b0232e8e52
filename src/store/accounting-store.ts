// SQL behind accounting: sessions opened, updated and closed by Accounting-Requests. A batch
// of requests is one transaction (synchronous = FULL: durable before the Accounting-Response)
// with one 'acct' change row. Duplicates of the same NAS, Acct-Session-Id and status change nothing.
import type { Statement } from 'better-sqlite3';
import type {
  AccountingEffect, AccountingEvent, AccountingSession, AccountingStorage, SessionQuery,
} from '../core/accounting.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface SessionRow {
  id: number; nas: string; nas_address: string; session_id: string; username: string | null; nas_ip: string | null;
  nas_port: number | null; nas_identifier: string | null; framed_ip: string | null; calling_station_id: string | null;
  called_station_id: string | null; started_at: number; updated_at: number; stopped_at: number | null; session_time: number;
  input_octets: number; output_octets: number; input_packets: number; output_packets: number; interim_updates: number;
  terminate_cause: string | null; open: number;
}

const toSession = (r: SessionRow): AccountingSession => ({
  id: r.id, nas: r.nas, nasAddress: r.nas_address, sessionId: r.session_id, username: r.username, nasIp: r.nas_ip,
  nasPort: r.nas_port, nasIdentifier: r.nas_identifier, framedIp: r.framed_ip, callingStationId: r.calling_station_id,
  calledStationId: r.called_station_id, startedAt: r.started_at, updatedAt: r.updated_at, stoppedAt: r.stopped_at,
  sessionTime: r.session_time, inputOctets: r.input_octets, outputOctets: r.output_octets, inputPackets: r.input_packets,
  outputPackets: r.output_packets, interimUpdates: r.interim_updates, terminateCause: r.terminate_cause, open: r.open === 1,
});

/** Named parameters for the insert and the update; absent values are NULL (kept by coalesce on update). */
const params = (e: AccountingEvent) => ({
  nas: e.nas, nas_address: e.nasAddress, session_id: e.sessionId ?? '', username: e.username ?? null, nas_ip: e.nasIp ?? null,
  nas_port: e.nasPort ?? null, nas_identifier: e.nasIdentifier ?? null, framed_ip: e.framedIp ?? null,
  calling_station_id: e.callingStationId ?? null, called_station_id: e.calledStationId ?? null, at: e.at,
  session_time: e.sessionTime ?? null, input_octets: e.inputOctets ?? null, output_octets: e.outputOctets ?? null,
  input_packets: e.inputPackets ?? null, output_packets: e.outputPackets ?? null, terminate_cause: e.terminateCause ?? null,
});

export class SqliteAccountingStore implements AccountingStorage {
  private readonly changes: ChangeLog;
  private readonly find: Statement;
  private readonly insert: Statement;
  private readonly update: Statement;
  private readonly closeNas: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.find = db.prepare('SELECT * FROM acct_sessions WHERE nas = ? AND nas_address = ? AND session_id = ?');
    this.insert = db.prepare(`INSERT INTO acct_sessions (nas, nas_address, session_id, username, nas_ip, nas_port, nas_identifier,
        framed_ip, calling_station_id, called_station_id, started_at, updated_at, stopped_at, session_time, input_octets,
        output_octets, input_packets, output_packets, interim_updates, terminate_cause, open)
      VALUES (@nas, @nas_address, @session_id, @username, @nas_ip, @nas_port, @nas_identifier, @framed_ip, @calling_station_id,
        @called_station_id, @started_at, @at, @stopped_at, coalesce(@session_time, 0), coalesce(@input_octets, 0),
        coalesce(@output_octets, 0), coalesce(@input_packets, 0), coalesce(@output_packets, 0), @interim_updates,
        @terminate_cause, @open)`);
    this.update = db.prepare(`UPDATE acct_sessions SET
        username = coalesce(@username, username), nas_ip = coalesce(@nas_ip, nas_ip), nas_port = coalesce(@nas_port, nas_port),
        nas_identifier = coalesce(@nas_identifier, nas_identifier), framed_ip = coalesce(@framed_ip, framed_ip),
        calling_station_id = coalesce(@calling_station_id, calling_station_id),
        called_station_id = coalesce(@called_station_id, called_station_id), updated_at = max(updated_at, @at),
        session_time = max(session_time, coalesce(@session_time, 0)), input_octets = max(input_octets, coalesce(@input_octets, 0)),
        output_octets = max(output_octets, coalesce(@output_octets, 0)), input_packets = max(input_packets, coalesce(@input_packets, 0)),
        output_packets = max(output_packets, coalesce(@output_packets, 0)), interim_updates = interim_updates + @interim_updates,
        stopped_at = coalesce(@stopped_at, stopped_at), terminate_cause = coalesce(@terminate_cause, terminate_cause), open = @open
      WHERE id = @id`);
    this.closeNas = db.prepare(`UPDATE acct_sessions SET open = 0, stopped_at = @at, updated_at = max(updated_at, @at),
        terminate_cause = @terminate_cause WHERE nas = @nas AND nas_address = @nas_address AND open = 1`);
  }

  applyAccounting(events: readonly AccountingEvent[]): AccountingEffect[] {
    return this.db.transaction(() => {
      const effects = events.map((e) => this.applyOne(e));
      if (effects.some((x) => x !== 'duplicate')) this.changes.record('acct', String(events.length));
      return effects;
    }).immediate();
  }

  private applyOne(e: AccountingEvent): AccountingEffect {
    if (e.status === 'accounting-on' || e.status === 'accounting-off') {
      // RFC 2866 §5.1: the NAS restarted or is going down; whatever it had open has ended.
      const cause = e.terminateCause ?? (e.status === 'accounting-on' ? 'NAS-Reboot' : 'NAS-Request');
      const closed = this.closeNas.run({ nas: e.nas, nas_address: e.nasAddress, at: e.at, terminate_cause: cause }).changes;
      return { closedByNas: closed };
    }
    const row = this.find.get(e.nas, e.nasAddress, e.sessionId ?? '') as SessionRow | undefined;
    const p = params(e);
    const stopped = e.status === 'stop';
    if (!row) {
      // An Interim-Update or Stop whose Start was lost: the session began Acct-Session-Time ago.
      const startedAt = e.status === 'start' ? e.at : e.at - (e.sessionTime ?? 0) * 1000;
      this.insert.run({
        ...p, started_at: startedAt, stopped_at: stopped ? e.at : null, open: stopped ? 0 : 1,
        interim_updates: e.status === 'interim-update' ? 1 : 0,
      });
      return stopped ? 'closed' : e.status === 'start' ? 'opened' : 'updated';
    }
    // A repeated Start, or anything after the Stop (a late retransmission), changes nothing.
    if (e.status === 'start' || row.open === 0) return 'duplicate';
    this.update.run({
      ...p, id: row.id, stopped_at: stopped ? e.at : null, open: stopped ? 0 : 1, interim_updates: e.status === 'interim-update' ? 1 : 0,
    });
    return stopped ? 'closed' : 'updated';
  }

  listSessions(query: SessionQuery = {}): AccountingSession[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (query.user !== undefined) {
      where.push('username = ?');
      args.push(query.user);
    }
    if (query.open !== undefined) {
      where.push('open = ?');
      args.push(query.open ? 1 : 0);
    }
    args.push(query.limit ?? 100);
    const sql = `SELECT * FROM acct_sessions ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args) as SessionRow[]).map(toSession);
  }
}
