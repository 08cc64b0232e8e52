// src/ca/cert-status.ts: the one in-memory status index that OCSP, the CRL and EAP-TLS
// read, loaded once and refreshed per change-feed event ("caId:serial").
import { describe, expect, it } from 'vitest';
import { CertStatusIndex, type StatusEntry } from '../../src/ca/cert-status.js';
import { CrlReason, encodeRevokedEntry } from '../../src/ca/crl.js';
import type { CertRecord, CertStatusName } from '../../src/ca/storage.js';

type Row = Pick<CertRecord, 'caId' | 'serial' | 'status' | 'revokedAt' | 'reason' | 'notAfter'>;

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 5, 1);

/** The two storage calls the index needs, over a mutable table, counting calls. */
function stubStorage(rows: Row[]): {
  rows: Row[];
  calls: { listStatuses: number; findCertificates: string[] };
  set(caId: number, serial: string, status: CertStatusName, revokedAt: number | null, reason: number | null): void;
  listStatuses(): Row[];
  findCertificates(serial: string): CertRecord[];
} {
  const calls = { listStatuses: 0, findCertificates: [] as string[] };
  return {
    rows, calls,
    set(caId, serial, status, revokedAt, reason) {
      const r = rows.find((x) => x.caId === caId && x.serial === serial)!;
      Object.assign(r, { status, revokedAt, reason });
    },
    listStatuses: () => {
      calls.listStatuses++;
      return rows.map((r) => ({ ...r }));
    },
    findCertificates: (serial) => {
      calls.findCertificates.push(serial);
      return rows.filter((r) => r.serial === serial).map((r) => ({ ...r }) as CertRecord);
    },
  };
}

const valid = (caId: number, serial: string, notAfter = NOW + 365 * DAY): Row => ({ caId, serial, status: 'valid', revokedAt: null, reason: null, notAfter });

