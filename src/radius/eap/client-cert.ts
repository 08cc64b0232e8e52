// Whether an EAP-TLS client certificate may authenticate, checked by us after 'secure'
// (Node does not check a certificate on a bare duplex): it chains to a CA authbox runs,
// is within its validity, allows clientAuth, is not revoked or on hold (from memory,
// the one status source OCSP and the CRL read), belongs to an enabled user, and matches
// the EAP identity.
//
// Identity binding: the EAP identity (compared case-insensitively) must equal the
// certificate's owner (the username it was issued to with --user), its subject CN, or one
// of its e-mail or UPN subject alternative names. Any of these names the same holder, and
// the names supplicants send by default (the CN, or user@domain) are all covered.
//
// Device certificates: a certificate bound to a device at issuance (`cert issue --device`)
// is accepted only while that device is registered and enabled, and for an EAP identity
// that is the device's name, its MAC (any spelling) or the certificate's CN. The device's
// MAC is then the accepted name, so the policy finds the device's groups. A device set to
// `--bind-mac` is accepted only from the station with its MAC: the request's
// Calling-Station-Id (RFC 3580 §3.20, any usual spelling) must be the device's MAC.
//
// PEAP and EAP-TTLS with a client certificate (checkTunnelCertificate): the same checks of
// the certificate itself (chain, validity, EKU, status, the owner's account) once the outer
// handshake is over; and, when the policy required the certificate, the user the inner
// method names must be the certificate's: its bound user (`cert issue --user`), else (an
// unbound certificate) its subject CN or a UPN subject alternative name, compared
// case-insensitively. A device certificate names no user and never vouches for one.
import { X509Certificate } from 'node:crypto';
import { normalizeMac } from '../../core/devices.js';
import type { AccountRefusal } from '../../core/users.js';

/** RFC 5280 §4.2.1.12. */
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';

export type CertRefusal =
  | 'no client certificate' | 'unknown CA' | 'certificate expired' | 'certificate not yet valid'
  | 'certificate not for client authentication' | 'certificate revoked' | 'certificate on hold'
  | 'unknown certificate' | 'unknown user' | AccountRefusal | 'identity does not match the certificate'
  | 'unknown device' | 'device disabled' | 'calling station does not match the device'
  | 'client certificate of another user';

export interface TrustedCa {
  id: number;
  certDer: Buffer;
}

export interface ClientCertDeps {
  /** The CAs authbox runs (issuing and root). */
  cas(): readonly TrustedCa[];
  /** Status from memory (CertStatusIndex). */
  status(caId: number, serial: string): { status: 'valid' | 'revoked' | 'hold' } | undefined;
  /** The issued certificate's record: owner, SANs and the device it is bound to; undefined if authbox never issued it. */
  record(serial: string): CertificateFacts | undefined;
  /** `refusal`: why the account may not authenticate now (expired, locked), when the source knows more than `enabled`. */
  user(username: string): { username: string; enabled: boolean; refusal?: AccountRefusal | undefined } | undefined;
  /** The registered device with this MAC; without it, every device-bound certificate is refused ('unknown device'). */
  device?(mac: string): DeviceFacts | undefined;
  now(): number;
}

export interface CertificateFacts {
  username: string | null;
  commonName: string;
  sans: readonly { kind: string; value: string }[];
  /** The canonical MAC of the device the certificate was issued for, if any. */
  device?: string | null;
}

/** A registered device as the check reads it; `bindMac`: accepted only from the station with its MAC. */
export interface DeviceFacts {
  mac: string;
  name: string | null;
  enabled: boolean;
  bindMac?: boolean;
}

/** What the request says about where it comes from (the NAS's view of the supplicant). */
export interface RequestFacts {
  /** Calling-Station-Id (RFC 3580 §3.20): the supplicant's MAC on a LAN or WLAN. */
  callingStationId?: string | undefined;
}

/** The bindings of certificates to devices, read from the store on each check (core/devices.ts DeviceService fits). */
export interface DeviceCertificates {
  certificateDevice(serial: string): string | undefined;
  device(mac: string): DeviceFacts | undefined;
}

/** The same dependencies, with each record's device binding and the devices read from `devices` (in memory). */
export function withDeviceCertificates(deps: ClientCertDeps, devices: DeviceCertificates): ClientCertDeps {
  return {
    ...deps,
    record: (serial) => {
      const r = deps.record(serial);
      return r && { ...r, device: devices.certificateDevice(serial) ?? null };
    },
    device: (mac) => devices.device(mac),
  };
}

export type ClientCertResult =
  | { ok: true; serial: string; subject: string; username?: string; device?: string }
  | { ok: false; reason: CertRefusal; serial?: string; subject?: string };

const parsedCas = new WeakMap<Buffer, X509Certificate>();
const parsed = (der: Buffer): X509Certificate => {
  let c = parsedCas.get(der);
  if (!c) parsedCas.set(der, (c = new X509Certificate(der)));
  return c;
};

/** Canonical serial form (lowercase hex, no leading zeros), as ca/serial.ts keeps it. */
const serialOf = (cert: X509Certificate): string => cert.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

const commonNameOf = (subject: string): string | undefined =>
  subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3);

type Refuse = (reason: CertRefusal) => ClientCertResult & { ok: false };

