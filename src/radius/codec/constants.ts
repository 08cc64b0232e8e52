// RADIUS protocol numbers: packet codes, attribute types, Microsoft vendor attributes
// and the enumerated values the server writes. Every number carries its RFC section.

/** Packet codes: RFC 2865 §3, RFC 2866 §3, RFC 5997 §2, RFC 5176 §2. */
export const Code = {
  AccessRequest: 1, // RFC 2865 §4.1
  AccessAccept: 2, // RFC 2865 §4.2
  AccessReject: 3, // RFC 2865 §4.3
  AccountingRequest: 4, // RFC 2866 §4.1
  AccountingResponse: 5, // RFC 2866 §4.2
  AccessChallenge: 11, // RFC 2865 §4.4
  StatusServer: 12, // RFC 5997 §2
  DisconnectRequest: 40, // RFC 5176 §2.1
  DisconnectAck: 41,
  DisconnectNak: 42,
  CoaRequest: 43, // RFC 5176 §2.2
  CoaAck: 44,
  CoaNak: 45,
} as const;
export type RadiusCode = (typeof Code)[keyof typeof Code];

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(Code));
export const isKnownCode = (n: number): n is RadiusCode => KNOWN_CODES.has(n);

/** Codes whose Authenticator is a Response Authenticator over the request's (RFC 2865 §3, RFC 2866 §4.2, RFC 5176 §2.3). */
const REPLY_CODES: ReadonlySet<number> = new Set([
  Code.AccessAccept, Code.AccessReject, Code.AccessChallenge, Code.AccountingResponse,
  Code.DisconnectAck, Code.DisconnectNak, Code.CoaAck, Code.CoaNak,
]);
export const isReplyCode = (code: number): boolean => REPLY_CODES.has(code);

/**
 * Requests whose Authenticator is MD5 over the packet with 16 zero octets in its place
 * (RFC 2866 §3 for accounting, RFC 5176 §2.3 for CoA and Disconnect).
 */
const SIGNED_REQUEST_CODES: ReadonlySet<number> = new Set([
  Code.AccountingRequest, Code.DisconnectRequest, Code.CoaRequest,
]);
export const isSignedRequestCode = (code: number): boolean => SIGNED_REQUEST_CODES.has(code);

/** Requests whose Authenticator is a random nonce chosen by the client (RFC 2865 §3, RFC 5997 §2). */
export const isRandomAuthenticatorCode = (code: number): boolean =>
  code === Code.AccessRequest || code === Code.StatusServer;

/** RFC 2865 §3. */
export const HEADER_LENGTH = 20;
export const MIN_PACKET_LENGTH = 20;
export const MAX_PACKET_LENGTH = 4096;
export const AUTHENTICATOR_LENGTH = 16;
/** RFC 2865 §5: one octet of Type, one of Length, at most 253 of value. */
export const ATTRIBUTE_HEADER_LENGTH = 2;
export const MAX_ATTRIBUTE_VALUE_LENGTH = 253;
/** RFC 2865 §5.26: Vendor-Id (4) then, in the recommended format, Vendor-Type (1) and Vendor-Length (1). */
export const VENDOR_ID_LENGTH = 4;
export const VSA_HEADER_LENGTH = 2;
export const MAX_VSA_VALUE_LENGTH = MAX_ATTRIBUTE_VALUE_LENGTH - VENDOR_ID_LENGTH - VSA_HEADER_LENGTH; // 247
/** RFC 3579 §3.2: HMAC-MD5 output. */
export const MESSAGE_AUTHENTICATOR_LENGTH = 16;

