// Wiring for expiry warnings (as backup.ts for scheduled backups): the notifier over the
// data folder's database, and the listing the CLI prints.
import type { Logger } from './core/logger.js';
import { expiryChannels } from './core/expiry-channels.js';
import { ExpiryNotifier, findExpiring, type ExpiringItem, type ExpiringSource } from './core/expiry-notifier.js';
import type { Pki } from './main.js';
import { listenerCertificates } from './server-tls.js';
import { SqliteExpiryStore } from './store/expiry-store.js';

function source(pki: Pki, store: SqliteExpiryStore): ExpiringSource {
  return {
    expiringCertificates: (now, until) => store.expiringCertificates(now, until), listCas: () => pki.store.listCas(),
    // Read at each check: an import or `tls renew` since the last one is seen without a restart.
    listenerCertificates: () => listenerCertificates(pki),
  };
}

/** The hourly notifier of the daemon's primary; it does nothing when no channel is configured. */
export function expiryNotifier(pki: Pki, log: Logger, clock: () => Date = () => new Date(), checkEveryMs?: number): ExpiryNotifier {
  const store = new SqliteExpiryStore(pki.db);
  const { expiry, organization } = pki.config;
  return new ExpiryNotifier({
    days: expiry.days, source: source(pki, store), store, channels: expiryChannels(expiry, organization, clock), clock, log,
    ...(checkEveryMs ? { checkEveryMs } : {}),
  });
}

export function listExpiring(pki: Pki, now: number, withinDays: number): ExpiringItem[] {
  return findExpiring(source(pki, new SqliteExpiryStore(pki.db)), now, withinDays);
}
