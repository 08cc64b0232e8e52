// The OCSP responder (RFC 6960, lightweight profile RFC 5019): status from the shared
// in-memory index, answers signed ahead and served from memory, re-signed the moment a
// certificate's status changes (each cached answer carries the status version it was
// signed for, so a stale one is never served).
import { createHash } from 'node:crypto';
import type { CertificateAuthority, LoadedCa } from '../ca/authority.js';
import type { CertStatusIndex } from '../ca/cert-status.js';
import { derNull, octets, oid, seq, unsignedInteger } from '../ca/der.js';
import { keyIdentifier, subjectPublicKeyBits } from '../ca/keys.js';
import { isAppError } from '../core/errors.js';
import {
  buildOcspResponse, encodeSingleResponse, ocspErrorResponse, parseOcspRequest,
  type CertIdRequest, type CertStatus, type OcspHash, type OcspResponderSigner,
} from './codec.js';

const HASHES: readonly OcspHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];
/** AlgorithmIdentifier for SHA-1 with NULL parameters, as OpenSSL writes it in a CertID. */
const SHA1_ALGORITHM_DER = seq(oid('1.3.14.3.2.26'), derNull());
/** Responses are backdated a little: relying parties' clocks drift. */
const THIS_UPDATE_SKEW_MS = 60_000;

export interface OcspAnswer {
  der: Buffer;
  /** 'successful' or the error status sent. */
  outcome: 'successful' | 'malformedRequest' | 'unauthorized' | 'internalError';
  /** Cache metadata for HTTP (successful single answers without a nonce only). */
  cache?: { thisUpdate: number; nextUpdate: number; etag: string; maxAge: number };
}

export interface OcspResponderOptions {
  validitySeconds: number;
  cacheMaxAgeSeconds: number;
  cacheEntries: number;
}

interface IssuerEntry {
  ca: LoadedCa;
  signer: OcspResponderSigner;
}

interface Cached {
  answer: OcspAnswer;
  version: number;
  refreshAt: number;
  req: CertIdRequest;
  issuer: IssuerEntry;
}

export class OcspResponder {
  private issuers = new Map<string, IssuerEntry>();
  private readonly cache = new Map<string, Cached>();
  /** "caId:serial" to the cache keys holding answers about it (one per CertID hash). */
  private readonly bySerial = new Map<string, Set<string>>();
  private readonly malformed = ocspErrorResponse('malformedRequest');
  private readonly unauthorized = ocspErrorResponse('unauthorized');
  private readonly internalError = ocspErrorResponse('internalError');
  readonly stats = { requests: 0, cacheHits: 0, signed: 0, malformed: 0, unauthorized: 0 };

  constructor(
    private readonly authority: CertificateAuthority,
    private readonly status: CertStatusIndex,
    private readonly options: OcspResponderOptions,
    private readonly clock: () => Date,
  ) {
    this.reloadIssuers();
  }

  /** Recomputes the issuer table (after a CA or OCSP signer change) and drops cached answers. */
  reloadIssuers(): void {
    const issuers = new Map<string, IssuerEntry>();
    for (const ca of this.authority.cas()) {
      const signer = this.signerFor(ca);
      for (const hash of HASHES) issuers.set(this.issuerKey(hash, ca), { ca, signer });
    }
    this.issuers = issuers;
    this.cache.clear();
    this.bySerial.clear();
  }

  private signerFor(ca: LoadedCa): OcspResponderSigner {
    // A delegated signer when the CA has one (RFC 6960 §4.2.2.2); otherwise the CA signs itself.
    const chosen = ca.ocsp
      ? { signer: ca.ocsp.signer, certs: [ca.ocsp.certDer] }
      : { signer: ca.signer, certs: [] as Buffer[] };
    return {
      responderKeyHash: keyIdentifier(chosen.signer.publicKey.export({ type: 'spki', format: 'der' })),
      signatureAlgorithmDer: chosen.signer.algorithmDer,
      sign: (tbs) => chosen.signer.sign(tbs),
      certsDer: chosen.certs,
    };
  }

