// The SQL side of backup and restore: SQLite's online backup API into a new file (never a
// copy of the live file, which may be mid-transaction in its WAL), the checks run on a
// snapshot before it is trusted, and the counts a backup's manifest reports.
import Database from 'better-sqlite3';
import type { Db } from './db.js';
import { MIGRATIONS } from './migrations.js';

export interface SnapshotFacts {
  schemaVersion: number;
  /** 'ok', or what PRAGMA integrity_check found. */
  integrity: string;
  counts: {
    cas: number; certificates: number; revocations: number; users: number; devices: number;
    nasClients: number; policies: number; auditRows: number;
  };
  /** CA name → the CRL number it last used. */
  crlNumbers: Record<string, number>;
}

/** The schema version this build writes; a backup from a newer one is not restored. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Copies the live database into `dest` with the online backup API, in one step: one read
 * transaction, so the copy is one committed state even while the daemon writes (WAL
 * readers never block writers, and a single step cannot be restarted by their writes).
 */
export async function snapshotDatabase(db: Db, dest: string): Promise<void> {
  await db.backup(dest, { progress: () => 0x7fffffff });
  // A rollback-journal file is self-contained: no -wal or -shm beside it to carry along.
  const copy = new Database(dest);
  try {
    copy.pragma('journal_mode = DELETE');
  } finally {
    copy.close();
  }
}

/** Integrity, schema version and counts of a database file that nothing else has open. */
export function inspectSnapshot(path: string): SnapshotFacts {
  const db = new Database(path, { fileMustExist: true });
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('; ');
    if (integrity !== 'ok') return { schemaVersion: 0, integrity, counts: emptyCounts(), crlNumbers: {} };
    const count = (sql: string): number => (db.prepare(sql).get() as { n: number }).n;
    const has = (table: string): boolean =>
      db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;
    const countOf = (table: string, where = ''): number => (has(table) ? count(`SELECT count(*) AS n FROM ${table} ${where}`) : 0);
    const schemaVersion = has('schema_migrations') ? count('SELECT coalesce(max(version), 0) AS n FROM schema_migrations') : 0;
    const crlNumbers: Record<string, number> = {};
    if (has('cas')) {
      for (const r of db.prepare('SELECT name, crl_number FROM cas ORDER BY id').all() as { name: string; crl_number: number }[]) {
        crlNumbers[r.name] = r.crl_number;
      }
    }
    return {
      schemaVersion, integrity, crlNumbers,
      counts: {
        cas: countOf('cas'), certificates: countOf('certificates'), revocations: countOf('certificates', "WHERE status <> 'valid'"),
        users: countOf('users'), devices: countOf('devices'), nasClients: countOf('nas_clients'),
        policies: countOf('group_policies') + countOf('kind_methods') + countOf('kind_factors') + countOf('group_otp'), auditRows: countOf('audit'),
      },
    };
  } finally {
    db.close();
  }
}

function emptyCounts(): SnapshotFacts['counts'] {
  return { cas: 0, certificates: 0, revocations: 0, users: 0, devices: 0, nasClients: 0, policies: 0, auditRows: 0 };
}
