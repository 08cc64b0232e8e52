// Backup and restore of a whole data folder: the database (by SQLite's online backup
// API, so a running daemon keeps serving), authbox.json and the master key, sealed into
// one passphrase-encrypted file (core/backup-container.ts). Composition like main.ts.
import { randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { Actor } from './ca/storage.js';
import { CONFIG_FILE, DATABASE_FILE, MASTER_KEY_FILE, loadConfig, readMasterKey, type AuthboxConfig } from './config/config.js';
import { checkPassphrase, openBackup, sealBackup, type BackupManifest, type KdfParams } from './core/backup-container.js';
import { BackupScheduler } from './core/backup-scheduler.js';
import { AppError, isAppError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { PID_FILE } from './daemon-process.js';
import { openPki, readVersion } from './main.js';
import { inspectSnapshot, SCHEMA_VERSION, snapshotDatabase } from './store/backup-store.js';

export interface BackupResult {
  file: string;
  bytes: number;
  manifest: BackupManifest;
}

export interface BackupOptions {
  dataDir: string;
  out: string;
  passphrase: string;
  by: Actor;
  /** Replace an existing file at `out` (the scheduler's names are unique; the CLI refuses). */
  overwrite?: boolean;
  clock?: () => Date;
  /** Tests only: a cheaper scrypt. */
  kdf?: KdfParams;
  env?: NodeJS.ProcessEnv;
}

/** The first line of a passphrase file (at least 12 characters). */
export function readPassphraseFile(path: string): string {
  if (!existsSync(path)) throw new AppError('NOT_FOUND', `no passphrase file at ${path}`);
  return checkPassphrase(readFileSync(path, 'utf8'), path);
}

/** Writes a new file durably: temp file beside it (0600 from the first byte), fsync, rename, fsync of the folder. */
export function writeFileAtomic(path: string, data: Buffer): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      for (let at = 0; at < data.length;) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  syncDir(dirname(path));
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export async function createBackup(opts: BackupOptions): Promise<BackupResult> {
  const out = resolve(opts.out);
  if (!opts.overwrite && existsSync(out)) throw new AppError('CONFLICT', `${out} already exists; choose another file name`);
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new AppError('BAD_INPUT', `folder ${dirname(out)} does not exist`);
  const config = loadConfig(opts.dataDir, opts.env ?? process.env);
  const masterKey = readMasterKey(config.masterKeyFile);
  const configBytes = readFileSync(join(opts.dataDir, CONFIG_FILE));
  const pki = openPki(config);
  const work = mkdtempSync(join(dirname(out), '.authbox-backup-'));
  try {
    const snapshot = join(work, DATABASE_FILE);
    await snapshotDatabase(pki.db, snapshot);
    const facts = inspectSnapshot(snapshot);
    if (facts.integrity !== 'ok') throw new AppError('INTERNAL', `the database copy failed its integrity check: ${facts.integrity}`);
    const database = readFileSync(snapshot);
    const manifest: BackupManifest = {
      createdAt: (opts.clock ?? (() => new Date()))().toISOString(), authboxVersion: readVersion(),
      schemaVersion: facts.schemaVersion, counts: facts.counts, crlNumbers: facts.crlNumbers, databaseBytes: database.length,
    };
    const sealed = await sealBackup({ manifest, config: configBytes, masterKey, database }, opts.passphrase, opts.kdf);
    writeFileAtomic(out, sealed);
    // Counts and numbers only: never the passphrase, the key or a path to either.
    pki.store.audit(opts.by, 'backup.create', out, {
      bytes: sealed.length, schemaVersion: manifest.schemaVersion, counts: manifest.counts, crlNumbers: manifest.crlNumbers,
    });
    return { file: out, bytes: sealed.length, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
    pki.close();
  }
}

export interface RestoreOptions {
  dataDir: string;
  input: string;
  passphrase: string;
  force: boolean;
  by: Actor;
}

export interface RestoreResult {
  dataDir: string;
  manifest: BackupManifest;
}

/** Files of a data folder that a restore replaces (the -wal and -shm of an old database must go with it). */
// A function, not a constant: daemon.ts (PID_FILE) and this module import each other.
const replaced = (): string[] => [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`, `${DATABASE_FILE}-journal`, MASTER_KEY_FILE, CONFIG_FILE, PID_FILE];

function daemonRunsIn(dir: string): boolean {
  try {
    const pids = readFileSync(join(dir, PID_FILE), 'utf8').split('\n').filter(Boolean).map(Number);
    return pids.some((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * Decrypts and checks everything before the target folder is touched: a wrong passphrase,
 * a damaged file or a database that fails integrity_check leave it as it was.
 */
export async function restoreBackup(opts: RestoreOptions): Promise<RestoreResult> {
  const target = resolve(opts.dataDir);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) throw new AppError('DATA_DIR_EXISTS', `${target} exists and is not a folder`);
    if (readdirSync(target).length > 0 && !opts.force) {
      throw new AppError('DATA_DIR_EXISTS', `${target} is not empty; restore into a new folder, or add --force to replace its data`);
    }
    if (daemonRunsIn(target)) throw new AppError('CONFLICT', `authbox serve is running on ${target}; stop it before restoring over it`);
  } else if (!existsSync(dirname(target))) {
    throw new AppError('BAD_INPUT', `folder ${dirname(target)} does not exist`);
  }
  if (!existsSync(opts.input)) throw new AppError('NOT_FOUND', `no backup file at ${opts.input}`);
  const contents = await openBackup(readFileSync(opts.input), opts.passphrase);
  const { manifest } = contents;
  if (!(manifest.schemaVersion <= SCHEMA_VERSION)) {
    throw new AppError('BACKUP_INVALID', `the backup has database schema ${manifest.schemaVersion}, newer than this authbox reads (${SCHEMA_VERSION}); restore it with authbox ${manifest.authboxVersion} or later`);
  }

  const staging = mkdtempSync(join(dirname(target), '.authbox-restore-'));
  try {
    writeFileAtomic(join(staging, DATABASE_FILE), contents.database);
    const facts = inspectSnapshot(join(staging, DATABASE_FILE));
    if (facts.integrity !== 'ok') throw new AppError('BACKUP_INVALID', `the database in the backup failed its integrity check: ${facts.integrity.slice(0, 200)}`);
    writeFileAtomic(join(staging, MASTER_KEY_FILE), Buffer.from(contents.masterKey.toString('base64') + '\n'));
    writeFileAtomic(join(staging, CONFIG_FILE), contents.config);
    // Opening it applies newer migrations; every CA key must unseal with the restored master key.
    let pki: ReturnType<typeof openPki>;
    try {
      pki = openPki(loadConfig(staging, {}));
    } catch (e) {
      if (isAppError(e, 'KEY_DECRYPT_FAILED')) throw new AppError('BACKUP_INVALID', 'the master key in the backup does not unseal its CA keys');
      throw e;
    }
    try {
      pki.store.audit(opts.by, 'backup.restore', target, {
        from: basename(opts.input), createdAt: manifest.createdAt, authboxVersion: manifest.authboxVersion,
        schemaVersion: manifest.schemaVersion, counts: manifest.counts, crlNumbers: manifest.crlNumbers,
      });
    } finally {
      pki.close();
    }
    if (!existsSync(target)) {
      renameSync(staging, target);
    } else {
      for (const name of replaced()) rmSync(join(target, name), { force: true });
      // The database last: a folder with a database has its key and config already.
      for (const name of [MASTER_KEY_FILE, CONFIG_FILE, DATABASE_FILE]) renameSync(join(staging, name), join(target, name));
      rmSync(staging, { recursive: true, force: true });
    }
    syncDir(target);
    syncDir(dirname(target));
    return { dataDir: target, manifest };
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The daemon's scheduled backups (authbox.json "backup"), or undefined when none are set.
 * The passphrase file is read at each backup, so it can be replaced without a restart.
 */
export function scheduledBackups(config: AuthboxConfig, log: Logger, clock: () => Date = () => new Date()): BackupScheduler | undefined {
  const schedule = config.backup;
  if (!schedule) return undefined;
  return new BackupScheduler({
    schedule, clock, log,
    backup: async (file) => {
      await createBackup({
        dataDir: config.dataDir, out: file, passphrase: readPassphraseFile(schedule.passphraseFile),
        by: { actor: 'system', source: 'system' }, clock,
      });
    },
  });
}
