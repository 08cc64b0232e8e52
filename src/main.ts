// Composition root: the only file that wires modules together. The CLI calls these.
import { randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CertificateAuthority, publicUrls } from './ca/authority.js';
import { KeyVault } from './ca/keystore.js';
import { describeKey, type KeyType } from './ca/keys.js';
import { PROFILES } from './ca/profiles.js';
import type { Actor } from './ca/storage.js';
import {
  CONFIG_FILE, DATABASE_FILE, MASTER_KEY_FILE, loadConfig, readMasterKey, type AuthboxConfig, type StoredSettings,
} from './config/config.js';
import { DeviceService } from './core/devices.js';
import { AppError } from './core/errors.js';
import { NasService } from './core/nas.js';
import { PolicyService } from './core/policy.js';
import { UserService } from './core/users.js';
import { openDatabase, type Db } from './store/db.js';
import { SettingsStore, SqlitePkiStore } from './store/pki-store.js';
import { SqliteNasStore } from './store/nas-store.js';
import { SqlitePolicyStore } from './store/policy-store.js';
import { SqliteUserStore } from './store/users-store.js';
import { SqliteAccountingStore } from './store/accounting-store.js';
import { SqliteCoaStore } from './store/coa-store.js';
import { CoaLog } from './core/coa.js';
import { SqliteAuthLogStore } from './store/auth-log-store.js';
import { SqliteDeviceStore } from './store/devices-store.js';
import { SqliteLdapStore } from './store/ldap-store.js';
import { CrlReason } from './ca/crl.js';
import { silentLogger, type Logger } from './core/logger.js';
import { LdapSourceService } from './ldap-sync/source.js';
import { LdapSync, type CertificateRevoker } from './ldap-sync/sync.js';
import { syncUsersFrom } from './ldap-sync/users-port.js';
import { DEFAULT_OPERATOR_POLICY, OperatorService } from './core/operators.js';
import { ConsoleQueries } from './store/console-queries.js';
import { listExpiring } from './expiry.js';
import { SqliteOperatorStore } from './store/operators-store.js';
import { ConsoleAdminStore } from './store/console-admin-store.js';
import { DashboardQueries } from './store/dashboard-queries.js';
import { syncInChildProcess } from './daemon-process.js';
import { dryRunInChildProcess } from './console-jobs.js';


export interface Pki {
  config: AuthboxConfig;
  db: Db;
  store: SqlitePkiStore;
  settings: SettingsStore;
  vault: KeyVault;
  authority: CertificateAuthority;
  users: UserService;
  nas: NasService;
  policy: PolicyService;
  /** Registered devices (MAB, device certificates). */
  devices: DeviceService;
  /** RADIUS accounting sessions. */
  accounting: SqliteAccountingStore;
  /** The authentication decision log. */
  authLog: SqliteAuthLogStore;
  /** Disconnect-Requests sent (RFC 5176) and their outcomes. */
  coa: CoaLog;
  close(): void;
}

export function openPki(config: AuthboxConfig, clock: () => Date = () => new Date()): Pki {
  const master = readMasterKey(config.masterKeyFile);
  if (!existsSync(config.databaseFile)) throw new AppError('DATA_DIR_MISSING', `no database at ${config.databaseFile}`);
  const db = openDatabase(config.databaseFile);
  const store = new SqlitePkiStore(db);
  const vault = new KeyVault(master, store);
  const authority = new CertificateAuthority({
    storage: store, vault, urls: publicUrls(config.publicUrl), organization: config.organization, clock,
  });
  const users = new UserService({ storage: new SqliteUserStore(db), master, clock, policy: config.passwords, issuer: config.organization });
  const nas = new NasService({ storage: new SqliteNasStore(db), master, clock });
  const policy = new PolicyService({ storage: new SqlitePolicyStore(db) });
  const accounting = new SqliteAccountingStore(db);
  const authLog = new SqliteAuthLogStore(db);
  const devices = new DeviceService({ storage: new SqliteDeviceStore(db), users, clock });
  return {
    config, db, store, settings: new SettingsStore(db), vault, authority, users, nas, policy, accounting, authLog, devices,
    coa: new CoaLog(new SqliteCoaStore(db)), close: () => db.close(),
  };
}

