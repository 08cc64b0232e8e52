// The OCSP responder of a running `authbox serve`, checked over HTTP on 127.0.0.1 with the
// real `openssl ocsp` client (RFC 6960, RFC 5019): statuses, nonces, CertID hashes, GET,
// errors, caching headers, live revocation and the delegated signer.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, openssl, startServe, type RunningDaemon } from '../helpers/authbox.js';
import {
  httpRequest, issueCert, ocspQuery, statusOf, writeCaFiles, type CaFiles, type HttpResult, type IssuedCert,
} from '../helpers/pki.js';

const OCSP_REQUEST = { 'content-type': 'application/ocsp-request' };

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: string;
let ca: CaFiles;
let daemon: RunningDaemon | undefined;
let good: IssuedCert;
let early: IssuedCert;
let fileNo = 0;

/** A fresh file name in the work folder. */
const file = (name: string): string => join(work, `${++fileNo}-${name}`);

/** `openssl ocsp -reqout` without contacting anyone: the DER request for these arguments. */
function makeRequest(args: string[]): Buffer {
  const out = file('req.der');
  const r = openssl(['ocsp', '-issuer', ca.issuing, ...args, '-reqout', out]);
  if (r.status !== 0) throw new Error(`openssl ocsp -reqout failed: ${r.stderr}`);
  return readFileSync(out);
}

function postOcsp(body: Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  return httpRequest(`${daemon!.base}/ocsp`, { method: 'POST', headers: { ...OCSP_REQUEST, ...headers }, body });
}

/** What openssl makes of a saved response: `-respin F -resp_text -noverify`. */
function describeResponse(der: Buffer): string {
  const f = file('resp.der');
  writeFileSync(f, der);
  const r = openssl(['ocsp', '-respin', f, '-resp_text', '-noverify']);
  return r.stdout + r.stderr;
}

/** The status openssl reads from a saved, verified response for one certificate (no nonce check). */
function statusInResponse(der: Buffer, cert: IssuedCert): { status: string | undefined; output: string; code: number } {
  const f = file('resp.der');
  writeFileSync(f, der);
  const r = openssl(['ocsp', '-respin', f, '-issuer', ca.issuing, '-cert', cert.cert, '-no_nonce', '-CAfile', ca.chain]);
  const output = r.stdout + r.stderr;
  return { status: statusOf(output, cert.cert), output, code: r.status };
}

function dateAfter(output: string, label: string): Date {
  const m = new RegExp(`${label}: (.+ GMT)`).exec(output);
  if (!m) throw new Error(`no "${label}" in:\n${output}`);
  return new Date(m[1]!);
}

beforeAll(async () => {
  data = await initDataDir();
  work = dirname(data.dir);
  ca = writeCaFiles(data.dir, work);
  good = issueCert(data.dir, work, 'good');
  early = issueCert(data.dir, work, 'early');
  // Revoked before the daemon starts: the daemon must load it from the store.
  authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', early.serial, '--reason', 'superseded']);
  daemon = await startServe(data.dir, data.port);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('OCSP statuses (openssl ocsp against the daemon)', () => {
  it('says good for a valid certificate, with a verified response and This/Next Update', () => {
    const r = ocspQuery(ca, daemon!.base, ['-cert', good.cert]);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, good.cert)).toBe('good');
    expect(r.output).toMatch(/^Response verify OK$/m);
    const thisUpdate = dateAfter(r.output, 'This Update');
    const nextUpdate = dateAfter(r.output, 'Next Update');
    expect(thisUpdate.getTime()).toBeLessThanOrEqual(Date.now());
    expect(nextUpdate.getTime()).toBeGreaterThan(Date.now());
  });

  it('says revoked, with reason and time, for a certificate revoked before the daemon started', () => {
    const r = ocspQuery(ca, daemon!.base, ['-cert', early.cert]);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, early.cert)).toBe('revoked');
    expect(r.output).toMatch(/Reason: superseded/);
    expect(r.output).toMatch(/Revocation Time: .+ GMT/);
    expect(r.output).toMatch(/^Response verify OK$/m);
  });

  it('says unknown for a serial of our issuer that authbox never issued', () => {
    const r = ocspQuery(ca, daemon!.base, ['-serial', '0x1234']);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, '0x1234')).toBe('unknown');
    expect(r.output).toMatch(/^Response verify OK$/m);
  });

  it('answers several certificates in one request', () => {
    const r = ocspQuery(ca, daemon!.base, ['-cert', good.cert, '-cert', early.cert, '-serial', '0x1234']);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, good.cert)).toBe('good');
    expect(statusOf(r.output, early.cert)).toBe('revoked');
    expect(statusOf(r.output, '0x1234')).toBe('unknown');
    expect(r.output).toMatch(/^Response verify OK$/m);
  });

  it('accepts a SHA-256 CertID and echoes it', () => {
    const r = ocspQuery(ca, daemon!.base, ['-sha256', '-cert', good.cert, '-resp_text']);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, good.cert)).toBe('good');
    expect(r.output).toMatch(/Hash Algorithm: sha256/);
    expect(r.output).not.toMatch(/Hash Algorithm: sha1/);
    expect(r.output).toMatch(/^Response verify OK$/m);
  });

  it('answers for the issuing CA itself when asked with the root as issuer', () => {
    const r = openssl(['ocsp', '-issuer', ca.root, '-cert', ca.issuing, '-url', `${daemon!.base}/ocsp`, '-CAfile', ca.chain]);
    const output = r.stdout + r.stderr;
    expect(r.status, output).toBe(0);
    expect(statusOf(output, ca.issuing)).toBe('good');
    expect(output).toMatch(/^Response verify OK$/m);
  });
});

