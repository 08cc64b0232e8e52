import { createHash, createPrivateKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPRequest, OCSPResponse, OCSPResponseStatus, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import {
  Tag,
  derNull,
  enumerated,
  explicit,
  octets,
  oid,
  readChildren,
  readElement,
  seq,
  smallInteger,
  tlv,
  unsignedInteger,
} from '../../src/ca/der.js';
import { AppError } from '../../src/core/errors.js';
import {
  OCSP_RESPONSE_STATUS,
  buildOcspResponse,
  encodeSingleResponse,
  ocspErrorResponse,
  parseOcspRequest,
  type CertStatus,
  type OcspErrorStatus,
  type OcspResponderSigner,
  type ParsedOcspRequest,
} from '../../src/ocsp/codec.js';
import { prngUint32 as prng } from '../helpers/unit.js';

const OID = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  md5: '1.2.840.113549.2.5',
  nonce: '1.3.6.1.5.5.7.48.1.2',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
};

let dir: string;

function openssl(args: string[]): { status: number; out: string } {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
function must(args: string[]): string {
  const r = openssl(args);
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.out}`);
  return r.out;
}
const file = (name: string): Buffer => readFileSync(join(dir, name));
const sha = (alg: string, data: Uint8Array): Buffer => createHash(alg).update(data).digest();

interface CertParts {
  der: Buffer;
  subjectDer: Buffer;
  keyBits: Buffer; // subjectPublicKey BIT STRING value, without the unused-bits byte
  serialHex: string; // as `openssl x509 -serial` prints it, canonicalised
}

function certParts(name: string): CertParts {
  const der = Buffer.from(new X509Certificate(file(name)).raw);
  const [tbs] = readChildren(der, readElement(der));
  const f = readChildren(der, tbs!);
  const base = f[0]!.tag === 0xa0 ? 1 : 0; // [0] version
  const subject = f[base + 4]!;
  const [, bits] = readChildren(der, f[base + 5]!);
  const printed = must(['x509', '-in', name, '-serial', '-noout']).trim().replace(/^serial=/, '');
  return {
    der,
    subjectDer: der.subarray(subject.start, subject.end),
    keyBits: der.subarray(bits!.valueStart + 1, bits!.end),
    serialHex: printed.toLowerCase().replace(/^0+(?=.)/, ''),
  };
}

function genKey(name: string): void {
  must(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name]);
}
function issue(name: string, subject: string, serial: string, ext: string): void {
  genKey(`${name}.key`);
  must(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  writeFileSync(join(dir, `${name}.ext`), ext);
  must(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', ...serial.split(' '),
    '-days', '10', '-extfile', `${name}.ext`, '-out', `${name}.pem`]);
}

let ca: CertParts;
let leaf: CertParts;
let leaf2: CertParts;
let signer: OcspResponderSigner;
let ocspKey: KeyObject;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'authbox-ocsp-'));
  genKey('ca.key');
  must(['req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Authbox Test CA/O=authbox', '-days', '30',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', 'ca.pem']);
  const leafExt = 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n';
  issue('leaf', '/CN=leaf.example', '-CAcreateserial', leafExt); // random 20-byte serial
  issue('leaf2', '/CN=leaf2.example', '-set_serial 0x0a0b', leafExt); // openssl prints 0A0B
  issue('ocsp', '/CN=Authbox OCSP', '-set_serial 0x00ff01', `${leafExt}extendedKeyUsage=OCSPSigning\n`);
  ca = certParts('ca.pem');
  leaf = certParts('leaf.pem');
  leaf2 = certParts('leaf2.pem');
  const ocsp = certParts('ocsp.pem');
  ocspKey = createPrivateKey(file('ocsp.key'));
  signer = {
    responderKeyHash: sha('sha1', ocsp.keyBits),
    signatureAlgorithmDer: seq(oid(OID.ecdsaWithSha256)),
    sign: (tbs) => sign('sha256', tbs, { key: ocspKey, dsaEncoding: 'der' }),
    certsDer: [ocsp.der],
  };
  must(['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-reqout', 'req-nonce.der']);
  must(['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req-plain.der']);
  // -sha256 must come before the -cert it applies to.
  must(['ocsp', '-sha256', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-cert', 'leaf2.pem', '-reqout', 'req-two.der']);
  must(['ocsp', '-issuer', 'ca.pem', '-cert', 'leaf.pem', '-signer', 'ocsp.pem', '-signkey', 'ocsp.key',
    '-reqout', 'req-signed.der']);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectMalformed(input: Uint8Array, message?: RegExp): AppError {
  let caught: unknown;
  try {
    parseOcspRequest(input);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe('OCSP_MALFORMED');
  if (message) expect(err.message).toMatch(message);
  return err;
}

describe('parseOcspRequest on openssl requests', () => {
  it('parses a default (SHA-1, nonce) request', () => {
    const der = file('req-nonce.der');
    const p = parseOcspRequest(der);
    expect(p.signed).toBe(false);
    expect(p.requests).toHaveLength(1);
    const [r] = p.requests;
    expect(r!.hash).toBe('sha1');
    expect(r!.serialHex).toBe(leaf.serialHex);
    expect(r!.issuerNameHash.equals(sha('sha1', ca.subjectDer))).toBe(true);
    expect(r!.issuerKeyHash.equals(sha('sha1', ca.keyBits))).toBe(true);
    expect(der.indexOf(r!.certIdDer)).toBeGreaterThan(0);
    // openssl wraps a 16-byte nonce in an OCTET STRING inside extnValue.
    expect(p.nonceExtnValue).toHaveLength(18);
    expect(p.nonceExtnValue!.subarray(0, 2)).toEqual(Buffer.from([Tag.OCTET_STRING, 16]));
    // Cross-check against the schema library.
    const req = AsnConvert.parse(der, OCSPRequest);
    const ext = req.tbsRequest.requestExtensions!.find((e) => e.extnID === OID.nonce)!;
    expect(Buffer.from(ext.extnValue.buffer).equals(p.nonceExtnValue!)).toBe(true);
    expect(Buffer.from(req.tbsRequest.requestList[0]!.reqCert.serialNumber).toString('hex')).toMatch(
      new RegExp(`^0*${r!.serialHex}$`),
    );
  });

  it('has no nonce with -no_nonce', () => {
    const p = parseOcspRequest(file('req-plain.der'));
    expect(p.nonceExtnValue).toBeUndefined();
    expect(p.requests[0]!.serialHex).toBe(leaf.serialHex);
  });

  it('parses a SHA-256 request for two certificates', () => {
    const p = parseOcspRequest(new Uint8Array(file('req-two.der')));
    expect(p.requests.map((r) => r.hash)).toEqual(['sha256', 'sha256']);
    expect(p.requests.map((r) => r.serialHex)).toEqual([leaf.serialHex, 'a0b']);
    expect(leaf2.serialHex).toBe('a0b');
    for (const r of p.requests) {
      expect(r.issuerNameHash.equals(sha('sha256', ca.subjectDer))).toBe(true);
      expect(r.issuerKeyHash.equals(sha('sha256', ca.keyBits))).toBe(true);
    }
    expect(p.nonceExtnValue).toBeDefined();
  });

  it('accepts a signed request with a requestorName and reports it as signed', () => {
    const p = parseOcspRequest(file('req-signed.der'));
    expect(p.signed).toBe(true);
    expect(p.requests[0]!.serialHex).toBe(leaf.serialHex);
    expect(p.nonceExtnValue).toBeDefined();
  });

  it('returns copies, not views of the input', () => {
    const der = Buffer.from(file('req-nonce.der'));
    const p = parseOcspRequest(der);
    const before = Buffer.from(p.requests[0]!.certIdDer);
    der.fill(0);
    expect(p.requests[0]!.certIdDer.equals(before)).toBe(true);
  });
});

// Hand-built requests for the paths openssl does not take.
function certId(o: { hashOid?: string; params?: Buffer | null; len?: number; keyLen?: number; serial?: Buffer } = {}): Buffer {
  const hashOid = o.hashOid ?? OID.sha1;
  const alg = o.params === null ? seq(oid(hashOid)) : seq(oid(hashOid), o.params ?? derNull());
  return seq(alg, octets(Buffer.alloc(o.len ?? 20, 1)), octets(Buffer.alloc(o.keyLen ?? o.len ?? 20, 2)),
    o.serial ?? smallInteger(42));
}
function request(o: { ids?: Buffer[]; pre?: Buffer[]; exts?: Buffer[]; single?: Buffer; raw?: Buffer } = {}): Buffer {
  const ids = o.ids ?? [certId()];
  const list = seq(...ids.map((id) => (o.single ? seq(id, explicit(0, seq(o.single))) : seq(id))));
  const tbs = seq(...(o.pre ?? []), list, ...(o.exts ? [explicit(2, seq(...o.exts))] : []));
  return seq(tbs);
}
const ext = (id: string, value: Buffer, critical?: boolean): Buffer =>
  seq(oid(id), ...(critical === undefined ? [] : [tlv(Tag.BOOLEAN, Buffer.from([critical ? 0xff : 0]))]), octets(value));
const nonceExt = (n: number): Buffer => ext(OID.nonce, octets(Buffer.alloc(n, 7)));

describe('parseOcspRequest on hand-built requests', () => {
  it('accepts every supported hash, with or without NULL parameters', () => {
    const cases = [['sha1', 20], ['sha256', 32], ['sha384', 48], ['sha512', 64]] as const;
    for (const [name, len] of cases) {
      for (const params of [undefined, null]) {
        const p = parseOcspRequest(request({ ids: [certId({ hashOid: OID[name], len, params })] }));
        expect(p.requests[0]!.hash).toBe(name);
        expect(p.requests[0]!.issuerNameHash).toHaveLength(len);
      }
    }
  });

  it('canonicalises serials', () => {
    const serialOf = (serial: Buffer): string => parseOcspRequest(request({ ids: [certId({ serial })] })).requests[0]!.serialHex;
    expect(serialOf(smallInteger(0))).toBe('0');
    expect(serialOf(smallInteger(1))).toBe('1');
    expect(serialOf(unsignedInteger(Buffer.from('ff01', 'hex')))).toBe('ff01');
    expect(serialOf(unsignedInteger(Buffer.from('0a0b', 'hex')))).toBe('a0b');
    expect(serialOf(unsignedInteger(Buffer.from('80' + '00'.repeat(19), 'hex')))).toBe('8' + '0'.repeat(39));
  });

  it('accepts an explicit v1 version, ignores non-critical unknown extensions', () => {
    const p = parseOcspRequest(request({
      pre: [explicit(0, smallInteger(0))],
      exts: [ext('1.3.6.1.5.5.7.48.1.4', seq(oid('1.3.6.1.5.5.7.48.1.1'))), nonceExt(32)],
      single: ext('1.3.6.1.5.5.7.48.1.7', seq(), false),
    }));
    expect(p.nonceExtnValue).toEqual(octets(Buffer.alloc(32, 7)));
  });

  it('accepts up to 20 requests and refuses 21', () => {
    expect(parseOcspRequest(request({ ids: Array.from({ length: 20 }, () => certId()) })).requests).toHaveLength(20);
    expectMalformed(request({ ids: Array.from({ length: 21 }, () => certId()) }), /more than 20 requests/);
  });

  it('accepts a nonce extnValue up to 128 bytes', () => {
    expect(parseOcspRequest(request({ exts: [nonceExt(126)] })).nonceExtnValue).toHaveLength(128);
    expectMalformed(request({ exts: [nonceExt(127)] }), /nonce/);
    expectMalformed(request({ exts: [ext(OID.nonce, Buffer.alloc(0))] }), /nonce/);
  });

  const cases: Array<[string, Buffer, RegExp]> = [
    ['unknown hash OID', request({ ids: [certId({ hashOid: OID.md5, len: 16 })] }), /unsupported hash algorithm 1\.2\.840\.113549\.2\.5/],
    ['hash length mismatch', request({ ids: [certId({ hashOid: OID.sha256, len: 20 })] }), /32 bytes for sha256/],
    ['key hash length mismatch', request({ ids: [certId({ len: 20, keyLen: 19 })] }), /20 bytes for sha1/],
    ['non-NULL hash parameters', request({ ids: [certId({ params: octets(Buffer.alloc(1)) })] }), /parameters/],
    ['NULL parameters with content', request({ ids: [certId({ params: tlv(Tag.NULL, Buffer.alloc(1)) })] }), /NULL with content/],
    ['negative serial', request({ ids: [certId({ serial: tlv(Tag.INTEGER, Buffer.from([0xff])) })] }), /negative/],
    ['non-minimal serial', request({ ids: [certId({ serial: tlv(Tag.INTEGER, Buffer.from([0, 1])) })] }), /non-minimal/],
    ['empty serial', request({ ids: [certId({ serial: tlv(Tag.INTEGER) })] }), /empty serialNumber/],
    ['version v2', request({ pre: [explicit(0, smallInteger(1))] }), /version/],
    ['empty requestList', request({ ids: [] }), /empty requestList/],
    ['extra element in CertID', request({ ids: [Buffer.concat([certId().subarray(0, 1), Buffer.from([certId()[1]! + 2]), certId().subarray(2), derNull()])] }), /CertID/],
    ['unknown critical extension', request({ exts: [ext('1.2.3.4', Buffer.alloc(1), true)] }), /critical extension 1\.2\.3\.4/],
    ['unknown critical single extension', request({ single: ext('1.2.3.4', Buffer.alloc(1), true) }), /critical extension/],
    ['duplicate nonce', request({ exts: [nonceExt(16), nonceExt(16)] }), /duplicate extension/],
    ['empty extensions', request({ exts: [] }), /empty Extensions/],
    ['BER boolean', request({ exts: [seq(oid('1.2.3'), tlv(Tag.BOOLEAN, Buffer.from([1])), octets(Buffer.alloc(1)))] }), /BOOLEAN/],
    ['primitive version tag', request({ pre: [tlv(0x80, Buffer.from([0]))] }), /requestList/],
    ['response instead of request', ocspErrorResponse('malformedRequest'), /tbsRequest/],
  ];
  it.each(cases)('rejects %s', (_name, der, message) => {
    expectMalformed(der, message);
  });
});

describe('parseOcspRequest on garbage', () => {
  it('rejects empty, wrong-tag, trailing and over-long input', () => {
    const real = file('req-nonce.der');
    expectMalformed(Buffer.alloc(0), /empty/);
    expectMalformed(Buffer.from([0x30]), /truncated/);
    expectMalformed(Buffer.concat([real, Buffer.from([0])]), /trailing/);
    expectMalformed(Buffer.concat([real, real]), /trailing/);
    expectMalformed(Buffer.concat([Buffer.from([0x31]), real.subarray(1)]), /expected tag 0x30/);
    expectMalformed(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x00]), /past/);
    expectMalformed(Buffer.from([0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]), /length/);
    expectMalformed(Buffer.from([0x30, 0x80, 0x00, 0x00]), /length/); // BER indefinite length
    expectMalformed(Buffer.from([0x30, 0x81, 0x05, 0x30, 0x03, 0x30, 0x01, 0x00]), /non-minimal length/);
  });

  it('rejects every truncation of a real request', () => {
    for (const name of ['req-nonce.der', 'req-two.der', 'req-signed.der']) {
      const real = file(name);
      for (let n = 0; n < real.length; n++) expectMalformed(real.subarray(0, n));
    }
  });

  it('rejects random bytes', () => {
    const rnd = prng(1);
    for (let i = 0; i < 200; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + (rnd() % 300) }, () => rnd() & 0xff));
      if (i % 2) bytes[0] = Tag.SEQUENCE;
      expectMalformed(bytes);
    }
  });

  it('survives 20,000 random mutations of real requests with AppError or a result', () => {
    const rnd = prng(0x5eed);
    const bases = ['req-nonce.der', 'req-two.der', 'req-signed.der'].map(file);
    const failures: string[] = [];
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      const bytes = [...bases[i % bases.length]!];
      for (let ops = 1 + (rnd() % 3); ops > 0; ops--) {
        const at = rnd() % (bytes.length + 1);
        switch (rnd() % 4) {
          case 0: bytes[at] = (bytes[at] ?? 0) ^ (1 << (rnd() % 8)); break;
          case 1: bytes[at] = rnd() & 0xff; break;
          case 2: bytes.splice(at, 0, rnd() & 0xff); break;
          default: bytes.splice(at, 1);
        }
      }
      try {
        const p = parseOcspRequest(Uint8Array.from(bytes));
        parsed++;
        if (p.requests.length < 1 || p.requests.length > 20 || !/^(0|[1-9a-f][0-9a-f]*)$/.test(p.requests[0]!.serialHex)) {
          failures.push(`bad result for ${Buffer.from(bytes).toString('hex')}`);
        }
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'OCSP_MALFORMED') {
          failures.push(`${String(e)} for ${Buffer.from(bytes).toString('hex')}`);
        }
      }
    }
    expect(failures.slice(0, 5)).toEqual([]);
    expect(parsed).toBeGreaterThan(0); // some mutations (e.g. in hash bytes) stay valid
  });
});


const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** How openssl prints an ASN1_TIME: "Jan  2 03:04:05 2024 GMT". */
function opensslTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()} GMT`;
}

