// The attribute dictionary: names, value types, tags (RFC 2868 §3) and enumerated values,
// for the standard attributes and Microsoft's vendor attributes (RFC 2548).
import { isIP } from 'node:net';
import {
  AcctAuthentic, AcctStatusType, AcctTerminateCause, Attr, ErrorCause, FramedProtocol, MAX_TAG, MsAttr,
  MsMppeEncryptionPolicy, MsMppeEncryptionTypes, NasPortType, ServiceType, TerminationAction, TunnelMediumType,
  TunnelType, VENDOR_MICROSOFT,
} from './constants.js';
import { RadiusEncodeError } from './errors.js';
import type { RadiusAttribute } from './packet.js';

/** Value types of RFC 8044 §3 that these attributes use. */
export type ValueType =
  | 'string' | 'text' | 'octets' | 'integer' | 'ipaddr' | 'ipv6addr' | 'ipv6prefix' | 'ifid' | 'date' | 'vsa';

export interface AttributeDefinition {
  readonly name: string;
  readonly type: number;
  readonly vendor?: number;
  readonly valueType: ValueType;
  /** RFC 2868 §3: the attribute carries a tag octet (always for integers and Tunnel-Password, optional for strings). */
  readonly tagged?: boolean;
  /** Enumerated values, name -> number. */
  readonly values?: Readonly<Record<string, number>>;
  /** A value that needs an exact size (Message-Authenticator, CHAP-Password). */
  readonly size?: number;
}

/** Sizes RFC 8044 §3 fixes for each type; undefined means variable. */
export const FIXED_SIZE: Readonly<Partial<Record<ValueType, number>>> = {
  integer: 4, ipaddr: 4, date: 4, ipv6addr: 16, ifid: 8,
};

/** Where hyphenating our constant names does not give the FreeRADIUS spelling that logs and configs use. */
const FREERADIUS_SPELLING: Readonly<Record<string, string>> = {
  Ppp: 'PPP', Slip: 'SLIP', Arap: 'ARAP', X75: 'X.75', Vlan: 'VLAN', Pptp: 'PPTP', L2f: 'L2F', L2tp: 'L2TP',
  Atmp: 'ATMP', Vtp: 'VTP', Ah: 'AH', IpIp: 'IP', MinIpIp: 'MIN-IP', Esp: 'ESP', Gre: 'GRE', Dvs: 'DVS',
  IpInIpTunneling: 'IP-in-IP', Ipv4: 'IPv4', Ipv6: 'IPv6', Nsap: 'NSAP', Hdlc: 'HDLC', Bbn1822: 'BBN-1822',
  Ieee802: 'IEEE-802', E163: 'E.163', E164: 'E.164', F69: 'F.69', X121: 'X.121', Ipx: 'IPX', Appletalk: 'Appletalk',
  DecnetIv: 'DecNet-IV', BanyanVines: 'Banyan-Vines', E164Nsap: 'E.164-NSAP', IsdnSync: 'ISDN', IsdnAsyncV120: 'ISDN-V120',
  IsdnAsyncV110: 'ISDN-V110', Piafs: 'PIAFS', HdlcClearChannel: 'HDLC-Clear-Channel', X25: 'X.25', G3Fax: 'G.3-Fax',
  Sdsl: 'SDSL', AdslCap: 'ADSL-CAP', AdslDmt: 'ADSL-DMT', Idsl: 'IDSL', Xdsl: 'xDSL', Wireless80211: 'Wireless-802.11',
  RadiusRequest: 'RADIUS-Request', Radius: 'RADIUS', Diameter: 'Diameter', NasError: 'NAS-Error', NasRequest: 'NAS-Request',
  NasReboot: 'NAS-Reboot', CallbackNasPrompt: 'Callback-NAS-Prompt', PortReinitialized: 'Port-Reinit',
  PortAdministrativelyDisabled: 'Port-Disabled', ResidualSessionContextRemoved: 'Residual-Context-Removed',
  RequestNotRoutable: 'Proxy-Request-Not-Routable', OtherProxyProcessingError: 'Proxy-Processing-Error',
};

/** RFC 2865 §5.6 values as FreeRADIUS names them. */
const SERVICE_TYPE_SPELLING: Readonly<Record<string, string>> = {
  Login: 'Login-User', Framed: 'Framed-User', CallbackLogin: 'Callback-Login-User', CallbackFramed: 'Callback-Framed-User',
  Outbound: 'Outbound-User', Administrative: 'Administrative-User', NasPrompt: 'NAS-Prompt-User',
};
/** RFC 2865 §5.7 values as FreeRADIUS names them. */
const FRAMED_PROTOCOL_SPELLING: Readonly<Record<string, string>> = {
  Gandalf: 'Gandalf-SLML', Xylogics: 'Xylogics-IPX-SLIP', X75: 'X.75-Synchronous',
};

