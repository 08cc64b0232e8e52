// Certificate profiles: what each kind of certificate is allowed to be. Issuance applies
// one profile; nothing else decides key usage, EKU or lifetime.
import { AppError } from '../core/errors.js';

export const EkuOid = {
  SERVER_AUTH: '1.3.6.1.5.5.7.3.1',
  CLIENT_AUTH: '1.3.6.1.5.5.7.3.2',
  OCSP_SIGNING: '1.3.6.1.5.5.7.3.9',
} as const;

/** RFC 5280 §4.2.1.3 bit positions, as @peculiar/asn1-x509 KeyUsageFlags numbers them. */
export const KeyUsageBit = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

export const ISSUABLE_PROFILES = ['user', 'device', 'server'] as const;
export type IssuableProfile = (typeof ISSUABLE_PROFILES)[number];
export type ProfileName = IssuableProfile | 'root-ca' | 'issuing-ca' | 'ocsp-signer';

export type SanKind = 'email' | 'upn' | 'dns' | 'ip';

export interface Profile {
  readonly name: ProfileName;
  readonly isCa: boolean;
  readonly pathLen?: number;
  /** Key usage bits for EC keys; RSA leaf keys add keyEncipherment (TLS 1.2 RSA key transport). */
  readonly keyUsage: number;
  readonly eku: readonly string[];
  readonly defaultDays: number;
  readonly maxDays: number;
  readonly sans: readonly SanKind[];
  /** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): the OCSP signer is not itself checked. */
  readonly ocspNoCheck: boolean;
}

const KU = KeyUsageBit;

export const PROFILES: Readonly<Record<ProfileName, Profile>> = Object.freeze({
  'root-ca': {
    name: 'root-ca', isCa: true, keyUsage: KU.keyCertSign | KU.cRLSign | KU.digitalSignature,
    eku: [], defaultDays: 7305, maxDays: 9132, sans: [], ocspNoCheck: false,
  },
  'issuing-ca': {
    name: 'issuing-ca', isCa: true, pathLen: 0, keyUsage: KU.keyCertSign | KU.cRLSign | KU.digitalSignature,
    eku: [], defaultDays: 3653, maxDays: 7305, sans: [], ocspNoCheck: false,
  },
  'ocsp-signer': {
    name: 'ocsp-signer', isCa: false, keyUsage: KU.digitalSignature,
    eku: [EkuOid.OCSP_SIGNING], defaultDays: 365, maxDays: 825, sans: [], ocspNoCheck: true,
  },
  user: {
    name: 'user', isCa: false, keyUsage: KU.digitalSignature,
    eku: [EkuOid.CLIENT_AUTH], defaultDays: 365, maxDays: 1826, sans: ['email', 'upn'], ocspNoCheck: false,
  },
  device: {
    name: 'device', isCa: false, keyUsage: KU.digitalSignature,
    eku: [EkuOid.CLIENT_AUTH], defaultDays: 730, maxDays: 1826, sans: ['dns', 'ip'], ocspNoCheck: false,
  },
  server: {
    name: 'server', isCa: false, keyUsage: KU.digitalSignature,
    eku: [EkuOid.SERVER_AUTH], defaultDays: 397, maxDays: 825, sans: ['dns', 'ip'], ocspNoCheck: false,
  },
});

export function issuableProfile(name: string): Profile {
  if ((ISSUABLE_PROFILES as readonly string[]).includes(name)) return PROFILES[name as IssuableProfile];
  throw new AppError('PROFILE_UNKNOWN', `unknown profile "${name}" (use ${ISSUABLE_PROFILES.join(', ')})`);
}
