// OCSP wire format (RFC 6960, lightweight profile RFC 5019): a strict hand-written
// parser for requests and a hand-written encoder for responses, both over der.ts.
// Parsing is the hot path of the responder, so it walks the DER in place and copies
// out only the few fields it returns; no schema-library object trees.

import {
  DerError, Tag, bitString, decodeOid, enumerated, expectElement, explicit, generalizedTime, octets, oid,
  readElement, seq, tlv, type DerElement,
} from '../ca/der.js';
import { AppError } from '../core/errors.js';

export type OcspHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export interface CertIdRequest {
  hash: OcspHash;
  issuerNameHash: Buffer;
  issuerKeyHash: Buffer;
  /** Lowercase hex, no leading zeros ("0" for zero). */
  serialHex: string;
  /** The CertID exactly as received, echoed verbatim in the SingleResponse. */
  certIdDer: Buffer;
}

export interface ParsedOcspRequest {
  requests: CertIdRequest[];
  /** Raw extnValue contents of id-pkix-ocsp-nonce, echoed verbatim. */
  nonceExtnValue?: Buffer;
  /** The request carried an optionalSignature (neither required nor verified). */
  signed: boolean;
}

export type CertStatus =
  | { kind: 'good' }
  | { kind: 'revoked'; revokedAt: Date; reason?: number }
  | { kind: 'unknown' };

