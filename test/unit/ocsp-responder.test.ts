// src/ocsp/responder.ts over a real data folder (the CA hierarchy `authbox init` makes,
// opened with openPki) and a fake clock: the answer cache, the shared time grid across
// processes, revocation that bites at once, re-signing per slot, and the error answers.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPResponse, OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import { CertStatusIndex } from '../../src/ca/cert-status.js';
import { CrlReason } from '../../src/ca/crl.js';
import { derNull, octets, oid, seq, tlv, unsignedInteger } from '../../src/ca/der.js';
import { keyIdentifier, subjectPublicKeyBits } from '../../src/ca/keys.js';
import { toPem } from '../../src/ca/pem.js';
import { PROFILES } from '../../src/ca/profiles.js';
import type { Actor, CertRecord } from '../../src/ca/storage.js';
import { readCertificate } from '../../src/ca/x509.js';
import { loadConfig } from '../../src/config/config.js';
import { ChangeFeed } from '../../src/core/change-feed.js';
import { silentLogger } from '../../src/core/logger.js';
import { initDataDir, openPki, type Pki } from '../../src/main.js';
import { ocspErrorResponse } from '../../src/ocsp/codec.js';
import { OcspResponder, type OcspResponderOptions } from '../../src/ocsp/responder.js';

const by: Actor = { actor: 'unit-test', source: 'cli' };
const VALIDITY_S = 3600;
const SLOT_MS = (VALIDITY_S * 1000) / 2;
const options: OcspResponderOptions = { validitySeconds: VALIDITY_S, cacheMaxAgeSeconds: 60, cacheEntries: 1000 };

const HASH_OID = { sha1: '1.3.14.3.2.26', sha256: '2.16.840.1.101.3.4.2.1' } as const;
const NONCE_OID = '1.3.6.1.5.5.7.48.1.2';

let tmp: string;
let dataDir: string;
let pki: Pki;
/** The fake clock every responder and the authority read. */
let now: number;
const clock = (): Date => new Date(now);
/** A point 10 s into a slot of the shared grid, near the real time (openssl checks times). */
const slotStart = Math.floor(Date.now() / SLOT_MS) * SLOT_MS;

let issuingDer: Buffer;
let rootDer: Buffer;

function issue(cn: string): CertRecord {
  return pki.authority.issueWithNewKey({ profile: PROFILES.device, commonName: cn, sans: [] }, 'ec-p256', by).cert;
}

/** CertID (RFC 6960 §4.1.1) for a serial under an issuer certificate. */
function certId(issuerDer: Buffer, serialHex: string, hash: keyof typeof HASH_OID = 'sha1'): Buffer {
  const issuer = readCertificate(issuerDer);
  const H = (data: Uint8Array): Buffer => createHash(hash).update(data).digest();
  const serial = Buffer.from(serialHex.length % 2 ? '0' + serialHex : serialHex, 'hex');
  return seq(seq(oid(HASH_OID[hash]), derNull()), octets(H(issuer.subjectDer)), octets(H(subjectPublicKeyBits(issuer.spki))), unsignedInteger(serial));
}

/** OCSPRequest { TBSRequest { requestList { Request { CertID } } [, requestExtensions] } } */
function request(ids: Buffer[], nonce?: Buffer): Buffer {
  const list = seq(...ids.map((id) => seq(id)));
  const ext = nonce ? [tlv(0xa2, seq(seq(oid(NONCE_OID), octets(octets(nonce)))))] : [];
  return seq(seq(list, ...ext));
}

interface Single {
  kind: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  responderKeyHash: Buffer;
  certIdDer: Buffer;
  basic: BasicOCSPResponse;
}