function respond(req: ParsedOcspRequest, statuses: CertStatus[], o: { nonce?: Buffer | null; nextUpdate?: boolean } = {}): Buffer {
  const now = new Date();
  const thisUpdate = new Date(now.getTime() - 60_000);
  const singles = req.requests.map((r, i) =>
    encodeSingleResponse({
      certIdDer: r.certIdDer,
      status: statuses[i]!,
      thisUpdate,
      ...(o.nextUpdate ? { nextUpdate: new Date(now.getTime() + 3600_000) } : {}),
    }),
  );
  const nonce = o.nonce === null ? undefined : (o.nonce ?? req.nonceExtnValue);
  return buildOcspResponse({ singleResponsesDer: singles, producedAt: now, signer, ...(nonce ? { nonceExtnValue: nonce } : {}) });
}

// Note: with -cert, `openssl ocsp -respin` builds its own request with a fresh random nonce
// (and ignores -reqin), so a nonce-echoing response fails with "Nonce Verify error".
// Nonce echo is therefore checked with -reqin alone; the per-certificate summary
// ("leaf.pem: good") with -cert -no_nonce against responses without a nonce.
function checkWithOpenssl(resp: Buffer, args: string[]): { status: number; out: string } {
  writeFileSync(join(dir, 'resp.der'), resp);
  return openssl(['ocsp', '-respin', 'resp.der', '-CAfile', 'ca.pem', '-resp_text', ...args]);
}