const e = (o: Readonly<Record<string, number>>, spelling: Readonly<Record<string, string>> = {}): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(o)) out[spelling[k] ?? FREERADIUS_SPELLING[k] ?? k.replace(/([a-z0-9])([A-Z])/g, '$1-$2')] = v;
  return out;
};

const d = (
  name: string, type: number, valueType: ValueType, extra: Partial<AttributeDefinition> = {},
): AttributeDefinition => ({ name, type, valueType, ...extra });
const ms = (name: string, type: number, valueType: ValueType, extra: Partial<AttributeDefinition> = {}): AttributeDefinition =>
  ({ name, type, vendor: VENDOR_MICROSOFT, valueType, ...extra });

const STANDARD: readonly AttributeDefinition[] = [
  d('User-Name', Attr.UserName, 'string'),
  d('User-Password', Attr.UserPassword, 'octets'), // hidden, RFC 2865 §5.2
  d('CHAP-Password', Attr.ChapPassword, 'octets', { size: 17 }), // RFC 2865 §5.3
  d('NAS-IP-Address', Attr.NasIpAddress, 'ipaddr'),
  d('NAS-Port', Attr.NasPort, 'integer'),
  d('Service-Type', Attr.ServiceType, 'integer', { values: e(ServiceType, SERVICE_TYPE_SPELLING) }),
  d('Framed-Protocol', Attr.FramedProtocol, 'integer', { values: e(FramedProtocol, FRAMED_PROTOCOL_SPELLING) }),
  d('Framed-IP-Address', Attr.FramedIpAddress, 'ipaddr'),
  d('Framed-IP-Netmask', Attr.FramedIpNetmask, 'ipaddr'),
  d('Framed-Routing', Attr.FramedRouting, 'integer'),
  d('Filter-Id', Attr.FilterId, 'text'),
  d('Framed-MTU', Attr.FramedMtu, 'integer'),
  d('Framed-Compression', Attr.FramedCompression, 'integer'),
  d('Login-IP-Host', Attr.LoginIpHost, 'ipaddr'),
  d('Login-Service', Attr.LoginService, 'integer'),
  d('Login-TCP-Port', Attr.LoginTcpPort, 'integer'),
  d('Reply-Message', Attr.ReplyMessage, 'text'),
  d('Callback-Number', Attr.CallbackNumber, 'string'),
  d('Callback-Id', Attr.CallbackId, 'string'),
  d('Framed-Route', Attr.FramedRoute, 'text'),
  d('Framed-IPX-Network', Attr.FramedIpxNetwork, 'ipaddr'), // 4 octets; FreeRADIUS's type
  d('State', Attr.State, 'octets'),
  d('Class', Attr.Class, 'octets'),
  d('Vendor-Specific', Attr.VendorSpecific, 'vsa'),
  d('Session-Timeout', Attr.SessionTimeout, 'integer'),
  d('Idle-Timeout', Attr.IdleTimeout, 'integer'),
  d('Termination-Action', Attr.TerminationAction, 'integer', { values: e(TerminationAction) }),
  d('Called-Station-Id', Attr.CalledStationId, 'string'),
  d('Calling-Station-Id', Attr.CallingStationId, 'string'),
  d('NAS-Identifier', Attr.NasIdentifier, 'string'),
  d('Proxy-State', Attr.ProxyState, 'octets'),
  d('Login-LAT-Service', Attr.LoginLatService, 'string'),
  d('Login-LAT-Node', Attr.LoginLatNode, 'string'),
  d('Login-LAT-Group', Attr.LoginLatGroup, 'octets'),
  d('Framed-AppleTalk-Link', Attr.FramedAppleTalkLink, 'integer'),
  d('Framed-AppleTalk-Network', Attr.FramedAppleTalkNetwork, 'integer'),
  d('Framed-AppleTalk-Zone', Attr.FramedAppleTalkZone, 'string'),
  d('Acct-Status-Type', Attr.AcctStatusType, 'integer', { values: e(AcctStatusType) }),
  d('Acct-Delay-Time', Attr.AcctDelayTime, 'integer'),
  d('Acct-Input-Octets', Attr.AcctInputOctets, 'integer'),
  d('Acct-Output-Octets', Attr.AcctOutputOctets, 'integer'),
  d('Acct-Session-Id', Attr.AcctSessionId, 'string'),
  d('Acct-Authentic', Attr.AcctAuthentic, 'integer', { values: e(AcctAuthentic) }),
  d('Acct-Session-Time', Attr.AcctSessionTime, 'integer'),
  d('Acct-Input-Packets', Attr.AcctInputPackets, 'integer'),
  d('Acct-Output-Packets', Attr.AcctOutputPackets, 'integer'),
  d('Acct-Terminate-Cause', Attr.AcctTerminateCause, 'integer', { values: e(AcctTerminateCause) }),
  d('Acct-Multi-Session-Id', Attr.AcctMultiSessionId, 'string'),
  d('Acct-Link-Count', Attr.AcctLinkCount, 'integer'),
  d('Acct-Input-Gigawords', Attr.AcctInputGigawords, 'integer'),
  d('Acct-Output-Gigawords', Attr.AcctOutputGigawords, 'integer'),
  d('Event-Timestamp', Attr.EventTimestamp, 'date'),
  d('CHAP-Challenge', Attr.ChapChallenge, 'octets'),
  d('NAS-Port-Type', Attr.NasPortType, 'integer', { values: e(NasPortType) }),
  d('Port-Limit', Attr.PortLimit, 'integer'),
  d('Login-LAT-Port', Attr.LoginLatPort, 'string'),
  d('Tunnel-Type', Attr.TunnelType, 'integer', { tagged: true, values: e(TunnelType) }),
  d('Tunnel-Medium-Type', Attr.TunnelMediumType, 'integer', { tagged: true, values: e(TunnelMediumType) }),
  d('Tunnel-Client-Endpoint', Attr.TunnelClientEndpoint, 'string', { tagged: true }),
  d('Tunnel-Server-Endpoint', Attr.TunnelServerEndpoint, 'string', { tagged: true }),
  d('Acct-Tunnel-Connection', Attr.AcctTunnelConnection, 'string'),
  d('Tunnel-Password', Attr.TunnelPassword, 'octets', { tagged: true }), // hidden, RFC 2868 §3.5
  d('ARAP-Password', Attr.ArapPassword, 'octets', { size: 16 }),
  d('ARAP-Features', Attr.ArapFeatures, 'octets', { size: 14 }),
  d('ARAP-Zone-Access', Attr.ArapZoneAccess, 'integer'),
  d('ARAP-Security', Attr.ArapSecurity, 'integer'),
  d('ARAP-Security-Data', Attr.ArapSecurityData, 'string'),
  d('Password-Retry', Attr.PasswordRetry, 'integer'),
  d('Prompt', Attr.Prompt, 'integer'),
  d('Connect-Info', Attr.ConnectInfo, 'text'),
  d('Configuration-Token', Attr.ConfigurationToken, 'string'),
  d('EAP-Message', Attr.EapMessage, 'octets'),
  d('Message-Authenticator', Attr.MessageAuthenticator, 'octets', { size: 16 }),
  d('Tunnel-Private-Group-Id', Attr.TunnelPrivateGroupId, 'string', { tagged: true }),
  d('Tunnel-Assignment-Id', Attr.TunnelAssignmentId, 'string', { tagged: true }),
  d('Tunnel-Preference', Attr.TunnelPreference, 'integer', { tagged: true }),
  d('ARAP-Challenge-Response', Attr.ArapChallengeResponse, 'octets', { size: 8 }),
  d('Acct-Interim-Interval', Attr.AcctInterimInterval, 'integer'),
  d('Acct-Tunnel-Packets-Lost', Attr.AcctTunnelPacketsLost, 'integer'),
  d('NAS-Port-Id', Attr.NasPortId, 'text'),
  d('Framed-Pool', Attr.FramedPool, 'string'),
  d('Chargeable-User-Identity', Attr.ChargeableUserIdentity, 'octets'),
  d('Tunnel-Client-Auth-Id', Attr.TunnelClientAuthId, 'string', { tagged: true }),
  d('Tunnel-Server-Auth-Id', Attr.TunnelServerAuthId, 'string', { tagged: true }),
  d('NAS-IPv6-Address', Attr.NasIpv6Address, 'ipv6addr'),
  d('Framed-Interface-Id', Attr.FramedInterfaceId, 'ifid'),
  d('Framed-IPv6-Prefix', Attr.FramedIpv6Prefix, 'ipv6prefix'),
  d('Login-IPv6-Host', Attr.LoginIpv6Host, 'ipv6addr'),
  d('Framed-IPv6-Route', Attr.FramedIpv6Route, 'text'),
  d('Framed-IPv6-Pool', Attr.FramedIpv6Pool, 'string'),
  d('Error-Cause', Attr.ErrorCause, 'integer', { values: e(ErrorCause) }),
];

