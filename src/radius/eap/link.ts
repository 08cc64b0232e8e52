// What EAP reads from and puts into the RADIUS packets around it (RFC 3579): the link's size
// from Framed-MTU, and the keys an Access-Accept hands to the access point (MS-MPPE, RFC 2548).
import { randomBytes } from 'node:crypto';
import {
  Attr, MsAttr, VENDOR_MICROSOFT, hideMsMppeKeys, joinAttribute, type RadiusAttribute, type RadiusPacket, type Secret,
} from '../codec/index.js';
import { EapType } from './codec.js';
import type { TlsServerConnection } from './tls-connection.js';

/** EAP data per packet when the NAS does not send Framed-MTU (FreeRADIUS uses 1024 less the EAPOL header). */
const DEFAULT_EAP_MTU = 1020;
const MIN_EAP_MTU = 64;
/** Keeps an Access-Challenge well inside RADIUS's 4096 octets. */
const MAX_EAP_MTU = 1400;
/** EAPOL header that Framed-MTU also has to carry (IEEE 802.1X). */
const EAPOL_HEADER = 4;

/** RFC 5216 §2.3 (TLS 1.2) and RFC 9190 §2.3 (TLS 1.3). */
const LABEL_TLS12 = 'client EAP encryption';
const LABEL_TLS13 = 'EXPORTER_EAP_TLS_Key_Material';
const KEY_MATERIAL_LENGTH = 128;
/** RFC 5281 §8 (EAP-TTLS over TLS 1.2); PEAPv0 uses RFC 5216's label. RFC 9427 §2.1: TLS 1.3 context is the Type. */
const LABEL_TTLS_TLS12 = 'ttls keying material';

/** Framed-MTU (RFC 2865 §5.12) less the EAPOL header, within sane bounds. */
export function eapMtu(packet: RadiusPacket): number {
  const raw = joinAttribute(packet.attributes, Attr.FramedMtu);
  if (!raw || raw.length !== 4) return DEFAULT_EAP_MTU;
  return Math.max(MIN_EAP_MTU, Math.min(MAX_EAP_MTU, raw.readUInt32BE(0) - EAPOL_HEADER));
}

/**
 * The MSK exported from the finished TLS session (RFC 5216 §2.3, RFC 9190 §2.3, RFC 5281 §8),
 * as MS-MPPE-Recv-Key and MS-MPPE-Send-Key hidden with the client's secret (RFC 2548 §2.4.2),
 * as FreeRADIUS carries them; the exported material is wiped.
 */
export function mppeKeyAttributes(tls: TlsServerConnection, method: number, secret: Secret, requestAuthenticator: Buffer): RadiusAttribute[] {
  const material = tls.protocol === 'TLSv1.3'
    ? tls.exportKeyingMaterial(KEY_MATERIAL_LENGTH, LABEL_TLS13, Buffer.of(method))
    : tls.exportKeyingMaterial(KEY_MATERIAL_LENGTH, method === EapType.Ttls ? LABEL_TTLS_TLS12 : LABEL_TLS12);
  const msk = material.subarray(0, 64);
  const hidden = hideMsMppeKeys({ recv: msk.subarray(0, 32), send: msk.subarray(32, 64) }, secret, requestAuthenticator, randomBytes);
  material.fill(0);
  return [
    { type: MsAttr.MppeRecvKey, vendor: VENDOR_MICROSOFT, value: hidden.recv },
    { type: MsAttr.MppeSendKey, vendor: VENDOR_MICROSOFT, value: hidden.send },
  ];
}
