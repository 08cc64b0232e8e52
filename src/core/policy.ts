// Authorization policy: per group, what an accepted user gets (VLAN, Session-Timeout,
// Filter-Id, Class); per client kind, which authentication methods are allowed. The
// engine holds a snapshot in memory (the daemon reloads it from the change feed) and
// returns an outcome; radius/authorize.ts turns that outcome into reply attributes.
//
// Several groups: a user in more than one group with a policy gets the policy of ONE
// group, the one with the lowest priority number; on equal priorities the group whose
// name sorts first (case-insensitively) wins. Policies are not merged attribute by
// attribute, so what a user gets is always exactly one group's policy, as `policy show`
// lists it.
import type { Actor } from './actor.js';
import { AppError } from './errors.js';
import { NAS_KINDS, type NasKind } from './nas.js';
import { validateGroupName } from './users.js';

/** 'mab': MAC authentication bypass for registered devices (radius/mab.ts). */
export const AUTH_METHODS = ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** RFC 3580 §3.31 / IEEE 802.1Q: VLAN IDs 0 and 4095 are reserved. */
export const VLAN_ID_MIN = 1;
export const VLAN_ID_MAX = 4094;
/** Access points that take VLAN names (Cisco, Aruba) keep them to 32 characters. */
export const VLAN_NAME_MAX = 32;
export const SESSION_TIMEOUT_MIN = 60;
export const SESSION_TIMEOUT_MAX = 7 * 86_400;
export const PRIORITY_DEFAULT = 100;
export const PRIORITY_MAX = 1_000_000;
/** RFC 2865 §5: an attribute value holds at most 253 octets. */
export const ATTRIBUTE_TEXT_MAX = 253;

const VLAN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const CONTROL_CHARS = /\p{Cc}/u;

export interface GroupPolicy {
  group: string;
  /** A VLAN ID ("42") or a VLAN name, sent as Tunnel-Private-Group-Id. */
  vlan: string | null;
  sessionTimeout: number | null;
  filterId: string | null;
  class: string | null;
  /** Lower wins when a user is in several groups with policies. */
  priority: number;
}

/** A client kind's allowed methods; a kind without a row allows every method. */
export interface KindMethods {
  kind: NasKind;
  methods: AuthMethod[];
}

/** A second factor a client kind can require (issue 6). */
export const FACTOR_SETTINGS = ['off', 'required'] as const;
export type FactorSetting = (typeof FACTOR_SETTINGS)[number];

/**
 * A client kind's second factors; a kind without a row requires neither.
 * otp: PAP (and TTLS-PAP) need a one-time code. tunnelClientCert: PEAP and TTLS need a
 * client certificate in the outer TLS handshake, belonging to the inner identity.
 */
export interface KindFactors {
  kind: NasKind;
  otp: FactorSetting;
  tunnelClientCert: FactorSetting;
}

/** What the policy engine needs from storage; store/policy-store.ts implements it. */
export interface PolicyStorage {
  /** Insert or replace, in one transaction with a 'policy' change row and an audit row. */
  putGroupPolicy(policy: GroupPolicy, by: Actor): void;
  /** Returns false when the group had no policy. */
  deleteGroupPolicy(group: string, by: Actor): boolean;
  /** Case-insensitive. */
  findGroupPolicy(group: string): GroupPolicy | undefined;
  listGroupPolicies(): GroupPolicy[];
  /** `methods` undefined: back to the default (all allowed). */
  putKindMethods(kind: NasKind, methods: AuthMethod[] | undefined, by: Actor): void;
  listKindMethods(): KindMethods[];
  /** Only the fields given change; a row back at off/off is removed. */
  putKindFactors(kind: NasKind, change: Partial<Omit<KindFactors, 'kind'>>, by: Actor): KindFactors;
  listKindFactors(): KindFactors[];
  /** Returns false when nothing changed (already required / not required). */
  setGroupOtp(group: string, required: boolean, by: Actor): boolean;
  listOtpGroups(): string[];
}

