// Configuration: the data folder's authbox.json merged over defaults, validated once,
// frozen, and handed to each module as its own slice. The only module that reads the
// environment.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseKeyType, type KeyType } from '../ca/keys.js';
import { parseCidr } from '../core/cidr.js';
import { AppError } from '../core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface AuthboxConfig {
  readonly dataDir: string;
  readonly databaseFile: string;
  readonly masterKeyFile: string;
  readonly organization: string;
  readonly publicUrl: string;
  /** Key type for keys authbox makes for itself (OCSP signer renewals). */
  readonly keyType: KeyType;
  readonly http: { readonly listen: ListenAddress; readonly workers: number; readonly maxBodyBytes: number };
  readonly ocsp: { readonly validitySeconds: number; readonly cacheMaxAgeSeconds: number; readonly cacheEntries: number };
  readonly crl: { readonly validitySeconds: number; readonly debounceMs: number };
  readonly feed: { readonly pollMs: number };
  /** UDP listeners: authentication (1812) and accounting (1813), each one or more addresses. */
  readonly radius: {
    readonly auth: readonly ListenAddress[];
    readonly acct: readonly ListenAddress[];
    /** EAP worker threads (TLS handshakes on every core); 0 runs EAP in the thread that holds the sockets. */
    readonly eapWorkers: number;
  };
  /** The least level written to stdout; accepted authentications are logged at debug. */
  readonly logLevel: LogLevel;
  /** Scheduled backups by the daemon; absent when authbox.json has no "backup". */
  readonly backup?: BackupSettings;
  /** GET /metrics (Prometheus) is answered to these networks only; others get 403. */
  readonly metrics: { readonly allow: readonly string[] };
  /** Rules for local passwords (core/users.ts PasswordPolicy). */
  readonly passwords: { readonly minLength: number; readonly minClasses: number; readonly history: number; readonly maxAgeDays: number };
  /** Failed password attempts before an account is locked (0: never), counted over windowMinutes, locked for durationMinutes. */
  readonly lockout: { readonly attempts: number; readonly windowMinutes: number; readonly durationMinutes: number };
}

export interface BackupSettings {
  /** Absolute; a relative "dir" in authbox.json is taken from the data folder. */
  readonly dir: string;
  readonly everyHours: number;
  readonly keep: number;
  /** Absolute, like dir; its first line is the passphrase. */
  readonly passphraseFile: string;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What `authbox init` writes into DIR/authbox.json; everything else has a default. */
export interface StoredSettings {
  organization: string;
  publicUrl: string;
  keyType?: string;
  http?: Partial<AuthboxConfig['http']> & { listen?: string };
  ocsp?: Partial<AuthboxConfig['ocsp']>;
  crl?: Partial<AuthboxConfig['crl']>;
  radius?: { listen?: string; accountingListen?: string; eapWorkers?: number };
  log?: { level?: string };
  backup?: { dir?: string; everyHours?: number; keep?: number; passphraseFile?: string };
  metrics?: { allow?: string[] };
  passwords?: Partial<AuthboxConfig['passwords']>;
  lockout?: Partial<AuthboxConfig['lockout']>;
}

export const CONFIG_FILE = 'authbox.json';
export const DATABASE_FILE = 'authbox.db';
export const MASTER_KEY_FILE = 'master.key';
/** systemd LoadCredential= name for the master key. */
export const MASTER_KEY_CREDENTIAL = 'authbox-master-key';

export function parseListen(value: string, what: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AppError('BAD_INPUT', `${what} must be ADDRESS:PORT (e.g. 0.0.0.0:8080 or [::]:8080), not "${value}"`);
  return { host: (m[1] ?? m[2])!, port };
}

function positive(value: unknown, fallback: number, what: string, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new AppError('BAD_INPUT', `${what} must be a number of at least ${min}`);
  }
  return value;
}

