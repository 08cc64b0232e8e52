import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { initDataDir, openPki, type Pki } from '../../src/main.js';
import { loadConfig } from '../../src/config/config.js';
import { PROFILES } from '../../src/ca/profiles.js';
import { spkiDer, generateKey } from '../../src/ca/keys.js';
import { isAppError } from '../../src/core/errors.js';
import { tempDir } from '../helpers/authbox.js';

const DAY = 86_400_000;
const by = { actor: 'test', source: 'system' } as const;

describe('CertificateAuthority with a moving clock', () => {
  const tmp = tempDir();
  const dir = join(tmp.path, 'data');
  let now = Date.now();
  let pki: Pki;

  beforeAll(() => {
    initDataDir({ dataDir: dir, organization: 'Clock Town', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:1', by });
    pki = openPki(loadConfig(dir, {}), () => new Date(now));
  });
  afterAll(() => {
    pki.close();
    tmp.cleanup();
  });

  it('leaves a fresh OCSP signer alone and renews one that expires within 30 days', () => {
    const before = pki.authority.issuingCa().ocsp!.certDer;
    expect(pki.authority.renewOcspSignerIfDue('ec-p256', 30 * DAY, by)).toBe(false);
    expect(pki.authority.issuingCa().ocsp!.certDer.equals(before)).toBe(true);

    now += 340 * DAY;
    expect(pki.authority.renewOcspSignerIfDue('ec-p256', 30 * DAY, by)).toBe(true);
    const after = pki.authority.issuingCa().ocsp!.certDer;
    expect(after.equals(before)).toBe(false);
    const renewed = new X509Certificate(after);
    expect(new Date(renewed.validTo).getTime()).toBeGreaterThan(now + 300 * DAY);
    expect(renewed.checkIssued(new X509Certificate(pki.authority.issuingCa().record.certDer))).toBe(true);
    // And it is stored: a second process sees the same signer.
    const other = openPki(loadConfig(dir, {}), () => new Date(now));
    try {
      expect(other.authority.issuingCa().ocsp!.certDer.equals(after)).toBe(true);
    } finally {
      other.close();
    }
  });

  it('never issues past the issuing CA', () => {
    const caNotAfter = new Date(new X509Certificate(pki.authority.issuingCa().record.certDer).validTo).getTime();
    now = caNotAfter - 10 * DAY;
    const cert = pki.authority.issue({
      profile: PROFILES.user, commonName: 'late', sans: [], subjectSpki: spkiDer(generateKey('ec-p256')), days: 365,
    }, by);
    expect(Math.abs(cert.notAfter - caNotAfter)).toBeLessThan(1000);
    expect(Math.abs(new Date(new X509Certificate(cert.der).validTo).getTime() - caNotAfter)).toBeLessThan(1000);
  });

  it('refuses to issue once the issuing CA has expired, and stores nothing', () => {
    const caNotAfter = new Date(new X509Certificate(pki.authority.issuingCa().record.certDer).validTo).getTime();
    now = caNotAfter + DAY;
    const count = pki.store.queryCertificates({ now }).length;
    let error: unknown;
    try {
      pki.authority.issue({ profile: PROFILES.user, commonName: 'too late', sans: [], subjectSpki: spkiDer(generateKey('ec-p256')) }, by);
    } catch (e) {
      error = e;
    }
    expect(isAppError(error, 'CERT_EXPIRED')).toBe(true);
    expect(pki.store.queryCertificates({ now }).length).toBe(count);
  });
});
