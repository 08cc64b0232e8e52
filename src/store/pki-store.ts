// SQL behind the CA's storage interface. Each write is one transaction that also
// appends to the change feed and, for admin actions, to the audit log.
import type { Statement } from 'better-sqlite3';
import type {
  Actor, CaRecord, CertQuery, CertRecord, CertStatusName, PkiStorage,
} from '../ca/storage.js';
import { AppError } from '../core/errors.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface CertRow {
  ca_id: number; serial: string; profile: string; subject: string; common_name: string;
  username: string | null; sans: string; not_before: number; not_after: number; issued_at: number;
  der: Buffer; status: CertStatusName; revoked_at: number | null; reason: number | null;
}

interface CaRow {
  id: number; name: string; role: 'root' | 'issuing'; parent_id: number | null; key_id: string;
  cert_der: Buffer; crl_number: number; ocsp_key_id: string | null; ocsp_cert_der: Buffer | null;
}

const toCert = (r: CertRow): CertRecord => ({
  caId: r.ca_id, serial: r.serial, profile: r.profile, subject: r.subject, commonName: r.common_name,
  username: r.username, sans: JSON.parse(r.sans) as CertRecord['sans'], notBefore: r.not_before,
  notAfter: r.not_after, issuedAt: r.issued_at, der: r.der, status: r.status, revokedAt: r.revoked_at, reason: r.reason,
});

/**
 * SQL for a status filter. 'valid' and 'expired' say status >= 'valid' and the others status <
 * 'valid' (the same under the CHECK constraint): the terms of the partial indexes of migration 15.
 */
export function certStatusCondition(status: 'valid' | 'revoked' | 'expired' | 'hold', now: number): { sql: string; args: unknown[] } {
  if (status === 'valid') return { sql: "status >= 'valid' AND not_after > ?", args: [now] };
  if (status === 'expired') return { sql: "status >= 'valid' AND not_after <= ?", args: [now] };
  return { sql: "status < 'valid' AND status = ?", args: [status] };
}

const toCa = (r: CaRow): CaRecord => ({
  id: r.id, name: r.name, role: r.role, parentId: r.parent_id, keyId: r.key_id, certDer: r.cert_der,
  crlNumber: r.crl_number, ocspKeyId: r.ocsp_key_id, ocspCertDer: r.ocsp_cert_der,
});

