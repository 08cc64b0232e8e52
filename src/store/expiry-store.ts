// SQL for expiry warnings: certificates that expire within a window, and which warnings
// (per certificate, threshold and channel) were already sent.
import type { Db } from './db.js';

/** 'server-tls': a TLS server certificate imported from another CA (authbox's own is a 'certificate'). */
export type ExpiringKind = 'certificate' | 'ca' | 'ocsp-signer' | 'server-tls';

export interface ExpiringCertRow {
  caId: number;
  serial: string;
  profile: string;
  commonName: string;
  username: string | null;
  notAfter: number;
}

export interface NoticeKey {
  kind: ExpiringKind;
  /** 0 for 'server-tls': its CA is not one of authbox's (migration 21). */
  caId: number;
  serial: string;
}

export class SqliteExpiryStore {
  constructor(private readonly db: Db) {}

  /**
   * Valid certificates with notAfter in (now, until]. A certificate superseded by a later one
   * of the same profile and common name (a renewal) is left out: nobody needs warning for it.
   */
  expiringCertificates(now: number, until: number): ExpiringCertRow[] {
    return this.db.prepare(`SELECT c.ca_id AS caId, c.serial, c.profile, c.common_name AS commonName, c.username, c.not_after AS notAfter
      FROM certificates c
      WHERE c.status = 'valid' AND c.not_after > ? AND c.not_after <= ?
        AND NOT EXISTS (SELECT 1 FROM certificates n WHERE n.common_name = c.common_name AND n.profile = c.profile
          AND n.status = 'valid' AND n.not_after > c.not_after)
      ORDER BY c.not_after`).all(now, until) as ExpiringCertRow[];
  }

  /** The thresholds (days) already sent on `channel` for this certificate. */
  sentDays(key: NoticeKey, channel: string): Set<number> {
    const rows = this.db.prepare('SELECT days FROM expiry_notices WHERE kind = ? AND ca_id = ? AND serial = ? AND channel = ?')
      .all(key.kind, key.caId, key.serial, channel) as { days: number }[];
    return new Set(rows.map((r) => r.days));
  }

  /** Records the thresholds as sent on `channel`, in one transaction. */
  recordSent(entries: readonly (NoticeKey & { days: number })[], channel: string, at: number): void {
    const insert = this.db.prepare('INSERT OR IGNORE INTO expiry_notices (kind, ca_id, serial, days, channel, sent_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const e of entries) insert.run(e.kind, e.caId, e.serial, e.days, channel, at);
    }).immediate();
  }
}
