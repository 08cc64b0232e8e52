// Helpers for tests that check the daemon's OCSP and CRL answers with the real openssl:
// CA files from `authbox ca cert`, certificates issued by the CLI, raw HTTP on a fresh
// connection each time (so that every HTTP worker process gets its share), polling.
import { request } from 'node:http';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { authboxOk, openssl, sleep, type RunResult } from './authbox.js';

export interface CaFiles {
  /** `authbox ca cert` output: issuing CA first, then the root. */
  chain: string;
  issuing: string;
  root: string;
  chainPem: string;
}

export function splitPem(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** Writes chain.pem, issuing.pem and root.pem from `authbox ca cert` into outDir. */
export function writeCaFiles(dataDir: string, outDir: string): CaFiles {
  const chainPem = authboxOk(['ca', 'cert', '--data', dataDir]);
  const [issuingPem, rootPem] = splitPem(chainPem);
  if (!issuingPem || !rootPem) throw new Error(`authbox ca cert printed no two-certificate chain:\n${chainPem}`);
  const files = { chain: join(outDir, 'chain.pem'), issuing: join(outDir, 'issuing.pem'), root: join(outDir, 'root.pem') };
  writeFileSync(files.chain, chainPem);
  writeFileSync(files.issuing, issuingPem);
  writeFileSync(files.root, rootPem);
  return { ...files, chainPem };
}

export interface IssuedCert {
  cert: string;
  key: string;
  /** Lowercase hex, as authbox prints it. */
  serial: string;
}

/** `authbox cert issue` of a device certificate with PEM output into outDir. */
export function issueCert(dataDir: string, outDir: string, cn: string): IssuedCert {
  const cert = join(outDir, `${cn}.pem`);
  const key = join(outDir, `${cn}.key`);
  const out = authboxOk(['cert', 'issue', '--data', dataDir, '--profile', 'device', '--cn', cn, '--dns', `${cn}.test`,
    '--out-cert', cert, '--out-key', key]);
  const m = /certificate ([0-9a-f]+) for/.exec(out);
  if (!m) throw new Error(`no serial in: ${out}`);
  return { cert, key, serial: m[1]! };
}

/** `openssl x509 -serial` of a PEM file, as "ABCD..." (no prefix). */
export function opensslSerial(certFile: string): string {
  const r = openssl(['x509', '-in', certFile, '-noout', '-serial']);
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim().replace(/^serial=/, '');
}

/** Runs `openssl ocsp -issuer ISSUING -url BASE/ocsp -CAfile CHAIN ...args`; output is stdout + stderr. */
export function ocspQuery(ca: CaFiles, base: string, args: string[]): RunResult & { output: string } {
  const r = openssl(['ocsp', '-issuer', ca.issuing, ...args, '-url', `${base}/ocsp`, '-CAfile', ca.chain]);
  return { ...r, output: r.stdout + r.stderr };
}

/** The status openssl printed for one certificate file ("good", "revoked", "unknown"), or undefined. */
export function statusOf(output: string, name: string): string | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}: (\\w+)$`, 'm').exec(output)?.[1];
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One HTTP request on a new connection (no keep-alive pool). */
export function httpRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timeout: ${url}`)));
    req.end(options.body);
  });
}

/** Polls fn until it returns a value other than undefined, or throws after timeoutMs. */
export async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Waits until nothing listens on 127.0.0.1:port (a killed daemon's worker processes leave quickly). */
export async function waitPortFree(port: number, timeoutMs = 15_000): Promise<void> {
  await pollUntil(`port ${port} to be free`, timeoutMs, () => new Promise<true | undefined>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(undefined));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  }));
}

export interface CrlFacts {
  number: number;
  text: string;
  /** `openssl crl -CAfile` printed "verify OK". */
  verified: boolean;
  /** Serials of the revoked entries, normalised by normSerial. */
  serials: string[];
}

/** Reads a DER CRL with openssl: its number, text, and whether it verifies against the chain. */
export function crlFacts(derFile: string, chain: string): CrlFacts {
  const r = openssl(['crl', '-inform', 'DER', '-in', derFile, '-CAfile', chain, '-noout', '-text']);
  const text = r.stdout + r.stderr;
  const m = /X509v3 CRL Number:\s*\n\s*(\d+)/.exec(text);
  return {
    number: m ? Number(m[1]) : NaN, text, verified: r.status === 0 && /^verify OK$/m.test(text),
    serials: [...text.matchAll(/Serial Number: ([0-9A-F]+)/g)].map((x) => normSerial(x[1]!)),
  };
}

/** Upper-case hex without leading zeros, so authbox's and openssl's spellings compare equal. */
export function normSerial(hex: string): string {
  return hex.replace(/:/g, '').toUpperCase().replace(/^0+(?=.)/, '');
}
