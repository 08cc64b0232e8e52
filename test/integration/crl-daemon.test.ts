// The CRLs and CA certificates a running `authbox serve` publishes over HTTP, checked with
// `openssl crl` and `openssl verify -crl_check` (RFC 5280 §5): signature, CRL number, AKI,
// dates, re-issue after a revocation, reason codes, hold and release.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, openssl, startServe, type RunningDaemon } from '../helpers/authbox.js';
import {
  crlFacts, httpRequest, issueCert, normSerial, pollUntil, writeCaFiles, type CaFiles, type CrlFacts, type IssuedCert,
} from '../helpers/pki.js';

/** The requirement: a revocation is in the CRL within seconds. */
const REISSUE_WITHIN_MS = 3000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: string;
let ca: CaFiles;
let daemon: RunningDaemon | undefined;
let valid: IssuedCert;
let fileNo = 0;

const file = (name: string): string => join(work, `${++fileNo}-${name}`);

/** Downloads a CRL, saves it as DER and PEM, and reads it with openssl. */
async function fetchCrl(name: 'issuing' | 'root'): Promise<CrlFacts & { der: string; pem: string; headers: Record<string, unknown> }> {
  const res = await httpRequest(`${daemon!.base}/crl/${name}.crl`);
  expect(res.status).toBe(200);
  const der = file(`${name}.crl`);
  const pem = file(`${name}.crl.pem`);
  writeFileSync(der, res.body);
  const conv = openssl(['crl', '-inform', 'DER', '-in', der, '-out', pem]);
  expect(conv.status, conv.stderr).toBe(0);
  return { ...crlFacts(der, ca.chain), der, pem, headers: res.headers };
}

/** Polls the issuing CRL until pred holds (the CRL is re-issued in the background). */
function awaitIssuingCrl(what: string, pred: (c: CrlFacts) => boolean): ReturnType<typeof fetchCrl> {
  return pollUntil(what, REISSUE_WITHIN_MS, async () => {
    const c = await fetchCrl('issuing');
    return pred(c) ? c : undefined;
  });
}

function verifyLeaf(leaf: string, crls: string[], all = false): { ok: boolean; output: string } {
  const r = openssl(['verify', all ? '-crl_check_all' : '-crl_check', ...crls.flatMap((c) => ['-CRLfile', c]), '-CAfile', ca.chain, leaf]);
  return { ok: r.status === 0, output: r.stdout + r.stderr };
}

/** The lines of one entry in `openssl crl -text` output, up to the next entry. */
function entryText(text: string, serial: string): string | undefined {
  const at = text.indexOf(`Serial Number: ${normSerial(serial)}`);
  if (at === -1) return undefined;
  const next = text.indexOf('Serial Number:', at + 1);
  return text.slice(at, next === -1 ? undefined : next);
}