/** Attribute types (RFC 2865 §5, RFC 2866 §5, RFC 2867, RFC 2868 §3, RFC 2869 §5, RFC 3162, RFC 3579 §3, RFC 4372, RFC 5176 §3). */
export const Attr = {
  UserName: 1, // RFC 2865 §5.1
  UserPassword: 2, // RFC 2865 §5.2
  ChapPassword: 3, // RFC 2865 §5.3
  NasIpAddress: 4, // RFC 2865 §5.4
  NasPort: 5, // RFC 2865 §5.5
  ServiceType: 6, // RFC 2865 §5.6
  FramedProtocol: 7, // RFC 2865 §5.7
  FramedIpAddress: 8, // RFC 2865 §5.8
  FramedIpNetmask: 9, // RFC 2865 §5.9
  FramedRouting: 10, // RFC 2865 §5.10
  FilterId: 11, // RFC 2865 §5.11
  FramedMtu: 12, // RFC 2865 §5.12
  FramedCompression: 13, // RFC 2865 §5.13
  LoginIpHost: 14, // RFC 2865 §5.14
  LoginService: 15, // RFC 2865 §5.15
  LoginTcpPort: 16, // RFC 2865 §5.16
  ReplyMessage: 18, // RFC 2865 §5.18
  CallbackNumber: 19, // RFC 2865 §5.19
  CallbackId: 20, // RFC 2865 §5.20
  FramedRoute: 22, // RFC 2865 §5.22
  FramedIpxNetwork: 23, // RFC 2865 §5.23
  State: 24, // RFC 2865 §5.24
  Class: 25, // RFC 2865 §5.25
  VendorSpecific: 26, // RFC 2865 §5.26
  SessionTimeout: 27, // RFC 2865 §5.27
  IdleTimeout: 28, // RFC 2865 §5.28
  TerminationAction: 29, // RFC 2865 §5.29
  CalledStationId: 30, // RFC 2865 §5.30
  CallingStationId: 31, // RFC 2865 §5.31
  NasIdentifier: 32, // RFC 2865 §5.32
  ProxyState: 33, // RFC 2865 §5.33
  LoginLatService: 34, // RFC 2865 §5.34
  LoginLatNode: 35, // RFC 2865 §5.35
  LoginLatGroup: 36, // RFC 2865 §5.36
  FramedAppleTalkLink: 37, // RFC 2865 §5.37
  FramedAppleTalkNetwork: 38, // RFC 2865 §5.38
  FramedAppleTalkZone: 39, // RFC 2865 §5.39
  AcctStatusType: 40, // RFC 2866 §5.1
  AcctDelayTime: 41, // RFC 2866 §5.2
  AcctInputOctets: 42, // RFC 2866 §5.3
  AcctOutputOctets: 43, // RFC 2866 §5.4
  AcctSessionId: 44, // RFC 2866 §5.5
  AcctAuthentic: 45, // RFC 2866 §5.6
  AcctSessionTime: 46, // RFC 2866 §5.7
  AcctInputPackets: 47, // RFC 2866 §5.8
  AcctOutputPackets: 48, // RFC 2866 §5.9
  AcctTerminateCause: 49, // RFC 2866 §5.10
  AcctMultiSessionId: 50, // RFC 2866 §5.11
  AcctLinkCount: 51, // RFC 2866 §5.12
  AcctInputGigawords: 52, // RFC 2869 §5.1
  AcctOutputGigawords: 53, // RFC 2869 §5.2
  EventTimestamp: 55, // RFC 2869 §5.3
  ChapChallenge: 60, // RFC 2865 §5.40
  NasPortType: 61, // RFC 2865 §5.41
  PortLimit: 62, // RFC 2865 §5.42
  LoginLatPort: 63, // RFC 2865 §5.43
  TunnelType: 64, // RFC 2868 §3.1
  TunnelMediumType: 65, // RFC 2868 §3.2
  TunnelClientEndpoint: 66, // RFC 2868 §3.3
  TunnelServerEndpoint: 67, // RFC 2868 §3.4
  AcctTunnelConnection: 68, // RFC 2867 §4.1
  TunnelPassword: 69, // RFC 2868 §3.5
  ArapPassword: 70, // RFC 2869 §5.4
  ArapFeatures: 71, // RFC 2869 §5.5
  ArapZoneAccess: 72, // RFC 2869 §5.6
  ArapSecurity: 73, // RFC 2869 §5.7
  ArapSecurityData: 74, // RFC 2869 §5.8
  PasswordRetry: 75, // RFC 2869 §5.9
  Prompt: 76, // RFC 2869 §5.10
  ConnectInfo: 77, // RFC 2869 §5.11
  ConfigurationToken: 78, // RFC 2869 §5.12
  EapMessage: 79, // RFC 3579 §3.1
  MessageAuthenticator: 80, // RFC 3579 §3.2
  TunnelPrivateGroupId: 81, // RFC 2868 §3.6
  TunnelAssignmentId: 82, // RFC 2868 §3.7
  TunnelPreference: 83, // RFC 2868 §3.8
  ArapChallengeResponse: 84, // RFC 2869 §5.15
  AcctInterimInterval: 85, // RFC 2869 §5.16
  AcctTunnelPacketsLost: 86, // RFC 2867 §4.2
  NasPortId: 87, // RFC 2869 §5.17
  FramedPool: 88, // RFC 2869 §5.18
  ChargeableUserIdentity: 89, // RFC 4372 §2
  TunnelClientAuthId: 90, // RFC 2868 §3.9
  TunnelServerAuthId: 91, // RFC 2868 §3.10
  NasIpv6Address: 95, // RFC 3162 §2.1
  FramedInterfaceId: 96, // RFC 3162 §2.2
  FramedIpv6Prefix: 97, // RFC 3162 §2.3
  LoginIpv6Host: 98, // RFC 3162 §2.4
  FramedIpv6Route: 99, // RFC 3162 §2.5
  FramedIpv6Pool: 100, // RFC 3162 §2.6
  ErrorCause: 101, // RFC 5176 §3.5
} as const;
export type AttrType = (typeof Attr)[keyof typeof Attr];