/** What an accepted request gets; radius/authorize.ts encodes it. */
export interface Authorization {
  /** The group whose policy applies, for the log. */
  group?: string;
  vlan?: string;
  sessionTimeout?: number;
  filterId?: string;
  class?: string;
}

export const METHOD_NOT_ALLOWED = 'method not allowed for this client kind';

export type PolicyDecision =
  | { outcome: 'accept'; attributes: Authorization }
  | { outcome: 'reject'; reason: typeof METHOD_NOT_ALLOWED };

export interface PolicySnapshot {
  groups: GroupPolicy[];
  methods: KindMethods[];
  /** Kinds with a second factor required (absent: none). */
  factors?: KindFactors[];
  /** Groups whose members need a one-time code on every kind (absent: none). */
  otpGroups?: string[];
}

/** A VLAN as it is stored and sent: an ID in canonical digits, or a name. */
export function normalizeVlan(text: string): string {
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    if (id < VLAN_ID_MIN || id > VLAN_ID_MAX) throw new AppError('POLICY_INVALID', `a VLAN ID is ${VLAN_ID_MIN} to ${VLAN_ID_MAX}, not ${text}`);
    return String(id);
  }
  if (text.length > VLAN_NAME_MAX || !VLAN_NAME.test(text)) {
    throw new AppError('POLICY_INVALID', `a VLAN is an ID (${VLAN_ID_MIN} to ${VLAN_ID_MAX}) or a name of 1 to ${VLAN_NAME_MAX} letters, digits, dots, dashes or underscores, not "${text}"`);
  }
  return text;
}

export function validateSessionTimeout(seconds: number): void {
  if (!Number.isInteger(seconds) || seconds < SESSION_TIMEOUT_MIN || seconds > SESSION_TIMEOUT_MAX) {
    throw new AppError('POLICY_INVALID', `a session timeout is ${SESSION_TIMEOUT_MIN} to ${SESSION_TIMEOUT_MAX} seconds (7 days), not ${seconds}`);
  }
}

export function validatePriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > PRIORITY_MAX) {
    throw new AppError('POLICY_INVALID', `a priority is a whole number from 0 to ${PRIORITY_MAX}, not ${priority}`);
  }
}

/** Filter-Id and Class: text that fits one attribute, without control characters. */
export function validateAttributeText(what: string, text: string): void {
  const n = Buffer.byteLength(text, 'utf8');
  if (n < 1 || n > ATTRIBUTE_TEXT_MAX || CONTROL_CHARS.test(text)) {
    throw new AppError('POLICY_INVALID', `${what} has 1 to ${ATTRIBUTE_TEXT_MAX} bytes and no control characters`);
  }
}

/** Unknown names are refused; duplicates are dropped; the order is AUTH_METHODS'. */
export function parseMethods(names: readonly string[]): AuthMethod[] {
  const wanted = new Set(names.map((n) => n.trim().toLowerCase()).filter((n) => n !== ''));
  for (const n of wanted) {
    if (!(AUTH_METHODS as readonly string[]).includes(n)) {
      throw new AppError('POLICY_INVALID', `unknown method "${n}": the methods are ${AUTH_METHODS.join(', ')}`);
    }
  }
  if (wanted.size === 0) throw new AppError('POLICY_INVALID', `name at least one method of ${AUTH_METHODS.join(', ')}`);
  return AUTH_METHODS.filter((m) => wanted.has(m));
}

export interface GroupPolicyInput {
  group: string;
  vlan?: string;
  sessionTimeout?: number;
  filterId?: string;
  class?: string;
  priority?: number;
  /** Fields to clear on an existing policy. */
  unset?: readonly ('vlan' | 'sessionTimeout' | 'filterId' | 'class')[];
}

/** The policy service: writes and lists policies over a PolicyStorage (the CLI, later the console). */
export class PolicyService {
  constructor(private readonly deps: { storage: PolicyStorage }) {}

