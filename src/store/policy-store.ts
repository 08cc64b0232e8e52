// SQL behind the policy engine's storage interface. Each write is one transaction that
// also appends a 'policy' change row (ref "group:<name>" or "kind:<kind>") and an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import { AppError } from '../core/errors.js';
import { NAS_KINDS, type NasKind } from '../core/nas.js';
import { AUTH_METHODS, type AuthMethod, type GroupPolicy, type KindMethods, type PolicyStorage } from '../core/policy.js';
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
}
