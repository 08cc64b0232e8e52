// Which TLS server certificate each listener presents: authbox's own (issued at `init`, again by
// `authbox tls renew`) or one imported from another CA (`authbox tls import`). The console may
// use a public CA's certificate while EAP and RadSec keep the private one, as appliances allow.
//
// Settings: 'tls.server' is the default for every listener (as it always was); 'tls.admin' and
// 'tls.radius', when set and not empty, override it for the console, or for EAP and RadSec.
// Each holds either {serial, keyId} (issued: the certificate is in authbox's store, the chain is
// authbox's CA chain) or {imported: true, keyId, cert, chain} (DER in base64; the chain served
// as imported). Keys are in the key vault, sealed like every other.
import { createHash, X509Certificate } from 'node:crypto';
import { checkServerTls, type CheckedServerTls, type ServerTlsFiles } from './ca/server-cert-check.js';
import { describeKey } from './ca/keys.js';
import type { Actor } from './ca/storage.js';
import { readCertificate } from './ca/x509.js';
import type { Pki } from './main.js';

export const SERVER_TLS_SETTING = 'tls.server';
/** admin: the HTTPS console; radius: EAP (TLS, PEAP, TTLS) and RadSec. */
export const TLS_USES = ['admin', 'radius'] as const;
export type TlsUse = (typeof TLS_USES)[number];

const overrideSetting = (use: TlsUse): string => `tls.${use}`;

/** Whether a 'settings' change is one the TLS listeners must reload for. */
export function isServerTlsSetting(key: string): boolean {
  return key === SERVER_TLS_SETTING || TLS_USES.some((u) => key === overrideSetting(u));
}

interface IssuedRecord { serial: string; keyId: string }
interface ImportedRecord { imported: true; keyId: string; cert: string; chain: string[]; importedAt: string }

export interface ServerTlsCredentials {
  certDer: Buffer;
  keyId: string;
  /** What follows the certificate: authbox's CA chain (issuing CA first, then the root), or the imported chain. */
  chain: readonly Buffer[];
  imported: boolean;
  /** The setting it came from. */
  setting: string;
}

/** The certificate `use` presents (the default one without `use`); undefined in a data folder that has none. */
export function serverTlsCredentials(pki: Pki, use?: TlsUse): ServerTlsCredentials | undefined {
  const setting = use && pki.settings.get(overrideSetting(use)) ? overrideSetting(use) : SERVER_TLS_SETTING;
  const raw = pki.settings.get(setting);
  if (!raw) return undefined;
  const record = JSON.parse(raw) as IssuedRecord | ImportedRecord;
  if ('imported' in record) {
    return {
      certDer: Buffer.from(record.cert, 'base64'), keyId: record.keyId,
      chain: record.chain.map((b64) => Buffer.from(b64, 'base64')), imported: true, setting,
    };
  }
  return { certDer: pki.authority.find(record.serial).der, keyId: record.keyId, chain: pki.authority.chain(), imported: false, setting };
}

export type TlsImportTarget = TlsUse | 'all';

/**
 * Checks the files (server-cert-check.ts), then in one transaction seals the key, points the
 * setting(s) at the certificate and writes the audit row; the settings change reaches a
 * running daemon through the change feed. Nothing changes when a check fails.
 */
export function importServerCertificate(
  pki: Pki, files: ServerTlsFiles, target: TlsImportTarget, by: Actor, now: Date = new Date(),
): CheckedServerTls {
  const checked = checkServerTls(files, now);
  pki.db.transaction(() => {
    const keyId = pki.vault.store(checked.key, describeKey(checked.key));
    const record: ImportedRecord = {
      imported: true, keyId, cert: checked.certDer.toString('base64'),
      chain: checked.chain.map((der) => der.toString('base64')), importedAt: now.toISOString(),
    };
    if (target === 'all') {
      pki.settings.set(SERVER_TLS_SETTING, JSON.stringify(record));
      clearOverrides(pki);
    } else {
      pki.settings.set(overrideSetting(target), JSON.stringify(record));
    }
    pki.store.audit(by, 'tls.import', checked.serialHex, {
      for: target, subject: checked.subject, issuer: checked.issuer, notAfter: checked.notAfter.toISOString(),
      chain: checked.chain.length, sha256: sha256(checked.certDer), key: describeKey(checked.key),
    });
  }).immediate();
  return checked;
}

/** `tls renew`: after a new authbox certificate is in 'tls.server', every listener uses it again. */
export function useDefaultEverywhere(pki: Pki, by: Actor): void {
  pki.db.transaction(() => {
    const cleared = clearOverrides(pki);
    if (cleared.length) pki.store.audit(by, 'tls.override-clear', null, { settings: cleared });
  }).immediate();
}

/** Empties the per-use settings that are set ('' means none: the settings table has no delete). */
function clearOverrides(pki: Pki): string[] {
  const cleared = TLS_USES.map(overrideSetting).filter((key) => pki.settings.get(key));
  for (const key of cleared) pki.settings.set(key, '');
  return cleared;
}

export interface ListenerCertificate {
  use: TlsUse;
  source: 'imported' | 'issued';
  setting: string;
  subject: string;
  issuer: string;
  serialHex: string;
  notAfter: Date;
  sha256: string;
  /** Certificates served after it. */
  chainLength: number;
}

/** `tls show`: what each listener presents. */
export function listenerCertificates(pki: Pki): ListenerCertificate[] {
  return TLS_USES.flatMap((use) => {
    const creds = serverTlsCredentials(pki, use);
    if (!creds) return [];
    const facts = readCertificate(creds.certDer);
    return [{
      use, source: creds.imported ? 'imported' : 'issued', setting: creds.setting, subject: facts.subjectText,
      issuer: issuerText(creds.certDer), serialHex: facts.serialHex, notAfter: facts.notAfter, sha256: sha256(creds.certDer),
      chainLength: creds.chain.length,
    }];
  });
}

function issuerText(der: Buffer): string {
  return new X509Certificate(der).issuer.replace(/\n/g, ', ');
}

const sha256 = (der: Buffer): string => createHash('sha256').update(der).digest('hex');