describe('OCSP nonce', () => {
  it('echoes the nonce openssl sends by default', () => {
    const r = ocspQuery(ca, daemon!.base, ['-cert', good.cert, '-resp_text']);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/OCSP Nonce/);
    expect(r.output).not.toMatch(/WARNING: no nonce/);
    expect(r.output).not.toMatch(/Nonce Verify error/);
  });

  it('echoes exactly the nonce of a saved request (openssl -reqin/-respin checks it)', async () => {
    const req = makeRequest(['-cert', good.cert]);
    const res = await postOcsp(req);
    expect(res.status).toBe(200);
    const reqFile = file('req.der');
    const respFile = file('resp.der');
    writeFileSync(reqFile, req);
    writeFileSync(respFile, res.body);
    const r = openssl(['ocsp', '-reqin', reqFile, '-respin', respFile, '-CAfile', ca.chain]);
    const output = r.stdout + r.stderr;
    expect(r.status, output).toBe(0);
    expect(output).toMatch(/^Response verify OK$/m);
    expect(output).not.toMatch(/WARNING: no nonce|Nonce Verify error/);
  });

  it('works without a nonce (-no_nonce), and the answer carries none', () => {
    const r = ocspQuery(ca, daemon!.base, ['-no_nonce', '-cert', good.cert, '-resp_text']);
    expect(r.status, r.output).toBe(0);
    expect(statusOf(r.output, good.cert)).toBe('good');
    expect(r.output).not.toMatch(/OCSP Nonce/);
    expect(r.output).toMatch(/^Response verify OK$/m);
  });
});

