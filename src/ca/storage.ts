// The storage the CA needs, declared here and implemented by store/ (the only SQL).
import type { Actor } from '../core/actor.js';
import type { SanEntry } from './x509.js';

export type { Actor };

export type CaRole = 'root' | 'issuing';
export type CertStatusName = 'valid' | 'revoked' | 'hold';

export interface CaRecord {
  id: number;
  name: string;
  role: CaRole;
  parentId: number | null;
  keyId: string;
  certDer: Buffer;
  crlNumber: number;
  ocspKeyId: string | null;
  ocspCertDer: Buffer | null;
}

export interface CertRecord {
  caId: number;
  serial: string;
  profile: string;
  subject: string;
  commonName: string;
  username: string | null;
  sans: SanEntry[];
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  der: Buffer;
  status: CertStatusName;
  revokedAt: number | null;
  reason: number | null;
}


export interface CertQuery {
  username?: string;
  status?: 'valid' | 'revoked' | 'expired' | 'hold';
  now: number;
  limit?: number;
}

export interface PkiStorage {
  saveKey(id: string, algorithm: string, sealed: Buffer): void;
  loadSealedKey(id: string): Buffer | undefined;
  insertCa(ca: Omit<CaRecord, 'id' | 'crlNumber'>, by: Actor): number;
  setOcspSigner(caId: number, keyId: string, certDer: Buffer, by: Actor): void;
  listCas(): CaRecord[];
  insertCertificate(cert: CertRecord, by: Actor): void;
  /** Several certificates in one durable transaction (one fsync for a batch). */
  insertCertificates(certs: readonly CertRecord[], by: Actor): void;
  findCertificates(serial: string): CertRecord[];
  queryCertificates(q: CertQuery): CertRecord[];
  /** Every certificate that is revoked or on hold, for CRLs and the status index. */
  listRevoked(caId?: number): CertRecord[];
  /** All certificates' status fields, for building the in-memory status index. */
  listStatuses(): Pick<CertRecord, 'caId' | 'serial' | 'status' | 'revokedAt' | 'reason' | 'notAfter'>[];
  setStatus(caId: number, serial: string, status: CertStatusName, revokedAt: number | null, reason: number | null, by: Actor, action: string): void;
  /** Next CRL number for the CA, persisted before the CRL is published so it never repeats. */
  nextCrlNumber(caId: number): number;
  saveCrl(caId: number, number: number, thisUpdate: number, nextUpdate: number, der: Buffer): void;
  loadCrl(caId: number): { number: number; thisUpdate: number; nextUpdate: number; der: Buffer } | undefined;
  /** The stored CRL's number and times, without reading its (possibly megabytes of) DER. */
  crlInfo(caId: number): { number: number; thisUpdate: number; nextUpdate: number } | undefined;
  audit(by: Actor, action: string, target: string | null, detail?: unknown): void;
}