const MICROSOFT: readonly AttributeDefinition[] = [
  ms('MS-CHAP-Response', MsAttr.ChapResponse, 'octets', { size: 50 }),
  ms('MS-CHAP-Error', MsAttr.ChapError, 'string'),
  ms('MS-CHAP-CPW-1', MsAttr.ChapCpw1, 'octets', { size: 70 }),
  ms('MS-CHAP-CPW-2', MsAttr.ChapCpw2, 'octets', { size: 84 }),
  ms('MS-CHAP-LM-Enc-PW', MsAttr.ChapLmEncPw, 'octets'),
  ms('MS-CHAP-NT-Enc-PW', MsAttr.ChapNtEncPw, 'octets'),
  ms('MS-MPPE-Encryption-Policy', MsAttr.MppeEncryptionPolicy, 'integer', { values: e(MsMppeEncryptionPolicy) }),
  ms('MS-MPPE-Encryption-Types', MsAttr.MppeEncryptionTypes, 'integer', {
    values: { 'RC4-40bit-Allowed': MsMppeEncryptionTypes.Rc4_40, 'RC4-128bit-Allowed': MsMppeEncryptionTypes.Rc4_128, 'RC4-40or128-bit-Allowed': MsMppeEncryptionTypes.Rc4_40or128 },
  }),
  ms('MS-RAS-Vendor', MsAttr.RasVendor, 'integer'),
  ms('MS-CHAP-Domain', MsAttr.ChapDomain, 'string'),
  ms('MS-CHAP-Challenge', MsAttr.ChapChallenge, 'octets'),
  ms('MS-CHAP-MPPE-Keys', MsAttr.ChapMppeKeys, 'octets'), // 24 octets hidden as a User-Password: 32 on the wire
  ms('MS-BAP-Usage', MsAttr.BapUsage, 'integer'),
  ms('MS-Link-Utilization-Threshold', MsAttr.LinkUtilizationThreshold, 'integer'),
  ms('MS-Link-Drop-Time-Limit', MsAttr.LinkDropTimeLimit, 'integer'),
  ms('MS-MPPE-Send-Key', MsAttr.MppeSendKey, 'octets'), // hidden, RFC 2548 §2.4.2
  ms('MS-MPPE-Recv-Key', MsAttr.MppeRecvKey, 'octets'), // hidden, RFC 2548 §2.4.3
  ms('MS-RAS-Version', MsAttr.RasVersion, 'string'),
  ms('MS-Old-ARAP-Password', MsAttr.OldArapPassword, 'octets'),
  ms('MS-New-ARAP-Password', MsAttr.NewArapPassword, 'octets'),
  ms('MS-ARAP-PW-Change-Reason', MsAttr.ArapPasswordChangeReason, 'integer'),
  ms('MS-Filter', MsAttr.Filter, 'octets'),
  ms('MS-Acct-Auth-Type', MsAttr.AcctAuthType, 'integer'),
  ms('MS-Acct-EAP-Type', MsAttr.AcctEapType, 'integer'),
  ms('MS-CHAP2-Response', MsAttr.Chap2Response, 'octets', { size: 50 }),
  ms('MS-CHAP2-Success', MsAttr.Chap2Success, 'octets'),
  ms('MS-CHAP2-CPW', MsAttr.Chap2Cpw, 'octets', { size: 68 }),
  ms('MS-Primary-DNS-Server', MsAttr.PrimaryDnsServer, 'ipaddr'),
  ms('MS-Secondary-DNS-Server', MsAttr.SecondaryDnsServer, 'ipaddr'),
  ms('MS-Primary-NBNS-Server', MsAttr.PrimaryNbnsServer, 'ipaddr'),
  ms('MS-Secondary-NBNS-Server', MsAttr.SecondaryNbnsServer, 'ipaddr'),
];

