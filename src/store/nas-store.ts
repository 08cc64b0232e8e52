// SQL behind the NAS engine's storage interface. Each write is one transaction that also
// appends a 'nas' change row and an audit row. The secret, sealed or not, is never audited.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import type { NasKind, NasRecord, NasStorage, NewNasRow } from '../core/nas.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface NasRow {
  id: number; name: string; address: string; secret_sealed: Buffer; kind: string;
  require_message_authenticator: number; created_at: number; radsec: number;
}

const toNas = (r: NasRow): NasRecord => ({
  id: r.id, name: r.name, address: r.address, secretSealed: r.secret_sealed, kind: r.kind as NasKind,
  requireMessageAuthenticator: r.require_message_authenticator === 1, createdAt: r.created_at, radsec: r.radsec === 1,
});

export class SqliteNasStore implements NasStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly remove: Statement;
  private readonly byName: Statement;
  private readonly byAddress: Statement;
  private readonly byId: Statement;
  private readonly all: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO nas_clients (name, address, secret_sealed, kind, require_message_authenticator, created_at, radsec)
      VALUES (?, ?, ?, ?, ?, ?, ?)`);
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
      const id = Number(this.insert.run(row.name, row.address, row.secretSealed, row.kind,
        row.requireMessageAuthenticator ? 1 : 0, row.at, row.radsec ? 1 : 0).lastInsertRowid);
      this.changes.record('nas', String(id));
      this.changes.audit(by.actor, by.source, 'nas.add', row.name, {
        address: row.address, kind: row.kind, requireMessageAuthenticator: row.requireMessageAuthenticator, ...(row.radsec ? { radsec: true } : {}),
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

  findNas(name: string): NasRecord | undefined {
    const row = this.byName.get(name) as NasRow | undefined;
    return row && toNas(row);
  }

  listNas(): NasRecord[] {
    return (this.all.all() as NasRow[]).map(toNas);
  }
}