describe('CertStatusIndex', () => {
  it('loads every status once at construction', () => {
    const storage = stubStorage([
      valid(1, 'a1'),
      { caId: 1, serial: 'b2', status: 'revoked', revokedAt: NOW - DAY, reason: CrlReason.keyCompromise, notAfter: NOW + DAY },
      { caId: 2, serial: 'c3', status: 'hold', revokedAt: NOW - DAY, reason: CrlReason.certificateHold, notAfter: NOW + DAY },
    ]);
    const index = new CertStatusIndex(storage);
    expect(storage.calls.listStatuses).toBe(1);
    expect(index.get(1, 'a1')).toMatchObject({ status: 'valid', revokedAt: null, reason: null });
    expect(index.get(1, 'a1')!.crlEntry).toBeUndefined();
    expect(index.get(1, 'b2')).toMatchObject({ status: 'revoked', revokedAt: NOW - DAY, reason: 1 });
    // Encoded only when a CRL first needs it (HTTP workers never do), then kept.
    expect(index.get(1, 'b2')!.crlEntry).toBeUndefined();
    const [entry] = index.crlEntries(1, NOW);
    expect(entry!.equals(encodeRevokedEntry('b2', new Date(NOW - DAY), 1))).toBe(true);
    expect(index.get(1, 'b2')!.crlEntry).toBe(entry);
    expect(index.get(2, 'c3')).toMatchObject({ status: 'hold', reason: 6 });
    // Keyed by CA: the same serial under another CA is another certificate.
    expect(index.get(2, 'a1')).toBeUndefined();
    expect(index.get(1, 'zz')).toBeUndefined();
    expect(index.counts()).toEqual({ total: 3, revoked: 2 });
    const versions = ['a1', 'b2'].map((s) => index.get(1, s)!.version).concat(index.get(2, 'c3')!.version);
    expect(new Set(versions).size).toBe(3);
    expect(versions.every((v) => v > 0)).toBe(true);
  });

  it('refresh("caId:serial") re-reads one certificate and tells listeners (caId, serial, entry, previous)', () => {
    const storage = stubStorage([valid(1, 'a1'), valid(2, 'a1')]);
    const index = new CertStatusIndex(storage);
    const seen: [number, string, StatusEntry, StatusEntry | undefined][] = [];
    index.onChange((...args) => seen.push(args));
    const before = index.get(1, 'a1')!;

    storage.set(1, 'a1', 'revoked', NOW, CrlReason.keyCompromise);
    index.refresh('1:a1');
    expect(storage.calls.findCertificates).toEqual(['a1']);
    expect(seen).toHaveLength(1);
    const [caId, serial, entry, previous] = seen[0]!;
    expect([caId, serial]).toEqual([1, 'a1']);
    expect(previous).toBe(before);
    expect(entry).toBe(index.get(1, 'a1'));
    expect(entry).toMatchObject({ status: 'revoked', revokedAt: NOW, reason: 1 });
    expect(entry.version).toBeGreaterThan(before.version);
    // Only CA 1's certificate changed, though CA 2 has the same serial.
    expect(index.get(2, 'a1')!.status).toBe('valid');
  });

  it('versions increase on every change, even when the status is the same', () => {
    const storage = stubStorage([valid(1, 'a1')]);
    const index = new CertStatusIndex(storage);
    const versions = [index.get(1, 'a1')!.version];
    for (let i = 0; i < 5; i++) {
      index.refresh('1:a1');
      versions.push(index.get(1, 'a1')!.version);
    }
    for (let i = 1; i < versions.length; i++) expect(versions[i]).toBeGreaterThan(versions[i - 1]!);
  });

  it('a new certificate appears with no previous entry', () => {
    const storage = stubStorage([]);
    const index = new CertStatusIndex(storage);
    const previous: (StatusEntry | undefined)[] = [];
    index.onChange((_c, _s, _e, p) => previous.push(p));
    storage.rows.push(valid(3, 'new'));
    index.refresh('3:new');
    expect(index.get(3, 'new')!.status).toBe('valid');
    expect(previous).toEqual([undefined]);
  });

  it('ignores malformed refs and refs to certificates it cannot find, without telling listeners', () => {
    const storage = stubStorage([valid(1, 'a1')]);
    const index = new CertStatusIndex(storage);
    let calls = 0;
    index.onChange(() => calls++);
    for (const ref of ['', 'a1', '1:', 'x:a1', '1.5:a1', '2:a1', '1:nope']) index.refresh(ref);
    expect(calls).toBe(0);
    expect(index.counts()).toEqual({ total: 1, revoked: 0 });
  });

  it('every listener is called, in registration order', () => {
    const index = new CertStatusIndex(stubStorage([valid(1, 'a1')]));
    const order: string[] = [];
    index.onChange(() => order.push('ocsp'));
    index.onChange(() => order.push('crl'));
    index.refresh('1:a1');
    expect(order).toEqual(['ocsp', 'crl']);
  });

  describe('crlEntries', () => {
    it('include revoked and on-hold certificates, not valid ones, nor those more than a week past expiry', () => {
      const rows: Row[] = [
        valid(1, 'v1'),
        { caId: 1, serial: 'r1', status: 'revoked', revokedAt: NOW - 10 * DAY, reason: CrlReason.keyCompromise, notAfter: NOW + DAY },
        { caId: 1, serial: 'h1', status: 'hold', revokedAt: NOW - DAY, reason: CrlReason.certificateHold, notAfter: NOW + DAY },
        { caId: 1, serial: 'u1', status: 'revoked', revokedAt: NOW - DAY, reason: CrlReason.unspecified, notAfter: NOW + DAY },
        // Expired six days ago: still listed (RFC 5280 §3.3 lets it go, we keep it a week).
        { caId: 1, serial: 'e6', status: 'revoked', revokedAt: NOW - 30 * DAY, reason: 1, notAfter: NOW - 6 * DAY },
        // Expired eight days ago: gone.
        { caId: 1, serial: 'e8', status: 'revoked', revokedAt: NOW - 30 * DAY, reason: 1, notAfter: NOW - 8 * DAY },
        { caId: 2, serial: 'r2', status: 'revoked', revokedAt: NOW - DAY, reason: 1, notAfter: NOW + DAY },
      ];
      const index = new CertStatusIndex(stubStorage(rows));
      const expected = (serial: string): string => {
        const r = rows.find((x) => x.serial === serial)!;
        return encodeRevokedEntry(serial, new Date(r.revokedAt!), r.reason).toString('hex');
      };
      expect(index.crlEntries(1, NOW).map((b) => b.toString('hex')).sort()).toEqual(['r1', 'h1', 'u1', 'e6'].map(expected).sort());
      expect(index.crlEntries(2, NOW).map((b) => b.toString('hex'))).toEqual([expected('r2')]);
      expect(index.crlEntries(9, NOW)).toEqual([]);
    });

    it('follow the index: a revocation adds an entry, a released hold removes it', () => {
      const storage = stubStorage([valid(1, 'a1')]);
      const index = new CertStatusIndex(storage);
      expect(index.crlEntries(1, NOW)).toEqual([]);
      storage.set(1, 'a1', 'hold', NOW, CrlReason.certificateHold);
      index.refresh('1:a1');
      expect(index.crlEntries(1, NOW)).toHaveLength(1);
      storage.set(1, 'a1', 'valid', null, null);
      index.refresh('1:a1');
      expect(index.crlEntries(1, NOW)).toEqual([]);
      // A hold made permanent keeps its original time (RFC 5280 §5.3.1) and takes the new reason.
      storage.set(1, 'a1', 'revoked', NOW - DAY, CrlReason.keyCompromise);
      index.refresh('1:a1');
      expect(index.crlEntries(1, NOW)[0]!.equals(encodeRevokedEntry('a1', new Date(NOW - DAY), 1))).toBe(true);
    });
  });
});