const key = (type: number, vendor: number | undefined): number => (vendor ?? 0) * 256 + type;
const BY_CODE = new Map<number, AttributeDefinition>();
const BY_NAME = new Map<string, AttributeDefinition>();
for (const def of [...STANDARD, ...MICROSOFT]) {
  BY_CODE.set(key(def.type, def.vendor), def);
  BY_NAME.set(def.name.toLowerCase(), def);
}

/** The definition of a standard attribute (vendor undefined) or a vendor's sub-attribute. */
export const attributeByType = (type: number, vendor?: number): AttributeDefinition | undefined =>
  BY_CODE.get(key(type, vendor));

/** The definition named, case-insensitively as FreeRADIUS reads names. */
export const attributeByName = (name: string): AttributeDefinition | undefined => BY_NAME.get(name.toLowerCase());

/** RFC 2868 §3.1: which attributes carry a tag octet. */
export const isTagged = (type: number, vendor?: number): boolean => attributeByType(type, vendor)?.tagged === true;

/** The exact value size an attribute requires on the wire (after its tag, if any), or undefined. */
export const requiredValueSize = (def: AttributeDefinition): number | undefined =>
  def.size ?? FIXED_SIZE[def.valueType];

const normalize = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The number of an enumerated value by name, ignoring case and punctuation, so that
 * FreeRADIUS spellings ("Wireless-802.11", "IEEE-802", "VLAN") find ours.
 */