export function masterKeyPath(dataDir: string, env: NodeJS.ProcessEnv): string {
  if (env.AUTHBOX_MASTER_KEY_FILE) return env.AUTHBOX_MASTER_KEY_FILE;
  if (env.CREDENTIALS_DIRECTORY) {
    const cred = join(env.CREDENTIALS_DIRECTORY, MASTER_KEY_CREDENTIAL);
    if (existsSync(cred)) return cred;
  }
  return join(dataDir, MASTER_KEY_FILE);
}

/** One or more ADDRESS:PORT separated by commas: "0.0.0.0:1812,[::]:1812". */
export function parseListenList(value: string, what: string): ListenAddress[] {
  const parts = value.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new AppError('BAD_INPUT', `${what} needs at least one ADDRESS:PORT`);
  return parts.map((p) => parseListen(p, what));
}

export interface Overrides {
  httpListen?: string;
  httpWorkers?: number;
  radiusListen?: string;
  radiusAcctListen?: string;
  logLevel?: string;
  eapWorkers?: number;
}

export function loadConfig(dataDir: string, env: NodeJS.ProcessEnv = process.env, overrides: Overrides = {}): AuthboxConfig {
  const file = join(dataDir, CONFIG_FILE);
  if (!existsSync(file)) {
    throw new AppError('DATA_DIR_MISSING', `${dataDir} is not an authbox data folder (no ${CONFIG_FILE}); run \`authbox init --data ${dataDir}\``);
  }
  let stored: StoredSettings;
  try {
    stored = JSON.parse(readFileSync(file, 'utf8')) as StoredSettings;
  } catch (e) {
    throw new AppError('BAD_INPUT', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof stored !== 'object' || stored === null || typeof stored.organization !== 'string' || typeof stored.publicUrl !== 'string') {
    throw new AppError('BAD_INPUT', `${file} must set "organization" and "publicUrl"`);
  }
  const http = stored.http ?? {};
  const config: AuthboxConfig = {
    dataDir,
    databaseFile: join(dataDir, DATABASE_FILE),
    masterKeyFile: masterKeyPath(dataDir, env),
    organization: stored.organization,
    publicUrl: stored.publicUrl,
    keyType: parseKeyType(stored.keyType ?? 'ec-p256'),
    http: {
      listen: parseListen(overrides.httpListen ?? http.listen ?? '0.0.0.0:8080', '--http'),
      workers: positive(overrides.httpWorkers ?? http.workers, 2, 'http.workers'),
      maxBodyBytes: positive(http.maxBodyBytes, 16 * 1024, 'http.maxBodyBytes', 1024),
    },
    ocsp: {
      validitySeconds: positive(stored.ocsp?.validitySeconds, 3600, 'ocsp.validitySeconds', 60),
      cacheMaxAgeSeconds: positive(stored.ocsp?.cacheMaxAgeSeconds, 60, 'ocsp.cacheMaxAgeSeconds', 0),
      cacheEntries: positive(stored.ocsp?.cacheEntries, 200_000, 'ocsp.cacheEntries', 100),
    },
    crl: {
      validitySeconds: positive(stored.crl?.validitySeconds, 86_400, 'crl.validitySeconds', 300),
      debounceMs: positive(stored.crl?.debounceMs, 300, 'crl.debounceMs', 0),
    },
    feed: { pollMs: 100 },
    radius: {
      auth: parseListenList(overrides.radiusListen ?? stored.radius?.listen ?? '0.0.0.0:1812', '--radius'),
      acct: parseListenList(overrides.radiusAcctListen ?? stored.radius?.accountingListen ?? '0.0.0.0:1813', '--radius-acct'),
      eapWorkers: eapWorkers(overrides.eapWorkers ?? stored.radius?.eapWorkers),
    },
    logLevel: parseLogLevel(overrides.logLevel ?? stored.log?.level ?? 'info'),
    ...(stored.backup !== undefined ? { backup: backupSettings(dataDir, stored.backup) } : {}),
    metrics: { allow: metricsAllow(stored.metrics?.allow) },
    passwords: {
      minLength: within(stored.passwords?.minLength, 8, 'passwords.minLength', 8, 128),
      minClasses: within(stored.passwords?.minClasses, 1, 'passwords.minClasses', 1, 4),
      history: within(stored.passwords?.history, 0, 'passwords.history', 0, 24),
      maxAgeDays: within(stored.passwords?.maxAgeDays, 0, 'passwords.maxAgeDays', 0, 3650),
    },
    lockout: {
      attempts: within(stored.lockout?.attempts, 10, 'lockout.attempts', 0, 1000),
      windowMinutes: within(stored.lockout?.windowMinutes, 15, 'lockout.windowMinutes', 1, 1440),
      durationMinutes: within(stored.lockout?.durationMinutes, 15, 'lockout.durationMinutes', 1, 525_600),
    },
  };
  return deepFreeze(config);
}

/** One EAP worker per core by default (at most 8); 0 to 64 when set. */
export const DEFAULT_EAP_WORKERS = Math.min(8, Math.max(1, availableParallelism()));
function eapWorkers(value: number | undefined): number {
  if (value === undefined) return DEFAULT_EAP_WORKERS;
  if (!Number.isInteger(value) || value < 0 || value > 64) throw new AppError('BAD_INPUT', 'radius.eapWorkers must be a whole number from 0 to 64');
  return value;
}

function within(value: unknown, fallback: number, what: string, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AppError('BAD_INPUT', `${what} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Loopback by default: metrics tell an attacker which CAs expire when and how busy RADIUS is. */
export const DEFAULT_METRICS_ALLOW = ['127.0.0.1/32', '::1/128'];
function metricsAllow(value: unknown): string[] {
  if (value === undefined) return [...DEFAULT_METRICS_ALLOW];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !parseCidr(v))) {
    throw new AppError('BAD_INPUT', 'metrics.allow must be a list of addresses or networks, e.g. ["127.0.0.1/32", "10.0.0.0/8"] ([] allows nobody)');
  }
  return value.map((v: string) => v.trim());
}

function backupSettings(dataDir: string, b: NonNullable<StoredSettings['backup']>): BackupSettings {
  if (typeof b !== 'object' || b === null) throw new AppError('BAD_INPUT', '"backup" must be an object');
  if (typeof b.dir !== 'string' || b.dir === '') throw new AppError('BAD_INPUT', 'backup.dir must name a folder');
  if (typeof b.passphraseFile !== 'string' || b.passphraseFile === '') {
    throw new AppError('BAD_INPUT', 'backup.passphraseFile must name a file (a backup is always encrypted with a passphrase)');
  }
  const keep = positive(b.keep, 7, 'backup.keep');
  if (!Number.isInteger(keep)) throw new AppError('BAD_INPUT', 'backup.keep must be a whole number of at least 1');
  const dir = resolve(dataDir, b.dir);
  if (dir === resolve(dataDir)) throw new AppError('BAD_INPUT', 'backup.dir must not be the data folder itself');
  return { dir, everyHours: positive(b.everyHours, 24, 'backup.everyHours', 0.25), keep, passphraseFile: resolve(dataDir, b.passphraseFile) };
}

function parseLogLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (!level) throw new AppError('BAD_INPUT', `the log level must be one of ${LOG_LEVELS.join(', ')}, not "${value}"`);
  return level;
}

/** Reads the 32-byte master key, refusing a file that others can read. */
export function readMasterKey(path: string): Buffer {
  if (!existsSync(path)) {
    throw new AppError('MASTER_KEY_MISSING', `the master key ${path} is missing: without it no CA key can be unsealed (restore it from where you keep its copy)`);
  }
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) {
    throw new AppError('MASTER_KEY_INVALID', `the master key ${path} is readable by others (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 on it`);
  }
  const text = readFileSync(path, 'utf8').trim();
  const key = Buffer.from(text, 'base64');
  if (key.length !== 32) throw new AppError('MASTER_KEY_INVALID', `the master key ${path} is not 32 base64-encoded bytes`);
  return key;
}

function deepFreeze<T>(obj: T): T {
  for (const v of Object.values(obj as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(obj);
}
