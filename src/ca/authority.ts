// The certificate authority: the CA hierarchy, issuance under a profile, revocation.
// It takes storage, a key vault and a clock; it never opens files or sockets.
import type { Name } from '@peculiar/asn1-x509';
import type { KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { CrlReason } from './crl.js';
import { describeKey, generateKey, keySigner, spkiDer, type KeyType, type Signer } from './keys.js';
import type { KeyVault } from './keystore.js';
import { PROFILES, type Profile } from './profiles.js';
import { normalizeSerial, randomSerial, serialHexOf } from './serial.js';
import type { Actor, CaRecord, CertRecord, PkiStorage } from './storage.js';
import { buildName, parseName, readCertificate, signCertificate, validateSans, type CertificateFacts, type SanEntry } from './x509.js';

/** Backdating covers clients whose clocks run a little behind. */
const BACKDATE_MS = 5 * 60_000;
const DAY_MS = 86_400_000;

export interface LoadedCa {
  record: CaRecord;
  facts: CertificateFacts;
  subject: Name;
  signer: Signer;
  /** The delegated OCSP signer, when one exists. */
  ocsp?: { certDer: Buffer; signer: Signer };
}

export interface PublicUrls {
  crl(caName: string): string;
  caIssuers(caName: string): string;
  ocsp(): string;
}

export function publicUrls(base: string): PublicUrls {
  const root = base.replace(/\/+$/, '');
  return {
    crl: (ca) => `${root}/crl/${ca}.crl`,
    caIssuers: (ca) => `${root}/ca/${ca}.crt`,
    ocsp: () => `${root}/ocsp`,
  };
}

export interface IssueRequest {
  profile: Profile;
  commonName: string;
  username?: string;
  sans: SanEntry[];
  days?: number;
  subjectSpki: Buffer;
}

export interface AuthorityDeps {
  storage: PkiStorage;
  vault: KeyVault;
  urls: PublicUrls;
  organization: string;
  clock: () => Date;
}

export class CertificateAuthority {
  private loaded: LoadedCa[] = [];

  constructor(private readonly deps: AuthorityDeps) {
    this.reload();
  }

  /** Re-reads the CA hierarchy (after init, or a change from another process). */
  reload(): void {
    this.loaded = this.deps.storage.listCas().map((record) => {
      const facts = readCertificate(record.certDer);
      const ca: LoadedCa = { record, facts, subject: parseName(facts.subjectDer), signer: keySigner(this.deps.vault.load(record.keyId)) };
      if (record.ocspKeyId && record.ocspCertDer) {
        ca.ocsp = { certDer: record.ocspCertDer, signer: keySigner(this.deps.vault.load(record.ocspKeyId)) };
      }
      return ca;
    });
  }

  cas(): readonly LoadedCa[] {
    return this.loaded;
  }

  issuingCa(): LoadedCa {
    const ca = this.loaded.find((c) => c.record.role === 'issuing');
    if (!ca) throw new AppError('NOT_FOUND', 'no issuing CA: run `authbox init` first');
    return ca;
  }

  caById(id: number): LoadedCa | undefined {
    return this.loaded.find((c) => c.record.id === id);
  }

  /** Issuing CA first, then its parents up to the root. */
  chain(): Buffer[] {
    const out: Buffer[] = [];
    for (let ca: LoadedCa | undefined = this.issuingCa(); ca; ca = ca.record.parentId === null ? undefined : this.caById(ca.record.parentId)) {
      out.push(ca.record.certDer);
    }
    return out;
  }

  /** Creates the root CA, the issuing CA and the issuing CA's OCSP signer. */
  createHierarchy(keyType: KeyType, by: Actor): void {
    if (this.loaded.length) throw new AppError('CONFLICT', 'the CA hierarchy already exists');
    const now = this.deps.clock();
    const org = this.deps.organization;
    const rootKey = generateKey(keyType);
    const rootSpki = spkiDer(rootKey);
    const rootName = buildName({ commonName: `${org} Root CA`, organization: org });
    const rootCert = signCertificate({
      serial: randomSerial(), subject: rootName, issuer: rootName, notBefore: new Date(now.getTime() - BACKDATE_MS),
      notAfter: new Date(now.getTime() + PROFILES['root-ca'].defaultDays * DAY_MS), subjectSpki: rootSpki,
      issuerSpki: rootSpki, profile: PROFILES['root-ca'], sans: [],
    }, keySigner(rootKey));
    const rootKeyId = this.deps.vault.store(rootKey, describeKey(rootKey));
    this.deps.storage.insertCa({ name: 'root', role: 'root', parentId: null, keyId: rootKeyId, certDer: rootCert, ocspKeyId: null, ocspCertDer: null }, by);
    this.reload();
    const root = this.loaded[0]!;

    const issuingKey = generateKey(keyType);
    const issuingSpki = spkiDer(issuingKey);
    const issuingCert = signCertificate({
      serial: randomSerial(), subject: buildName({ commonName: `${org} Issuing CA 1`, organization: org }), issuer: root.subject,
      notBefore: new Date(now.getTime() - BACKDATE_MS), notAfter: new Date(now.getTime() + PROFILES['issuing-ca'].defaultDays * DAY_MS),
      subjectSpki: issuingSpki, issuerSpki: rootSpki, profile: PROFILES['issuing-ca'], sans: [], urls: this.urlsFor(root),
    }, root.signer);
    const issuingKeyId = this.deps.vault.store(issuingKey, describeKey(issuingKey));
    this.recordCaCertificate(root, issuingCert, 'issuing-ca', by);
    this.deps.storage.insertCa({ name: 'issuing', role: 'issuing', parentId: root.record.id, keyId: issuingKeyId, certDer: issuingCert, ocspKeyId: null, ocspCertDer: null }, by);
    this.reload();
    this.renewOcspSigner(keyType, by);
  }

  /** A fresh delegated OCSP signer for the issuing CA (RFC 6960 §4.2.2.2). */
  renewOcspSigner(keyType: KeyType, by: Actor): void {
    const ca = this.issuingCa();
    const key = generateKey(keyType);
    const cert = this.issue({
      profile: PROFILES['ocsp-signer'], commonName: `${this.deps.organization} OCSP Responder`, sans: [], subjectSpki: spkiDer(key),
    }, by);
    const keyId = this.deps.vault.store(key, describeKey(key));
    this.deps.storage.setOcspSigner(ca.record.id, keyId, cert.der, by);
    this.reload();
  }

  /** Renews the OCSP signer when it expires within `withinMs`; true when it did. */
  renewOcspSignerIfDue(keyType: KeyType, withinMs: number, by: Actor): boolean {
    const ca = this.issuingCa();
    const notAfter = ca.ocsp ? readCertificate(ca.ocsp.certDer).notAfter.getTime() : 0;
    if (notAfter - this.deps.clock().getTime() > withinMs) return false;
    this.renewOcspSigner(keyType, by);
    return true;
  }

  private urlsFor(ca: LoadedCa): { crl: string; ocsp: string; caIssuers: string } {
    const u = this.deps.urls;
    return { crl: u.crl(ca.record.name), ocsp: u.ocsp(), caIssuers: u.caIssuers(ca.record.name) };
  }

  private recordCaCertificate(issuer: LoadedCa, der: Buffer, profile: string, by: Actor): CertRecord {
    const facts = readCertificate(der);
    const rec: CertRecord = {
      caId: issuer.record.id, serial: facts.serialHex, profile, subject: facts.subjectText,
      commonName: facts.subjectText, username: null, sans: [], notBefore: facts.notBefore.getTime(),
      notAfter: facts.notAfter.getTime(), issuedAt: this.deps.clock().getTime(), der, status: 'valid', revokedAt: null, reason: null,
    };
    this.deps.storage.insertCertificate(rec, by);
    return rec;
  }

  /** Issues under a profile from the issuing CA; the certificate is stored before it is returned. */
  issue(req: IssueRequest, by: Actor): CertRecord {
    return this.issueMany([req], by)[0]!;
  }

  /**
   * Issues a batch: every request is checked before anything is signed, and all the
   * certificates are committed in one transaction (one fsync), or none is.
   */
  issueMany(reqs: readonly IssueRequest[], by: Actor): CertRecord[] {
    const ca = this.issuingCa();
    const now = this.deps.clock().getTime();
    for (const req of reqs) this.checkRequest(req);
    const records = reqs.map((req) => {
      const { profile } = req;
      const commonName = req.commonName.trim();
      // Never outlive the issuer: a chain is only as valid as its shortest link.
      const notAfter = Math.floor(Math.min(now + (req.days ?? profile.defaultDays) * DAY_MS, ca.facts.notAfter.getTime()) / 1000) * 1000;
      if (notAfter <= now) throw new AppError('CERT_EXPIRED', 'the issuing CA has expired');
      const serial = randomSerial();
      const der = signCertificate({
        serial, subject: buildName({ commonName, organization: this.deps.organization }), issuer: ca.subject,
        notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(notAfter), subjectSpki: req.subjectSpki,
        issuerSpki: ca.facts.spki, profile, sans: req.sans, urls: this.urlsFor(ca),
      }, ca.signer);
      const rec: CertRecord = {
        caId: ca.record.id, serial: serialHexOf(serial), profile: profile.name, subject: `O=${this.deps.organization}, CN=${commonName}`,
        commonName, username: req.username ?? null, sans: req.sans, notBefore: Math.floor((now - BACKDATE_MS) / 1000) * 1000, notAfter,
        issuedAt: now, der, status: 'valid', revokedAt: null, reason: null,
      };
      return rec;
    });
    this.deps.storage.insertCertificates(records, by);
    return records;
  }

  private checkRequest(req: IssueRequest): void {
    const { profile } = req;
    const commonName = req.commonName.trim();
    if (!commonName || commonName.length > 64) throw new AppError('BAD_INPUT', 'the common name must be 1 to 64 characters');
    validateSans(profile, req.sans);
    const days = req.days ?? profile.defaultDays;
    if (!Number.isInteger(days) || days < 1 || days > profile.maxDays) {
      throw new AppError('BAD_INPUT', `--days must be a whole number from 1 to ${profile.maxDays} for the ${profile.name} profile`);
    }
  }

  issueWithNewKey(req: Omit<IssueRequest, 'subjectSpki'>, keyType: KeyType, by: Actor): { cert: CertRecord; key: KeyObject } {
    const key = generateKey(keyType);
    return { cert: this.issue({ ...req, subjectSpki: spkiDer(key) }, by), key };
  }

  find(serialInput: string): CertRecord {
    const serial = normalizeSerial(serialInput);
    const found = this.deps.storage.findCertificates(serial);
    if (found.length === 0) throw new AppError('CERT_NOT_FOUND', `no certificate with serial ${serial}`);
    if (found.length > 1) throw new AppError('CONFLICT', `serial ${serial} exists under more than one CA`);
    return found[0]!;
  }

  revoke(serialInput: string, reason: number, by: Actor): CertRecord {
    const cert = this.find(serialInput);
    if (cert.status === 'revoked') throw new AppError('CERT_ALREADY_REVOKED', `certificate ${cert.serial} is already revoked`);
    // A hold may become a permanent revocation; it keeps the original time (RFC 5280 §5.3.1).
    const at = cert.status === 'hold' && reason !== CrlReason.certificateHold ? cert.revokedAt! : this.deps.clock().getTime();
    const status = reason === CrlReason.certificateHold ? 'hold' : 'revoked';
    if (cert.status === 'hold' && status === 'hold') throw new AppError('CONFLICT', `certificate ${cert.serial} is already on hold`);
    this.deps.storage.setStatus(cert.caId, cert.serial, status, at, reason, by, status === 'hold' ? 'cert.hold' : 'cert.revoke');
    return { ...cert, status, revokedAt: at, reason };
  }

  unhold(serialInput: string, by: Actor): CertRecord {
    const cert = this.find(serialInput);
    if (cert.status !== 'hold') throw new AppError('CERT_NOT_ON_HOLD', `certificate ${cert.serial} is not on hold`);
    this.deps.storage.setStatus(cert.caId, cert.serial, 'valid', null, null, by, 'cert.unhold');
    return { ...cert, status: 'valid', revokedAt: null, reason: null };
  }
}
