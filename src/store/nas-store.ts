// SQL behind the NAS engine's storage interface. Each write is one transaction that also
// appends a 'nas' change row and an audit row. The secret, sealed or not, is never audited.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import { COA_DISABLED, type NasCoaSettings, type NasKind, type NasRecord, type NasStorage, type NewNasRow } from '../core/nas.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface NasRow {
  id: number; name: string; address: string; secret_sealed: Buffer; kind: string;
  require_message_authenticator: number; created_at: number; radsec: number;
  coa_enabled: number; coa_port: number; coa_secret_sealed: Buffer | null; coa_address: string | null;
}

const toNas = (r: NasRow): NasRecord => ({
  id: r.id, name: r.name, address: r.address, secretSealed: r.secret_sealed, kind: r.kind as NasKind,
  requireMessageAuthenticator: r.require_message_authenticator === 1, createdAt: r.created_at, radsec: r.radsec === 1,
  coa: { enabled: r.coa_enabled === 1, port: r.coa_port, secretSealed: r.coa_secret_sealed, address: r.coa_address },
});

/** What the audit row says of CoA settings: whether a secret of its own is set, never the secret. */
const coaDetail = (c: NasCoaSettings) => ({ enabled: c.enabled, port: c.port, ownSecret: c.secretSealed !== null, address: c.address });

export class SqliteNasStore implements NasStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly remove: Statement;
  private readonly byName: Statement;
  private readonly byAddress: Statement;
  private readonly byId: Statement;
  private readonly all: Statement;
  private readonly setCoa: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO nas_clients (name, address, secret_sealed, kind, require_message_authenticator, created_at, radsec,
        coa_enabled, coa_port, coa_secret_sealed, coa_address)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.setCoa = db.prepare('UPDATE nas_clients SET coa_enabled = ?, coa_port = ?, coa_secret_sealed = ?, coa_address = ? WHERE id = ?');
    this.remove = db.prepare('DELETE FROM nas_clients WHERE id = ?');
    this.byName = db.prepare('SELECT * FROM nas_clients WHERE name = ?');
    this.byAddress = db.prepare('SELECT * FROM nas_clients WHERE address = ?');
    this.byId = db.prepare('SELECT * FROM nas_clients WHERE id = ?');
    this.all = db.prepare('SELECT * FROM nas_clients ORDER BY name');
  }

  insertNas(row: NewNasRow, by: Actor): NasRecord {
    return this.db.transaction(() => {
      const taken = this.byName.get(row.name) as NasRow | undefined;
      if (taken) throw new AppError('NAS_EXISTS', `a RADIUS client named "${taken.name}" already exists`);
      const same = this.byAddress.get(row.address) as NasRow | undefined;
      if (same) throw new AppError('NAS_EXISTS', `${row.address} is already the address of RADIUS client "${same.name}"`);
      const coa = row.coa ?? COA_DISABLED;
      const id = Number(this.insert.run(row.name, row.address, row.secretSealed, row.kind,
        row.requireMessageAuthenticator ? 1 : 0, row.at, row.radsec ? 1 : 0,
        coa.enabled ? 1 : 0, coa.port, coa.secretSealed, coa.address).lastInsertRowid);
      this.changes.record('nas', String(id));
      this.changes.audit(by.actor, by.source, 'nas.add', row.name, {
        address: row.address, kind: row.kind, requireMessageAuthenticator: row.requireMessageAuthenticator, ...(row.radsec ? { radsec: true } : {}),
        ...(coa.enabled ? { coa: coaDetail(coa) } : {}),
      });
      return toNas(this.byId.get(id) as NasRow);
    }).immediate();
  }

  deleteNas(name: string, by: Actor): boolean {
    return this.db.transaction(() => {
      const row = this.byName.get(name) as NasRow | undefined;
      if (!row) return false;
      this.remove.run(row.id);
      this.changes.record('nas', String(row.id));
      this.changes.audit(by.actor, by.source, 'nas.remove', row.name, { address: row.address, kind: row.kind });
      return true;
    }).immediate();
  }

  updateNasCoa(name: string, coa: NasCoaSettings, by: Actor): boolean {
    return this.db.transaction(() => {
      const row = this.byName.get(name) as NasRow | undefined;
      if (!row) return false;
      this.setCoa.run(coa.enabled ? 1 : 0, coa.port, coa.secretSealed, coa.address, row.id);
      this.changes.record('nas', String(row.id));
      this.changes.audit(by.actor, by.source, 'nas.coa', row.name, coaDetail(coa));
      return true;
    }).immediate();
  }

  findNas(name: string): NasRecord | undefined {
    const row = this.byName.get(name) as NasRow | undefined;
    return row && toNas(row);
  }

  listNas(): NasRecord[] {
    return (this.all.all() as NasRow[]).map(toNas);
  }
}