  /**
   * Creates a group's policy or changes the fields given, keeping the others. A policy
   * that would set nothing is refused.
   */
  set(input: GroupPolicyInput, by: Actor): GroupPolicy {
    validateGroupName(input.group);
    const existing = this.deps.storage.findGroupPolicy(input.group);
    const next: GroupPolicy = existing ? { ...existing } : {
      group: input.group, vlan: null, sessionTimeout: null, filterId: null, class: null, priority: PRIORITY_DEFAULT,
    };
    for (const field of input.unset ?? []) next[field] = null;
    if (input.vlan !== undefined) next.vlan = normalizeVlan(input.vlan);
    if (input.sessionTimeout !== undefined) {
      validateSessionTimeout(input.sessionTimeout);
      next.sessionTimeout = input.sessionTimeout;
    }
    if (input.filterId !== undefined) {
      validateAttributeText('a filter ID', input.filterId);
      next.filterId = input.filterId;
    }
    if (input.class !== undefined) {
      validateAttributeText('a class', input.class);
      next.class = input.class;
    }
    if (input.priority !== undefined) {
      validatePriority(input.priority);
      next.priority = input.priority;
    }
    if (next.vlan === null && next.sessionTimeout === null && next.filterId === null && next.class === null) {
      throw new AppError('POLICY_INVALID', `the policy of group "${input.group}" would set nothing: give --vlan, --session-timeout, --filter-id or --class (or remove it)`);
    }
    this.deps.storage.putGroupPolicy(next, by);
    return this.deps.storage.findGroupPolicy(input.group) ?? next;
  }

  remove(group: string, by: Actor): void {
    if (!this.deps.storage.deleteGroupPolicy(group, by)) throw new AppError('POLICY_NOT_FOUND', `group "${group}" has no policy`);
  }

  /** `methods` undefined: every method allowed again (the default). */
  setMethods(kind: NasKind, methods: AuthMethod[] | undefined, by: Actor): void {
    if (!NAS_KINDS.includes(kind)) throw new AppError('POLICY_INVALID', `the kind must be one of ${NAS_KINDS.join(', ')}`);
    this.deps.storage.putKindMethods(kind, methods && parseMethods(methods), by);
  }

  /** Everything the engine holds, read once. */
  load(): PolicySnapshot {
    const s = this.deps.storage;
    return { groups: s.listGroupPolicies(), methods: s.listKindMethods(), factors: s.listKindFactors(), otpGroups: s.listOtpGroups() };
  }

  /** Sets one or both second factors of a client kind; the others stay as they are. */
  setFactors(kind: NasKind, change: { otp?: FactorSetting; tunnelClientCert?: FactorSetting }, by: Actor): KindFactors {
    if (!NAS_KINDS.includes(kind)) throw new AppError('POLICY_INVALID', `the kind must be one of ${NAS_KINDS.join(', ')}`);
    for (const v of [change.otp, change.tunnelClientCert]) {
      if (v !== undefined && !FACTOR_SETTINGS.includes(v)) throw new AppError('POLICY_INVALID', `a second factor is ${FACTOR_SETTINGS.join(' or ')}, not "${String(v)}"`);
    }
    if (change.otp === undefined && change.tunnelClientCert === undefined) throw new AppError('POLICY_INVALID', 'give otp or tunnelClientCert');
    return this.deps.storage.putKindFactors(kind, change, by);
  }

  /** Members of `group` need a one-time code (PAP) on every client kind, or no longer. */
  setGroupOtp(group: string, required: boolean, by: Actor): void {
    validateGroupName(group);
    this.deps.storage.setGroupOtp(group, required, by);
  }

  /** The second factors of every kind, defaults (off) included. */
  factorsByKind(): Record<NasKind, KindFactors> {
    return factorsByKind(this.deps.storage.listKindFactors());
  }