function parseWithPeculiar(der: Buffer): BasicOCSPResponse {
  const resp = AsnConvert.parse(der, OCSPResponse);
  expect(resp.responseStatus).toBe(OCSPResponseStatus.successful);
  expect(resp.responseBytes!.responseType).toBe(id_pkix_ocsp_basic);
  return AsnConvert.parse(resp.responseBytes!.response.buffer, BasicOCSPResponse);
}

describe('responses checked by openssl', () => {
  it('good, with the nonce echoed, verifies against the matching request', () => {
    const req = parseOcspRequest(file('req-nonce.der'));
    const resp = respond(req, [{ kind: 'good' }], { nextUpdate: true });
    const r = checkWithOpenssl(resp, ['-reqin', 'req-nonce.der']);
    expect(r.out).toContain('Response verify OK');
    expect(r.out).toMatch(/Cert Status: good/);
    expect(r.out).toMatch(/Next Update:/);
    expect(r.out).not.toMatch(/WARNING|Nonce Verify error/);
    expect(r.status).toBe(0);

    const basic = parseWithPeculiar(resp);
    const data = basic.tbsResponseData;
    expect(Buffer.from(data.responderID.byKey!.buffer).equals(signer.responderKeyHash)).toBe(true);
    expect(data.responses).toHaveLength(1);
    expect(data.responses[0]!.certStatus.good).toBeNull();
    expect(data.responses[0]!.nextUpdate).toBeInstanceOf(Date);
    expect(Buffer.from(AsnConvert.serialize(data.responses[0]!.certID)).equals(req.requests[0]!.certIdDer)).toBe(true);
    const nonce = data.responseExtensions!.find((e) => e.extnID === OID.nonce)!;
    expect(Buffer.from(nonce.extnValue.buffer).equals(req.nonceExtnValue!)).toBe(true);
    expect(basic.certs).toHaveLength(1);
    expect(basic.signatureAlgorithm.algorithm).toBe(OID.ecdsaWithSha256);
    // The signature covers the ResponseData bytes as encoded.
    const tbs = Buffer.from(AsnConvert.serialize(data));
    expect(verify('sha256', tbs, { key: ocspKey, dsaEncoding: 'der' }, Buffer.from(basic.signature))).toBe(true);
  });

  it('good/revoked/unknown by certificate, as the real client reports them', () => {
    const req = parseOcspRequest(file('req-plain.der'));
    const revokedAt = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
    const cases: Array<[CertStatus, RegExp[]]> = [
      [{ kind: 'good' }, [/leaf\.pem: good/]],
      [{ kind: 'revoked', revokedAt, reason: 1 }, [/leaf\.pem: revoked/, /^\tReason: keyCompromise$/m, new RegExp(`^\\tRevocation Time: ${opensslTime(revokedAt)}$`, 'm')]],
      [{ kind: 'revoked', revokedAt }, [/leaf\.pem: revoked/, /Revocation Time:/]],
      [{ kind: 'unknown' }, [/leaf\.pem: unknown/]],
    ];
    for (const [status, patterns] of cases) {
      const resp = respond(req, [status]);
      const r = checkWithOpenssl(resp, ['-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce']);
      expect(r.out).toContain('Response verify OK');
      for (const p of patterns) expect(r.out).toMatch(p);
      if (status.kind === 'revoked' && status.reason === undefined) expect(r.out).not.toMatch(/Reason/);
      expect(r.out).not.toMatch(/WARNING/);

      const single = parseWithPeculiar(resp).tbsResponseData.responses[0]!;
      if (status.kind === 'revoked') {
        // Seconds precision: the milliseconds are dropped.
        expect(single.certStatus.revoked!.revocationTime.toISOString()).toBe('2024-01-02T03:04:05.000Z');
        expect(single.certStatus.revoked!.revocationReason?.reason).toBe(status.reason);
      } else {
        expect(single.certStatus[status.kind]).toBeNull();
      }
    }
  });

  it('answers a two-certificate SHA-256 request', () => {
    const req = parseOcspRequest(file('req-two.der'));
    const resp = respond(req, [{ kind: 'good' }, { kind: 'revoked', revokedAt: new Date(Date.UTC(2025, 5, 1)), reason: 4 }]);
    const r = checkWithOpenssl(resp, ['-reqin', 'req-two.der']);
    expect(r.out).toContain('Response verify OK');
    expect(r.out).toMatch(/Cert Status: good/);
    expect(r.out).toMatch(/Cert Status: revoked[\s\S]*Reason: superseded/);
    expect(r.status).toBe(0);
  });

  it('openssl rejects a response whose nonce does not match and warns when it is missing', () => {
    const req = parseOcspRequest(file('req-nonce.der'));
    const wrong = Buffer.from(req.nonceExtnValue!);
    wrong[wrong.length - 1]! ^= 1;
    const mismatch = checkWithOpenssl(respond(req, [{ kind: 'good' }], { nonce: wrong }), ['-reqin', 'req-nonce.der']);
    expect(mismatch.out).toMatch(/Nonce Verify error/);
    expect(mismatch.status).not.toBe(0);
    const missing = checkWithOpenssl(respond(req, [{ kind: 'good' }], { nonce: null }), ['-reqin', 'req-nonce.der']);
    expect(missing.out).toMatch(/WARNING: no nonce in response/);
    expect(missing.out).toContain('Response verify OK');
  });

  it('openssl rejects a response with a broken signature', () => {
    const req = parseOcspRequest(file('req-plain.der'));
    const bad = { ...signer, sign: (tbs: Buffer) => signer.sign(Buffer.concat([tbs, Buffer.from([0])])) };
    const resp = buildOcspResponse({
      singleResponsesDer: [encodeSingleResponse({ certIdDer: req.requests[0]!.certIdDer, status: { kind: 'good' }, thisUpdate: new Date() })],
      producedAt: new Date(),
      signer: bad,
    });
    const r = checkWithOpenssl(resp, ['-issuer', 'ca.pem', '-cert', 'leaf.pem', '-no_nonce']);
    expect(r.out).toMatch(/Response Verify Failure/);
  });
});