/** RFC 2548 §2: Microsoft's SMI Network Management Private Enterprise Code. */
export const VENDOR_MICROSOFT = 311;

/** Microsoft vendor attribute types, RFC 2548 §2.1-§2.4. */
export const MsAttr = {
  ChapResponse: 1, // RFC 2548 §2.3.2
  ChapError: 2, // RFC 2548 §2.1.5
  ChapCpw1: 3, // RFC 2548 §2.1.3
  ChapCpw2: 4, // RFC 2548 §2.1.4
  ChapLmEncPw: 5, // RFC 2548 §2.1.6
  ChapNtEncPw: 6, // RFC 2548 §2.1.7
  MppeEncryptionPolicy: 7, // RFC 2548 §2.4.4
  MppeEncryptionTypes: 8, // RFC 2548 §2.4.5
  RasVendor: 9, // RFC 2548 §2.2.1
  ChapDomain: 10, // RFC 2548 §2.1.1
  ChapChallenge: 11, // RFC 2548 §2.1.2
  ChapMppeKeys: 12, // RFC 2548 §2.4.1
  BapUsage: 13, // RFC 2548 §2.2.2
  LinkUtilizationThreshold: 14, // RFC 2548 §2.2.3
  LinkDropTimeLimit: 15, // RFC 2548 §2.2.4
  MppeSendKey: 16, // RFC 2548 §2.4.2
  MppeRecvKey: 17, // RFC 2548 §2.4.3
  RasVersion: 18, // RFC 2548 §2.2.5
  OldArapPassword: 19, // RFC 2548 §2.2.6
  NewArapPassword: 20, // RFC 2548 §2.2.7
  ArapPasswordChangeReason: 21, // RFC 2548 §2.2.8
  Filter: 22, // RFC 2548 §2.2.9
  AcctAuthType: 23, // RFC 2548 §2.2.10
  AcctEapType: 24, // RFC 2548 §2.2.11
  Chap2Response: 25, // RFC 2548 §2.3.2
  Chap2Success: 26, // RFC 2548 §2.3.3
  Chap2Cpw: 27, // RFC 2548 §2.3.4
  PrimaryDnsServer: 28, // RFC 2548 §2.2.12
  SecondaryDnsServer: 29, // RFC 2548 §2.2.13
  PrimaryNbnsServer: 30, // RFC 2548 §2.2.14
  SecondaryNbnsServer: 31, // RFC 2548 §2.2.15
} as const;

/** RFC 2865 §5.6. */
export const ServiceType = {
  Login: 1, Framed: 2, CallbackLogin: 3, CallbackFramed: 4, Outbound: 5, Administrative: 6,
  NasPrompt: 7, AuthenticateOnly: 8, CallbackNasPrompt: 9, CallCheck: 10, CallbackAdministrative: 11,
  AuthorizeOnly: 17, // RFC 5176 §3.1
} as const;

/** RFC 2865 §5.7. */
export const FramedProtocol = { Ppp: 1, Slip: 2, Arap: 3, Gandalf: 4, Xylogics: 5, X75: 6 } as const;