  /** The methods each kind allows, defaults included. */
  methodsByKind(): Record<NasKind, AuthMethod[]> {
    return methodsByKind(this.deps.storage.listKindMethods());
  }
}

function methodsByKind(rows: readonly KindMethods[]): Record<NasKind, AuthMethod[]> {
  const out = Object.fromEntries(NAS_KINDS.map((k) => [k, [...AUTH_METHODS]])) as Record<NasKind, AuthMethod[]>;
  for (const r of rows) out[r.kind] = [...r.methods];
  return out;
}

function factorsByKind(rows: readonly KindFactors[]): Record<NasKind, KindFactors> {
  const out = Object.fromEntries(NAS_KINDS.map((k) => [k, { kind: k, otp: 'off', tunnelClientCert: 'off' }])) as Record<NasKind, KindFactors>;
  for (const r of rows) out[r.kind] = { ...r };
  return out;
}

/** Lowest priority first, then group name (case-insensitive): the order `decide` picks in. */
export function comparePolicies(a: GroupPolicy, b: GroupPolicy): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const x = a.group.toLowerCase();
  const y = b.group.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The in-memory engine the RADIUS hot path asks; `replace` swaps in a new snapshot. */
export class PolicyEngine {
  private byGroup = new Map<string, GroupPolicy>();
  private allowed = new Map<NasKind, ReadonlySet<AuthMethod>>();
  private factors = factorsByKind([]);
  private otpGroups = new Set<string>();

  constructor(snapshot: PolicySnapshot = { groups: [], methods: [] }) {
    this.replace(snapshot);
  }

  replace(snapshot: PolicySnapshot): void {
    this.byGroup = new Map(snapshot.groups.map((g) => [g.group.toLowerCase(), g]));
    const by = methodsByKind(snapshot.methods);
    this.allowed = new Map(NAS_KINDS.map((k) => [k, new Set(by[k])]));
    this.factors = factorsByKind(snapshot.factors ?? []);
    this.otpGroups = new Set((snapshot.otpGroups ?? []).map((g) => g.toLowerCase()));
  }

  /** PEAP/TTLS from this kind of client need a client certificate in the outer TLS handshake. */
  tunnelClientCertRequired(kind: NasKind): boolean {
    return this.factors[kind]?.tunnelClientCert === 'required';
  }

  /** A password (PAP, TTLS-PAP) from this kind of client, for a member of these groups, needs a one-time code. */
  otpRequired(kind: NasKind, groups: readonly string[]): boolean {
    if (this.factors[kind]?.otp === 'required') return true;
    return groups.some((g) => this.otpGroups.has(g.toLowerCase()));
  }

  methodAllowed(kind: NasKind, method: AuthMethod): boolean {
    return this.allowed.get(kind)?.has(method) ?? true;
  }

  /** The policy that applies to a member of these groups, or undefined when none has one. */
  policyFor(groups: readonly string[]): GroupPolicy | undefined {
    let best: GroupPolicy | undefined;
    for (const g of groups) {
      const p = this.byGroup.get(g.toLowerCase());
      if (p && (!best || comparePolicies(p, best) < 0)) best = p;
    }
    return best;
  }

  decide(groups: readonly string[], kind: NasKind, method: AuthMethod): PolicyDecision {
    if (!this.methodAllowed(kind, method)) return { outcome: 'reject', reason: METHOD_NOT_ALLOWED };
    const p = this.policyFor(groups);
    if (!p) return { outcome: 'accept', attributes: {} };
    return {
      outcome: 'accept',
      attributes: {
        group: p.group,
        ...(p.vlan !== null ? { vlan: p.vlan } : {}),
        ...(p.sessionTimeout !== null ? { sessionTimeout: p.sessionTimeout } : {}),
        ...(p.filterId !== null ? { filterId: p.filterId } : {}),
        ...(p.class !== null ? { class: p.class } : {}),
      },
    };
  }
}
