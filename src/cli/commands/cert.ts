import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { CrlReason, REVOCATION_REASONS, reasonName } from '../../ca/crl.js';
import { verifyCsr } from '../../ca/csr.js';
import { KEY_TYPES, DEFAULT_KEY_TYPE } from '../../ca/keys.js';
import { pemOrDer, toPem } from '../../ca/pem.js';
import { buildPkcs12 } from '../../ca/pkcs12.js';
import { ISSUABLE_PROFILES, issuableProfile, type Profile } from '../../ca/profiles.js';
import { displaySerial } from '../../ca/serial.js';
import type { CertRecord } from '../../ca/storage.js';
import type { SanEntry } from '../../ca/x509.js';
import { AppError } from '../../core/errors.js';
import { nudgeDaemon } from '../../daemon-process.js';
import type { Pki } from '../../main.js';
import { intOption, list, oneOf, str, UsageError, type CommandSpec, type OptionSpec, type Values } from '../args.js';
import { checkOutputPath, cliActor, DATA_OPTION, writeNewFile, withPki } from '../common.js';

const SUBJECT_OPTIONS: Record<string, OptionSpec> = {
  user: { type: 'string', arg: 'USERNAME', help: 'the user the certificate belongs to' },
  email: { type: 'string', arg: 'ADDR', help: 'e-mail SAN (user profile)' },
  upn: { type: 'string', arg: 'UPN', help: 'Microsoft UPN SAN, e.g. alice@corp.example (user profile)' },
  dns: { type: 'string', multiple: true, arg: 'NAME', help: 'DNS SAN (device and server profiles)' },
  ip: { type: 'string', multiple: true, arg: 'ADDR', help: 'IP address SAN (device and server profiles)' },
  days: { type: 'string', arg: 'N', help: 'validity in days (default depends on the profile)' },
};

function sansFrom(values: Values, profile: Profile, cn: string): SanEntry[] {
  const sans: SanEntry[] = [
    ...(str(values, 'email') ? [{ kind: 'email' as const, value: str(values, 'email')! }] : []),
    ...(str(values, 'upn') ? [{ kind: 'upn' as const, value: str(values, 'upn')! }] : []),
    ...list(values, 'dns').map((value) => ({ kind: 'dns' as const, value })),
    ...list(values, 'ip').map((value) => ({ kind: 'ip' as const, value })),
  ];
  // Windows maps a certificate to an account by its UPN: when the user is named as a UPN, carry it.
  const user = str(values, 'user');
  if (profile.sans.includes('upn') && !str(values, 'upn') && user && /^[^\s@]+@[^\s@]+$/.test(user)) {
    sans.push({ kind: 'upn', value: user });
  }
  // A server certificate is matched on its SANs, never its CN (RFC 6125).
  if (profile.name === 'server' && !sans.some((s) => s.kind === 'dns' || s.kind === 'ip') && /^[a-z0-9.-]+$/i.test(cn)) {
    sans.push({ kind: 'dns', value: cn });
  }
  return sans;
}

/**
 * The optional --user and --days of an issuing command. The owner must be a user: a
 * certificate for a name nobody has would be refused at EAP-TLS, or accepted for whoever
 * is added under that name later.
 */
function ownerAndDays(values: Values, pki: Pki): { username?: string; days?: number } {
  const username = str(values, 'user');
  if (username !== undefined && !pki.users.find(username)) {
    throw new AppError('USER_NOT_FOUND', `no such user: ${username} (add it with authbox user add)`);
  }
  const days = intOption(values, 'days');
  return { ...(username ? { username } : {}), ...(days !== undefined ? { days } : {}) };
}

function issuedLine(profile: Profile, cert: CertRecord): string {
  return `issued ${profile.name} certificate ${cert.serial} for "${cert.commonName}", valid until ${new Date(cert.notAfter).toISOString()}\n`;
}

function describe(cert: CertRecord, now: number): object {
  const state = cert.status === 'valid' && cert.notAfter <= now ? 'expired' : cert.status;
  return {
    serial: cert.serial, serialColons: displaySerial(cert.serial), status: state, profile: cert.profile,
    commonName: cert.commonName, subject: cert.subject, user: cert.username, sans: cert.sans,
    notBefore: new Date(cert.notBefore).toISOString(), notAfter: new Date(cert.notAfter).toISOString(),
    issuedAt: new Date(cert.issuedAt).toISOString(),
    ...(cert.revokedAt !== null ? { revokedAt: new Date(cert.revokedAt).toISOString(), reason: reasonName(cert.reason) ?? 'unspecified' } : {}),
  };
}