function parse(der: Buffer): Single {
  const resp = AsnConvert.parse(der, OCSPResponse);
  expect(resp.responseStatus).toBe(OCSPResponseStatus.successful);
  const basic = AsnConvert.parse(resp.responseBytes!.response.buffer, BasicOCSPResponse);
  const single = basic.tbsResponseData.responses[0]!;
  const cs = single.certStatus;
  const kind = cs.revoked ? 'revoked' : cs.good === null ? 'good' : cs.unknown === null ? 'unknown' : undefined;
  if (!kind) throw new Error('no certStatus');
  return {
    kind,
    ...(cs.revoked ? { revokedAt: cs.revoked.revocationTime } : {}),
    ...(cs.revoked?.revocationReason ? { reason: cs.revoked.revocationReason.reason } : {}),
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
    responderKeyHash: Buffer.from(basic.tbsResponseData.responderID.byKey!.buffer),
    certIdDer: Buffer.from(AsnConvert.serialize(single.certID)),
    basic,
  };
}

function openssl(args: string[]): { status: number; out: string } {
  const r = spawnSync('openssl', args, { cwd: tmp, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

function freshResponder(p: Pki = pki, opts: OcspResponderOptions = options): { status: CertStatusIndex; responder: OcspResponder } {
  const status = new CertStatusIndex(p.store);
  return { status, responder: new OcspResponder(p.authority, status, opts, clock) };
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-ocsp-responder-'));
  dataDir = join(tmp, 'data');
  // What `authbox init --data DIR` runs (src/cli/commands/init.ts), in-process: no build needed.
  initDataDir({ dataDir, organization: 'Test City', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  now = slotStart + 10_000;
  pki = openPki(loadConfig(dataDir, {}), clock);
  issuingDer = pki.authority.issuingCa().record.certDer;
  rootDer = pki.authority.cas().find((c) => c.record.role === 'root')!.record.certDer;
  writeFileSync(join(tmp, 'issuing.pem'), toPem('CERTIFICATE', issuingDer));
  writeFileSync(join(tmp, 'chain.pem'), toPem('CERTIFICATE', issuingDer) + toPem('CERTIFICATE', rootDer));
});

afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe('OcspResponder', () => {
  it('builds the same CertID as `openssl ocsp -reqout`', () => {
    const leaf = issue('laptop-openssl');
    writeFileSync(join(tmp, 'leaf.pem'), toPem('CERTIFICATE', leaf.der));
    const r = openssl(['ocsp', '-issuer', 'issuing.pem', '-cert', 'leaf.pem', '-no_nonce', '-reqout', 'req.der']);
    expect(r.status, r.out).toBe(0);
    expect(readFileSync(join(tmp, 'req.der')).equals(request([certId(issuingDer, leaf.serial)]))).toBe(true);
  });

  it('answers good, signed by the delegated OCSP signer, which openssl verifies', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-good');
    writeFileSync(join(tmp, 'good.pem'), toPem('CERTIFICATE', leaf.der));
    const { responder } = freshResponder();
    const answer = responder.respond(request([certId(issuingDer, leaf.serial)]));
    expect(answer.outcome).toBe('successful');
    const s = parse(answer.der);
    expect(s.kind).toBe('good');
    const ocspCert = pki.authority.issuingCa().ocsp!.certDer;
    expect(s.responderKeyHash.equals(keyIdentifier(readCertificate(ocspCert).spki))).toBe(true);
    expect(s.basic.certs).toHaveLength(1);
    // Times on the grid: thisUpdate a minute before the slot, nextUpdate one validity later.
    expect(s.thisUpdate.getTime()).toBe(slotStart - 60_000);
    expect(s.nextUpdate!.getTime()).toBe(slotStart - 60_000 + VALIDITY_S * 1000);
    expect(answer.cache).toEqual({
      thisUpdate: slotStart - 60_000, nextUpdate: slotStart - 60_000 + VALIDITY_S * 1000, etag: expect.stringMatching(/^W\/"[0-9a-f]{40}"$/), maxAge: 60,
    });
    writeFileSync(join(tmp, 'resp-good.der'), answer.der);
    const r = openssl(['ocsp', '-respin', 'resp-good.der', '-CAfile', 'chain.pem', '-issuer', 'issuing.pem', '-cert', 'good.pem', '-no_nonce']);
    expect(r.out).toContain('Response verify OK');
    expect(r.out).toMatch(/good\.pem: good/);
    expect(r.out).not.toMatch(/WARNING/);
  });

  it('the same request twice: the second is a cache hit with the same bytes', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-cache');
    const { responder } = freshResponder();
    const req = request([certId(issuingDer, leaf.serial)]);
    const a = responder.respond(req);
    now += 5_000;
    const b = responder.respond(req);
    expect(responder.stats).toMatchObject({ requests: 2, signed: 1, cacheHits: 1 });
    expect(b.der.equals(a.der)).toBe(true);
    expect(b.cache).toEqual(a.cache);
  });

  it('SHA-1 and SHA-256 CertIDs for one certificate are answered and cached apart, each echoing its CertID', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-sha256');
    const { responder } = freshResponder();
    const id1 = certId(issuingDer, leaf.serial, 'sha1');
    const id256 = certId(issuingDer, leaf.serial, 'sha256');
    const a = parse(responder.respond(request([id1])).der);
    const b = parse(responder.respond(request([id256])).der);
    expect([a.kind, b.kind]).toEqual(['good', 'good']);
    expect(a.certIdDer.equals(id1)).toBe(true);
    expect(b.certIdDer.equals(id256)).toBe(true);
    responder.respond(request([id256]));
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 1 });
  });

  it('two responder instances (two processes) give the same thisUpdate, nextUpdate and ETag on the shared grid', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-grid');
    const other = openPki(loadConfig(dataDir, {}), clock);
    try {
      const a = freshResponder().responder;
      const b = freshResponder(other).responder;
      const req = request([certId(issuingDer, leaf.serial)]);
      const ra = a.respond(req);
      const rb = b.respond(req);
      expect(rb.cache).toEqual(ra.cache);
      expect(parse(rb.der).thisUpdate).toEqual(parse(ra.der).thisUpdate);
      // Later in the same slot, a third process that starts then still agrees.
      now = slotStart + SLOT_MS - 1_000;
      const rc = freshResponder(other).responder.respond(req);
      expect(rc.cache!.etag).toBe(ra.cache!.etag);
      expect(rc.cache!.thisUpdate).toBe(ra.cache!.thisUpdate);
    } finally {
      other.close();
    }
  });

  it('a revocation (authority.revoke + status.refresh) flips the next answer to revoked, never a stale cached good', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-lost');
    writeFileSync(join(tmp, 'lost.pem'), toPem('CERTIFICATE', leaf.der));
    const { status, responder } = freshResponder();
    const req = request([certId(issuingDer, leaf.serial)]);
    const good = responder.respond(req);
    responder.respond(req);
    expect(parse(good.der).kind).toBe('good');
    expect(responder.stats).toMatchObject({ signed: 1, cacheHits: 1 });

    now = slotStart + 20_500;
    pki.authority.revoke(leaf.serial, CrlReason.keyCompromise, by);
    status.refresh(`${leaf.caId}:${leaf.serial}`);
    const revoked = responder.respond(req);
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 1 });
    const s = parse(revoked.der);
    expect(s.kind).toBe('revoked');
    expect(s.reason).toBe(CrlReason.keyCompromise);
    expect(s.revokedAt!.getTime()).toBe(slotStart + 20_000);
    // A revocation is known from its own time on (thisUpdate is not before it).
    expect(s.thisUpdate.getTime()).toBe(slotStart + 20_000);
    expect(revoked.cache!.etag).not.toBe(good.cache!.etag);
    // Cached from now on.
    expect(responder.respond(req).der.equals(revoked.der)).toBe(true);
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 2 });

    writeFileSync(join(tmp, 'resp-revoked.der'), revoked.der);
    const r = openssl(['ocsp', '-respin', 'resp-revoked.der', '-CAfile', 'chain.pem', '-issuer', 'issuing.pem', '-cert', 'lost.pem', '-no_nonce']);
    expect(r.out).toContain('Response verify OK');
    expect(r.out).toMatch(/lost\.pem: revoked/);
    expect(r.out).toMatch(/Reason: keyCompromise/);
  });

  it('a revocation made by another process arrives through the change feed and is signed ahead (daemon wiring)', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-feed');
    const { status, responder } = freshResponder();
    const feed = new ChangeFeed(pki.store.changes, 100, silentLogger);
    feed.on('cert', (ref) => status.refresh(ref));
    status.onChange((caId, serial) => responder.refresh(caId, serial));
    const req = request([certId(issuingDer, leaf.serial)]);
    expect(parse(responder.respond(req).der).kind).toBe('good');

    const cli = openPki(loadConfig(dataDir, {}), clock); // `authbox cert revoke` in another process
    try {
      cli.authority.revoke(leaf.serial, CrlReason.superseded, { actor: 'admin', source: 'cli' });
    } finally {
      cli.close();
    }
    expect(feed.poll()).toBeGreaterThanOrEqual(1);
    expect(responder.stats.signed).toBe(2); // re-signed by refresh(), off the request path
    const s = parse(responder.respond(req).der);
    expect(s.kind).toBe('revoked');
    expect(s.reason).toBe(CrlReason.superseded);
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 1 });
  });

  it('a hold and its release both reach the next answer', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-hold');
    const { status, responder } = freshResponder();
    const req = request([certId(issuingDer, leaf.serial)]);
    const ref = `${leaf.caId}:${leaf.serial}`;
    expect(parse(responder.respond(req).der).kind).toBe('good');
    pki.authority.revoke(leaf.serial, CrlReason.certificateHold, by);
    status.refresh(ref);
    const held = parse(responder.respond(req).der);
    expect([held.kind, held.reason]).toEqual(['revoked', CrlReason.certificateHold]);
    pki.authority.unhold(leaf.serial, by);
    status.refresh(ref);
    expect(parse(responder.respond(req).der).kind).toBe('good');
  });

  it('answers are re-signed once the refreshAt slot passes, and refresh() does it ahead of requests', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-slots');
    const { responder } = freshResponder();
    const req = request([certId(issuingDer, leaf.serial)]);
    const first = responder.respond(req);

    now = slotStart + SLOT_MS - 1; // last millisecond of the slot: still served from the cache
    expect(responder.respond(req).der.equals(first.der)).toBe(true);
    expect(responder.stats).toMatchObject({ signed: 1, cacheHits: 1 });

    now = slotStart + SLOT_MS; // the next slot
    const second = responder.respond(req);
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 1 });
    expect(second.cache!.thisUpdate).toBe(first.cache!.thisUpdate + SLOT_MS);
    expect(second.cache!.nextUpdate).toBe(first.cache!.nextUpdate + SLOT_MS);
    expect(second.cache!.etag).not.toBe(first.cache!.etag);
    expect(parse(second.der).thisUpdate.getTime()).toBe(second.cache!.thisUpdate);

    // The timer path: past the next boundary, refresh() re-signs what is cached, and the
    // request that follows is a hit.
    now = slotStart + 2 * SLOT_MS + 1;
    expect(responder.refresh()).toBe(1);
    expect(responder.stats.signed).toBe(3);
    const third = responder.respond(req);
    expect(responder.stats).toMatchObject({ signed: 3, cacheHits: 2 });
    expect(third.cache!.thisUpdate).toBe(first.cache!.thisUpdate + 2 * SLOT_MS);
    // Nothing due: refresh() signs nothing.
    expect(responder.refresh()).toBe(0);
  });

  it('max-age never runs past nextUpdate (RFC 5019 §6.2)', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-maxage');
    const { responder } = freshResponder(pki, { ...options, cacheMaxAgeSeconds: 86_400 });
    const a = responder.respond(request([certId(issuingDer, leaf.serial)]));
    expect(a.cache!.maxAge).toBe(Math.floor((a.cache!.nextUpdate - now) / 1000));
    now += 1_000_000;
    const b = responder.respond(request([certId(issuingDer, leaf.serial)]));
    expect(b.cache!.maxAge).toBe(Math.floor((b.cache!.nextUpdate - now) / 1000));
    expect(b.cache!.maxAge).toBeLessThan(a.cache!.maxAge);
  });

  it('holds at most cacheEntries answers, dropping the oldest', () => {
    now = slotStart + 10_000;
    const leaves = ['laptop-ev1', 'laptop-ev2', 'laptop-ev3'].map(issue);
    const { status, responder } = freshResponder(pki, { ...options, cacheEntries: 2 });
    const reqs = leaves.map((l) => request([certId(issuingDer, l.serial)]));
    for (const r of reqs) responder.respond(r);
    expect(responder.stats).toMatchObject({ signed: 3, cacheHits: 0 });
    responder.respond(reqs[2]!);
    responder.respond(reqs[1]!);
    expect(responder.stats).toMatchObject({ signed: 3, cacheHits: 2 });
    // The first was evicted: signed again, and a status change to it re-signs nothing ahead.
    pki.authority.revoke(leaves[0]!.serial, CrlReason.affiliationChanged, by);
    status.refresh(`${leaves[0]!.caId}:${leaves[0]!.serial}`);
    expect(responder.refresh(leaves[0]!.caId, leaves[0]!.serial)).toBe(0);
    expect(parse(responder.respond(reqs[0]!).der).kind).toBe('revoked');
    expect(responder.stats).toMatchObject({ signed: 4, cacheHits: 2 });
  });

  it('signs ahead, before any request, the SHA-1 answer of every unexpired certificate (RFC 5019 pre-produced responses)', async () => {
    now = slotStart + 10_000;
    const leaves = ['laptop-pre1', 'laptop-pre2'].map(issue);
    pki.authority.revoke(leaves[1]!.serial, CrlReason.superseded, by);
    const { responder } = freshResponder();
    const signedAhead = await responder.presignAll(1);
    expect(signedAhead).toBe(responder.stats.signed);
    expect(signedAhead).toBeGreaterThanOrEqual(2);
    const answers = leaves.map((l) => responder.respond(request([certId(issuingDer, l.serial)])));
    // Served from memory: no signature made on the request path.
    expect(responder.stats).toMatchObject({ signed: signedAhead, cacheHits: 2 });
    expect(answers.map((a) => parse(a.der).kind)).toEqual(['good', 'revoked']);
    // Bounded by the cache size.
    const small = freshResponder(pki, { ...options, cacheEntries: 1 }).responder;
    expect(await small.presignAll()).toBe(1);
  });

  it('a made-up serial gives unknown and is not cached', () => {
    now = slotStart + 10_000;
    const { responder } = freshResponder();
    const req = request([certId(issuingDer, randomBytes(16).toString('hex').replace(/^0+/, ''))]);
    const a = responder.respond(req);
    const b = responder.respond(req);
    expect(parse(a.der).kind).toBe('unknown');
    expect(parse(b.der).kind).toBe('unknown');
    expect(responder.stats).toMatchObject({ requests: 2, signed: 2, cacheHits: 0 });
    // A flood of made-up serials signs each one and keeps none.
    for (let i = 0; i < 50; i++) responder.respond(request([certId(issuingDer, (0x1000 + i).toString(16))]));
    responder.respond(req);
    expect(responder.stats).toMatchObject({ signed: 53, cacheHits: 0 });
  });

  it('a request with a nonce is answered fresh, with the nonce echoed, and not cached', () => {
    now = slotStart + 10_000;
    const leaf = issue('laptop-nonce');
    const { responder } = freshResponder();
    const nonce = randomBytes(16);
    const req = request([certId(issuingDer, leaf.serial)], nonce);
    const a = responder.respond(req);
    responder.respond(req);
    expect(a.outcome).toBe('successful');
    expect(a.cache).toBeUndefined();
    expect(responder.stats).toMatchObject({ signed: 2, cacheHits: 0 });
    const ext = parse(a.der).basic.tbsResponseData.responseExtensions!.find((e) => e.extnID === NONCE_OID)!;
    expect(Buffer.from(ext.extnValue.buffer).equals(octets(nonce))).toBe(true);
  });

  it('the issuing CA\'s own status is answered for the root, signed by the root key itself', () => {
    now = slotStart + 10_000;
    const { responder } = freshResponder();
    const issuingSerial = readCertificate(issuingDer).serialHex;
    const s = parse(responder.respond(request([certId(rootDer, issuingSerial)])).der);
    expect(s.kind).toBe('good');
    expect(s.responderKeyHash.equals(keyIdentifier(readCertificate(rootDer).spki))).toBe(true);
    const basic = s.basic;
    const tbs = Buffer.from(AsnConvert.serialize(basic.tbsResponseData));
    const rootKey = readCertificate(rootDer).spki;
    expect(verify('sha256', tbs, { key: rootKey, format: 'der', type: 'spki', dsaEncoding: 'der' }, Buffer.from(basic.signature))).toBe(true);
  });

  describe('error answers', () => {
    const garbage: [string, () => Buffer][] = [
      ['an empty body', () => Buffer.alloc(0)],
      ['random bytes', () => randomBytes(64)],
      ['text', () => Buffer.from('GET /ocsp HTTP/1.1\r\n\r\n')],
      ['a truncated request', () => request([certId(issuingDer, '1234')]).subarray(0, 40)],
      ['trailing bytes', () => Buffer.concat([request([certId(issuingDer, '1234')]), Buffer.from([0])])],
      ['an empty request list', () => seq(seq(seq()))],
      ['a CertID with an MD5 hash', () =>
        request([seq(seq(oid('1.2.840.113549.2.5'), derNull()), octets(Buffer.alloc(16)), octets(Buffer.alloc(16)), unsignedInteger(Buffer.from([1])))])],
    ];
    for (const [name, make] of garbage) {
      it(`${name} → malformedRequest`, () => {
        const { responder } = freshResponder();
        const a = responder.respond(make());
        expect(a.outcome).toBe('malformedRequest');
        expect(a.der.equals(ocspErrorResponse('malformedRequest'))).toBe(true);
        expect(a.cache).toBeUndefined();
        expect(responder.stats).toMatchObject({ requests: 1, malformed: 1, signed: 0 });
      });
    }

    it('a foreign issuer → unauthorized (RFC 6960 §2.3)', () => {
      const { responder } = freshResponder();
      // A CA of its own, made by openssl: not one of ours.
      const r = openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'foreign.key',
        '-subj', '/CN=Foreign CA', '-days', '1', '-outform', 'DER', '-out', 'foreign.der']);
      expect(r.status, r.out).toBe(0);
      const foreign = readFileSync(join(tmp, 'foreign.der'));
      const a = responder.respond(request([certId(foreign, '1234')]));
      expect(a.outcome).toBe('unauthorized');
      expect(a.der.equals(ocspErrorResponse('unauthorized'))).toBe(true);

      // Our issuing CA's name with another key: an impostor, also not ours.
      const impostor = certId(issuingDer, '1234');
      const keyHashAt = impostor.indexOf(createHash('sha1').update(subjectPublicKeyBits(readCertificate(issuingDer).spki)).digest());
      expect(keyHashAt).toBeGreaterThan(0);
      impostor[keyHashAt]! ^= 0xff;
      expect(responder.respond(request([impostor])).outcome).toBe('unauthorized');

      // One foreign CertID among ours spoils the whole request.
      const leaf = issue('laptop-mixed');
      expect(responder.respond(request([certId(issuingDer, leaf.serial), certId(foreign, '1')])).outcome).toBe('unauthorized');
      expect(responder.stats).toMatchObject({ requests: 3, unauthorized: 3, signed: 0 });
    });
  });
});
