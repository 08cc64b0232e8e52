// Certificates made and withdrawn from the console: issue with a key made here (a one-time
// PKCS#12 download and a one-time password, neither kept), reissue, the download itself, and
// the lost-device action. The key exists only in this request; the PKCS#12 only in memory.
import { X509Certificate } from 'node:crypto';
import type { LastUse } from '../store/dashboard-queries.js';
import { CrlReason } from '../ca/crl.js';
import { KEY_TYPES, type KeyType } from '../ca/keys.js';
import { buildPkcs12 } from '../ca/pkcs12.js';
import { PROFILES, type Profile } from '../ca/profiles.js';
import type { CertRecord } from '../ca/storage.js';
import type { SanEntry } from '../ca/x509.js';
import { AppError } from '../core/errors.js';
import type { Handler, HandlerContext } from './app.js';
import { oneTimePassword } from './downloads.js';
import { ApiError } from './errors.js';
import { body, callerOf, certSummary, optString, param } from './handlers-common.js';
import { API_PREFIX, type RouteId } from './routes.js';

const DAY_MS = 86_400_000;
/** Profiles the console issues and reissues; server certificates (authbox's own among them) stay with the CLI. */
const CONSOLE_PROFILES = ['user', 'device'] as const;

interface IssueSpec {
  profile: Profile;
  commonName: string;
  username?: string;
  sans: SanEntry[];
  days?: number;
  deviceMac?: string;
}

function keyTypeOf(der: Buffer, fallback: KeyType): KeyType {
  const k = new X509Certificate(der).publicKey;
  const d = k.asymmetricKeyDetails;
  if (k.asymmetricKeyType === 'ec') return d?.namedCurve === 'secp384r1' ? 'ec-p384' : 'ec-p256';
  if (k.asymmetricKeyType === 'rsa') return (d?.modulusLength ?? 0) >= 3072 ? 'rsa-3072' : 'rsa-2048';
  return fallback;
}

const fileName = (cn: string): string => `${cn.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64) || 'certificate'}.p12`;

/**
 * Issues (after revoking `supersedes`, in the same transaction), builds the PKCS#12 under a
 * fresh one-time password and keeps it for one download by this operator.
 */
function issueAsPkcs12(ctx: HandlerContext, spec: IssueSpec, keyType: KeyType, legacy: boolean, supersedes?: CertRecord) {
  const caller = callerOf(ctx);
  const { authority, devices } = ctx.deps;
  const { cert, key } = ctx.deps.transaction(() => {
    if (supersedes) authority.revoke(supersedes.serial, CrlReason.superseded, caller.actor);
    const issued = authority.issueWithNewKey({
      profile: spec.profile, commonName: spec.commonName, sans: spec.sans,
      ...(spec.username !== undefined ? { username: spec.username } : {}), ...(spec.days !== undefined ? { days: spec.days } : {}),
    }, keyType, caller.actor);
    if (spec.deviceMac !== undefined) devices.bindCertificate(issued.cert.serial, spec.deviceMac, caller.actor);
    return issued;
  });
  const password = oneTimePassword();
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const p12 = buildPkcs12({
    privateKeyPkcs8Der: pkcs8, certificateDer: cert.der, chainDer: authority.chain(), password, legacy, friendlyName: cert.commonName,
  });
  pkcs8.fill(0);
  const { token, expiresAt } = ctx.deps.downloads!.put({ operatorId: caller.operator.id, serial: cert.serial, filename: fileName(cert.commonName), body: p12 });
  ctx.res.status(201);
  return {
    ...certSummary(cert, ctx.deps.clock().getTime()), ...(spec.deviceMac !== undefined ? { device: spec.deviceMac } : {}),
    ...(supersedes ? { supersedes: supersedes.serial } : {}),
    download: `${API_PREFIX}/downloads/${token}`, downloadExpiresAt: expiresAt, password, keyType, legacy,
  };
}

function options(b: Record<string, unknown>, fallback: KeyType): { keyType: KeyType; legacy: boolean } {
  const keyType = optString(b, 'keyType', 16) ?? fallback;
  if (!(KEY_TYPES as readonly string[]).includes(keyType)) throw new ApiError('BAD_INPUT', `keyType is one of ${KEY_TYPES.join(', ')}`);
  const legacy = b.legacy ?? false;
  if (typeof legacy !== 'boolean') throw new ApiError('BAD_INPUT', '"legacy" is true (3DES/SHA-1 for old devices) or false');
  return { keyType: keyType as KeyType, legacy };
}

/** Whether a non-admin may act on this certificate: it belongs to a user, or to a device a user owns. */
export function ownedByUser(ctx: HandlerContext, cert: CertRecord): boolean {
  if (cert.username !== null) return true;
  const mac = ctx.deps.devices.certificateDevice(cert.serial);
  return mac !== undefined && (ctx.deps.devices.device(mac)?.owner ?? null) !== null;
}

const lastUseView = (u: LastUse | undefined) => (u ? { at: u.at, client: u.client, nasAddress: u.nasAddress, method: u.method, callingStationId: u.callingStationId } : null);