describe('OCSP over GET (RFC 6960 A.1)', () => {
  it('answers GET /ocsp/<url-encoded base64 DER request>', async () => {
    // Pick a request whose base64 has characters that must be URL-encoded (+, /, =).
    let req = makeRequest(['-cert', good.cert]);
    for (let i = 0; i < 30 && !/[+/=]/.test(req.toString('base64')); i++) req = makeRequest(['-cert', good.cert]);
    expect(req.toString('base64')).toMatch(/[+/=]/);
    const res = await httpRequest(`${daemon!.base}/ocsp/${encodeURIComponent(req.toString('base64'))}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/ocsp-response');
    const reqFile = file('req.der');
    const respFile = file('resp.der');
    writeFileSync(reqFile, req);
    writeFileSync(respFile, res.body);
    const r = openssl(['ocsp', '-reqin', reqFile, '-respin', respFile, '-CAfile', ca.chain]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/Nonce Verify error|WARNING: no nonce/);
    const s = statusInResponse(res.body, good);
    expect(s.status, s.output).toBe('good');
    expect(s.output).toMatch(/^Response verify OK$/m);
  });

  it('answers a GET without a nonce with caching headers, and 304 for its ETag', async () => {
    const req = makeRequest(['-no_nonce', '-cert', good.cert]);
    const url = `${daemon!.base}/ocsp/${encodeURIComponent(req.toString('base64'))}`;
    const res = await httpRequest(url);
    expect(res.status).toBe(200);
    expect(statusInResponse(res.body, good).status).toBe('good');
    expect(res.headers['cache-control']).toMatch(/max-age=\d+/);
    const etag = res.headers.etag as string;
    expect(etag).toBeTruthy();
    for (let i = 0; i < 4; i++) {
      const again = await httpRequest(url, { headers: { 'if-none-match': etag } });
      expect(again.status).toBe(304);
      expect(again.body.length).toBe(0);
    }
  });
});

describe('OCSP errors', () => {
  it('answers garbage with HTTP 200 and OCSP status malformedRequest', async () => {
    const valid = makeRequest(['-cert', good.cert]);
    const bodies = [Buffer.from('this is not DER\n'), valid.subarray(0, valid.length >> 1), Buffer.alloc(0), Buffer.concat([valid, Buffer.from([0])])];
    for (const body of bodies) {
      const res = await postOcsp(body);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/ocsp-response');
      expect(describeResponse(res.body)).toMatch(/Responder Error: malformedrequest \(1\)/);
    }
    const get = await httpRequest(`${daemon!.base}/ocsp/${encodeURIComponent('not*base64!')}`);
    expect(get.status).toBe(200);
    expect(describeResponse(get.body)).toMatch(/Responder Error: malformedrequest/);
    // And the daemon is unharmed.
    expect(statusOf(ocspQuery(ca, daemon!.base, ['-cert', good.cert]).output, good.cert)).toBe('good');
  });

  it('answers a request for a CA that is not ours with unauthorized', () => {
    const otherKey = file('other.key');
    const other = file('other.pem');
    const made = openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=Not authbox CA',
      '-keyout', otherKey, '-out', other, '-days', '2']);
    expect(made.status, made.stderr).toBe(0);
    const r = openssl(['ocsp', '-issuer', other, '-serial', '0x1234', '-url', `${daemon!.base}/ocsp`, '-CAfile', ca.chain]);
    expect(r.stdout + r.stderr).toMatch(/Responder Error: unauthorized \(6\)/);
    expect(r.status).not.toBe(0);
  });

  it('refuses a body over 16 KiB with 413 (declared or streamed) and keeps answering', async () => {
    const big = Buffer.alloc(16 * 1024 + 1, 0x30);
    const declared = await postOcsp(big);
    expect(declared.status).toBe(413);
    // Chunked, no Content-Length: the cap applies while reading.
    const streamed = await postOcsp(Buffer.alloc(40 * 1024, 0x30), { 'transfer-encoding': 'chunked' }).catch((e: Error) => e);
    expect(streamed instanceof Error ? streamed.message : streamed.status).toBe(413);
    // Just under the cap is read, and is garbage.
    const under = await postOcsp(Buffer.alloc(16 * 1024 - 1, 0x30));
    expect(under.status).toBe(200);
    expect(describeResponse(under.body)).toMatch(/malformedrequest/);
    const r = ocspQuery(ca, daemon!.base, ['-cert', good.cert]);
    expect(statusOf(r.output, good.cert), r.output).toBe('good');
  });

  it('answers a wrong method with 405', async () => {
    for (const method of ['PUT', 'DELETE', 'GET']) {
      const res = await httpRequest(`${daemon!.base}/ocsp`, { method, headers: OCSP_REQUEST, body: method === 'GET' ? undefined : Buffer.from('x') });
      expect(res.status, method).toBe(405);
    }
    const put = await httpRequest(`${daemon!.base}/ocsp/${encodeURIComponent(makeRequest(['-cert', good.cert]).toString('base64'))}`, { method: 'PUT', body: Buffer.from('x') });
    expect(put.status).toBe(405);
  });
});

describe('OCSP caching headers (RFC 5019 §6)', () => {
  it('sends max-age, ETag, Last-Modified and Expires on a no-nonce answer; 304 for If-None-Match', async () => {
    const req = makeRequest(['-no_nonce', '-cert', good.cert]);
    const res = await postOcsp(req);
    expect(res.status).toBe(200);
    expect(statusInResponse(res.body, good).status).toBe('good');
    const cc = String(res.headers['cache-control']);
    const maxAge = Number(/max-age=(\d+)/.exec(cc)?.[1]);
    expect(maxAge, cc).toBeGreaterThan(0);
    const lastModified = Date.parse(String(res.headers['last-modified']));
    const expires = Date.parse(String(res.headers.expires));
    expect(lastModified).toBeLessThanOrEqual(Date.now());
    expect(expires).toBeGreaterThan(Date.now());
    // RFC 5019 §6.2: a cache must not keep the answer past nextUpdate.
    expect(Date.now() + maxAge * 1000).toBeLessThanOrEqual(expires + 1000);
    expect(String(res.headers.etag)).toMatch(/^(W\/)?"[^"]+"$/);
  });

  it('keeps one ETag for an unchanged answer, whichever HTTP process answers, and sends 304 for it', async () => {
    // A fresh connection each time: the daemon may serve HTTP from several processes.
    const req = makeRequest(['-no_nonce', '-cert', good.cert]);
    const first = await postOcsp(req);
    const etag = String(first.headers.etag);
    const seen = new Set<string>();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      seen.add(String((await postOcsp(req)).headers.etag));
      statuses.push((await postOcsp(req, { 'if-none-match': etag })).status);
    }
    expect([...seen]).toEqual([etag]);
    expect(statuses).toEqual(Array(8).fill(304));
    const notModified = await postOcsp(req, { 'if-none-match': etag });
    expect(notModified.body.length).toBe(0);
    const otherTag = await postOcsp(req, { 'if-none-match': '"something-else"' });
    expect(otherTag.status).toBe(200);
    expect(statusInResponse(otherTag.body, good).status).toBe('good');
  });

  it('does not let caches keep an answer that echoes a nonce', async () => {
    const res = await postOcsp(makeRequest(['-cert', good.cert]));
    expect(res.status).toBe(200);
    expect(res.headers.etag).toBeUndefined();
    expect(String(res.headers['cache-control'])).not.toMatch(/max-age=[1-9]/);
  });
});

describe('revocation is live at once', () => {
  it('says revoked on the very next request after `authbox cert revoke`, and replaces the cached answer', async () => {
    const live = issueCert(data.dir, work, 'live');
    const noNonce = makeRequest(['-no_nonce', '-cert', live.cert]);
    const before = await postOcsp(noNonce);
    expect(statusInResponse(before.body, live).status).toBe('good');

    const out = authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', live.serial, '--reason', 'keyCompromise']);
    // No sleep: the CLI has acknowledged, so the daemon must already know.
    const r = ocspQuery(ca, daemon!.base, ['-cert', live.cert]);
    expect(statusOf(r.output, live.cert), `${out}\n${r.output}`).toBe('revoked');
    expect(r.output).toMatch(/Reason: keyCompromise/);
    const revokedAt = dateAfter(r.output, 'Revocation Time');
    expect(Math.abs(revokedAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(r.output).toMatch(/^Response verify OK$/m);

    // The pre-signed no-nonce answer is replaced too, in every HTTP process (new connection each time).
    for (let i = 0; i < 6; i++) {
      const after = await postOcsp(noNonce);
      const s = statusInResponse(after.body, live);
      expect(s.status, s.output).toBe('revoked');
      expect(after.headers.etag).not.toBe(before.headers.etag);
    }
    const stale = await postOcsp(noNonce, { 'if-none-match': String(before.headers.etag) });
    expect(stale.status).toBe(200);
  });

  it('puts on hold (certificateHold) and releases with `authbox cert unhold`, each live on the next request', () => {
    const held = issueCert(data.dir, work, 'held');
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', held.serial, '--reason', 'certificateHold']);
    const onHold = ocspQuery(ca, daemon!.base, ['-cert', held.cert]);
    expect(statusOf(onHold.output, held.cert), onHold.output).toBe('revoked');
    expect(onHold.output).toMatch(/Reason: certificateHold/);

    authboxOk(['cert', 'unhold', '--data', data.dir, '--serial', held.serial]);
    for (let i = 0; i < 4; i++) {
      const released = ocspQuery(ca, daemon!.base, ['-cert', held.cert]);
      expect(statusOf(released.output, held.cert), released.output).toBe('good');
      expect(released.output).not.toMatch(/Reason:/);
    }
  });
});

describe('OCSP signer', () => {
  it('signs with the delegated OCSP signer: OCSP Signing EKU, OCSP No Check, issued by the issuing CA', () => {
    const r = ocspQuery(ca, daemon!.base, ['-cert', good.cert, '-resp_text']);
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/^Response verify OK$/m);
    // The responder certificate is included in the response.
    const certText = r.output.slice(r.output.indexOf('Certificate:'));
    expect(certText).toMatch(/X509v3 Extended Key Usage: *\n\s*OCSP Signing/);
    expect(certText).toMatch(/OCSP No Check/);
    expect(certText).toMatch(/CA:FALSE/);
    // The signer chains to our issuing CA.
    const signerPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(r.output)?.[0];
    expect(signerPem).toBeTruthy();
    const signerFile = file('signer.pem');
    writeFileSync(signerFile, signerPem!);
    const verified = openssl(['verify', '-CAfile', ca.chain, signerFile]);
    expect(verified.stdout + verified.stderr).toMatch(/: OK$/m);
    const signerIssuer = openssl(['x509', '-in', signerFile, '-noout', '-issuer']).stdout.replace(/^issuer=/, '');
    const issuing = openssl(['x509', '-in', ca.issuing, '-noout', '-subject', '-ext', 'subjectKeyIdentifier']);
    expect(issuing.stdout).toContain(`subject=${signerIssuer}`);
    // ResponderID byKey is the signer's key hash, not the issuing CA's.
    const responderId = /Responder Id: ([0-9A-F]+)/.exec(r.output)?.[1];
    const signerSki = /Subject Key Identifier: *\n\s*([0-9A-F:]+)/.exec(certText)?.[1]?.replace(/:/g, '');
    const caSki = /Subject Key Identifier: *\n\s*([0-9A-F:]+)/.exec(issuing.stdout)?.[1]?.replace(/:/g, '');
    expect(responderId).toBeTruthy();
    expect(responderId).toBe(signerSki);
    expect(responderId).not.toBe(caSki);
  });
});
