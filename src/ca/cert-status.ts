// The one certificate-status source that OCSP, the CRL and EAP-TLS read: an in-memory
// index of every certificate's status, updated from the change feed, never a copy that
// waits for a restart. Hot paths read memory only.
import { encodeRevokedEntry } from './crl.js';
import type { CertRecord, CertStatusName, PkiStorage } from './storage.js';

export interface StatusEntry {
  status: CertStatusName;
  revokedAt: number | null;
  reason: number | null;
  notAfter: number;
  /** The CRL entry, encoded the first time a CRL needs it and kept (HTTP workers never do). */
  crlEntry?: Buffer;
  /** Bumped on every change, so caches keyed on it never serve a stale answer. */
  version: number;
}

type StatusListener = (caId: number, serial: string, entry: StatusEntry, previous: StatusEntry | undefined) => void;

export class CertStatusIndex {
  private readonly byCa = new Map<number, Map<string, StatusEntry>>();
  private readonly listeners: StatusListener[] = [];
  private version = 0;

  constructor(private readonly storage: Pick<PkiStorage, 'listStatuses' | 'findCertificates'>) {
    for (const s of storage.listStatuses()) this.put(s.caId, s.serial, s);
  }

  onChange(listener: StatusListener): void {
    this.listeners.push(listener);
  }

  get(caId: number, serial: string): StatusEntry | undefined {
    return this.byCa.get(caId)?.get(serial);
  }

  /** Re-reads one certificate after a change-feed event ("caId:serial"). */
  refresh(ref: string): void {
    const [caIdText, serial] = ref.split(':');
    const caId = Number(caIdText);
    if (!serial || !Number.isInteger(caId)) return;
    const rec = this.storage.findCertificates(serial).find((c) => c.caId === caId);
    if (rec) this.apply(rec);
  }

  apply(rec: Pick<CertRecord, 'caId' | 'serial' | 'status' | 'revokedAt' | 'reason' | 'notAfter'>): void {
    const previous = this.get(rec.caId, rec.serial);
    const entry = this.put(rec.caId, rec.serial, rec);
    for (const l of this.listeners) l(rec.caId, rec.serial, entry, previous);
  }

  private put(caId: number, serial: string, s: Pick<StatusEntry, 'status' | 'revokedAt' | 'reason' | 'notAfter'>): StatusEntry {
    let map = this.byCa.get(caId);
    if (!map) this.byCa.set(caId, (map = new Map()));
    const entry: StatusEntry = {
      status: s.status, revokedAt: s.revokedAt, reason: s.reason, notAfter: s.notAfter, version: ++this.version,
    };
    map.set(serial, entry);
    return entry;
  }

  /** The encoded CRL entries of a CA: revoked and on-hold certificates. */
  crlEntries(caId: number, now: number): Buffer[] {
    const out: Buffer[] = [];
    for (const [serial, e] of this.byCa.get(caId) ?? []) {
      if (e.status === 'valid' || e.revokedAt === null) continue;
      // RFC 5280 §3.3 lets expired certificates leave the CRL; keep them a week past expiry.
      if (e.notAfter + 7 * 86_400_000 <= now) continue;
      out.push((e.crlEntry ??= encodeRevokedEntry(serial, new Date(e.revokedAt), e.reason)));
    }
    return out;
  }

  /** Every certificate of a CA with its status, for work done ahead (OCSP pre-signing). */
  entries(caId: number): IterableIterator<[string, StatusEntry]> {
    return (this.byCa.get(caId) ?? new Map<string, StatusEntry>()).entries();
  }

  counts(): { total: number; revoked: number } {
    let total = 0, revoked = 0;
    for (const m of this.byCa.values()) for (const e of m.values()) { total++; if (e.status !== 'valid') revoked++; }
    return { total, revoked };
  }
}