/** RFC 2865 §5.41, RFC 3580 §3.3 (Ethernet, Wireless-802.11). */
export const NasPortType = {
  Async: 0, Sync: 1, IsdnSync: 2, IsdnAsyncV120: 3, IsdnAsyncV110: 4, Virtual: 5, Piafs: 6,
  HdlcClearChannel: 7, X25: 8, X75: 9, G3Fax: 10, Sdsl: 11, AdslCap: 12, AdslDmt: 13, Idsl: 14,
  Ethernet: 15, Xdsl: 16, Cable: 17, WirelessOther: 18, Wireless80211: 19,
} as const;

/** RFC 2865 §5.29; RFC 3580 §3.13 uses RADIUS-Request for re-authentication. */
export const TerminationAction = { Default: 0, RadiusRequest: 1 } as const;

/** RFC 2868 §3.1; RFC 3580 §3.31 adds VLAN (13). */
export const TunnelType = {
  Pptp: 1, L2f: 2, L2tp: 3, Atmp: 4, Vtp: 5, Ah: 6, IpIp: 7, MinIpIp: 8, Esp: 9, Gre: 10, Dvs: 11,
  IpInIpTunneling: 12, Vlan: 13,
} as const;

/** RFC 2868 §3.2; RFC 3580 §3.31 uses IEEE-802 (6) for VLANs. */
export const TunnelMediumType = {
  Ipv4: 1, Ipv6: 2, Nsap: 3, Hdlc: 4, Bbn1822: 5, Ieee802: 6, E163: 7, E164: 8, F69: 9, X121: 10,
  Ipx: 11, Appletalk: 12, DecnetIv: 13, BanyanVines: 14, E164Nsap: 15,
} as const;

/** RFC 2866 §5.1; RFC 2867 §3 adds the tunnel values. */
export const AcctStatusType = {
  Start: 1, Stop: 2, InterimUpdate: 3, AccountingOn: 7, AccountingOff: 8,
  TunnelStart: 9, TunnelStop: 10, TunnelReject: 11, TunnelLinkStart: 12, TunnelLinkStop: 13,
  TunnelLinkReject: 14, Failed: 15,
} as const;

/** RFC 2866 §5.6. */
export const AcctAuthentic = { Radius: 1, Local: 2, Remote: 3, Diameter: 4 } as const;

/** RFC 2866 §5.10; RFC 3580 §3.22 reuses them for IEEE 802.1X. */
export const AcctTerminateCause = {
  UserRequest: 1, LostCarrier: 2, LostService: 3, IdleTimeout: 4, SessionTimeout: 5, AdminReset: 6,
  AdminReboot: 7, PortError: 8, NasError: 9, NasRequest: 10, NasReboot: 11, PortUnneeded: 12,
  PortPreempted: 13, PortSuspended: 14, ServiceUnavailable: 15, Callback: 16, UserError: 17,
  HostRequest: 18, SupplicantRestart: 19, ReauthenticationFailure: 20, PortReinitialized: 21,
  PortAdministrativelyDisabled: 22,
} as const;

/** RFC 5176 §3.5. */
export const ErrorCause = {
  ResidualSessionContextRemoved: 201, InvalidEapPacket: 202, UnsupportedAttribute: 401,
  MissingAttribute: 402, NasIdentificationMismatch: 403, InvalidRequest: 404, UnsupportedService: 405,
  UnsupportedExtension: 406, InvalidAttributeValue: 407, AdministrativelyProhibited: 501,
  RequestNotRoutable: 502, SessionContextNotFound: 503, SessionContextNotRemovable: 504,
  OtherProxyProcessingError: 505, ResourcesUnavailable: 506, RequestInitiated: 507,
  MultipleSessionSelectionUnsupported: 508,
} as const;

/** RFC 2548 §2.4.4. */
export const MsMppeEncryptionPolicy = { EncryptionAllowed: 1, EncryptionRequired: 2 } as const;

/** RFC 2548 §2.4.5: a bit mask. */
export const MsMppeEncryptionTypes = { Rc4_40: 1, Rc4_128: 2, Rc4_40or128: 6 } as const;

/** RFC 2868 §3.1: tag values 0x01-0x1F name a tunnel; 0x00 means none. */
export const MAX_TAG = 0x1f;