beforeAll(async () => {
  data = await initDataDir();
  work = dirname(data.dir);
  ca = writeCaFiles(data.dir, work);
  valid = issueCert(data.dir, work, 'valid');
  daemon = await startServe(data.dir, data.port);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('published CRLs', () => {
  it('serves the issuing CA CRL in DER, verified by openssl, with number, AKI and dates', async () => {
    const c = await fetchCrl('issuing');
    expect(c.headers['content-type']).toBe('application/pkix-crl');
    expect(c.verified, c.text).toBe(true);
    expect(c.number).toBeGreaterThanOrEqual(1);
    expect(c.text).toMatch(/Issuer: .*Issuing CA/);
    const lastUpdate = Date.parse(/Last Update: (.+ GMT)/.exec(c.text)![1]!);
    const nextUpdate = Date.parse(/Next Update: (.+ GMT)/.exec(c.text)![1]!);
    expect(lastUpdate).toBeLessThanOrEqual(Date.now());
    expect(nextUpdate).toBeGreaterThan(Date.now());
    // AKI = the issuing CA's SKI.
    const aki = /Authority Key Identifier: *\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(c.text)?.[1];
    const ski = /Subject Key Identifier: *\n\s*([0-9A-F:]+)/.exec(openssl(['x509', '-in', ca.issuing, '-noout', '-ext', 'subjectKeyIdentifier']).stdout)?.[1];
    expect(aki).toBeTruthy();
    expect(aki).toBe(ski);
    expect(c.text).toMatch(/Version 2/);
  });

  it('serves the root CA CRL, verified against the chain', async () => {
    const c = await fetchCrl('root');
    expect(c.verified, c.text).toBe(true);
    expect(c.number).toBeGreaterThanOrEqual(1);
    expect(c.text).toMatch(/Issuer: .*Root CA/);
    expect(c.text).toMatch(/X509v3 Authority Key Identifier/);
    // The issuing CA is not revoked, so the whole chain checks out with both CRLs.
    const issuing = await fetchCrl('issuing');
    const v = verifyLeaf(valid.cert, [issuing.pem, c.pem], true);
    expect(v.ok, v.output).toBe(true);
  });

  it('answers 404 for a CRL that does not exist and 304 for an unchanged CRL', async () => {
    expect((await httpRequest(`${daemon!.base}/crl/nope.crl`)).status).toBe(404);
    const first = await httpRequest(`${daemon!.base}/crl/root.crl`);
    const etag = String(first.headers.etag);
    expect(etag).toMatch(/"/);
    expect((await httpRequest(`${daemon!.base}/crl/root.crl`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });
});

describe('CRL after a revocation', () => {
  it('is re-issued within 3 s with a higher number and the entry with its reason; openssl verify agrees', async () => {
    const lost = issueCert(data.dir, work, 'lost');
    const before = await fetchCrl('issuing');
    expect(before.serials).not.toContain(normSerial(lost.serial));
    const okBefore = verifyLeaf(lost.cert, [before.pem]);
    expect(okBefore.ok, okBefore.output).toBe(true);

    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', lost.serial, '--reason', 'keyCompromise']);
    const after = await awaitIssuingCrl('the revocation in the CRL', (c) => c.serials.includes(normSerial(lost.serial)));
    expect(after.verified, after.text).toBe(true);
    expect(after.number).toBeGreaterThan(before.number);
    const entry = entryText(after.text, lost.serial)!;
    expect(entry).toMatch(/Revocation Date: .+ GMT/);
    expect(entry).toMatch(/X509v3 CRL Reason Code: *\n\s*Key Compromise/);

    const revoked = verifyLeaf(lost.cert, [after.pem]);
    expect(revoked.ok).toBe(false);
    expect(revoked.output).toMatch(/certificate revoked/);
    const stillValid = verifyLeaf(valid.cert, [after.pem]);
    expect(stillValid.ok, stillValid.output).toBe(true);
    expect(stillValid.output).toMatch(/: OK$/m);
  });

  it('lists a held certificate with certificateHold and drops it after `authbox cert unhold`', async () => {
    const held = issueCert(data.dir, work, 'held');
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', held.serial, '--reason', 'certificateHold']);
    const onHold = await awaitIssuingCrl('the hold in the CRL', (c) => c.serials.includes(normSerial(held.serial)));
    expect(entryText(onHold.text, held.serial)).toMatch(/Certificate Hold/);
    expect(verifyLeaf(held.cert, [onHold.pem]).output).toMatch(/certificate revoked/);

    authboxOk(['cert', 'unhold', '--data', data.dir, '--serial', held.serial]);
    const released = await awaitIssuingCrl('the release in the CRL', (c) => !c.serials.includes(normSerial(held.serial)));
    expect(released.number).toBeGreaterThan(onHold.number);
    expect(released.verified).toBe(true);
    const v = verifyLeaf(held.cert, [released.pem]);
    expect(v.ok, v.output).toBe(true);
  });
});

describe('CA certificates over HTTP', () => {
  it('serves /ca/issuing.crt and /ca/root.crt as DER certificates equal to the chain', async () => {
    for (const [name, pemFile] of [['issuing', ca.issuing], ['root', ca.root]] as const) {
      const res = await httpRequest(`${daemon!.base}/ca/${name}.crt`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('application/pkix-cert');
      expect(res.body[0]).toBe(0x30); // DER SEQUENCE, not PEM text
      const der = file(`${name}.der`);
      writeFileSync(der, res.body);
      const served = openssl(['x509', '-inform', 'DER', '-in', der, '-noout', '-fingerprint', '-sha256', '-subject']);
      expect(served.status, served.stderr).toBe(0);
      const expected = openssl(['x509', '-in', pemFile, '-noout', '-fingerprint', '-sha256', '-subject']);
      expect(served.stdout).toBe(expected.stdout);
    }
    expect((await httpRequest(`${daemon!.base}/ca/nope.crt`)).status).toBe(404);
  });

  it('serves /ca/chain.pem equal to `authbox ca cert`', async () => {
    const res = await httpRequest(`${daemon!.base}/ca/chain.pem`);
    expect(res.status).toBe(200);
    expect(res.body.toString('utf8')).toBe(authboxOk(['ca', 'cert', '--data', data.dir]));
  });

  it('answers other methods on CRL and CA paths with 405', async () => {
    for (const path of ['/crl/issuing.crl', '/ca/root.crt', '/ca/chain.pem']) {
      expect((await httpRequest(`${daemon!.base}${path}`, { method: 'POST', body: Buffer.from('x') })).status, path).toBe(405);
    }
  });
});
