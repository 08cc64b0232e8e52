// SQL behind the policy engine's storage interface. Each write is one transaction that
// also appends a 'policy' change row (ref "group:<name>" or "kind:<kind>") and an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import { NAS_KINDS, type NasKind } from '../core/nas.js';
import {
  AUTH_METHODS, type AuthMethod, type FactorSetting, type GroupPolicy, type KindFactors, type KindMethods, type PolicyStorage,
} from '../core/policy.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface GroupPolicyRow {
  group_name: string; vlan: string | null; session_timeout: number | null; filter_id: string | null;
  class: string | null; priority: number;
}

const toPolicy = (r: GroupPolicyRow): GroupPolicy => ({
  group: r.group_name, vlan: r.vlan, sessionTimeout: r.session_timeout, filterId: r.filter_id, class: r.class, priority: r.priority,
});

/** What an audit row records of a policy (the group is its target). */
const fields = (p: GroupPolicy): Omit<GroupPolicy, 'group'> => ({
  vlan: p.vlan, sessionTimeout: p.sessionTimeout, filterId: p.filterId, class: p.class, priority: p.priority,
});

/** A damaged row must not widen what a kind allows: unknown names are dropped, bad JSON allows nothing. */
function parseStoredMethods(text: string): AuthMethod[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return AUTH_METHODS.filter((m) => parsed.includes(m));
}

interface KindFactorsRow { kind: string; otp: string; tunnel_client_cert: string }

/** A damaged value reads as 'required': a bad row must not drop a second factor. */
const factor = (v: string): FactorSetting => (v === 'off' ? 'off' : 'required');

function toFactors(r: KindFactorsRow): KindFactors {
  if (!(NAS_KINDS as readonly string[]).includes(r.kind)) throw new AppError('INTERNAL', `unknown client kind "${r.kind}" in kind_factors`);
  return { kind: r.kind as NasKind, otp: factor(r.otp), tunnelClientCert: factor(r.tunnel_client_cert) };
}