  /**
   * Signs ahead, in small slices that leave the event loop free, the answer to a SHA-1
   * CertID request (what OpenSSL, Windows and most gateways send) for every certificate
   * not yet expired, until the cache is full. Resolves with how many were signed.
   */
  async presignAll(sliceSize = 500): Promise<number> {
    const now = this.clock().getTime();
    let signed = 0;
    for (const ca of this.authority.cas()) {
      const issuer = this.issuers.get(this.issuerKey('sha1', ca));
      if (!issuer) continue;
      const nameHash = createHash('sha1').update(ca.facts.subjectDer).digest();
      const keyHash = createHash('sha1').update(subjectPublicKeyBits(ca.facts.spki)).digest();
      let slice = 0;
      for (const [serialHex, entry] of this.status.entries(ca.record.id)) {
        if (this.cache.size >= this.options.cacheEntries) return signed;
        if (entry.notAfter <= now) continue;
        const certIdDer = seq(SHA1_ALGORITHM_DER, octets(nameHash), octets(keyHash),
          unsignedInteger(Buffer.from(serialHex.length % 2 ? '0' + serialHex : serialHex, 'hex')));
        const key = `${ca.record.id}:${certIdDer.toString('latin1')}`;
        if (this.cache.has(key)) continue;
        this.cachedSingle({ hash: 'sha1', issuerNameHash: nameHash, issuerKeyHash: keyHash, serialHex, certIdDer }, issuer, this.clock().getTime());
        signed++;
        if (++slice >= sliceSize) {
          slice = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    }
    return signed;
  }

  private issuerKey(hash: OcspHash, ca: LoadedCa): string {
    const nameHash = createHash(hash).update(ca.facts.subjectDer).digest('hex');
    const keyHash = createHash(hash).update(subjectPublicKeyBits(ca.facts.spki)).digest('hex');
    return `${hash}:${nameHash}:${keyHash}`;
  }

  respond(body: Uint8Array): OcspAnswer {
    this.stats.requests++;
    let parsed;
    try {
      parsed = parseOcspRequest(body);
    } catch (e) {
      if (!isAppError(e, 'OCSP_MALFORMED')) throw e;
      this.stats.malformed++;
      return { der: this.malformed, outcome: 'malformedRequest' };
    }
    const resolved: { req: CertIdRequest; issuer: IssuerEntry }[] = [];
    for (const req of parsed.requests) {
      const issuer = this.issuers.get(`${req.hash}:${req.issuerNameHash.toString('hex')}:${req.issuerKeyHash.toString('hex')}`);
      // RFC 6960 §2.3: "unauthorized" when we are not authoritative for the issuer.
      if (!issuer) {
        this.stats.unauthorized++;
        return { der: this.unauthorized, outcome: 'unauthorized' };
      }
      resolved.push({ req, issuer });
    }
    // A response is signed by one key: requests spanning CAs with different signers are refused.
    const signer = resolved[0]!.issuer.signer;
    if (resolved.some((r) => r.issuer.signer !== signer)) return { der: this.unauthorized, outcome: 'unauthorized' };

    const now = this.clock().getTime();
    try {
      if (resolved.length === 1 && !parsed.nonceExtnValue) return this.cachedSingle(resolved[0]!.req, resolved[0]!.issuer, now);
      const singles = resolved.map(({ req, issuer }) => this.single(req, issuer.ca, now).single);
      this.stats.signed++;
      const der = buildOcspResponse({
        singleResponsesDer: singles, producedAt: new Date(now), signer,
        ...(parsed.nonceExtnValue ? { nonceExtnValue: parsed.nonceExtnValue } : {}),
      });
      return { der, outcome: 'successful' };
    } catch {
      return { der: this.internalError, outcome: 'internalError' };
    }
  }

  /**
   * Times sit on a grid every process shares (slots of half the validity), so the HTTP
   * workers, each signing its own copy, give the same thisUpdate, nextUpdate and ETag.
   */
  private single(req: CertIdRequest, ca: LoadedCa, now: number): {
    single: Buffer; version: number; thisUpdate: number; nextUpdate: number; refreshAt: number; etag: string;
  } {
    const entry = this.status.get(ca.record.id, req.serialHex);
    let status: CertStatus;
    if (!entry) status = { kind: 'unknown' };
    else if (entry.status === 'valid') status = { kind: 'good' };
    else status = { kind: 'revoked', revokedAt: new Date(entry.revokedAt!), ...(entry.reason !== null ? { reason: entry.reason } : {}) };
    const validity = this.options.validitySeconds * 1000;
    const slot = Math.floor(now / (validity / 2)) * (validity / 2);
    let thisUpdate = Math.floor((slot - THIS_UPDATE_SKEW_MS) / 1000) * 1000;
    // A revocation is known from its own time on, not from before it.
    if (status.kind === 'revoked') thisUpdate = Math.max(thisUpdate, Math.floor(status.revokedAt.getTime() / 1000) * 1000);
    const nextUpdate = thisUpdate + validity;
    const single = encodeSingleResponse({ certIdDer: req.certIdDer, status, thisUpdate: new Date(thisUpdate), nextUpdate: new Date(nextUpdate) });
    // Weak: the signature bytes differ between signers, the answer does not.
    const etag = `W/"${createHash('sha1').update(req.certIdDer).update(`${ca.record.id}|${status.kind}|${entry?.revokedAt ?? ''}|${entry?.reason ?? ''}|${thisUpdate}`).digest('hex')}"`;
    return { single, version: entry?.version ?? 0, thisUpdate, nextUpdate, refreshAt: slot + validity / 2, etag };
  }

  private cachedSingle(req: CertIdRequest, issuer: IssuerEntry, now: number): OcspAnswer {
    const key = `${issuer.ca.record.id}:${req.certIdDer.toString('latin1')}`;
    const hit = this.cache.get(key);
    const version = this.status.get(issuer.ca.record.id, req.serialHex)?.version ?? 0;
    if (hit && hit.version === version && now < hit.refreshAt) {
      this.stats.cacheHits++;
      return this.withMaxAge(hit.answer, now);
    }
    const s = this.single(req, issuer.ca, now);
    this.stats.signed++;
    const der = buildOcspResponse({ singleResponsesDer: [s.single], producedAt: new Date(now), signer: issuer.signer });
    // The cached object is the one served, so the HTTP layer can keep its headers with it.
    const answer = this.withMaxAge({
      der, outcome: 'successful',
      cache: { thisUpdate: s.thisUpdate, nextUpdate: s.nextUpdate, etag: s.etag, maxAge: -1 },
    }, now);
    // Unknown serials are not kept: a flood of made-up serials must not fill memory.
    if (s.version !== 0) {
      if (!hit && this.cache.size >= this.options.cacheEntries) this.evictOldest();
      // Re-signed at the next slot, so a relying party always gets an answer with life left.
      this.cache.set(key, { answer, version: s.version, refreshAt: s.refreshAt, req, issuer });
      const serialKey = `${issuer.ca.record.id}:${req.serialHex}`;
      let keys = this.bySerial.get(serialKey);
      if (!keys) this.bySerial.set(serialKey, (keys = new Set()));
      keys.add(key);
    }
    return answer;
  }

  private evictOldest(): void {
    const [key, c] = this.cache.entries().next().value!;
    this.cache.delete(key);
    const serialKey = `${c.issuer.ca.record.id}:${c.req.serialHex}`;
    const keys = this.bySerial.get(serialKey);
    keys?.delete(key);
    if (keys?.size === 0) this.bySerial.delete(serialKey);
  }

  private withMaxAge(answer: OcspAnswer, now: number): OcspAnswer {
    const c = answer.cache!;
    // RFC 5019 §6.2: max-age no later than nextUpdate.
    const maxAge = Math.max(0, Math.min(this.options.cacheMaxAgeSeconds, Math.floor((c.nextUpdate - now) / 1000)));
    return maxAge === c.maxAge ? answer : { ...answer, cache: { ...c, maxAge } };
  }

  /**
   * Signs again, ahead of the next request, the cached answers of a certificate whose
   * status just changed, and those past half their life. Called from the change feed
   * and a timer, never on the request path.
   */
  refresh(caId?: number, serial?: string): number {
    const now = this.clock().getTime();
    const keys = serial !== undefined ? [...(this.bySerial.get(`${caId}:${serial}`) ?? [])] : [...this.cache.keys()];
    let signed = 0;
    for (const key of keys) {
      const c = this.cache.get(key);
      if (!c) continue;
      const version = this.status.get(c.issuer.ca.record.id, c.req.serialHex)?.version ?? 0;
      if (c.version === version && now < c.refreshAt) continue;
      this.cachedSingle(c.req, c.issuer, now);
      signed++;
    }
    return signed;
  }
}