export const CERT_HANDLERS = {
  'certs.issue'(ctx) {
    const b = body(ctx);
    const username = optString(b, 'username', 256);
    const device = optString(b, 'device', 64);
    const profileName = optString(b, 'profile', 16) ?? (device !== undefined ? 'device' : 'user');
    if (!(CONSOLE_PROFILES as readonly string[]).includes(profileName)) throw new ApiError('BAD_INPUT', `profile is ${CONSOLE_PROFILES.join(' or ')} (server certificates: the CLI)`);
    const days = b.days;
    if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isInteger(days))) throw new ApiError('BAD_INPUT', '"days" is a whole number');
    const { keyType, legacy } = options(b, ctx.deps.pki.keyType);
    const profile = PROFILES[profileName as 'user' | 'device'];
    let spec: IssueSpec;
    if (profile.name === 'user') {
      if (username === undefined || device !== undefined) throw new ApiError('BAD_INPUT', 'a user certificate needs "username" (and no "device")');
      const user = ctx.deps.users.get(username);
      // Windows maps a certificate to an account by its UPN: a user named as a UPN carries it (as `cert issue`).
      const sans: SanEntry[] = /^[^\s@]+@[^\s@]+$/.test(user.username) ? [{ kind: 'upn', value: user.username }] : [];
      spec = { profile, commonName: user.username, username: user.username, sans };
    } else {
      if (device === undefined || username !== undefined) throw new ApiError('BAD_INPUT', 'a device certificate needs "device" (a registered MAC) and no "username"');
      const d = ctx.deps.devices.get(device);
      spec = { profile, commonName: d.name ?? d.mac, sans: [], deviceMac: d.mac };
    }
    return issueAsPkcs12(ctx, { ...spec, ...(typeof days === 'number' ? { days } : {}) }, keyType, legacy);
  },

  'certs.reissue'(ctx) {
    const caller = callerOf(ctx);
    const old = ctx.deps.authority.find(param(ctx, 'serial'));
    if (caller.operator.role !== 'admin' && !ownedByUser(ctx, old)) throw new ApiError('FORBIDDEN', 'only an admin reissues a certificate that belongs to no user');
    if (!(CONSOLE_PROFILES as readonly string[]).includes(old.profile)) throw new ApiError('BAD_INPUT', `only ${CONSOLE_PROFILES.join(' and ')} certificates are reissued here`);
    if (old.status === 'revoked') throw new AppError('CERT_ALREADY_REVOKED', `certificate ${old.serial} is revoked; issue a new one instead`);
    const profile = PROFILES[old.profile as 'user' | 'device'];
    if (old.username !== null) ctx.deps.users.get(old.username);
    const deviceMac = ctx.deps.devices.certificateDevice(old.serial);
    if (deviceMac !== undefined) ctx.deps.devices.get(deviceMac);
    const days = Math.max(1, Math.min(profile.maxDays, Math.floor((old.notAfter - old.notBefore) / DAY_MS)));
    const { legacy } = options(body(ctx), ctx.deps.pki.keyType);
    return issueAsPkcs12(ctx, {
      profile, commonName: old.commonName, sans: old.sans, days, ...(old.username !== null ? { username: old.username } : {}),
      ...(deviceMac !== undefined ? { deviceMac } : {}),
    }, keyTypeOf(old.der, ctx.deps.pki.keyType), legacy, old);
  },

  'downloads.get'(ctx) {
    const caller = callerOf(ctx);
    const r = ctx.deps.downloads!.take(param(ctx, 'token'), caller.operator.id);
    if (r.kind === 'not-yours') throw new ApiError('FORBIDDEN', 'only the operator who asked for this file may download it');
    if (r.kind === 'gone') throw new ApiError('GONE', 'this download was used already, has expired, or never existed: reissue the certificate for a new one');
    ctx.deps.audit(caller.actor, 'cert.pkcs12_download', r.download.serial);
    ctx.res.type('application/x-pkcs12');
    ctx.res.set('Content-Disposition', `attachment; filename="${r.download.filename}"`);
    ctx.res.send(r.download.body);
    return undefined;
  },

  'lostDevice'(ctx) {
    const caller = callerOf(ctx);
    const b = body(ctx);
    const username = optString(b, 'username', 256);
    const device = optString(b, 'device', 64);
    if ((username === undefined) === (device === undefined)) throw new ApiError('BAD_INPUT', 'give either "username" or "device" (a MAC)');
    const now = ctx.deps.clock().getTime();
    let certs: CertRecord[];
    let names: string[];
    let target: { username: string } | { device: string; owner: string | null };
    if (username !== undefined) {
      const u = ctx.deps.users.get(username);
      certs = ctx.deps.certificates.queryCertificates({ username: u.username, now, limit: 10_000 });
      names = [u.username];
      target = { username: u.username };
    } else {
      const d = ctx.deps.devices.get(device!);
      if (caller.operator.role !== 'admin' && d.owner === null) throw new ApiError('FORBIDDEN', 'only an admin acts on a device that belongs to no user');
      certs = ctx.deps.devices.certificatesOf(d.mac).map((s) => ctx.deps.authority.find(s));
      // EAP-TLS decisions for a device certificate are logged under the device's MAC.
      names = [d.mac, ...(d.owner !== null ? [d.owner] : [])];
      target = { device: d.mac, owner: d.owner };
    }
    // Expired ones are refused already; a hold becomes a revocation.
    const live = certs.filter((c) => (c.status === 'valid' && c.notAfter > now) || c.status === 'hold');
    const revoked = ctx.deps.transaction(() => {
      const done = live.map((c) => ctx.deps.authority.revoke(c.serial, CrlReason.keyCompromise, caller.actor));
      ctx.deps.audit(caller.actor, 'cert.lost_device', 'username' in target ? target.username : target.device, { serials: done.map((c) => c.serial) });
      return done;
    });
    return {
      ...target,
      revoked: revoked.map((c) => ({ ...certSummary(c, now), lastUsed: lastUseView(ctx.deps.dashboard.lastUseOfCertificate(c.serial, names)) })),
      alreadyRevoked: certs.filter((c) => c.status === 'revoked' && !live.includes(c)).length,
      lastSeen: lastUseView(names.map((n) => ctx.deps.dashboard.lastUseOf(n)).filter((u) => u !== undefined).sort((a, b2) => b2!.at - a!.at)[0]),
    };
  },
} satisfies Partial<Record<RouteId, Handler>>;