/** The checks of the certificate itself (no identity): chain to our CA, validity, EKU, status, issuance record. */
function verifyCertificate(cert: X509Certificate, deps: ClientCertDeps):
  { ok: false; refusal: ClientCertResult & { ok: false } } | { ok: true; serial: string; subject: string; record: CertificateFacts; refuse: Refuse } {
  const serial = serialOf(cert);
  const subject = cert.subject.replace(/\n/g, ', ');
  const refuse: Refuse = (reason) => ({ ok: false, reason, serial, subject });
  const no = (reason: CertRefusal): { ok: false; refusal: ClientCertResult & { ok: false } } => ({ ok: false, refusal: refuse(reason) });

  const issuer = deps.cas().find((ca) => {
    const c = parsed(ca.certDer);
    return cert.checkIssued(c) && cert.verify(c.publicKey);
  });
  if (!issuer) return no('unknown CA');
  const now = deps.now();
  if (now < Date.parse(cert.validFrom)) return no('certificate not yet valid');
  if (now > Date.parse(cert.validTo)) return no('certificate expired');
  // Node gives the EKU OIDs, or undefined when the extension is absent (any use allowed).
  const eku = cert.keyUsage;
  if (eku && !eku.includes(EKU_CLIENT_AUTH) && !eku.includes(EKU_ANY)) return no('certificate not for client authentication');
  const status = deps.status(issuer.id, serial);
  if (!status) return no('unknown certificate');
  if (status.status === 'revoked') return no('certificate revoked');
  if (status.status === 'hold') return no('certificate on hold');
  const record = deps.record(serial);
  if (!record) return no('unknown certificate');
  return { ok: true, serial, subject, record, refuse };
}

/** The certificate's owner when it was issued to a user: that user must exist and may authenticate now. */
function ownerOf(record: CertificateFacts, deps: ClientCertDeps, refuse: Refuse): { username?: string } | (ClientCertResult & { ok: false }) {
  if (!record.username) return {};
  const user = deps.user(record.username);
  if (!user) return refuse('unknown user');
  const refused = user.refusal ?? (user.enabled ? undefined : 'account disabled');
  if (refused) return refuse(refused);
  return { username: user.username };
}

export function checkClientCertificate(
  cert: X509Certificate | undefined, identity: string, deps: ClientCertDeps, request: RequestFacts = {},
): ClientCertResult {
  if (!cert) return { ok: false, reason: 'no client certificate' };
  const v = verifyCertificate(cert, deps);
  if (!v.ok) return v.refusal;
  const { serial, subject, record, refuse } = v;
  if (record.device) return checkDevice(record as CertificateFacts & { device: string }, cert, identity, deps, refuse, serial, subject, request);
  const owner = ownerOf(record, deps, refuse);
  if ('ok' in owner) return owner;
  const username = owner.username;
  const names = [
    username, record.username, record.commonName, commonNameOf(cert.subject),
    ...record.sans.filter((s) => s.kind === 'email' || s.kind === 'upn').map((s) => s.value),
  ].filter((n): n is string => !!n).map((n) => n.toLowerCase());
  if (!names.includes(identity.toLowerCase())) return refuse('identity does not match the certificate');
  return { ok: true, serial, subject, ...(username ? { username } : {}) };
}

export type TunnelCertResult =
  | { ok: true; serial: string; subject: string; owners: readonly string[] }
  | { ok: false; reason: CertRefusal; serial?: string; subject?: string };

/**
 * A client certificate in the outer handshake of PEAP or EAP-TTLS: the certificate's own
 * checks, and the user names it vouches for (lowercase), which the inner user must be one of.
 */
export function checkTunnelCertificate(cert: X509Certificate | undefined, deps: ClientCertDeps): TunnelCertResult {
  if (!cert) return { ok: false, reason: 'no client certificate' };
  const v = verifyCertificate(cert, deps);
  if (!v.ok) return v.refusal;
  const { serial, subject, record, refuse } = v;
  if (record.device) return { ok: true, serial, subject, owners: [] };
  const owner = ownerOf(record, deps, refuse);
  if ('ok' in owner) return owner;
  const owners = owner.username
    ? [owner.username]
    : [record.commonName, commonNameOf(cert.subject), ...record.sans.filter((s) => s.kind === 'upn').map((s) => s.value)];
  return { ok: true, serial, subject, owners: owners.filter((n): n is string => !!n).map((n) => n.toLowerCase()) };
}

/** Whether the inner method's user is one the tunnel certificate vouches for. */
export const certificateBelongsTo = (owners: readonly string[], username: string): boolean => owners.includes(username.toLowerCase());

/** A device-bound certificate: the device must be registered and enabled, the identity one of its names, the station its own when bound. */
function checkDevice(
  record: CertificateFacts & { device: string }, cert: X509Certificate, identity: string, deps: ClientCertDeps,
  refuse: Refuse, serial: string, subject: string, request: RequestFacts,
): ClientCertResult {
  const device = deps.device?.(record.device);
  if (!device) return refuse('unknown device');
  if (!device.enabled) return refuse('device disabled');
  const names = [device.name, record.commonName, commonNameOf(cert.subject)]
    .filter((n): n is string => !!n).map((n) => n.toLowerCase());
  const matches = names.includes(identity.toLowerCase()) || normalizeMac(identity) === device.mac;
  if (!matches) return refuse('identity does not match the certificate');
  // Same normalisation as MAB (radius/mab.ts): any usual MAC spelling; an IP address or no attribute never matches.
  if (device.bindMac && normalizeMac(request.callingStationId ?? '') !== device.mac) return refuse('calling station does not match the device');
  return { ok: true, serial, subject, username: device.mac, device: device.mac };
}