export class SqlitePkiStore implements PkiStorage {
  readonly changes: ChangeLog;
  private readonly insertCert: Statement;
  private readonly bySerial: Statement;
  private readonly updateStatus: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insertCert = db.prepare(`INSERT INTO certificates
      (ca_id, serial, profile, subject, common_name, username, sans, not_before, not_after, issued_at, der, status, revoked_at, reason)
      VALUES (@caId, @serial, @profile, @subject, @commonName, @username, @sans, @notBefore, @notAfter, @issuedAt, @der, @status, @revokedAt, @reason)`);
    this.bySerial = db.prepare('SELECT * FROM certificates WHERE serial = ?');
    this.updateStatus = db.prepare(
      'UPDATE certificates SET status = ?, revoked_at = ?, reason = ? WHERE ca_id = ? AND serial = ?',
    );
  }

  /** Runs fn in one IMMEDIATE transaction (a writer from the start: no upgrade deadlocks). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  saveKey(id: string, algorithm: string, sealed: Buffer): void {
    this.db.prepare('INSERT INTO keys (id, algorithm, sealed, created_at) VALUES (?, ?, ?, ?)').run(id, algorithm, sealed, Date.now());
  }

  loadSealedKey(id: string): Buffer | undefined {
    return (this.db.prepare('SELECT sealed FROM keys WHERE id = ?').get(id) as { sealed: Buffer } | undefined)?.sealed;
  }

  insertCa(ca: Omit<CaRecord, 'id' | 'crlNumber'>, by: Actor): number {
    return this.tx(() => {
      const id = Number(this.db.prepare(`INSERT INTO cas (name, role, parent_id, key_id, cert_der, ocsp_key_id, ocsp_cert_der, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?)`).run(ca.name, ca.role, ca.parentId, ca.keyId, ca.certDer, ca.ocspKeyId, ca.ocspCertDer, Date.now()).lastInsertRowid);
      this.changes.record('ca', String(id));
      this.changes.audit(by.actor, by.source, 'ca.create', ca.name, { role: ca.role });
      return id;
    });
  }

  setOcspSigner(caId: number, keyId: string, certDer: Buffer, by: Actor): void {
    this.tx(() => {
      this.db.prepare('UPDATE cas SET ocsp_key_id = ?, ocsp_cert_der = ? WHERE id = ?').run(keyId, certDer, caId);
      this.changes.record('ca', String(caId));
      this.changes.audit(by.actor, by.source, 'ca.ocsp-signer', String(caId));
    });
  }

  listCas(): CaRecord[] {
    return (this.db.prepare('SELECT * FROM cas ORDER BY id').all() as CaRow[]).map(toCa);
  }

  insertCertificate(cert: CertRecord, by: Actor): void {
    this.insertCertificates([cert], by);
  }

  insertCertificates(certs: readonly CertRecord[], by: Actor): void {
    this.tx(() => {
      for (const cert of certs) {
        this.insertCert.run({ ...cert, sans: JSON.stringify(cert.sans) });
        this.changes.record('cert', `${cert.caId}:${cert.serial}`);
        this.changes.audit(by.actor, by.source, 'cert.issue', cert.serial, {
          profile: cert.profile, cn: cert.commonName, user: cert.username,
        });
      }
    });
  }

  findCertificates(serial: string): CertRecord[] {
    return (this.bySerial.all(serial) as CertRow[]).map(toCert);
  }

  queryCertificates(q: CertQuery): CertRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.username !== undefined) { where.push('username = ?'); args.push(q.username); }
    if (q.status !== undefined) { const c = certStatusCondition(q.status, q.now); where.push(c.sql); args.push(...c.args); }
    const sql = `SELECT * FROM certificates ${where.length ? 'WHERE ' + where.join(' AND ') : ''}
      ORDER BY issued_at DESC LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit ?? 1000) as CertRow[]).map(toCert);
  }

  listRevoked(caId?: number): CertRecord[] {
    const sql = `SELECT * FROM certificates WHERE status != 'valid' ${caId === undefined ? '' : 'AND ca_id = ?'}`;
    return (this.db.prepare(sql).all(...(caId === undefined ? [] : [caId])) as CertRow[]).map(toCert);
  }

  listStatuses(): ReturnType<PkiStorage['listStatuses']> {
    return (this.db.prepare('SELECT ca_id, serial, status, revoked_at, reason, not_after FROM certificates').raw().all() as
      [number, string, CertStatusName, number | null, number | null, number][]).map(
      ([caId, serial, status, revokedAt, reason, notAfter]) => ({ caId, serial, status, revokedAt, reason, notAfter }),
    );
  }

  setStatus(caId: number, serial: string, status: CertStatusName, revokedAt: number | null, reason: number | null, by: Actor, action: string): void {
    this.tx(() => {
      const res = this.updateStatus.run(status, revokedAt, reason, caId, serial);
      if (res.changes !== 1) throw new AppError('CERT_NOT_FOUND', `no certificate with serial ${serial}`);
      this.changes.record('cert', `${caId}:${serial}`);
      this.changes.audit(by.actor, by.source, action, serial, { status, reason });
    });
  }

  nextCrlNumber(caId: number): number {
    return this.tx(() => {
      this.db.prepare('UPDATE cas SET crl_number = crl_number + 1 WHERE id = ?').run(caId);
      return (this.db.prepare('SELECT crl_number FROM cas WHERE id = ?').get(caId) as { crl_number: number }).crl_number;
    });
  }

  saveCrl(caId: number, number: number, thisUpdate: number, nextUpdate: number, der: Buffer): void {
    this.tx(() => {
      this.db.prepare(`INSERT INTO crls (ca_id, number, this_update, next_update, der) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (ca_id) DO UPDATE SET number = excluded.number, this_update = excluded.this_update,
        next_update = excluded.next_update, der = excluded.der WHERE excluded.number > crls.number`)
        .run(caId, number, thisUpdate, nextUpdate, der);
      this.changes.record('crl', String(caId));
    });
  }

  loadCrl(caId: number): ReturnType<PkiStorage['loadCrl']> {
    const row = this.db.prepare('SELECT number, this_update, next_update, der FROM crls WHERE ca_id = ?').get(caId) as
      { number: number; this_update: number; next_update: number; der: Buffer } | undefined;
    return row && { number: row.number, thisUpdate: row.this_update, nextUpdate: row.next_update, der: row.der };
  }

  crlInfo(caId: number): ReturnType<PkiStorage['crlInfo']> {
    const row = this.db.prepare('SELECT number, this_update, next_update FROM crls WHERE ca_id = ?').get(caId) as
      { number: number; this_update: number; next_update: number } | undefined;
    return row && { number: row.number, thisUpdate: row.this_update, nextUpdate: row.next_update };
  }

  audit(by: Actor, action: string, target: string | null, detail?: unknown): void {
    this.tx(() => this.changes.audit(by.actor, by.source, action, target, detail));
  }
}

/** Small named values (bootstrap secrets' hashes, server TLS key id), changes audited by the caller. */
export class SettingsStore {
  constructor(private readonly db: Db) {}

  get(key: string): string | undefined {
    return (this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  }

  set(key: string, value: string): void {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
      this.db.prepare('INSERT INTO changes (kind, ref, at) VALUES (?, ?, ?)').run('settings', key, Date.now());
    }).immediate();
  }
}
