// Durability and the change feed, against a real `authbox serve` and the real openssl:
// CLI writes are live in the running daemon at once, survive a restart and a SIGKILL
// right after the CLI acknowledged them, and a taken port is a clear error.
import Database from 'better-sqlite3';
import { renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, startServe, type RunningDaemon } from '../helpers/authbox.js';
import {
  crlFacts, httpRequest, issueCert, normSerial, ocspQuery, pollUntil, statusOf, waitPortFree, writeCaFiles,
  type CaFiles, type CrlFacts, type IssuedCert,
} from '../helpers/pki.js';

const BURST = 20;
/** DESIGN.md: any change, from any path, is live everywhere within one second. */
const FEED_LATENCY_MS = 1000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: string;
let ca: CaFiles;
let daemon: RunningDaemon | undefined;
let fileNo = 0;

const file = (name: string): string => join(work, `${++fileNo}-${name}`);

async function start(): Promise<void> {
  await waitPortFree(data.port);
  daemon = await startServe(data.dir, data.port);
}

/** Stops the daemon by its PID (SIGTERM, or SIGKILL for a crash) and waits until its port is free. */
async function stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  const code = await daemon!.stop(signal);
  daemon = undefined;
  await waitPortFree(data.port);
  return code;
}

function ocspStatus(cert: IssuedCert): { status: string | undefined; output: string } {
  const r = ocspQuery(ca, daemon!.base, ['-cert', cert.cert]);
  return { status: statusOf(r.output, cert.cert), output: r.output };
}

async function issuingCrl(): Promise<CrlFacts> {
  const res = await httpRequest(`${daemon!.base}/crl/issuing.crl`);
  expect(res.status).toBe(200);
  const der = file('issuing.crl');
  writeFileSync(der, res.body);
  return crlFacts(der, ca.chain);
}

/** Waits (at most 3 s, the CRL re-issue bound) until the issuing CRL lists every serial. */
function crlListing(serials: string[]): Promise<CrlFacts> {
  return pollUntil(`the CRL to list ${serials.length} serial(s)`, 3000, async () => {
    const c = await issuingCrl();
    return c.verified && serials.every((s) => c.serials.includes(normSerial(s))) ? c : undefined;
  });
}

function revoke(cert: IssuedCert, reason = 'keyCompromise'): void {
  authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', cert.serial, '--reason', reason]);
}

beforeAll(async () => {
  data = await initDataDir();
  work = dirname(data.dir);
  ca = writeCaFiles(data.dir, work);
  await start();
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('the running daemon and the CLI', () => {
  it('/healthz answers JSON with status ok', async () => {
    const res = await httpRequest(`${daemon!.base}/healthz`);
    expect(res.status).toBe(200);
    expect(String(res.headers['content-type'])).toMatch(/^application\/json/);
    expect(JSON.parse(res.body.toString('utf8'))).toMatchObject({ status: 'ok' });
  });

  it('says good, not unknown, on the next request for a certificate the CLI just issued', () => {
    for (let i = 0; i < 3; i++) {
      const cert = issueCert(data.dir, work, `new-${i}`);
      const s = ocspStatus(cert);
      expect(s.status, s.output).toBe('good');
    }
  });

  it('refuses a second daemon on the same port with one clear line and a non-zero exit', () => {
    const t0 = Date.now();
    const r = authbox(['serve', '--data', data.dir, '--http', `127.0.0.1:${data.port}`]);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBe(-1); // not killed by the helper's timeout
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/in use/i);
    expect(lines[0]).toContain(String(data.port));
    expect(r.stderr).not.toMatch(/^\s+at /m);
    // The first daemon still answers, and still hears the CLI at once.
    const cert = issueCert(data.dir, work, 'after-second-serve');
    expect(ocspStatus(cert).status).toBe('good');
    revoke(cert);
    const s = ocspStatus(cert);
    expect(s.status, s.output).toBe('revoked');
  });

  it('picks up a revocation within one second from the change feed alone (no nudge)', async () => {
    const cert = issueCert(data.dir, work, 'feed-only');
    const pidFile = join(data.dir, 'authbox.pid');
    const aside = join(work, 'authbox.pid.aside');
    // Without the PID file the CLI cannot signal the daemon: only polling can tell it.
    renameSync(pidFile, aside);
    let acknowledged: number;
    try {
      revoke(cert);
      acknowledged = Date.now();
    } finally {
      renameSync(aside, pidFile);
    }
    await pollUntil('OCSP to say revoked', FEED_LATENCY_MS, () => (ocspStatus(cert).status === 'revoked' ? true : undefined));
    expect(Date.now() - acknowledged).toBeLessThan(FEED_LATENCY_MS + 200);
  });
});

describe('restart', () => {
  it('keeps revocations and never lowers the CRL number across a restart', async () => {
    const cert = issueCert(data.dir, work, 'restart');
    revoke(cert);
    const before = await crlListing([cert.serial]);
    expect(await stop()).toBe(0);
    await start();
    const s = ocspStatus(cert);
    expect(s.status, s.output).toBe('revoked');
    expect(s.output).toMatch(/Reason: keyCompromise/);
    const after = await issuingCrl();
    expect(after.verified, after.text).toBe(true);
    expect(after.number).toBeGreaterThanOrEqual(before.number);
    expect(after.serials).toContain(normSerial(cert.serial));
  });

  it('publishes, after start, a revocation made while no daemon ran', async () => {
    const cert = issueCert(data.dir, work, 'offline');
    await stop();
    revoke(cert, 'superseded');
    await start();
    expect(ocspStatus(cert).status).toBe('revoked');
    const c = await crlListing([cert.serial]);
    expect(c.text).toMatch(/Superseded/);
  });
});

describe('crash (SIGKILL) right after the CLI acknowledged', () => {
  it('keeps one revocation', async () => {
    const cert = issueCert(data.dir, work, 'crash-one');
    revoke(cert);
    await stop('SIGKILL');
    await start();
    const s = ocspStatus(cert);
    expect(s.status, s.output).toBe('revoked');
    await crlListing([cert.serial]);
  });

  it(`keeps a burst of ${BURST} revocations, with an intact database`, async () => {
    const certs = Array.from({ length: BURST }, (_, i) => issueCert(data.dir, work, `burst-${i}`));
    for (const cert of certs) revoke(cert, 'affiliationChanged');
    await stop('SIGKILL');

    const db = new Database(join(data.dir, 'authbox.db'), { readonly: true, fileMustExist: true });
    try {
      expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
    } finally {
      db.close();
    }

    await start();
    // One request for all of them (20 is the per-request limit).
    const r = ocspQuery(ca, daemon!.base, certs.flatMap((c) => ['-cert', c.cert]));
    expect(r.status, r.output).toBe(0);
    expect(r.output).toMatch(/^Response verify OK$/m);
    for (const cert of certs) expect(statusOf(r.output, cert.cert), cert.cert).toBe('revoked');
    expect(r.output.match(/Reason: affiliationChanged/g)).toHaveLength(BURST);
    await crlListing(certs.map((c) => c.serial));
  });
});
