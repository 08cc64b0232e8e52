// Expiry warnings: certificates, CAs, OCSP signers and imported TLS server certificates that
// expire within the configured thresholds (e.g. 30, 7 and 1 days) are announced once per
// threshold per certificate and channel (e-mail, webhook). What was sent is remembered in the
// database, so a restart or the next hourly run sends nothing twice; a channel that fails is
// tried again next run.
import { X509Certificate } from 'node:crypto';
import type { CaRecord } from '../ca/storage.js';
import type { ExpiringCertRow, ExpiringKind, NoticeKey } from '../store/expiry-store.js';
import type { Logger } from './logger.js';

const DAY_MS = 86_400_000;

/** admin: the HTTPS console; radius: EAP (TLS, PEAP, TTLS) and RadSec (as server-tls.ts TlsUse). */
export type TlsListener = 'admin' | 'radius';

export interface ExpiringItem {
  kind: ExpiringKind;
  /** 0 for 'server-tls': an imported certificate's CA is not one of authbox's. */
  caId: number;
  /** The CA's name; for 'server-tls' the certificate's issuer (an external CA's distinguished name). */
  caName: string;
  serial: string;
  /** The certificate's common name; the CA's name for a CA or an OCSP signer; for 'server-tls' the listeners. */
  name: string;
  profile?: string;
  username?: string;
  /** 'server-tls' only: the listeners that present it, and its subject. */
  listeners?: TlsListener[];
  subject?: string;
  notAfter: number;
}

/** A TLS server certificate a listener presents (server-tls.ts listenerCertificates). */
export interface ListenerTls {
  use: TlsListener;
  source: 'imported' | 'issued';
  subject: string;
  issuer: string;
  serialHex: string;
  notAfter: Date;
  sha256: string;
}

export interface ExpiryNotice extends ExpiringItem {
  /** The threshold (days) this warning is for. */
  days: number;
  daysLeft: number;
}

export interface ExpiringSource {
  expiringCertificates(now: number, until: number): ExpiringCertRow[];
  listCas(): CaRecord[];
  /** What each TLS listener presents; only the imported ones are looked at here. */
  listenerCertificates?(): readonly ListenerTls[];
}

const LISTENER_NAMES: Record<TlsListener, string> = { admin: 'console', radius: 'EAP/RadSec' };

/**
 * Imported TLS server certificates expiring in (now, until], one item per certificate (by
 * fingerprint) however many listeners present it. authbox's own issued server certificate is
 * left out: it is in the certificates table and listed as a 'certificate' already.
 */
function expiringServerTls(listeners: readonly ListenerTls[], now: number, until: number): ExpiringItem[] {
  const byCert = new Map<string, { cert: ListenerTls; uses: TlsListener[] }>();
  for (const l of listeners) {
    const notAfter = l.notAfter.getTime();
    if (l.source !== 'imported' || notAfter <= now || notAfter > until) continue;
    const seen = byCert.get(l.sha256);
    if (seen) seen.uses.push(l.use);
    else byCert.set(l.sha256, { cert: l, uses: [l.use] });
  }
  return [...byCert.values()].map(({ cert, uses }) => ({
    // ca_id 0 in expiry_notices: the serial is the external CA's, which authbox does not number.
    kind: 'server-tls', caId: 0, caName: cert.issuer, serial: cert.serialHex, name: uses.map((u) => LISTENER_NAMES[u]).join(', '),
    listeners: uses, subject: cert.subject, notAfter: cert.notAfter.getTime(),
  }));
}

/** Certificates, CAs, OCSP signers and imported TLS server certificates whose notAfter lies in (now, now + withinDays]. */
export function findExpiring(source: ExpiringSource, now: number, withinDays: number): ExpiringItem[] {
  const until = now + withinDays * DAY_MS;
  const cas = source.listCas();
  const caName = new Map(cas.map((c) => [c.id, c.name]));
  const items: ExpiringItem[] = source.expiringCertificates(now, until).map((c) => ({
    kind: 'certificate', caId: c.caId, caName: caName.get(c.caId) ?? String(c.caId), serial: c.serial, name: c.commonName,
    profile: c.profile, ...(c.username ? { username: c.username } : {}), notAfter: c.notAfter,
  }));
  for (const ca of cas) {
    const certs: [ExpiringKind, Buffer | null][] = [['ca', ca.certDer], ['ocsp-signer', ca.ocspCertDer]];
    for (const [kind, der] of certs) {
      if (!der) continue;
      const x = new X509Certificate(der);
      const notAfter = Date.parse(x.validTo);
      if (notAfter > now && notAfter <= until) {
        items.push({ kind, caId: ca.id, caName: ca.name, serial: x.serialNumber.toLowerCase(), name: ca.name, notAfter });
      }
    }
  }
  if (source.listenerCertificates) items.push(...expiringServerTls(source.listenerCertificates(), now, until));
  return items.sort((a, b) => a.notAfter - b.notAfter);
}