export interface SingleResponseInput {
  certIdDer: Buffer;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

export interface OcspResponderSigner {
  /** SHA-1 of the signer's subjectPublicKey BIT STRING value (ResponderID byKey). */
  responderKeyHash: Buffer;
  /** Full AlgorithmIdentifier DER. */
  signatureAlgorithmDer: Buffer;
  /** Signature over the DER of ResponseData. */
  sign(tbs: Buffer): Buffer;
  /** Signer certificate(s) for `certs`; empty when the CA signs itself. */
  certsDer: Buffer[];
}

export type OcspErrorStatus = 'malformedRequest' | 'internalError' | 'tryLater' | 'sigRequired' | 'unauthorized';

/** OCSPResponseStatus (RFC 6960 §4.2.1); 4 is not used. */
export const OCSP_RESPONSE_STATUS = {
  successful: 0, malformedRequest: 1, internalError: 2, tryLater: 3, sigRequired: 5, unauthorized: 6,
} as const;

/** Most CertIDs accepted in one request. */
export const MAX_REQUESTS_PER_OCSP_REQUEST = 20;
/** Longest nonce extnValue accepted (RFC 8954 allows 1..32 octets of nonce; we are lenient). */
export const MAX_NONCE_EXTN_VALUE_LENGTH = 128;

const OID_NONCE = '1.3.6.1.5.5.7.48.1.2';
const OID_BASIC_RESPONSE = '1.3.6.1.5.5.7.48.1.1';

/** Hash algorithms a CertID may use: OID, digest length. */
const HASHES: ReadonlyArray<{ name: OcspHash; oid: string; length: number }> = [
  { name: 'sha1', oid: '1.3.14.3.2.26', length: 20 },
  { name: 'sha256', oid: '2.16.840.1.101.3.4.2.1', length: 32 },
  { name: 'sha384', oid: '2.16.840.1.101.3.4.2.2', length: 48 },
  { name: 'sha512', oid: '2.16.840.1.101.3.4.2.3', length: 64 },
];
/** Keyed by the hex of the OID's value bytes, so the hot path never decodes an OID. */
const HASH_BY_OID_HEX = new Map(HASHES.map((h) => [oid(h.oid).subarray(2).toString('hex'), h]));
const NONCE_OID_HEX = oid(OID_NONCE).subarray(2).toString('hex');

/** Version ::= INTEGER { v1(0) } */
const OCSP_VERSION_V1 = 0;
const BOOLEAN_TRUE = 0xff;
const BOOLEAN_FALSE = 0x00;
const SHA1_LENGTH = 20;
const SIGN_BIT = 0x80;

// Context-specific tags, request side (all EXPLICIT, so constructed).
const REQ_TAG = {
  optionalSignature: 0xa0, // OCSPRequest [0]
  version: 0xa0, // TBSRequest [0]
  requestorName: 0xa1, // TBSRequest [1]
  requestExtensions: 0xa2, // TBSRequest [2]
  singleRequestExtensions: 0xa0, // Request [0]
  signatureCerts: 0xa0, // Signature [0]
} as const;

// Context-specific tag numbers, response side.
const RESP_TAG = {
  responseBytes: 0, // OCSPResponse [0] EXPLICIT
  responderIdByKey: 2, // ResponderID byKey [2] EXPLICIT
  responseExtensions: 1, // ResponseData [1] EXPLICIT
  certs: 0, // BasicOCSPResponse [0] EXPLICIT
  nextUpdate: 0, // SingleResponse [0] EXPLICIT
  revocationReason: 0, // RevokedInfo [0] EXPLICIT
} as const;

// CertStatus CHOICE encodings: good [0] IMPLICIT NULL, revoked [1] IMPLICIT SEQUENCE, unknown [2] IMPLICIT NULL.
const CERT_STATUS_GOOD = Buffer.from([0x80, 0x00]);
const CERT_STATUS_REVOKED_TAG = 0xa1;
const CERT_STATUS_UNKNOWN = Buffer.from([0x82, 0x00]);

/** CRLReason (RFC 5280 §5.3.1); 7 is not used. */
const CRL_REASON = {
  unspecified: 0, keyCompromise: 1, cACompromise: 2, affiliationChanged: 3, superseded: 4, cessationOfOperation: 5,
  certificateHold: 6, removeFromCRL: 8, privilegeWithdrawn: 9, aACompromise: 10,
} as const;
const VALID_CRL_REASONS: ReadonlySet<number> = new Set(Object.values(CRL_REASON));

const MAX_GENERALIZED_TIME_YEAR = 9999;

// ---------------------------------------------------------------------------
// Request parsing

function malformed(message: string): never {
  throw new AppError('OCSP_MALFORMED', `malformed OCSP request: ${message}`);
}

/** Walks the children of one constructed element in order. */
class Cursor {
  private pos: number;
  private readonly end: number;
  constructor(
    private readonly buf: Buffer,
    parent: DerElement,
  ) {
    this.pos = parent.valueStart;
    this.end = parent.end;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  next(tag: number, what: string): DerElement {
    const el = expectElement(this.buf, this.pos, this.end, tag, what);
    this.pos = el.end;
    return el;
  }
  any(): DerElement {
    const el = readElement(this.buf, this.pos, this.end);
    this.pos = el.end;
    return el;
  }
  optional(tag: number, what: string): DerElement | undefined {
    return this.pos < this.end && this.buf[this.pos] === tag ? this.next(tag, what) : undefined;
  }
  finish(what: string): void {
    if (this.pos < this.end) malformed(`${what}: unexpected element with tag 0x${this.buf[this.pos]!.toString(16)}`);
  }
}

const valueLength = (el: DerElement): number => el.end - el.valueStart;
const copyValue = (buf: Buffer, el: DerElement): Buffer => Buffer.from(buf.subarray(el.valueStart, el.end));

export function parseOcspRequest(der: Uint8Array): ParsedOcspRequest {
  const buf = Buffer.isBuffer(der) ? der : Buffer.from(der.buffer, der.byteOffset, der.byteLength);
  try {
    return parseRequest(buf);
  } catch (e) {
    if (e instanceof DerError) throw new AppError('OCSP_MALFORMED', `malformed OCSP request: ${e.message}`, { cause: e });
    throw e;
  }
}

function parseRequest(buf: Buffer): ParsedOcspRequest {
  if (buf.length === 0) malformed('empty body');
  const outer = expectElement(buf, 0, buf.length, Tag.SEQUENCE, 'OCSPRequest');
  if (outer.end !== buf.length) malformed(`${buf.length - outer.end} trailing byte(s) after OCSPRequest`);
  const top = new Cursor(buf, outer);
  const tbs = top.next(Tag.SEQUENCE, 'tbsRequest');
  const signature = top.optional(REQ_TAG.optionalSignature, 'optionalSignature');
  top.finish('OCSPRequest');
  if (signature) checkSignature(buf, signature);

  const t = new Cursor(buf, tbs);
  const version = t.optional(REQ_TAG.version, 'version');
  if (version) {
    const v = new Cursor(buf, version);
    const int = v.next(Tag.INTEGER, 'version');
    v.finish('version');
    if (valueLength(int) !== 1 || buf[int.valueStart] !== OCSP_VERSION_V1) malformed('unsupported version (only v1)');
  }
  const requestor = t.optional(REQ_TAG.requestorName, 'requestorName');
  if (requestor) {
    const r = new Cursor(buf, requestor);
    r.any();
    r.finish('requestorName');
  }
  const list = t.next(Tag.SEQUENCE, 'requestList');
  const extensions = t.optional(REQ_TAG.requestExtensions, 'requestExtensions');
  t.finish('TBSRequest');

  const requests: CertIdRequest[] = [];
  for (const l = new Cursor(buf, list); !l.done; ) {
    if (requests.length === MAX_REQUESTS_PER_OCSP_REQUEST) {
      malformed(`more than ${MAX_REQUESTS_PER_OCSP_REQUEST} requests`);
    }
    requests.push(parseSingleRequest(buf, l.next(Tag.SEQUENCE, 'Request')));
  }
  if (requests.length === 0) malformed('empty requestList');

  const result: ParsedOcspRequest = { requests, signed: signature !== undefined };
  if (extensions) {
    const nonce = parseExtensions(buf, extensions, 'requestExtensions', true);
    if (nonce) {
      const len = valueLength(nonce);
      if (len === 0 || len > MAX_NONCE_EXTN_VALUE_LENGTH) {
        malformed(`nonce extnValue of ${len} bytes (1..${MAX_NONCE_EXTN_VALUE_LENGTH} accepted)`);
      }
      result.nonceExtnValue = copyValue(buf, nonce);
    }
  }
  return result;
}

/** Signature ::= SEQUENCE { signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL } */
function checkSignature(buf: Buffer, wrapper: DerElement): void {
  const w = new Cursor(buf, wrapper);
  const body = w.next(Tag.SEQUENCE, 'Signature');
  w.finish('optionalSignature');
  const s = new Cursor(buf, body);
  s.next(Tag.SEQUENCE, 'signatureAlgorithm');
  s.next(Tag.BIT_STRING, 'signature');
  const certs = s.optional(REQ_TAG.signatureCerts, 'certs');
  s.finish('Signature');
  if (certs) {
    const c = new Cursor(buf, certs);
    c.next(Tag.SEQUENCE, 'certs');
    c.finish('certs');
  }
}

/** Request ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL } */
function parseSingleRequest(buf: Buffer, request: DerElement): CertIdRequest {
  const r = new Cursor(buf, request);
  const certId = r.next(Tag.SEQUENCE, 'reqCert');
  const extensions = r.optional(REQ_TAG.singleRequestExtensions, 'singleRequestExtensions');
  r.finish('Request');
  if (extensions) parseExtensions(buf, extensions, 'singleRequestExtensions', false);

  // CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING, issuerKeyHash OCTET STRING, serialNumber INTEGER }
  const c = new Cursor(buf, certId);
  const algorithm = c.next(Tag.SEQUENCE, 'hashAlgorithm');
  const nameHash = c.next(Tag.OCTET_STRING, 'issuerNameHash');
  const keyHash = c.next(Tag.OCTET_STRING, 'issuerKeyHash');
  const serial = c.next(Tag.INTEGER, 'serialNumber');
  c.finish('CertID');

  const a = new Cursor(buf, algorithm);
  const algOid = a.next(Tag.OID, 'hashAlgorithm');
  if (!a.done) {
    const params = a.next(Tag.NULL, 'hashAlgorithm parameters (absent or NULL)');
    if (valueLength(params) !== 0) malformed('hashAlgorithm parameters: NULL with content');
    a.finish('hashAlgorithm');
  }
  const hash = HASH_BY_OID_HEX.get(buf.toString('hex', algOid.valueStart, algOid.end));
  if (!hash) malformed(`unsupported hash algorithm ${decodeOid(buf.subarray(algOid.valueStart, algOid.end))}`);
  if (valueLength(nameHash) !== hash.length || valueLength(keyHash) !== hash.length) {
    malformed(`issuer hashes must be ${hash.length} bytes for ${hash.name}`);
  }

  const serialLength = valueLength(serial);
  if (serialLength === 0) malformed('empty serialNumber');
  const first = buf[serial.valueStart]!;
  if (first & SIGN_BIT) malformed('negative serialNumber');
  if (serialLength > 1 && first === 0 && !(buf[serial.valueStart + 1]! & SIGN_BIT)) {
    malformed('non-minimal serialNumber encoding');
  }
  let digits = buf.toString('hex', serial.valueStart, serial.end);
  let skip = 0;
  while (skip < digits.length - 1 && digits.charCodeAt(skip) === 0x30 /* '0' */) skip++;
  if (skip) digits = digits.slice(skip);

  return {
    hash: hash.name,
    issuerNameHash: copyValue(buf, nameHash),
    issuerKeyHash: copyValue(buf, keyHash),
    serialHex: digits,
    certIdDer: Buffer.from(buf.subarray(certId.start, certId.end)),
  };
}

/**
 * [n] EXPLICIT Extensions, Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension,
 * Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }.
 * Returns the nonce's extnValue element, if any. Duplicates and unknown critical
 * extensions are rejected; unknown non-critical ones ignored (RFC 6960 §4.4).
 */
function parseExtensions(buf: Buffer, wrapper: DerElement, what: string, acceptNonce: boolean): DerElement | undefined {
  const w = new Cursor(buf, wrapper);
  const list = w.next(Tag.SEQUENCE, what);
  w.finish(what);
  let nonce: DerElement | undefined;
  const seen = new Set<string>();
  for (const l = new Cursor(buf, list); !l.done; ) {
    const e = new Cursor(buf, l.next(Tag.SEQUENCE, `${what} Extension`));
    const id = e.next(Tag.OID, 'extnID');
    const critical = e.optional(Tag.BOOLEAN, 'critical');
    const value = e.next(Tag.OCTET_STRING, 'extnValue');
    e.finish('Extension');
    const idHex = buf.toString('hex', id.valueStart, id.end);
    if (seen.has(idHex)) malformed(`${what}: duplicate extension ${decodeOid(buf.subarray(id.valueStart, id.end))}`);
    seen.add(idHex);
    let isCritical = false;
    if (critical) {
      const b = buf[critical.valueStart];
      if (valueLength(critical) !== 1 || (b !== BOOLEAN_TRUE && b !== BOOLEAN_FALSE)) malformed('bad BOOLEAN encoding');
      isCritical = b === BOOLEAN_TRUE;
    }
    if (acceptNonce && idHex === NONCE_OID_HEX) nonce = value;
    else if (isCritical) {
      malformed(`${what}: unsupported critical extension ${decodeOid(buf.subarray(id.valueStart, id.end))}`);
    }
  }
  if (seen.size === 0) malformed(`${what}: empty Extensions`);
  return nonce;
}

// ---------------------------------------------------------------------------
// Response encoding

function internal(message: string): never {
  throw new AppError('INTERNAL', `OCSP response encoding: ${message}`);
}

function time(date: Date, what: string): Buffer {
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > MAX_GENERALIZED_TIME_YEAR) internal(`invalid ${what}`);
  return generalizedTime(date);
}

function encodeCertStatus(status: CertStatus): Buffer {
  switch (status.kind) {
    case 'good':
      return CERT_STATUS_GOOD;
    case 'unknown':
      return CERT_STATUS_UNKNOWN;
    case 'revoked': {
      // RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
      const revokedAt = time(status.revokedAt, 'revocationTime');
      if (status.reason === undefined) return tlv(CERT_STATUS_REVOKED_TAG, revokedAt);
      if (!VALID_CRL_REASONS.has(status.reason)) internal(`invalid CRLReason ${status.reason}`);
      return tlv(CERT_STATUS_REVOKED_TAG, revokedAt, explicit(RESP_TAG.revocationReason, enumerated(status.reason)));
    }
  }
}

/** SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate, nextUpdate [0] EXPLICIT OPTIONAL } */
export function encodeSingleResponse(r: SingleResponseInput): Buffer {
  if (r.certIdDer.length === 0 || r.certIdDer[0] !== Tag.SEQUENCE) internal('certIdDer is not a SEQUENCE');
  const parts = [r.certIdDer, encodeCertStatus(r.status), time(r.thisUpdate, 'thisUpdate')];
  if (r.nextUpdate) {
    if (r.nextUpdate.getTime() < r.thisUpdate.getTime()) internal('nextUpdate before thisUpdate');
    parts.push(explicit(RESP_TAG.nextUpdate, time(r.nextUpdate, 'nextUpdate')));
  }
  return seq(...parts);
}

const NONCE_OID_DER = oid(OID_NONCE);
const BASIC_RESPONSE_OID_DER = oid(OID_BASIC_RESPONSE);
const SUCCESSFUL_DER = enumerated(OCSP_RESPONSE_STATUS.successful);

export function buildOcspResponse(input: {
  singleResponsesDer: Buffer[];
  producedAt: Date;
  nonceExtnValue?: Buffer;
  signer: OcspResponderSigner;
}): Buffer {
  const { singleResponsesDer, signer, nonceExtnValue } = input;
  if (singleResponsesDer.length === 0) internal('no SingleResponse');
  if (signer.responderKeyHash.length !== SHA1_LENGTH) internal('responderKeyHash must be a SHA-1 digest');
  // ResponseData ::= SEQUENCE { version [0] DEFAULT v1 (omitted), responderID, producedAt,
  //                             responses SEQUENCE OF SingleResponse, responseExtensions [1] EXPLICIT OPTIONAL }
  const tbsParts = [
    explicit(RESP_TAG.responderIdByKey, octets(signer.responderKeyHash)),
    time(input.producedAt, 'producedAt'),
    seq(...singleResponsesDer),
  ];
  if (nonceExtnValue) {
    tbsParts.push(explicit(RESP_TAG.responseExtensions, seq(seq(NONCE_OID_DER, octets(nonceExtnValue)))));
  }
  const tbs = seq(...tbsParts);
  // BasicOCSPResponse ::= SEQUENCE { tbsResponseData, signatureAlgorithm, signature BIT STRING, certs [0] EXPLICIT OPTIONAL }
  const basicParts = [tbs, signer.signatureAlgorithmDer, bitString(signer.sign(tbs))];
  if (signer.certsDer.length > 0) basicParts.push(explicit(RESP_TAG.certs, seq(...signer.certsDer)));
  // OCSPResponse ::= SEQUENCE { responseStatus, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
  // ResponseBytes ::= SEQUENCE { responseType OID, response OCTET STRING }
  return seq(
    SUCCESSFUL_DER,
    explicit(RESP_TAG.responseBytes, seq(BASIC_RESPONSE_OID_DER, octets(seq(...basicParts)))),
  );
}

const ERROR_RESPONSES: Readonly<Record<OcspErrorStatus, Buffer>> = {
  malformedRequest: seq(enumerated(OCSP_RESPONSE_STATUS.malformedRequest)),
  internalError: seq(enumerated(OCSP_RESPONSE_STATUS.internalError)),
  tryLater: seq(enumerated(OCSP_RESPONSE_STATUS.tryLater)),
  sigRequired: seq(enumerated(OCSP_RESPONSE_STATUS.sigRequired)),
  unauthorized: seq(enumerated(OCSP_RESPONSE_STATUS.unauthorized)),
};

/** An OCSPResponse with an error status and no responseBytes (a fresh copy each call). */
export function ocspErrorResponse(status: OcspErrorStatus): Buffer {
  return Buffer.from(ERROR_RESPONSES[status]);
}