describe('response encoding details', () => {
  const certIdDer = certId();
  const t = new Date(Date.UTC(2030, 11, 31, 23, 59, 59));
  it('encodes CertStatus choices and times as specified', () => {
    const enc = (status: CertStatus): string => encodeSingleResponse({ certIdDer, status, thisUpdate: t }).toString('hex');
    const gt = Buffer.from('20301231235959Z').toString('hex');
    expect(enc({ kind: 'good' })).toContain(`8000180f${gt}`);
    expect(enc({ kind: 'unknown' })).toContain(`8200180f${gt}`);
    expect(enc({ kind: 'revoked', revokedAt: t })).toContain(`a111180f${gt}180f${gt}`);
    expect(enc({ kind: 'revoked', revokedAt: t, reason: 6 })).toContain(`a116180f${gt}a0030a0106180f${gt}`);
    const withNext = encodeSingleResponse({ certIdDer, status: { kind: 'good' }, thisUpdate: t, nextUpdate: t });
    expect(withNext.toString('hex').endsWith(`a011180f${gt}`)).toBe(true);
  });

  it('leaves out certs when there are none and encodes responderID byKey', () => {
    const resp = buildOcspResponse({
      singleResponsesDer: [encodeSingleResponse({ certIdDer, status: { kind: 'good' }, thisUpdate: t })],
      producedAt: t,
      signer: { ...signer, certsDer: [] },
    });
    const basic = parseWithPeculiar(resp);
    expect(basic.certs).toBeUndefined();
    expect(basic.tbsResponseData.version).toBe(0);
    expect(basic.tbsResponseData.responseExtensions).toBeUndefined();
    expect(basic.tbsResponseData.producedAt.toISOString()).toBe('2030-12-31T23:59:59.000Z');
    expect(resp.includes(Buffer.concat([Buffer.from([0xa2, 0x16, 0x04, 0x14]), signer.responderKeyHash]))).toBe(true);
  });

  it('refuses bad builder input with INTERNAL', () => {
    const bad = [
      () => encodeSingleResponse({ certIdDer, status: { kind: 'revoked', revokedAt: t, reason: 7 }, thisUpdate: t }),
      () => encodeSingleResponse({ certIdDer, status: { kind: 'good' }, thisUpdate: new Date(NaN) }),
      () => encodeSingleResponse({ certIdDer, status: { kind: 'good' }, thisUpdate: t, nextUpdate: new Date(0) }),
      () => encodeSingleResponse({ certIdDer: Buffer.alloc(0), status: { kind: 'good' }, thisUpdate: t }),
      () => buildOcspResponse({ singleResponsesDer: [], producedAt: t, signer }),
    ];
    for (const f of bad) expect(f).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});

describe('ocspErrorResponse', () => {
  const printed: Record<OcspErrorStatus, string> = {
    malformedRequest: 'malformedrequest (1)',
    internalError: 'internalerror (2)',
    tryLater: 'trylater (3)',
    sigRequired: 'sigrequired (5)',
    unauthorized: 'unauthorized (6)',
  };
  it.each(Object.entries(printed) as Array<[OcspErrorStatus, string]>)('%s is understood by openssl', (status, text) => {
    const der = ocspErrorResponse(status);
    expect(der).toEqual(seq(enumerated(OCSP_RESPONSE_STATUS[status])));
    const resp = AsnConvert.parse(der, OCSPResponse);
    expect(resp.responseStatus).toBe(OCSP_RESPONSE_STATUS[status]);
    expect(resp.responseBytes).toBeUndefined();
    writeFileSync(join(dir, 'err.der'), der);
    const r = openssl(['ocsp', '-respin', 'err.der', '-resp_text', '-noverify']);
    expect(r.out).toContain(`Responder Error: ${text}`);
  });

  it('returns a fresh copy each time', () => {
    const a = ocspErrorResponse('tryLater');
    a.fill(0);
    expect(ocspErrorResponse('tryLater')).toEqual(Buffer.from([0x30, 0x03, 0x0a, 0x01, 0x03]));
  });
});
