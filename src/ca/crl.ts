// CRLs (RFC 5280 §5). Entries are encoded by hand once per revocation and kept, so a
// CRL of 100,000 entries is a concatenation and one signature, not 100,000 objects.
import { bitString, enumerated, explicit, lengthBytes, octets, oid, seq, smallInteger, Tag, unsignedInteger, x509Time } from './der.js';
import { keyIdentifier, type Signer } from './keys.js';

/** RFC 5280 §5.3.1 CRLReason. */
export const CrlReason = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type CrlReasonName = keyof typeof CrlReason;

export const REVOCATION_REASONS = [
  'unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold',
] as const satisfies readonly CrlReasonName[];

export function reasonName(code: number | null | undefined): CrlReasonName | undefined {
  if (code === null || code === undefined) return undefined;
  return (Object.keys(CrlReason) as CrlReasonName[]).find((k) => CrlReason[k] === code);
}

const OID_CRL_REASON = '2.5.29.21';
const OID_CRL_NUMBER = '2.5.29.20';
const OID_AKI = '2.5.29.35';

/** One revokedCertificates entry; the reason is left out when unspecified (§5.3.1). */
export function encodeRevokedEntry(serialHex: string, revokedAt: Date, reason: number | null): Buffer {
  const serial = unsignedInteger(Buffer.from(serialHex.length % 2 ? '0' + serialHex : serialHex, 'hex'));
  const time = x509Time(revokedAt);
  if (reason === null || reason === CrlReason.unspecified) return seq(serial, time);
  return seq(serial, time, seq(seq(oid(OID_CRL_REASON), octets(enumerated(reason)))));
}

export interface CrlInput {
  issuerNameDer: Buffer;
  issuerSpki: Buffer;
  signer: Signer;
  thisUpdate: Date;
  nextUpdate: Date;
  crlNumber: number;
  entries: readonly Buffer[];
}

export function buildCrl(input: CrlInput): Buffer {
  const aki = seq(oid(OID_AKI), octets(seq(Buffer.concat([Buffer.from([0x80, 20]), keyIdentifier(input.issuerSpki)]))));
  const crlNumber = seq(oid(OID_CRL_NUMBER), octets(smallInteger(input.crlNumber)));
  // The TBSCertList is assembled flat, so 100,000 entries are copied once, not once per nesting level.
  const flat: Buffer[] = [
    smallInteger(1), // v2
    input.signer.algorithmDer,
    input.issuerNameDer,
    x509Time(input.thisUpdate),
    x509Time(input.nextUpdate),
  ];
  if (input.entries.length) {
    let entriesLength = 0;
    for (const e of input.entries) entriesLength += e.length;
    flat.push(Buffer.from([Tag.SEQUENCE]), lengthBytes(entriesLength));
    for (const e of input.entries) flat.push(e);
  }
  flat.push(explicit(0, seq(aki, crlNumber)));
  let bodyLength = 0;
  for (const part of flat) bodyLength += part.length;
  const head = Buffer.concat([Buffer.from([Tag.SEQUENCE]), lengthBytes(bodyLength)]);
  const tbs = Buffer.concat([head, ...flat], head.length + bodyLength);
  return seq(tbs, input.signer.algorithmDer, bitString(input.signer.sign(tbs)));
}
