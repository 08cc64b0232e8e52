// Building and reading X.509 certificates (RFC 5280) with the @peculiar/asn1-x509
// schemas; signatures are made by a Signer over the TBS DER.
import { isIP } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn from '@peculiar/asn1-x509';
import { AppError } from '../core/errors.js';
import { bitString, explicit, seq, smallInteger, unsignedInteger, x509Time } from './der.js';
import { keyIdentifier, type Signer } from './keys.js';
import { KeyUsageBit, type Profile, type SanKind } from './profiles.js';

export const NameOid = { CN: '2.5.4.3', O: '2.5.4.10', OU: '2.5.4.11', C: '2.5.4.6' } as const;
const OID_UPN = '1.3.6.1.4.1.311.20.2.3';
const OID_OCSP_NOCHECK = '1.3.6.1.5.5.7.48.1.5';
const OID_AD_OCSP = '1.3.6.1.5.5.7.48.1';
const OID_AD_CA_ISSUERS = '1.3.6.1.5.5.7.48.2';

export interface SubjectSpec {
  commonName: string;
  organization?: string;
}

export function buildName(spec: SubjectSpec): asn.Name {
  const rdn = (type: string, value: string): asn.RelativeDistinguishedName =>
    new asn.RelativeDistinguishedName([
      new asn.AttributeTypeAndValue({ type, value: new asn.AttributeValue({ utf8String: value }) }),
    ]);
  const rdns: asn.RelativeDistinguishedName[] = [];
  if (spec.organization) rdns.push(rdn(NameOid.O, spec.organization));
  rdns.push(rdn(NameOid.CN, spec.commonName));
  return new asn.Name(rdns);
}

export function nameDer(name: asn.Name): Buffer {
  return Buffer.from(AsnConvert.serialize(name));
}

export interface SanEntry {
  kind: SanKind;
  value: string;
}

export function validateSans(profile: Profile, sans: readonly SanEntry[]): void {
  for (const san of sans) {
    if (!profile.sans.includes(san.kind)) {
      throw new AppError('SAN_INVALID', `the ${profile.name} profile does not take a ${san.kind} name`);
    }
    const ok =
      // A zone (fe80::1%eth0) means nothing to another host, and would be dropped silently.
      san.kind === 'ip' ? isIP(san.value) !== 0 && !san.value.includes('%')
      : san.kind === 'dns' ? /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i.test(san.value)
      : /^[^\s@]+@[^\s@]+$/.test(san.value);
    if (!ok) throw new AppError('SAN_INVALID', `"${san.value}" is not a valid ${san.kind} name`);
  }
}

/**
 * @peculiar/asn1-x509 reads the dotted tail of "::ffff:192.0.2.1" as hex groups (it wrote
 * ...:ffff:0192); give it that tail as two hex groups instead.
 */
