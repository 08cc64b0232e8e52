// Configuration: the data folder's authbox.json merged over defaults, validated once,
// frozen, and handed to each module as its own slice. The only module that reads the
// environment.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { parseKeyType, type KeyType } from '../ca/keys.js';
import { parseCidr } from '../core/cidr.js';
import { AppError } from '../core/errors.js';
import { FACILITIES } from '../core/syslog.js';

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
    /** RadSec (RADIUS over TLS, RFC 6614, usually port 2083); null: off (the default). */
    readonly radsec: ListenAddress | null;
  };
  /** The least level written to stdout; accepted authentications are logged at debug. */
  readonly logLevel: LogLevel;
  /** Where the three log streams go: system (everything else), auth (decisions), audit (audit rows). */
  readonly log: LogSettings;
  /** Warnings before certificates, CAs and OCSP signers expire. */
  readonly expiry: ExpirySettings;
  /** Scheduled backups by the daemon; absent when authbox.json has no "backup". */
  readonly backup?: BackupSettings;
  /** GET /metrics (Prometheus) is answered to these networks only; others get 403. */
  readonly metrics: { readonly allow: readonly string[] };
  /** Rules for local passwords (core/users.ts PasswordPolicy). */
  readonly passwords: { readonly minLength: number; readonly minClasses: number; readonly history: number; readonly maxAgeDays: number };
  /** Failed password attempts before an account is locked (0: never), counted over windowMinutes, locked for durationMinutes. */
  readonly lockout: { readonly attempts: number; readonly windowMinutes: number; readonly durationMinutes: number };
  /** The admin console and API (HTTPS): where it listens, how long an operator's session lasts. */
  readonly admin: { readonly listen: ListenAddress | null; readonly sessionIdleMinutes: number; readonly sessionAbsoluteHours: number };
}

export interface BackupSettings {
  /** Absolute; a relative "dir" in authbox.json is taken from the data folder. */
  readonly dir: string;
  readonly everyHours: number;
  readonly keep: number;
  /** Absolute, like dir; its first line is the passphrase. */
  readonly passphraseFile: string;
}

export interface SyslogSettings {
  readonly transport: 'udp' | 'tcp' | 'tls';
  readonly host: string;
  readonly port: number;
  /** tls: the CA (PEM) the syslog server's certificate must chain to. */
  readonly caFile?: string;
  /** RFC 5424 facility number. */
  readonly facility: number;
}

export interface LogStreamSettings {
  readonly stdout: boolean;
  readonly syslog?: SyslogSettings;
}

export interface LogSettings {
  /** Least level of the system stream; the auth and audit streams carry every record. */
  readonly level: LogLevel;
  readonly system: LogStreamSettings;
  readonly auth: LogStreamSettings;
  readonly audit: LogStreamSettings;
  /** What stdout may hold in memory while the journal does not read, in KiB; beyond it lines are dropped and counted. */
  readonly stdoutBufferKiB: number;
}

export interface ExpirySettings {
  /** Warn when this many days or fewer remain, once per threshold per certificate; largest first. */
  readonly days: readonly number[];
  readonly smtp?: {
    readonly host: string; readonly port: number; readonly starttls: boolean; readonly from: string; readonly to: readonly string[];
    readonly user?: string; readonly passwordFile?: string; readonly caFile?: string;
  };
  readonly webhook?: { readonly url: string; readonly secretFile?: string };
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
  radius?: { listen?: string; accountingListen?: string; eapWorkers?: number; radsecListen?: string };
  log?: { level?: string; system?: StoredLogStream; auth?: StoredLogStream; audit?: StoredLogStream; stdoutBufferKiB?: number };
  expiry?: {
    days?: number[];
    smtp?: { host?: string; port?: number; starttls?: boolean; from?: string; to?: string[]; user?: string; passwordFile?: string; caFile?: string };
    webhook?: { url?: string; secretFile?: string };
  };
  backup?: { dir?: string; everyHours?: number; keep?: number; passphraseFile?: string };
  metrics?: { allow?: string[] };
  passwords?: Partial<AuthboxConfig['passwords']>;
  lockout?: Partial<AuthboxConfig['lockout']>;
  admin?: { listen?: string; sessionIdleMinutes?: number; sessionAbsoluteHours?: number };
}

