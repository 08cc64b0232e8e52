// Keeps one full CRL per CA current: re-issued within a second of a revocation and
// again before half its validity has passed. Only one process (the daemon's primary)
// publishes; everyone else reads the stored CRL.
import type { CertificateAuthority, LoadedCa } from './authority.js';
import type { CertStatusIndex } from './cert-status.js';
import { buildCrl } from './crl.js';
import type { PkiStorage } from './storage.js';
import type { Logger } from '../core/logger.js';

export interface CrlPublisherOptions {
  validitySeconds: number;
  /** Wait this long after a revocation, so a burst becomes one CRL. */
  debounceMs: number;
}


export class CrlPublisher {
  private readonly pending = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private ticker: NodeJS.Timeout | undefined;

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly status: CertStatusIndex,
    private readonly storage: Pick<PkiStorage, 'nextCrlNumber' | 'saveCrl' | 'crlInfo'>,
    private readonly options: CrlPublisherOptions,
    private readonly clock: () => Date,
    private readonly log: Logger,
  ) {}

  /** Publishes what is missing or stale now, then watches for revocations and age. */
  start(): void {
    // Only what changes the list: a revocation, a hold, or a release from hold. A newly
    // issued certificate does not, and bulk issuance must not re-sign a large CRL.
    this.status.onChange((caId, _serial, entry, previous) => {
      if (entry.status !== 'valid' || (previous && previous.status !== 'valid')) this.schedule(caId);
    });
    // Re-issue every CRL at start, not only stale ones: a revocation made while no daemon
    // ran (or acknowledged just before a crash, inside the debounce) is in no stored CRL yet.
    for (const ca of this.ca.cas()) this.publishSafely(ca);
    this.ticker = setInterval(() => this.refreshStale(), 30_000);
    this.ticker.unref();
  }

  stop(): void {
    clearInterval(this.ticker);
    clearTimeout(this.timer);
  }

  schedule(caId: number): void {
    this.pending.add(caId);
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const ids = [...this.pending];
      this.pending.clear();
      for (const id of ids) {
        const ca = this.ca.caById(id);
        if (ca) this.publishSafely(ca);
      }
    }, this.options.debounceMs);
  }

  private refreshStale(): void {
    const now = this.clock().getTime();
    for (const ca of this.ca.cas()) {
      const current = this.storage.crlInfo(ca.record.id);
      const halfLife = (this.options.validitySeconds * 1000) / 2;
      if (!current || now - current.thisUpdate >= halfLife) this.publishSafely(ca);
    }
  }

  private publishSafely(ca: LoadedCa): void {
    try {
      this.publish(ca);
    } catch (e) {
      this.log.error({ err: (e as Error).message, ca: ca.record.name }, 'CRL publication failed');
    }
  }

  publish(ca: LoadedCa): { number: number; der: Buffer; entries: number } {
    const now = this.clock();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const entries = this.status.crlEntries(ca.record.id, now.getTime());
    const number = this.storage.nextCrlNumber(ca.record.id);
    const der = buildCrl({
      issuerNameDer: ca.facts.subjectDer, issuerSpki: ca.facts.spki, signer: ca.signer, thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + this.options.validitySeconds * 1000), crlNumber: number, entries,
    });
    this.storage.saveCrl(ca.record.id, number, thisUpdate.getTime(), thisUpdate.getTime() + this.options.validitySeconds * 1000, der);
    this.log.info({ ca: ca.record.name, number, entries: entries.length, bytes: der.length }, 'CRL published');
    return { number, der, entries: entries.length };
  }
}