export const certIssueCommand: CommandSpec = {
  name: 'cert issue',
  summary: 'generate a key in authbox and issue a certificate for it',
  options: {
    data: DATA_OPTION,
    profile: { type: 'string', required: true, arg: 'P', help: ISSUABLE_PROFILES.join('|') },
    cn: { type: 'string', arg: 'NAME', help: 'common name (required unless --device)' },
    ...SUBJECT_OPTIONS,
    device: { type: 'string', arg: 'MAC', help: "bind to a registered device (device profile); the CN defaults to the device's name or MAC" },
    'key-type': { type: 'string', arg: 'T', help: `${KEY_TYPES.join(', ')} (default ${DEFAULT_KEY_TYPE})` },
    'out-p12': { type: 'string', arg: 'FILE', help: 'write a PKCS#12 with the key, certificate and chain' },
    'p12-password': { type: 'string', arg: 'PW', help: 'PKCS#12 password' },
    'p12-password-file': { type: 'string', arg: 'FILE', help: 'read the PKCS#12 password from a file' },
    'legacy-p12': { type: 'boolean', help: '3DES/SHA-1 PKCS#12 for old devices (default AES-256/SHA-256)' },
    'out-cert': { type: 'string', arg: 'FILE', help: 'write the certificate in PEM' },
    'out-key': { type: 'string', arg: 'FILE', help: 'write the private key in PEM (PKCS#8, mode 0600)' },
  },
  run(values, io) {
    const profile = issuableProfile(oneOf(values, 'profile', ISSUABLE_PROFILES)!);
    const p12 = str(values, 'out-p12');
    const certOut = str(values, 'out-cert');
    const keyOut = str(values, 'out-key');
    if (!p12 && !(certOut && keyOut)) throw new UsageError('give --out-p12 FILE, or both --out-cert FILE and --out-key FILE');
    if (!p12 && (certOut === undefined) !== (keyOut === undefined)) throw new UsageError('--out-cert and --out-key go together');
    let password = str(values, 'p12-password');
    const pwFile = str(values, 'p12-password-file');
    if (pwFile) {
      try {
        password = readFileSync(pwFile, 'utf8').replace(/\r?\n$/, '');
      } catch (e) {
        throw new AppError('BAD_INPUT', `cannot read ${pwFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (p12 && !password) throw new UsageError('--out-p12 needs --p12-password or --p12-password-file');
    const outputs = [p12, certOut, keyOut].filter((path): path is string => path !== undefined);
    // Two outputs on one path would fail only after the certificate is stored, losing its key.
    if (new Set(outputs.map((path) => resolve(path))).size !== outputs.length) {
      throw new UsageError('--out-p12, --out-cert and --out-key must be different files');
    }
    for (const path of outputs) checkOutputPath(path);
    const deviceMac = str(values, 'device');
    if (deviceMac !== undefined && profile.name !== 'device') throw new UsageError('--device goes with --profile device');
    if (deviceMac !== undefined && str(values, 'user') !== undefined) throw new UsageError('a device certificate has no --user (give the device an --owner)');
    if (deviceMac === undefined && str(values, 'cn') === undefined) throw new UsageError('--cn is required');
    const keyType = oneOf(values, 'key-type', KEY_TYPES) ?? DEFAULT_KEY_TYPE;
    withPki(values, (pki) => {
      const device = deviceMac === undefined ? undefined : pki.devices.get(deviceMac);
      const cn = str(values, 'cn') ?? device!.name ?? device!.mac;
      // The certificate and its binding to the device are stored together or not at all.
      const { cert, key } = pki.db.transaction(() => {
        const issued = pki.authority.issueWithNewKey({
          profile, commonName: cn, sans: sansFrom(values, profile, cn),
          ...ownerAndDays(values, pki),
        }, keyType, cliActor());
        if (device) pki.devices.bindCertificate(issued.cert.serial, device.mac, cliActor());
        return issued;
      }).immediate();
      // A new certificate is "good", not "unknown", on the daemon's next OCSP answer.
      nudgeDaemon(pki.config.dataDir);
      const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
      if (p12) {
        writeNewFile(p12, buildPkcs12({
          privateKeyPkcs8Der: pkcs8, certificateDer: cert.der, chainDer: pki.authority.chain(), password: password!,
          legacy: values['legacy-p12'] === true, friendlyName: cn,
        }), true);
      }
      if (certOut) writeNewFile(certOut, toPem('CERTIFICATE', cert.der), false);
      if (keyOut) writeNewFile(keyOut, toPem('PRIVATE KEY', pkcs8), true);
      io.out(issuedLine(profile, cert));
    });
  },
};

export const certSignCommand: CommandSpec = {
  name: 'cert sign',
  summary: 'issue a certificate for a PKCS#10 request after verifying its signature',
  options: {
    data: DATA_OPTION,
    csr: { type: 'string', required: true, arg: 'FILE', help: 'the request, PEM or DER' },
    profile: { type: 'string', required: true, arg: 'P', help: ISSUABLE_PROFILES.join('|') },
    cn: { type: 'string', arg: 'NAME', help: "common name (default: the request's CN)" },
    ...SUBJECT_OPTIONS,
    out: { type: 'string', required: true, arg: 'FILE', help: 'where to write the certificate (PEM)' },
  },
  run(values, io) {
    const profile = issuableProfile(oneOf(values, 'profile', ISSUABLE_PROFILES)!);
    const out = str(values, 'out')!;
    checkOutputPath(out);
    let raw: Buffer;
    try {
      raw = readFileSync(str(values, 'csr')!);
    } catch (e) {
      throw new AppError('BAD_INPUT', `cannot read ${str(values, 'csr')}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    let der: Buffer;
    try {
      der = pemOrDer(raw, ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']);
    } catch (e) {
      throw new AppError('CSR_INVALID', `the CSR file is not a PKCS#10 request: ${(e as Error).message}`);
    }
    const csr = verifyCsr(der);
    const cn = str(values, 'cn') ?? csr.commonName;
    if (!cn) throw new UsageError('the request has no CN; give --cn');
    withPki(values, (pki) => {
      const cert = pki.authority.issue({
        profile, commonName: cn, sans: sansFrom(values, profile, cn), subjectSpki: csr.spki,
        ...ownerAndDays(values, pki),
      }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      writeNewFile(out, toPem('CERTIFICATE', cert.der), false);
      io.out(issuedLine(profile, cert));
    });
  },
};

export const certSignBatchCommand: CommandSpec = {
  name: 'cert sign-batch',
  summary: 'sign every request in a folder at once (mass enrolment); all or nothing',
  options: {
    data: DATA_OPTION,
    'csr-dir': { type: 'string', required: true, arg: 'DIR', help: 'folder of requests (*.csr, *.pem, *.der), CN taken from each' },
    profile: { type: 'string', required: true, arg: 'P', help: ISSUABLE_PROFILES.join('|') },
    days: SUBJECT_OPTIONS.days!,
    'out-dir': { type: 'string', required: true, arg: 'DIR', help: 'where to write NAME.crt for each NAME.csr' },
  },
  run(values, io) {
    const profile = issuableProfile(oneOf(values, 'profile', ISSUABLE_PROFILES)!);
    const inDir = str(values, 'csr-dir')!;
    const outDir = str(values, 'out-dir')!;
    let names: string[];
    try {
      names = readdirSync(inDir).filter((n) => /\.(csr|pem|der|req)$/i.test(n)).sort();
    } catch (e) {
      throw new AppError('BAD_INPUT', `cannot read ${inDir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    if (names.length === 0) throw new AppError('BAD_INPUT', `no *.csr, *.pem, *.der or *.req files in ${inDir}`);
    // Every request is read and verified, and every output path checked, before anything is signed.
    const problems: string[] = [];
    const requests: { name: string; out: string; csr: ReturnType<typeof verifyCsr> }[] = [];
    for (const name of names) {
      const out = join(outDir, name.replace(/\.[^.]+$/, '.crt'));
      try {
        checkOutputPath(out);
        const csr = verifyCsr(pemOrDer(readFileSync(join(inDir, name)), ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST']));
        if (!csr.commonName) throw new AppError('CSR_INVALID', 'the request has no CN');
        requests.push({ name, out, csr });
      } catch (e) {
        problems.push(`${name}: ${(e as Error).message}`);
      }
    }
    if (problems.length) throw new AppError('CSR_INVALID', `nothing signed; ${problems.length} of ${names.length} requests refused: ${problems.join('; ')}`);
    const days = intOption(values, 'days');
    withPki(values, (pki) => {
      const certs = pki.authority.issueMany(requests.map(({ csr }) => ({
        profile, commonName: csr.commonName!, sans: sansFrom(values, profile, csr.commonName!), subjectSpki: csr.spki,
        ...(days !== undefined ? { days } : {}),
      })), cliActor());
      nudgeDaemon(pki.config.dataDir);
      certs.forEach((cert, i) => writeNewFile(requests[i]!.out, toPem('CERTIFICATE', cert.der), false));
      io.out(`issued ${certs.length} ${profile.name} certificates into ${outDir}\n`);
    });
  },
};

export const certRevokeCommand: CommandSpec = {
  name: 'cert revoke',
  summary: 'revoke a certificate; OCSP and the CRL change at once',
  options: {
    data: DATA_OPTION,
    serial: { type: 'string', required: true, arg: 'HEX', help: 'serial in hex as openssl prints it (case and colons ignored)' },
    reason: { type: 'string', arg: 'R', help: `${REVOCATION_REASONS.join('|')} (default unspecified)` },
  },
  run(values, io) {
    const reason = oneOf(values, 'reason', REVOCATION_REASONS) ?? 'unspecified';
    withPki(values, (pki) => {
      const cert = pki.authority.revoke(str(values, 'serial')!, CrlReason[reason], cliActor());
      nudgeDaemon(pki.config.dataDir);
      const verb = cert.status === 'hold' ? 'put on hold' : 'revoked';
      io.out(`${verb} ${cert.serial} ("${cert.commonName}"), reason ${reason}, at ${new Date(cert.revokedAt!).toISOString()}\n`);
    });
  },
};

export const certUnholdCommand: CommandSpec = {
  name: 'cert unhold',
  summary: 'release a certificate from hold (certificateHold)',
  options: { data: DATA_OPTION, serial: certRevokeCommand.options.serial! },
  run(values, io) {
    withPki(values, (pki) => {
      const cert = pki.authority.unhold(str(values, 'serial')!, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`released ${cert.serial} ("${cert.commonName}") from hold\n`);
    });
  },
};

export const certListCommand: CommandSpec = {
  name: 'cert list',
  summary: 'list certificates',
  options: {
    data: DATA_OPTION,
    user: { type: 'string', arg: 'U', help: 'only this user' },
    status: { type: 'string', arg: 'S', help: 'valid|revoked|expired|hold' },
    limit: { type: 'string', arg: 'N', help: 'at most N (default 1000)' },
    json: { type: 'boolean', help: 'JSON output' },
  },
  run(values, io) {
    const status = oneOf(values, 'status', ['valid', 'revoked', 'expired', 'hold'] as const);
    const limit = intOption(values, 'limit');
    if (limit === 0) throw new UsageError('--limit must be at least 1');
    withPki(values, (pki) => {
      const now = Date.now();
      const certs = pki.store.queryCertificates({
        now, ...(str(values, 'user') ? { username: str(values, 'user')! } : {}), ...(status ? { status } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      const rows = certs.map((c) => describe(c, now) as Record<string, unknown>);
      if (values.json) return io.out(JSON.stringify(rows, null, 2) + '\n');
      const table = [['SERIAL', 'STATUS', 'PROFILE', 'COMMON NAME', 'USER', 'NOT AFTER']];
      for (const r of rows) table.push([r.serial, r.status, r.profile, r.commonName, r.user ?? '-', String(r.notAfter).slice(0, 10)].map(String));
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      io.out(table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
  },
};

export const certShowCommand: CommandSpec = {
  name: 'cert show',
  summary: 'show one certificate',
  options: { data: DATA_OPTION, serial: certRevokeCommand.options.serial!, json: { type: 'boolean', help: 'JSON output' } },
  run(values, io) {
    withPki(values, (pki) => {
      const cert = pki.authority.find(str(values, 'serial')!);
      const device = pki.devices.certificateDevice(cert.serial);
      const info = { ...describe(cert, Date.now()), ...(device ? { device } : {}), pem: toPem('CERTIFICATE', cert.der) };
      if (values.json) return io.out(JSON.stringify(info, null, 2) + '\n');
      const x = new X509Certificate(cert.der);
      const lines = Object.entries(info).filter(([k]) => k !== 'pem' && k !== 'sans').map(([k, v]) => `${k.padEnd(13)} ${v ?? '-'}`);
      lines.push(`${'sans'.padEnd(13)} ${x.subjectAltName ?? '-'}`, `${'fingerprint'.padEnd(13)} SHA256 ${x.fingerprint256}`, '', info.pem);
      io.out(lines.join('\n'));
    });
  },
};
