// Imported TLS server certificates in the expiry warnings (src/core/expiry-notifier.ts): one item
// per certificate however many listeners present it, authbox's own left to the 'certificate' rows,
// the warning's text; their /metrics family (src/daemon-metrics.ts); and migration 21, which
// rebuilds expiry_notices so its CHECK takes 'server-tls' and keeps the warnings already sent.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeExpiring, findExpiring, type ExpiringSource, type ListenerTls } from '../../src/core/expiry-notifier.js';
import { daemonMetrics } from '../../src/daemon-metrics.js';
import { renderMetrics } from '../../src/http/metrics.js';
import { openDatabase } from '../../src/store/db.js';
import { MIGRATIONS } from '../../src/store/migrations.js';

const DAY = 86_400_000;
const now = Date.UTC(2026, 10, 23, 12);
const ISSUER = 'CN=External Issuing CA, O=Other Corp';

function listener(use: 'admin' | 'radius', source: 'imported' | 'issued', sha256: string, daysLeft: number, serialHex = `5e${sha256}`): ListenerTls {
  return { use, source, subject: `CN=${sha256}.example`, issuer: source === 'issued' ? 'CN=Test City Issuing CA' : ISSUER, serialHex, notAfter: new Date(now + daysLeft * DAY), sha256 };
}

const sourceOf = (listeners: ListenerTls[]): ExpiringSource => ({
  expiringCertificates: () => [], listCas: () => [], listenerCertificates: () => listeners,
});

describe('findExpiring and imported TLS server certificates', () => {
  it('lists a certificate presented by both listeners once, under both names, with its issuer and ca_id 0', () => {
    const items = findExpiring(sourceOf([listener('admin', 'imported', 'aa', 5), listener('radius', 'imported', 'aa', 5)]), now, 30);
    expect(items).toEqual([{
      kind: 'server-tls', caId: 0, caName: ISSUER, serial: '5eaa', name: 'console, EAP/RadSec', listeners: ['admin', 'radius'],
      subject: 'CN=aa.example', notAfter: now + 5 * DAY,
    }]);
  });

  it('lists two imported certificates apart, soonest first; leaves out authbox\'s own and those outside the window', () => {
    expect(findExpiring(sourceOf([listener('admin', 'imported', 'aa', 20), listener('radius', 'imported', 'bb', 3)]), now, 30)
      .map((i) => [i.name, i.serial])).toEqual([['EAP/RadSec', '5ebb'], ['console', '5eaa']]);
    // authbox's issued certificate is a 'certificate' row already (the certificates table).
    expect(findExpiring(sourceOf([listener('admin', 'issued', 'aa', 5), listener('radius', 'issued', 'aa', 5)]), now, 30)).toEqual([]);
    // Already expired, or beyond the window.
    expect(findExpiring(sourceOf([listener('admin', 'imported', 'aa', -1), listener('radius', 'imported', 'bb', 31)]), now, 30)).toEqual([]);
  });

  it('a source without listeners (an older caller) lists what it did before', () => {
    expect(findExpiring({ expiringCertificates: () => [], listCas: () => [] }, now, 30)).toEqual([]);
  });

  it('describes it for the e-mail: the listeners, the subject, the issuer and what to do', () => {
    const [item] = findExpiring(sourceOf([listener('admin', 'imported', 'aa', 5.5), listener('radius', 'imported', 'aa', 5.5)]), now, 30);
    expect(describeExpiring(item!, now)).toBe(
      `imported TLS server certificate of the console and EAP/RadSec (CN=aa.example) serial 5eaa issued by ${ISSUER}` +
      ` expires ${new Date(now + 5.5 * DAY).toISOString()} (in 5 days): import a renewed one (authbox tls import) or go back to authbox's own (authbox tls renew)`);
    const [admin] = findExpiring(sourceOf([listener('admin', 'imported', 'aa', 0.5)]), now, 30);
    expect(describeExpiring(admin!, now)).toMatch(/^imported TLS server certificate of the console \(CN=aa\.example\) .*\(within a day\): /);
  });
});

describe('authbox_tls_certificate_expiry_days', () => {
  const base = { radius: undefined, ocsp: { requests: 0, cacheHits: 0, signed: 0, malformed: 0, unauthorized: 0 }, cas: [], crlInfo: () => undefined, now, worker: '0' };

  it('one sample per listener, labelled with its use and whether it was imported', () => {
    const text = renderMetrics(daemonMetrics({
      ...base, tls: [{ use: 'admin', source: 'imported', notAfter: new Date(now + 4.5 * DAY) }, { use: 'radius', source: 'issued', notAfter: new Date(now - DAY / 4) }],
    }));
    expect(text).toContain([
      '# TYPE authbox_tls_certificate_expiry_days gauge',
      'authbox_tls_certificate_expiry_days{use="admin",source="imported"} 4.5',
      'authbox_tls_certificate_expiry_days{use="radius",source="issued"} -0.25',
    ].join('\n'));
  });

  it('is left out when the daemon gives no listener certificates', () => {
    expect(renderMetrics(daemonMetrics(base))).not.toContain('authbox_tls_certificate_expiry_days');
  });
});

describe('migration 21', () => {
  let tmp: string;
  beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'authbox-m21-')); });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('keeps the warnings sent before it and lets \'server-tls\' in (only it)', () => {
    expect(MIGRATIONS.length).toBeGreaterThanOrEqual(21);
    const path = join(tmp, 'v20.db');
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    old.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    for (const [i, sql] of MIGRATIONS.slice(0, 20).entries()) {
      old.exec(sql);
      old.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)').run(i + 1);
    }
    const insert = "INSERT INTO expiry_notices (kind, ca_id, serial, days, channel, sent_at) VALUES (?, ?, ?, ?, ?, ?)";
    old.prepare(insert).run('certificate', 2, '0a1b', 7, 'smtp', 1234);
    old.prepare(insert).run('ocsp-signer', 2, '0c', 30, 'webhook', 5678);
    // Before it, the CHECK refuses the new kind: the rebuild is what makes room for it.
    expect(() => old.prepare(insert).run('server-tls', 0, '5eaa', 7, 'smtp', 1)).toThrow(/CHECK constraint failed/);
    old.close();

    const db = openDatabase(path);
    try {
      const versions = (db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as { version: number }[]).map((r) => r.version);
      expect(versions).toEqual(MIGRATIONS.map((_, i) => i + 1));
      expect(db.prepare('SELECT kind, ca_id, serial, days, channel, sent_at FROM expiry_notices ORDER BY kind').all()).toEqual([
        { kind: 'certificate', ca_id: 2, serial: '0a1b', days: 7, channel: 'smtp', sent_at: 1234 },
        { kind: 'ocsp-signer', ca_id: 2, serial: '0c', days: 30, channel: 'webhook', sent_at: 5678 },
      ]);
      db.prepare(insert).run('server-tls', 0, '5eaa', 7, 'smtp', 1);
      expect(() => db.prepare(insert).run('bogus', 0, '5eaa', 7, 'smtp', 1)).toThrow(/CHECK constraint failed/);
      // Still one row per certificate, threshold and channel.
      expect(db.prepare('INSERT OR IGNORE INTO expiry_notices (kind, ca_id, serial, days, channel, sent_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run('server-tls', 0, '5eaa', 7, 'smtp', 2).changes).toBe(0);
      expect(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'expiry_notices%'").all()).toEqual([{ name: 'expiry_notices' }]);
    } finally {
      db.close();
    }
  });
});
