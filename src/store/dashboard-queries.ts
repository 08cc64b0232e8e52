// Read-only queries behind the console's dashboard, the lost-device report and the device
// list: decisions counted by hour, result and method over the auth_log_at index; the latest
// refusals; where a certificate or a user was last accepted (the auth_log_user index).
import type { Db } from './db.js';

const HOUR_MS = 3_600_000;

export interface DecisionCount { hour: number; outcome: string; method: string | null; n: number }

export interface FailureRow { at: number; username: string | null; method: string | null; client: string; nasAddress: string; reason: string | null }

export interface LastUse { at: number; client: string; nasAddress: string; method: string | null; callingStationId: string | null }

export interface DeviceRow {
  mac: string; name: string | null; owner: string | null; description: string | null; enabled: boolean; createdAt: number; certificates: number;
}

/** Escapes LIKE wildcards; used with ESCAPE '\'. */
const likePrefix = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';

export class DashboardQueries {
  constructor(private readonly db: Db) {}

  /** Decisions at or after `since`, counted per hour (ms of the hour's start), outcome and method. */
  decisionCounts(since: number): DecisionCount[] {
    return (this.db.prepare(`SELECT (at / ${HOUR_MS}) * ${HOUR_MS} AS hour, outcome, method, count(*) AS n FROM auth_log
      WHERE at >= ? GROUP BY hour, outcome, method ORDER BY hour`).all(since) as DecisionCount[]);
  }

  latestFailures(limit: number): FailureRow[] {
    return (this.db.prepare(`SELECT at, username, method, nas, nas_address, reason FROM auth_log WHERE outcome = 'reject' ORDER BY at DESC, id DESC LIMIT ?`)
      .all(limit) as { at: number; username: string | null; method: string | null; nas: string; nas_address: string; reason: string | null }[])
      .map((r) => ({ at: r.at, username: r.username, method: r.method, client: r.nas, nasAddress: r.nas_address, reason: r.reason }));
  }

  /**
   * The last acceptance of a certificate: EAP-TLS decisions carry its serial in their details,
   * under the user's name or, for a device certificate, the device's MAC. Looked up by name
   * (an index), then filtered: a name has few decisions compared with the whole log.
   */
  lastUseOfCertificate(serial: string, names: readonly string[]): LastUse | undefined {
    let best: LastUse | undefined;
    for (const name of names) {
      const r = this.db.prepare(`SELECT at, nas, nas_address, method, calling_station_id FROM auth_log
        WHERE username = ? AND outcome = 'accept' AND details IS NOT NULL AND json_extract(details, '$.serial') = ? ORDER BY id DESC LIMIT 1`)
        .get(name, serial) as { at: number; nas: string; nas_address: string; method: string | null; calling_station_id: string | null } | undefined;
      if (r && (!best || r.at > best.at)) best = { at: r.at, client: r.nas, nasAddress: r.nas_address, method: r.method, callingStationId: r.calling_station_id };
    }
    return best;
  }

  /** The last acceptance of a name (a user, or a device's MAC), by any method. */
  lastUseOf(name: string): LastUse | undefined {
    const r = this.db.prepare(`SELECT at, nas, nas_address, method, calling_station_id FROM auth_log WHERE username = ? AND outcome = 'accept'
      ORDER BY id DESC LIMIT 1`).get(name) as { at: number; nas: string; nas_address: string; method: string | null; calling_station_id: string | null } | undefined;
    return r && { at: r.at, client: r.nas, nasAddress: r.nas_address, method: r.method, callingStationId: r.calling_station_id };
  }

  /** Devices by owner and/or a prefix of their MAC or name, in MAC order, after `after`. */
  devices(f: { owner?: string; prefix?: string; after?: string; limit: number }): DeviceRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.owner !== undefined) { where.push('d.owner = ?'); args.push(f.owner); }
    if (f.prefix !== undefined && f.prefix !== '') {
      where.push("(d.mac LIKE ? ESCAPE '\\' OR d.name LIKE ? ESCAPE '\\')");
      // MACs are stored as aa:bb:cc:dd:ee:ff; a prefix typed with dashes finds them too.
      args.push(likePrefix(f.prefix.toLowerCase().replace(/-/g, ':')), likePrefix(f.prefix));
    }
    if (f.after !== undefined) { where.push('d.mac > ?'); args.push(f.after); }
    return (this.db.prepare(`SELECT d.mac, d.name, d.owner, d.description, d.enabled, d.created_at,
        (SELECT count(*) FROM device_certificates c WHERE c.mac = d.mac) AS certificates
      FROM devices d ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY d.mac LIMIT ?`).all(...args, f.limit) as {
      mac: string; name: string | null; owner: string | null; description: string | null; enabled: number; created_at: number; certificates: number;
    }[]).map((r) => ({
      mac: r.mac, name: r.name, owner: r.owner, description: r.description, enabled: r.enabled === 1, createdAt: r.created_at, certificates: r.certificates,
    }));
  }
}