export class SqlitePolicyStore implements PolicyStorage {
  private readonly changes: ChangeLog;
  private readonly upsert: Statement;
  private readonly remove: Statement;
  private readonly byGroup: Statement;
  private readonly allGroups: Statement;
  private readonly upsertKind: Statement;
  private readonly removeKind: Statement;
  private readonly byKind: Statement;
  private readonly allKinds: Statement;
  private readonly factorsOf: Statement;
  private readonly upsertFactors: Statement;
  private readonly removeFactors: Statement;
  private readonly allFactors: Statement;
  private readonly otpGroup: Statement;
  private readonly addOtpGroup: Statement;
  private readonly removeOtpGroup: Statement;
  private readonly allOtpGroups: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.upsert = db.prepare(`INSERT INTO group_policies (group_name, vlan, session_timeout, filter_id, class, priority)
      VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (group_name) DO UPDATE SET vlan = excluded.vlan,
      session_timeout = excluded.session_timeout, filter_id = excluded.filter_id, class = excluded.class, priority = excluded.priority`);
    this.remove = db.prepare('DELETE FROM group_policies WHERE group_name = ?');
    this.byGroup = db.prepare('SELECT * FROM group_policies WHERE group_name = ?');
    this.allGroups = db.prepare('SELECT * FROM group_policies ORDER BY priority, group_name');
    this.upsertKind = db.prepare('INSERT INTO kind_methods (kind, methods) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET methods = excluded.methods');
    this.removeKind = db.prepare('DELETE FROM kind_methods WHERE kind = ?');
    this.byKind = db.prepare('SELECT methods FROM kind_methods WHERE kind = ?');
    this.allKinds = db.prepare('SELECT kind, methods FROM kind_methods ORDER BY kind');
    this.factorsOf = db.prepare('SELECT * FROM kind_factors WHERE kind = ?');
    this.upsertFactors = db.prepare(`INSERT INTO kind_factors (kind, otp, tunnel_client_cert) VALUES (?, ?, ?)
      ON CONFLICT (kind) DO UPDATE SET otp = excluded.otp, tunnel_client_cert = excluded.tunnel_client_cert`);
    this.removeFactors = db.prepare('DELETE FROM kind_factors WHERE kind = ?');
    this.allFactors = db.prepare('SELECT * FROM kind_factors ORDER BY kind');
    this.otpGroup = db.prepare('SELECT group_name FROM group_otp WHERE group_name = ?');
    this.addOtpGroup = db.prepare('INSERT INTO group_otp (group_name) VALUES (?)');
    this.removeOtpGroup = db.prepare('DELETE FROM group_otp WHERE group_name = ?');
    this.allOtpGroups = db.prepare('SELECT group_name FROM group_otp ORDER BY group_name');
  }

  putGroupPolicy(p: GroupPolicy, by: Actor): void {
    this.db.transaction(() => {
      const before = this.byGroup.get(p.group) as GroupPolicyRow | undefined;
      // The first spelling of a group name is kept, as user_groups does.
      const name = before?.group_name ?? p.group;
      this.upsert.run(name, p.vlan, p.sessionTimeout, p.filterId, p.class, p.priority);
      this.changes.record('policy', `group:${name}`);
      this.changes.audit(by.actor, by.source, 'policy.set', name, {
        ...(before ? { before: fields(toPolicy(before)) } : {}), after: fields(p),
      });
    }).immediate();
  }

  deleteGroupPolicy(group: string, by: Actor): boolean {
    return this.db.transaction(() => {
      const row = this.byGroup.get(group) as GroupPolicyRow | undefined;
      if (!row) return false;
      this.remove.run(row.group_name);
      this.changes.record('policy', `group:${row.group_name}`);
      this.changes.audit(by.actor, by.source, 'policy.remove', row.group_name, { before: fields(toPolicy(row)) });
      return true;
    }).immediate();
  }

  findGroupPolicy(group: string): GroupPolicy | undefined {
    const row = this.byGroup.get(group) as GroupPolicyRow | undefined;
    return row && toPolicy(row);
  }

  listGroupPolicies(): GroupPolicy[] {
    return (this.allGroups.all() as GroupPolicyRow[]).map(toPolicy);
  }

  putKindMethods(kind: NasKind, methods: AuthMethod[] | undefined, by: Actor): void {
    this.db.transaction(() => {
      const row = this.byKind.get(kind) as { methods: string } | undefined;
      const before = row ? parseStoredMethods(row.methods) : 'default';
      if (methods) this.upsertKind.run(kind, JSON.stringify(methods));
      else this.removeKind.run(kind);
      this.changes.record('policy', `kind:${kind}`);
      this.changes.audit(by.actor, by.source, 'policy.methods', kind, { before, after: methods ?? 'default' });
    }).immediate();
  }

  listKindMethods(): KindMethods[] {
    return (this.allKinds.all() as { kind: string; methods: string }[]).map((r) => {
      if (!(NAS_KINDS as readonly string[]).includes(r.kind)) throw new AppError('INTERNAL', `unknown client kind "${r.kind}" in kind_methods`);
      return { kind: r.kind as NasKind, methods: parseStoredMethods(r.methods) };
    });
  }

  putKindFactors(kind: NasKind, change: Partial<Omit<KindFactors, 'kind'>>, by: Actor): KindFactors {
    return this.db.transaction(() => {
      const row = this.factorsOf.get(kind) as KindFactorsRow | undefined;
      const before: KindFactors = row ? toFactors(row) : { kind, otp: 'off', tunnelClientCert: 'off' };
      const after: KindFactors = { ...before, ...change, kind };
      if (after.otp === 'off' && after.tunnelClientCert === 'off') this.removeFactors.run(kind);
      else this.upsertFactors.run(kind, after.otp, after.tunnelClientCert);
      this.changes.record('policy', `kind:${kind}`);
      this.changes.audit(by.actor, by.source, 'policy.factors', kind, {
        before: { otp: before.otp, tunnelClientCert: before.tunnelClientCert },
        after: { otp: after.otp, tunnelClientCert: after.tunnelClientCert },
      });
      return after;
    }).immediate();
  }

  listKindFactors(): KindFactors[] {
    return (this.allFactors.all() as KindFactorsRow[]).map(toFactors);
  }

  setGroupOtp(group: string, required: boolean, by: Actor): boolean {
    return this.db.transaction(() => {
      const row = this.otpGroup.get(group) as { group_name: string } | undefined;
      if (Boolean(row) === required) return false;
      if (required) this.addOtpGroup.run(group);
      else this.removeOtpGroup.run(row!.group_name);
      const name = row?.group_name ?? group;
      this.changes.record('policy', `group-otp:${name}`);
      this.changes.audit(by.actor, by.source, 'policy.group-otp', name, { before: !required, after: required });
      return true;
    }).immediate();
  }

  listOtpGroups(): string[] {
    return (this.allOtpGroups.all() as { group_name: string }[]).map((r) => r.group_name);
  }
}