export interface ExpiryChannel {
  readonly name: string;
  /** Sends one batch; rejects when it could not be delivered. */
  send(notices: readonly ExpiryNotice[]): Promise<void>;
}

export interface NoticeStore {
  sentDays(key: NoticeKey, channel: string): Set<number>;
  recordSent(entries: readonly (NoticeKey & { days: number })[], channel: string, at: number): void;
}

export interface ExpiryNotifierDeps {
  /** Thresholds in days. */
  days: readonly number[];
  source: ExpiringSource;
  store: NoticeStore;
  channels: readonly ExpiryChannel[];
  clock: () => Date;
  log: Logger;
  /** 1 hour by default. */
  checkEveryMs?: number;
}

export interface ExpiryRunResult {
  /** Warnings sent, per channel. */
  sent: Record<string, number>;
  failed: string[];
}

export class ExpiryNotifier {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<ExpiryRunResult> | undefined;

  constructor(private readonly deps: ExpiryNotifierDeps) {}

  start(): void {
    if (this.timer || this.deps.channels.length === 0) return;
    this.timer = setInterval(() => void this.run(), this.deps.checkEveryMs ?? 3_600_000);
    this.timer.unref();
    void this.run();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One check; a run already under way is joined rather than doubled. */
  run(): Promise<ExpiryRunResult> {
    this.running ??= this.check().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async check(): Promise<ExpiryRunResult> {
    const { days, source, store, channels, log } = this.deps;
    const now = this.deps.clock().getTime();
    const result: ExpiryRunResult = { sent: {}, failed: [] };
    let items: ExpiringItem[];
    try {
      items = findExpiring(source, now, Math.max(...days));
    } catch (e) {
      log.error({ err: (e as Error).message }, 'cannot list expiring certificates');
      result.failed.push('list');
      return result;
    }
    for (const channel of channels) {
      const due: ExpiryNotice[] = [];
      const record: (NoticeKey & { days: number })[] = [];
      for (const item of items) {
        const left = item.notAfter - now;
        const crossed = days.filter((d) => left <= d * DAY_MS);
        if (crossed.length === 0) continue;
        const urgent = Math.min(...crossed);
        const key = { kind: item.kind, caId: item.caId, serial: item.serial };
        if (store.sentDays(key, channel.name).has(urgent)) continue;
        due.push({ ...item, days: urgent, daysLeft: Math.floor(left / DAY_MS) });
        // The larger thresholds already passed are marked too: one warning, the most urgent, not three at once.
        for (const d of crossed) record.push({ ...key, days: d });
      }
      if (due.length === 0) continue;
      try {
        await channel.send(due);
        store.recordSent(record, channel.name, now);
        result.sent[channel.name] = due.length;
        log.info({ channel: channel.name, warnings: due.length }, 'expiry warnings sent');
      } catch (e) {
        result.failed.push(channel.name);
        log.error({ channel: channel.name, err: (e as Error).message }, 'expiry warnings not sent; trying again at the next check');
      }
    }
    return result;
  }
}

const KIND_WORDS: Record<ExpiringKind, string> = {
  certificate: 'certificate', ca: 'CA certificate', 'ocsp-signer': 'OCSP signer certificate', 'server-tls': 'imported TLS server certificate',
};

/** One line per warning, for e-mail and the CLI. */
export function describeExpiring(item: ExpiringItem, now: number): string {
  const left = Math.max(0, Math.floor((item.notAfter - now) / DAY_MS));
  const when = ` expires ${new Date(item.notAfter).toISOString()} (${left === 0 ? 'within a day' : `in ${left} day${left === 1 ? '' : 's'}`})`;
  if (item.kind === 'server-tls') {
    // Every client of these listeners refuses authbox once it lapses: say what to do about it.
    const listeners = item.listeners?.map((u) => LISTENER_NAMES[u]).join(' and ') ?? item.name;
    return `${KIND_WORDS[item.kind]} of the ${listeners} (${item.subject ?? ''}) serial ${item.serial} issued by ${item.caName}` +
      `${when}: import a renewed one (authbox tls import) or go back to authbox's own (authbox tls renew)`;
  }
  const owner = [item.profile, item.username ? `user ${item.username}` : ''].filter(Boolean).join(', ');
  return `${KIND_WORDS[item.kind]} "${item.name}"${owner ? ` (${owner})` : ''} serial ${item.serial} of CA ${item.caName}${when}`;
}