export function openPkiAt(dataDir: string): Pki {
  return openPki(loadConfig(dataDir));
}

export interface InitOptions {
  dataDir: string;
  organization: string;
  keyType: KeyType;
  publicUrl?: string;
  adminPassword?: string;
  by: Actor;
}

export interface InitResult {
  dataDir: string;
  masterKeyFile: string;
  publicUrl: string;
  rootSubject: string;
  issuingSubject: string;
  keyDescription: string;
}

/** Creates a data folder with a CA hierarchy, an OCSP signer and authbox's own TLS certificate. */
export function initDataDir(opts: InitOptions): InitResult {
  if (existsSync(opts.dataDir)) {
    throw new AppError('DATA_DIR_EXISTS', `${opts.dataDir} already exists; authbox init never touches an existing folder`);
  }
  const publicUrl = (opts.publicUrl ?? `http://${hostname()}:8080`).replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(publicUrl)) throw new AppError('BAD_INPUT', `--public-url must be an http(s) URL, not "${publicUrl}"`);
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  chmodSync(opts.dataDir, 0o700);
  try {
    writeFileSync(join(opts.dataDir, MASTER_KEY_FILE), randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    const settings: StoredSettings = { organization: opts.organization, publicUrl, keyType: opts.keyType };
    writeFileSync(join(opts.dataDir, CONFIG_FILE), JSON.stringify(settings, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    openDatabase(join(opts.dataDir, DATABASE_FILE)).close();
    const pki = openPki(loadConfig(opts.dataDir, {}));
    try {
      pki.authority.createHierarchy(opts.keyType, opts.by);
      issueServerCertificate(pki, opts.keyType, opts.by);
      if (opts.adminPassword) {
        const salt = randomBytes(16);
        const hash = scryptSync(opts.adminPassword, salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
        pki.settings.set('admin.bootstrap', `scrypt$32768$8$1$${salt.toString('base64')}$${hash.toString('base64')}`);
      }
      pki.store.audit(opts.by, 'init', opts.dataDir, { organization: opts.organization, keyType: opts.keyType, publicUrl });
      const [issuing, root] = pki.authority.cas().slice().sort((a) => (a.record.role === 'issuing' ? -1 : 1));
      return {
        dataDir: opts.dataDir, masterKeyFile: join(opts.dataDir, MASTER_KEY_FILE), publicUrl,
        rootSubject: root!.facts.subjectText, issuingSubject: issuing!.facts.subjectText,
        keyDescription: describeKey(pki.vault.load(root!.record.keyId)),
      };
    } finally {
      pki.close();
    }
  } catch (e) {
    // Leave nothing half-made behind, so the same command can simply be run again.
    rmSync(opts.dataDir, { recursive: true, force: true });
    throw e;
  }
}

// Which certificate each listener presents, issued or imported (`authbox tls import`): server-tls.ts.
import { SERVER_TLS_SETTING } from './server-tls.js';
export { SERVER_TLS_SETTING, isServerTlsSetting, listenerCertificates, serverTlsCredentials } from './server-tls.js';

/** authbox's own TLS certificate (admin console, RadSec), its key sealed like every other. */
export function issueServerCertificate(pki: Pki, keyType: KeyType, by: Actor): void {
  const host = hostname();
  const dnsNames = [...new Set([host, 'localhost'])].filter((h) => /^[a-z0-9.-]+$/i.test(h));
  const { cert, key } = pki.authority.issueWithNewKey({
    profile: PROFILES.server, commonName: host.slice(0, 64),
    sans: [...dnsNames.map((value) => ({ kind: 'dns' as const, value })), { kind: 'ip', value: '127.0.0.1' }, { kind: 'ip', value: '::1' }],
  }, keyType, by);
  const keyId = pki.vault.store(key, describeKey(key));
  pki.settings.set(SERVER_TLS_SETTING, JSON.stringify({ serial: cert.serial, keyId }));
}

export function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export interface LdapContext {
  pki: Pki;
  store: SqliteLdapStore;
  sources: LdapSourceService;
  sync: LdapSync;
}

/** The LDAP engine over an open data folder: sources, sync, and the certificates a sync may revoke. */
export function ldapContext(pki: Pki, log: Logger = silentLogger): LdapContext {
  const store = new SqliteLdapStore(pki.db);
  const master = readMasterKey(pki.config.masterKeyFile);
  const sources = new LdapSourceService({ storage: store, master });
  const certificates: CertificateRevoker = {
    revokeAllOf(username: string, by: Actor): number {
      const now = Date.now();
      const certs = [
        ...pki.store.queryCertificates({ username, status: 'valid', now }),
        ...pki.store.queryCertificates({ username, status: 'hold', now }),
      ];
      for (const c of certs) pki.authority.revoke(c.serial, CrlReason.affiliationChanged, by);
      return certs.length;
    },
  };
  const sync = new LdapSync({ sources, storage: store, users: syncUsersFrom(pki.users), certificates, log });
  return { pki, store, sources, sync };
}

/** The admin console's engines over an open data folder (src/admin-ui/app.ts createAdminApp). */
export function adminConsoleDeps(pki: Pki, clock: () => Date = () => new Date()): import('./admin-ui/app.js').AdminAppDeps {
  return {
    operators: operatorService(pki, clock), users: pki.users, authority: pki.authority, certificates: pki.store,
    nas: pki.nas, policy: pki.policy, queries: new ConsoleQueries(pki.db), clock,
    expiring: (now, days) => listExpiring(pki, now, days),
    ...consoleApiDeps(pki),
  };
}

/** The console API's additions (issue 5): devices, dashboard, directory, CA facts, operator sessions. */
function consoleApiDeps(pki: Pki): Omit<import('./admin-ui/app.js').AdminAppDeps, 'operators' | 'users' | 'authority' | 'certificates' | 'nas' | 'policy' | 'queries' | 'clock'> {
  const ldap = ldapContext(pki);
  return {
    devices: pki.devices, dashboard: new DashboardQueries(pki.db), admin: new ConsoleAdminStore(pki.db), accounting: pki.accounting,
    transaction: (fn) => pki.db.transaction(fn).immediate(),
    audit: (by, action, target, detail) => pki.store.audit(by, action, target, detail),
    pki: { crlInfo: (caId) => pki.store.crlInfo(caId), urls: publicUrls(pki.config.publicUrl), keyType: pki.config.keyType },
    directory: {
      sources: () => ldap.sources.list(), runs: (sourceId, limit) => ldap.store.listRuns(sourceId, limit),
      test: (name) => ldap.sync.test(name), preview: (name) => dryRunInChildProcess(pki.config, name),
      syncNow: (name) => syncInChildProcess(pki.config, name),
    },
    disconnects: (user, since) => pki.coa.recent(user, since).map((r) => ({
      at: r.requestedAt, nas: r.nas, sessionId: r.sessionId, outcome: r.outcome, attempts: r.attempts, reason: r.reason, serial: r.serial, detail: r.detail,
    })),
  };
}

/** Console operators (accounts, sessions, API tokens), with the `init --admin-password` bootstrap. */
export function operatorService(pki: Pki, clock: () => Date = () => new Date()): OperatorService {
  const admin = pki.config.admin;
  return new OperatorService({
    storage: new SqliteOperatorStore(pki.db), master: readMasterKey(pki.config.masterKeyFile), clock, issuer: `authbox ${pki.config.organization}`,
    policy: { ...DEFAULT_OPERATOR_POLICY, sessions: { idleMs: admin.sessionIdleMinutes * 60_000, absoluteMs: admin.sessionAbsoluteHours * 3_600_000 } },
  });
}