export interface StoredLogStream {
  stdout?: boolean;
  syslog?: { transport?: string; host?: string; port?: number; caFile?: string; facility?: string | number };
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
  radsecListen?: string;
  logLevel?: string;
  eapWorkers?: number;
  adminListen?: string;
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
      radsec: radsecListen(overrides.radsecListen ?? stored.radius?.radsecListen),
    },
    logLevel: parseLogLevel(overrides.logLevel ?? stored.log?.level ?? 'info'),
    log: logSettings(dataDir, stored.log, overrides.logLevel),
    expiry: expirySettings(dataDir, stored.expiry),
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
    admin: {
      // "off": no console (a daemon that only answers RADIUS and OCSP).
      listen: (overrides.adminListen ?? stored.admin?.listen ?? '0.0.0.0:8443') === 'off' ? null
        : parseListen(overrides.adminListen ?? stored.admin?.listen ?? '0.0.0.0:8443', '--admin'),
      sessionIdleMinutes: within(stored.admin?.sessionIdleMinutes, 15, 'admin.sessionIdleMinutes', 1, 1440),
      sessionAbsoluteHours: within(stored.admin?.sessionAbsoluteHours, 8, 'admin.sessionAbsoluteHours', 1, 168),
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

/** Off unless set; "off" (or "") also turns it off, so --radsec off overrides authbox.json. */
function radsecListen(value: string | undefined): ListenAddress | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw new AppError('BAD_INPUT', 'radius.radsecListen must be ADDRESS:PORT, e.g. "0.0.0.0:2083"');
  if (value.trim() === '' || value.trim() === 'off') return null;
  return parseListen(value, '--radsec');
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

const STREAM_DEFAULTS = {
  system: { stdout: true, facility: 'daemon' },
  auth: { stdout: false, facility: 'authpriv' },
  audit: { stdout: true, facility: 'audit' },
} as const;

function logSettings(dataDir: string, stored: StoredSettings['log'], levelOverride: string | undefined): LogSettings {
  if (stored !== undefined && (typeof stored !== 'object' || stored === null)) throw new AppError('BAD_INPUT', '"log" must be an object');
  const stream = (name: keyof typeof STREAM_DEFAULTS): LogStreamSettings => {
    const s = stored?.[name];
    if (s === undefined) return { stdout: STREAM_DEFAULTS[name].stdout };
    if (typeof s !== 'object' || s === null) throw new AppError('BAD_INPUT', `log.${name} must be an object`);
    if (s.stdout !== undefined && typeof s.stdout !== 'boolean') throw new AppError('BAD_INPUT', `log.${name}.stdout must be true or false`);
    return {
      stdout: s.stdout ?? STREAM_DEFAULTS[name].stdout,
      ...(s.syslog !== undefined ? { syslog: syslogSettings(dataDir, `log.${name}.syslog`, s.syslog, STREAM_DEFAULTS[name].facility) } : {}),
    };
  };
  return {
    level: parseLogLevel(levelOverride ?? stored?.level ?? 'info'),
    system: stream('system'), auth: stream('auth'), audit: stream('audit'),
    stdoutBufferKiB: within(stored?.stdoutBufferKiB, 16_384, 'log.stdoutBufferKiB', 64, 1_048_576),
  };
}

function syslogSettings(dataDir: string, what: string, s: NonNullable<StoredLogStream['syslog']>, facility: string): SyslogSettings {
  if (typeof s !== 'object' || s === null) throw new AppError('BAD_INPUT', `${what} must be an object`);
  const transport = s.transport ?? 'udp';
  if (transport !== 'udp' && transport !== 'tcp' && transport !== 'tls') {
    throw new AppError('BAD_INPUT', `${what}.transport must be "udp", "tcp" or "tls", not "${String(transport)}"`);
  }
  if (typeof s.host !== 'string' || !/^[^\s/]+$/.test(s.host)) throw new AppError('BAD_INPUT', `${what}.host must name the syslog server (a host name or address)`);
  const port = within(s.port, transport === 'tls' ? 6514 : 514, `${what}.port`, 1, 65535);
  if (transport === 'tls' && (typeof s.caFile !== 'string' || s.caFile === '')) {
    throw new AppError('BAD_INPUT', `${what}.caFile must name the CA file (PEM) the syslog server's certificate is verified against (transport "tls")`);
  }
  // `in`, not a read: a UDP or TCP destination has no caFile setting at all.
  if (transport !== 'tls' && 'caFile' in s) throw new AppError('BAD_INPUT', `${what}.caFile is for transport "tls" only`);
  const f = s.facility ?? facility;
  const code = typeof f === 'number' ? f : FACILITIES[f];
  if (code === undefined || !Number.isInteger(code) || code < 0 || code > 23) {
    throw new AppError('BAD_INPUT', `${what}.facility must be a facility name (daemon, authpriv, audit, local0 ... local7) or a number from 0 to 23`);
  }
  return { transport, host: s.host, port, facility: code, ...(transport === 'tls' ? { caFile: resolve(dataDir, s.caFile!) } : {}) };
}

export const DEFAULT_EXPIRY_DAYS = [30, 7, 1];
function expirySettings(dataDir: string, e: StoredSettings['expiry']): ExpirySettings {
  if (e === undefined) return { days: [...DEFAULT_EXPIRY_DAYS] };
  if (typeof e !== 'object' || e === null) throw new AppError('BAD_INPUT', '"expiry" must be an object');
  const days = e.days ?? DEFAULT_EXPIRY_DAYS;
  if (!Array.isArray(days) || days.length === 0 || days.some((d) => !Number.isInteger(d) || d < 1 || d > 3650)) {
    throw new AppError('BAD_INPUT', 'expiry.days must be a list of whole numbers of days from 1 to 3650, e.g. [30, 7, 1]');
  }
  const out: { -readonly [K in keyof ExpirySettings]: ExpirySettings[K] } = { days: [...new Set(days)].sort((a, b) => b - a) };
  const file = (v: unknown, what: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new AppError('BAD_INPUT', `${what} must name a file`);
    return resolve(dataDir, v);
  };
  if (e.smtp !== undefined) {
    const m = e.smtp;
    if (typeof m !== 'object' || m === null) throw new AppError('BAD_INPUT', 'expiry.smtp must be an object');
    if (typeof m.host !== 'string' || m.host === '') throw new AppError('BAD_INPUT', 'expiry.smtp.host must name the mail server');
    const email = /^[^\s@<>]+@[^\s@<>]+$/;
    if (typeof m.from !== 'string' || !email.test(m.from)) throw new AppError('BAD_INPUT', 'expiry.smtp.from must be an e-mail address');
    if (!Array.isArray(m.to) || m.to.length === 0 || m.to.some((t) => typeof t !== 'string' || !email.test(t))) {
      throw new AppError('BAD_INPUT', 'expiry.smtp.to must be a list of one or more e-mail addresses');
    }
    if (m.starttls !== undefined && typeof m.starttls !== 'boolean') throw new AppError('BAD_INPUT', 'expiry.smtp.starttls must be true or false');
    if (m.user !== undefined && (typeof m.user !== 'string' || m.user === '')) throw new AppError('BAD_INPUT', 'expiry.smtp.user must be a user name');
    const passwordFile = file(m.passwordFile, 'expiry.smtp.passwordFile');
    if ((m.user === undefined) !== (passwordFile === undefined)) throw new AppError('BAD_INPUT', 'expiry.smtp.user and expiry.smtp.passwordFile go together');
    const caFile = file(m.caFile, 'expiry.smtp.caFile');
    const starttls = m.starttls ?? true;
    out.smtp = {
      host: m.host, port: within(m.port, 25, 'expiry.smtp.port', 1, 65535), starttls, from: m.from, to: [...m.to],
      ...(m.user !== undefined ? { user: m.user, passwordFile } : {}), ...(caFile ? { caFile } : {}),
    };
  }
  if (e.webhook !== undefined) {
    const w = e.webhook;
    if (typeof w !== 'object' || w === null) throw new AppError('BAD_INPUT', 'expiry.webhook must be an object');
    if (typeof w.url !== 'string' || !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(w.url)) throw new AppError('BAD_INPUT', 'expiry.webhook.url must be an http(s) URL');
    const secretFile = file(w.secretFile, 'expiry.webhook.secretFile');
    out.webhook = { url: w.url, ...(secretFile ? { secretFile } : {}) };
  }
  return out;
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