function hexIpv6Tail(ip: string): string {
  const m = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m || isIP(ip) !== 6) return ip;
  const [a, b, c, d] = m.slice(2).map(Number) as [number, number, number, number];
  return `${m[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
}

function generalName(san: SanEntry): asn.GeneralName {
  switch (san.kind) {
    case 'email':
      return new asn.GeneralName({ rfc822Name: san.value });
    case 'dns':
      return new asn.GeneralName({ dNSName: san.value });
    case 'ip':
      return new asn.GeneralName({ iPAddress: hexIpv6Tail(san.value) });
    case 'upn': {
      const utf8 = AsnConvert.serialize(new asn.AttributeValue({ utf8String: san.value }));
      return new asn.GeneralName({ otherName: new asn.OtherName({ typeId: OID_UPN, value: utf8 }) });
    }
  }
}

function ext(extnID: string, critical: boolean, value: unknown): asn.Extension {
  return new asn.Extension({ extnID, critical, extnValue: new OctetString(AsnConvert.serialize(value)) });
}

export interface CertificateSpec {
  serial: Buffer;
  subject: asn.Name;
  /** The issuer's subject exactly as in its certificate; the subject for a self-signed root. */
  issuer: asn.Name;
  notBefore: Date;
  notAfter: Date;
  subjectSpki: Buffer;
  /** The issuer's SPKI, for the AKI; equal to subjectSpki for a self-signed root. */
  issuerSpki: Buffer;
  profile: Profile;
  sans: readonly SanEntry[];
  /** Where relying parties find revocation data and the issuer; absent on a root. */
  urls?: { crl: string; ocsp: string; caIssuers: string };
}

function keyUsageFor(profile: Profile, spki: Buffer): number {
  const rsa = spki.includes(Buffer.from('2a864886f70d010101', 'hex'));
  return !profile.isCa && rsa ? profile.keyUsage | KeyUsageBit.keyEncipherment : profile.keyUsage;
}

/**
 * The extensions that depend only on the profile, the key algorithm, the issuer and its
 * URLs are the same for every certificate a CA issues under a profile: built once.
 */
const staticExtensionCache = new Map<string, Buffer[]>();
const STATIC_CACHE_LIMIT = 64;

function staticExtensions(spec: CertificateSpec): Buffer[] {
  const { profile } = spec;
  const keyUsage = keyUsageFor(profile, spec.subjectSpki);
  const key = `${profile.name}|${keyUsage}|${spec.issuerSpki.toString('base64')}|${JSON.stringify(spec.urls ?? null)}`;
  const cached = staticExtensionCache.get(key);
  if (cached) return cached;
  const exts: asn.Extension[] = [
    ext(asn.id_ce_basicConstraints, true, new asn.BasicConstraints(
      profile.isCa ? { cA: true, ...(profile.pathLen !== undefined ? { pathLenConstraint: profile.pathLen } : {}) } : { cA: false },
    )),
    ext(asn.id_ce_keyUsage, true, new asn.KeyUsage(keyUsage)),
    ext(asn.id_ce_authorityKeyIdentifier, false, new asn.AuthorityKeyIdentifier({
      keyIdentifier: new asn.KeyIdentifier(keyIdentifier(spec.issuerSpki)),
    })),
  ];
  if (profile.eku.length) exts.push(ext(asn.id_ce_extKeyUsage, false, new asn.ExtendedKeyUsage([...profile.eku])));
  if (profile.ocspNoCheck) {
    exts.push(new asn.Extension({ extnID: OID_OCSP_NOCHECK, critical: false, extnValue: new OctetString(Buffer.from([0x05, 0x00])) }));
  }
  if (spec.urls && !profile.ocspNoCheck) {
    exts.push(ext(asn.id_ce_cRLDistributionPoints, false, new asn.CRLDistributionPoints([
      new asn.DistributionPoint({
        distributionPoint: new asn.DistributionPointName({
          fullName: [new asn.GeneralName({ uniformResourceIdentifier: spec.urls.crl })],
        }),
      }),
    ])));
  }
  if (spec.urls) {
    const access = [new asn.AccessDescription({
      accessMethod: OID_AD_CA_ISSUERS,
      accessLocation: new asn.GeneralName({ uniformResourceIdentifier: spec.urls.caIssuers }),
    })];
    if (!profile.ocspNoCheck) {
      access.unshift(new asn.AccessDescription({
        accessMethod: OID_AD_OCSP,
        accessLocation: new asn.GeneralName({ uniformResourceIdentifier: spec.urls.ocsp }),
      }));
    }
    exts.push(ext(asn.id_pe_authorityInfoAccess, false, new asn.AuthorityInfoAccessSyntax(access)));
  }
  const ders = exts.map((e) => Buffer.from(AsnConvert.serialize(e)));
  if (staticExtensionCache.size >= STATIC_CACHE_LIMIT) staticExtensionCache.clear();
  staticExtensionCache.set(key, ders);
  return ders;
}

/** Every extension's DER, in order: basic constraints, key usage, SKI, the static rest, SAN. */
function extensionsFor(spec: CertificateSpec): Buffer[] {
  const [basicConstraints, keyUsage, ...rest] = staticExtensions(spec);
  const ders = [
    basicConstraints!, keyUsage!,
    Buffer.from(AsnConvert.serialize(ext(asn.id_ce_subjectKeyIdentifier, false, new asn.SubjectKeyIdentifier(keyIdentifier(spec.subjectSpki))))),
    ...rest,
  ];
  if (spec.sans.length) {
    // RFC 5280 §4.2.1.6: critical only when the subject is empty, which we never issue.
    ders.push(Buffer.from(AsnConvert.serialize(ext(asn.id_ce_subjectAltName, false, new asn.SubjectAlternativeName(spec.sans.map(generalName))))));
  }
  return ders;
}

/** The issuer's Name is the same object for every certificate a CA signs: encode it once. */
const nameDerCache = new WeakMap<asn.Name, Buffer>();

function cachedNameDer(name: asn.Name): Buffer {
  let der = nameDerCache.get(name);
  if (!der) nameDerCache.set(name, (der = nameDer(name)));
  return der;
}

/**
 * Builds the TBSCertificate (RFC 5280 §4.1) and signs it. Names and extensions come from
 * the @peculiar/asn1-x509 schemas; the TBS around them is assembled from their DER, so
 * the parts that never change (issuer, profile extensions) are encoded once, not per
 * certificate.
 */
export function signCertificate(spec: CertificateSpec, signer: Signer): Buffer {
  const tbsDer = seq(
    explicit(0, smallInteger(2)), // v3
    unsignedInteger(spec.serial),
    signer.algorithmDer,
    cachedNameDer(spec.issuer),
    seq(x509Time(spec.notBefore), x509Time(spec.notAfter)),
    nameDer(spec.subject),
    spec.subjectSpki,
    explicit(3, seq(...extensionsFor(spec))),
  );
  return seq(tbsDer, signer.algorithmDer, bitString(signer.sign(tbsDer)));
}

/** The parts of a certificate that issuance and status checks need, read once. */
export interface CertificateFacts {
  der: Buffer;
  serialHex: string;
  subjectDer: Buffer;
  issuerDer: Buffer;
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  subjectText: string;
}

export function readCertificate(der: Buffer): CertificateFacts {
  let parsed: asn.Certificate;
  try {
    parsed = AsnConvert.parse(der, asn.Certificate);
  } catch (e) {
    throw new AppError('DER_INVALID', `not a DER certificate: ${(e as Error).message}`);
  }
  const tbs = parsed.tbsCertificate;
  const x = new X509Certificate(der);
  return {
    der,
    serialHex: x.serialNumber.toLowerCase().replace(/^0+(?=.)/, ''),
    subjectDer: nameDer(tbs.subject),
    issuerDer: nameDer(tbs.issuer),
    spki: Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    subjectText: x.subject.replace(/\n/g, ', '),
  };
}

export function parseName(der: Buffer): asn.Name {
  return AsnConvert.parse(der, asn.Name);
}
