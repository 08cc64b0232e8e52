// What the ca-*.test.ts files share on top of test/helpers/authbox.ts: checks of the
// CLI's exit conventions, PEM splitting, `openssl x509 -text` reading, and an async
// runner for issuing several certificates at once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { authboxOk, openssl, type RunResult } from '../helpers/authbox.js';

/** A failure (exit 1) or usage error (exit 2): the status, a message matching `pattern`, no stack trace. */
export function expectRefusal(r: RunResult, status: 1 | 2, pattern: RegExp): void {
  expect(r.status, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(status);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).not.toMatch(/unexpected failure/);
  if (status === 1) {
    // One clear line.
    expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  }
}

export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}

/** Writes the CA chain as chain.pem, issuing.pem and root.pem in `into`. */
export function writeChain(dataDir: string, into: string): { chain: string; issuing: string; root: string } {
  const out = authboxOk(['ca', 'cert', '--data', dataDir]);
  const [issuing, root, ...rest] = splitPem(out);
  expect(rest).toHaveLength(0);
  const paths = { chain: join(into, 'chain.pem'), issuing: join(into, 'issuing.pem'), root: join(into, 'root.pem') };
  writeFileSync(paths.chain, out);
  writeFileSync(paths.issuing, issuing!);
  writeFileSync(paths.root, root!);
  return paths;
}

export function opensslOk(args: string[], input?: string | Buffer): string {
  const r = openssl(args, input === undefined ? {} : { input });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function x509Text(pemFile: string): string {
  return opensslOk(['x509', '-in', pemFile, '-noout', '-text']);
}

/** The value lines under an extension heading in `openssl x509 -text` output. */
export function extension(text: string, heading: string): string | undefined {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.trim().startsWith(heading));
  if (i < 0) return undefined;
  const indent = lines[i]!.search(/\S/);
  const body: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (l.trim() === '' || l.search(/\S/) <= indent) break;
    body.push(l.trim());
  }
  return body.join('\n');
}

export function isCritical(text: string, heading: string): boolean {
  const line = text.split('\n').find((l) => l.trim().startsWith(heading));
  return /critical/.test(line ?? '');
}

export function serialOf(pemFile: string): string {
  return opensslOk(['x509', '-in', pemFile, '-noout', '-serial']).trim().replace(/^serial=/, '');
}

/** The SubjectPublicKeyInfo of a certificate, as PEM text from openssl. */
export function publicKeyOfCert(pemFile: string): string {
  return opensslOk(['x509', '-in', pemFile, '-noout', '-pubkey']);
}

/** The SubjectPublicKeyInfo of a private key given as PEM text. */
export function publicKeyOfKey(keyPem: string): string {
  return opensslOk(['pkey', '-pubout'], keyPem);
}

export interface CertRow {
  serial: string;
  serialColons: string;
  status: string;
  profile: string;
  commonName: string;
  user: string | null;
  notAfter: string;
  revokedAt?: string;
  reason?: string;
}

export function listCerts(dataDir: string, extra: string[] = []): CertRow[] {
  return JSON.parse(authboxOk(['cert', 'list', '--data', dataDir, '--json', ...extra])) as CertRow[];
}

export function certCount(dataDir: string): number {
  return listCerts(dataDir).length;
}

export { authboxAsync } from '../helpers/authbox.js';