export const valueByName = (def: AttributeDefinition, name: string): number | undefined => {
  if (!def.values) return undefined;
  const want = normalize(name);
  for (const [k, v] of Object.entries(def.values)) if (normalize(k) === want) return v;
  return undefined;
};

/** The name of an enumerated value, or undefined. */
export const valueName = (def: AttributeDefinition, n: number): string | undefined => {
  if (!def.values) return undefined;
  for (const [k, v] of Object.entries(def.values)) if (v === n) return k;
  return undefined;
};

export type AttributeInput = string | number | Buffer;

const ipv4 = (s: string): Buffer => {
  if (isIP(s) !== 4) throw new RadiusEncodeError('BAD_VALUE', `not an IPv4 address: ${s}`);
  return Buffer.from(s.split('.').map(Number));
};

const ipv6 = (s: string): Buffer => {
  if (isIP(s) !== 6) throw new RadiusEncodeError('BAD_VALUE', `not an IPv6 address: ${s}`);
  const [head = '', tail] = s.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
};

/**
 * One attribute, by name, from a JavaScript value: numbers or enumerated names for
 * integers, dotted quads for ipaddr, text for strings, Buffers for anything.
 */
export function makeAttribute(name: string, value: AttributeInput, tag?: number): RadiusAttribute {
  const def = attributeByName(name);
  if (!def) throw new RadiusEncodeError('UNKNOWN_ATTRIBUTE', name);
  if (tag !== undefined && (!def.tagged || !Number.isInteger(tag) || tag < 0 || tag > MAX_TAG)) {
    throw new RadiusEncodeError('BAD_VALUE', `tag ${tag} on ${name}`);
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) bytes = value;
  else if (def.valueType === 'integer' || def.valueType === 'date') {
    const n = typeof value === 'number' ? value : (valueByName(def, value) ?? Number.NaN);
    // RFC 2868 §3.1: a tagged integer keeps only 24 bits after its tag octet.
    const max = def.tagged ? 0xffffff : 0xffffffff;
    if (!Number.isInteger(n) || n < 0 || n > max) throw new RadiusEncodeError('BAD_VALUE', `${name} = ${value}`);
    bytes = Buffer.alloc(4);
    bytes.writeUInt32BE(n);
  } else if (def.valueType === 'ipaddr') bytes = ipv4(String(value));
  else if (def.valueType === 'ipv6addr') bytes = ipv6(String(value));
  else bytes = Buffer.from(String(value), 'utf8');
  const attr: RadiusAttribute = { type: def.type, value: bytes };
  if (def.vendor !== undefined) attr.vendor = def.vendor;
  if (tag !== undefined) attr.tag = tag;
  return attr;
}

/** A decoded attribute's value as JavaScript: enumerated names, numbers, addresses, text or bytes. */
export function readAttribute(attr: RadiusAttribute): { name: string; value: string | number | Buffer } {
  const def = attributeByType(attr.type, attr.vendor);
  if (!def) return { name: attr.vendor === undefined ? `Attr-${attr.type}` : `Vendor-${attr.vendor}-Attr-${attr.type}`, value: attr.value };
  const v = attr.value;
  switch (def.valueType) {
    case 'integer':
    case 'date': {
      if (v.length !== 4) return { name: def.name, value: v };
      const n = v.readUInt32BE(0);
      return { name: def.name, value: valueName(def, n) ?? n };
    }
    case 'ipaddr':
      return { name: def.name, value: v.length === 4 ? [...v].join('.') : v };
    case 'ipv6addr': {
      if (v.length !== 16) return { name: def.name, value: v };
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(v.readUInt16BE(i).toString(16));
      return { name: def.name, value: groups.join(':') };
    }
    case 'string':
    case 'text':
      return { name: def.name, value: v.toString('utf8') };
    default:
      return { name: def.name, value: v };
  }
}
