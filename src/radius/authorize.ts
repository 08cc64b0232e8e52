// From a policy decision to reply attributes: the one place where an Access-Accept gets
// its authorization (VLAN per RFC 3580 §3.31 and RFC 2868 §3.1-§3.6, Session-Timeout
// RFC 2865 §5.27, Filter-Id §5.11, Class §5.25), and where a method the client's kind
// does not allow turns an accept into a reject. Every accept path of the RADIUS engine
// (PAP, MS-CHAPv2, EAP-TLS, and PEAP/TTLS through the EAP result) goes through
// `authorizeAccess`.
import {
  AUTH_METHODS, METHOD_NOT_ALLOWED, type AuthMethod, type Authorization, type PolicyDecision,
} from '../core/policy.js';
import type { NasKind } from '../core/nas.js';
import { TunnelMediumType, TunnelType, makeAttribute, type RadiusAttribute } from './codec/index.js';

/** What the RADIUS engine needs from the policy engine (core/policy.ts PolicyEngine fits). */
export interface AccessPolicy {
  decide(groups: readonly string[], kind: NasKind, method: AuthMethod): PolicyDecision;
  methodAllowed(kind: NasKind, method: AuthMethod): boolean;
}

export const EAP_METHODS: readonly AuthMethod[] = ['eap-tls', 'peap', 'ttls'];

export interface AttributeOptions {
  /**
   * RFC 2868 §3.1 tag for the three tunnel attributes. Undefined (the default) sends them
   * untagged as FreeRADIUS does unless told otherwise: tag octet 0x00 on the two integers
   * (which always carry one) and no tag octet on Tunnel-Private-Group-Id.
   */
  tunnelTag?: number;
}

/** The reply attributes of an authorization, in a fixed order. */
export function authorizationAttributes(a: Authorization, options: AttributeOptions = {}): RadiusAttribute[] {
  const out: RadiusAttribute[] = [];
  const tag = options.tunnelTag;
  if (a.vlan !== undefined) {
    out.push(
      makeAttribute('Tunnel-Type', TunnelType.Vlan, tag),
      makeAttribute('Tunnel-Medium-Type', TunnelMediumType.Ieee802, tag),
      makeAttribute('Tunnel-Private-Group-Id', a.vlan, tag),
    );
  }
  if (a.sessionTimeout !== undefined) out.push(makeAttribute('Session-Timeout', a.sessionTimeout));
  if (a.filterId !== undefined) out.push(makeAttribute('Filter-Id', a.filterId));
  if (a.class !== undefined) out.push(makeAttribute('Class', Buffer.from(a.class, 'utf8')));
  return out;
}

/** The policy's method name for what an EAP result reports in `details.method` ("eap-tls", "peap-mschapv2", "ttls-pap", ...). */
export function eapMethodOf(name: string | undefined): AuthMethod | undefined {
  const n = name?.toLowerCase();
  if (!n) return undefined;
  if (n === 'eap-tls' || n === 'tls') return 'eap-tls';
  if (n.startsWith('peap')) return 'peap';
  if (n.startsWith('ttls') || n.startsWith('eap-ttls')) return 'ttls';
  return undefined;
}

/** Whether any EAP method is allowed for the kind: if none, an EAP conversation is refused at its first packet. */
export const anyEapMethodAllowed = (policy: AccessPolicy, kind: NasKind): boolean =>
  EAP_METHODS.some((m) => policy.methodAllowed(kind, m));

export type AccessAuthorization =
  | { outcome: 'accept'; attributes: RadiusAttribute[]; group?: string }
  | { outcome: 'reject'; reason: typeof METHOD_NOT_ALLOWED };

/**
 * The authorization of an authenticated request: PEAP and TTLS call this too, with the
 * outer method ('peap', 'ttls'), whatever ran inside the tunnel. A method the engine
 * cannot name is allowed only where every method is.
 */
export function authorizeAccess(policy: AccessPolicy, request: {
  kind: NasKind; method: AuthMethod | undefined; groups: readonly string[];
}, options?: AttributeOptions): AccessAuthorization {
  if (!request.method) {
    const all = AUTH_METHODS.every((m) => policy.methodAllowed(request.kind, m));
    if (!all) return { outcome: 'reject', reason: METHOD_NOT_ALLOWED };
  }
  const d = policy.decide(request.groups, request.kind, request.method ?? 'pap');
  if (d.outcome === 'reject') return d;
  return {
    outcome: 'accept', attributes: authorizationAttributes(d.attributes, options),
    ...(d.attributes.group !== undefined ? { group: d.attributes.group } : {}),
  };
}
