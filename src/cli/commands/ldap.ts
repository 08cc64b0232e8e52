// `authbox ldap add|list|test|remove|sync|runs`: LDAP / Active Directory sources and the
// user sync. The bind password is never printed; `ldap sync --dry-run` shows the plan
// and changes nothing but the run record.
import { nudgeDaemon, yieldToRadius } from '../../daemon-process.js';
import { parseMap, type LdapSourceRecord, type SyncRunRecord } from '../../ldap-sync/source.js';
import { PRESETS } from '../../ldap-sync/presets.js';
import type { SyncResult } from '../../ldap-sync/sync.js';
import { ldapContext, openPkiAt, type LdapContext } from '../../main.js';
import { intOption, list, oneOf, str, UsageError, type CommandSpec, type Values } from '../args.js';
import { cliActor, DATA_OPTION } from '../common.js';

async function withLdap<T>(values: Values, fn: (ctx: LdapContext) => Promise<T> | T): Promise<T> {
  const pki = openPkiAt(str(values, 'data')!);
  try {
    return await fn(ldapContext(pki));
  } finally {
    pki.close();
  }
}

const NAME_OPTION = { type: 'string', required: true, arg: 'NAME', help: 'the source' } as const;

function share(values: Values): number | undefined {
  const v = str(values, 'max-disable-percent');
  if (v === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) > 100) throw new UsageError(`--max-disable-percent must be a number from 0 to 100, not "${v}"`);
  return Number(v) / 100;
}

export const ldapAddCommand: CommandSpec = {
  name: 'ldap add',
  summary: 'add an LDAP or Active Directory source to sync users from',
  options: {
    data: DATA_OPTION,
    name: { type: 'string', required: true, arg: 'NAME', help: 'a name for the source' },
    url: { type: 'string', required: true, arg: 'URL', help: 'ldap://HOST:PORT or ldaps://HOST:PORT' },
    starttls: { type: 'boolean', help: 'upgrade an ldap:// connection with StartTLS' },
    'ca-file': { type: 'string', arg: 'FILE', help: 'PEM CA certificate(s) the server certificate must chain to (default: the system CAs)' },
    'bind-dn': { type: 'string', required: true, arg: 'DN', help: 'the account authbox binds as to read users' },
    'bind-password': { type: 'string', required: true, arg: 'PW', help: 'its password (kept sealed; visible in the process list while this runs)' },
    'base-dn': { type: 'string', required: true, arg: 'DN', help: 'where users are searched' },
    'user-filter': { type: 'string', arg: 'FILTER', help: 'which entries are users (default per preset)' },
    'group-base-dn': { type: 'string', arg: 'DN', help: 'where groups are searched (openldap: group entries; ad: groups changed since the last run; default the base DN)' },
    preset: { type: 'string', arg: PRESETS.join('|'), help: 'attribute conventions (default openldap)' },
    map: { type: 'string', multiple: true, arg: 'FIELD=ATTR', help: 'override one attribute: username, upn, mail, displayName, groups, disabled, accountExpires, remoteId, changeMarker' },
    'schedule-minutes': { type: 'string', arg: 'N', help: 'sync every N minutes when the daemon runs (default 15)' },
    'max-disable-percent': { type: 'string', arg: 'P', help: 'stop a run that would disable more than P% of synced users (default 10)' },
    'cert-policy': { type: 'string', arg: 'keep|revoke', help: "a disabled user's certificates: keep, or revoke (affiliationChanged) (default keep)" },
  },
  run: (values, io) => withLdap(values, (ctx) => {
    const preset = oneOf(values, 'preset', PRESETS);
    const certPolicy = oneOf(values, 'cert-policy', ['keep', 'revoke'] as const);
    const scheduleMinutes = intOption(values, 'schedule-minutes');
    const maxDisableShare = share(values);
    const caFile = str(values, 'ca-file');
    const userFilter = str(values, 'user-filter');
    const groupBaseDn = str(values, 'group-base-dn');
    const s = ctx.sources.add({
      name: str(values, 'name')!, url: str(values, 'url')!, starttls: values.starttls === true,
      bindDn: str(values, 'bind-dn')!, bindPassword: str(values, 'bind-password')!, baseDn: str(values, 'base-dn')!,
      map: parseMap(list(values, 'map')),
      ...(caFile !== undefined ? { caFile } : {}), ...(userFilter !== undefined ? { userFilter } : {}),
      ...(groupBaseDn !== undefined ? { groupBaseDn } : {}), ...(preset ? { preset } : {}), ...(certPolicy ? { certPolicy } : {}),
      ...(scheduleMinutes !== undefined ? { scheduleMinutes } : {}), ...(maxDisableShare !== undefined ? { maxDisableShare } : {}),
    }, cliActor());
    nudgeDaemon(ctx.pki.config.dataDir);
    io.out(`added LDAP source "${s.name}" (${s.preset}, ${s.url}${s.starttls ? ', StartTLS' : ''}); try it with: authbox ldap test --name ${s.name}\n`);
    if (s.url.startsWith('ldap:') && !s.starttls) io.err('warning: ldap:// without --starttls sends the bind password and users\' passwords in clear; use ldaps:// or --starttls outside a test lab\n');
  }),
};

/** What `ldap list` shows: never the bind password, sealed or not. */
function describeSource(s: LdapSourceRecord): object {
  return {
    id: s.id, name: s.name, url: s.url, starttls: s.starttls, ca: s.caPem !== null, bindDn: s.bindDn, baseDn: s.baseDn,
    userFilter: s.userFilter, groupBaseDn: s.groupBaseDn, preset: s.preset, map: s.attributeMap, scheduleMinutes: s.scheduleMinutes,
    maxDisablePercent: Math.round(s.maxDisableShare * 1000) / 10, certPolicy: s.certPolicy, watermark: s.watermark,
    lastFullRun: s.lastFullAt === null ? null : new Date(s.lastFullAt).toISOString(), createdAt: new Date(s.createdAt).toISOString(),
  };
}

export const ldapListCommand: CommandSpec = {
  name: 'ldap list',
  summary: 'list LDAP sources (never their bind passwords)',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'one JSON array' } },
  run: (values, io) => withLdap(values, (ctx) => {
    const all = ctx.sources.list();
    if (values.json === true) {
      io.out(JSON.stringify(all.map(describeSource), null, 2) + '\n');
      return;
    }
    if (all.length === 0) {
      io.out('no LDAP sources\n');
      return;
    }
    const w = Math.max(4, ...all.map((s) => s.name.length)) + 2;
    io.out(`${'NAME'.padEnd(w)}${'PRESET'.padEnd(10)}${'EVERY'.padEnd(8)}URL\n`);
    for (const s of all) io.out(`${s.name.padEnd(w)}${s.preset.padEnd(10)}${`${s.scheduleMinutes}m`.padEnd(8)}${s.url}${s.starttls ? ' (StartTLS)' : ''}  base ${s.baseDn}\n`);
  }),
};

export const ldapTestCommand: CommandSpec = {
  name: 'ldap test',
  summary: 'connect to a source, bind, and count the users its filter matches',
  options: { data: DATA_OPTION, name: NAME_OPTION },
  run: (values, io) => withLdap(values, async (ctx) => {
    const r = await ctx.sync.test(str(values, 'name')!);
    io.out(`connected to ${r.url} and bound; the user filter matches ${r.count} entries\n`);
  }),
};

export const ldapRemoveCommand: CommandSpec = {
  name: 'ldap remove',
  summary: 'remove a source and its run history; its users stay, no longer synced',
  options: { data: DATA_OPTION, name: NAME_OPTION },
  run: (values, io) => withLdap(values, (ctx) => {
    const s = ctx.sources.get(str(values, 'name')!);
    ctx.sources.remove(s.name, cliActor());
    nudgeDaemon(ctx.pki.config.dataDir);
    io.out(`removed LDAP source "${s.name}"; its users are kept as they are\n`);
  }),
};

function describeResult(r: SyncResult): object {
  return {
    source: r.source, mode: r.mode, dryRun: r.dryRun, applied: r.applied, counts: r.plan.counts, revokedCertificates: r.revokedCertificates,
    watermark: r.plan.watermark,
    items: r.plan.items.map((i) => ({
      action: i.action, username: i.username, ...(i.groups ? { groups: i.groups } : {}),
      ...(i.profile ? { displayName: i.profile.displayName, email: i.profile.email } : {}), ...(i.reason ? { reason: i.reason } : {}),
    })),
    conflicts: r.plan.conflicts, skipped: r.plan.skipped, runId: r.runId,
  };
}

export const ldapSyncCommand: CommandSpec = {
  name: 'ldap sync',
  summary: 'sync users and groups from a source now (incremental unless --full or a day since the last full run)',
  options: {
    data: DATA_OPTION,
    name: NAME_OPTION,
    'dry-run': { type: 'boolean', help: 'print the plan and change nothing' },
    full: { type: 'boolean', help: 'read every user, so that users gone from the directory are disabled' },
    force: { type: 'boolean', help: "apply even when more than the source's share of users would be disabled" },
    json: { type: 'boolean', help: 'the result as JSON' },
    scheduled: { type: 'boolean', help: "run as the daemon's schedule does (the audit names the sync, not you)" },
  },
  run: (values, io) => withLdap(values, async (ctx) => {
    // Batch work beside a daemon that answers RADIUS on the same machine: at nice 10, as the daemon's own syncs.
    yieldToRadius(process.pid);
    const r = await ctx.sync.run(str(values, 'name')!, {
      dryRun: values['dry-run'] === true, full: values.full === true, force: values.force === true,
      ...(values.scheduled === true ? {} : { by: cliActor() }),
    });
    if (r.applied) nudgeDaemon(ctx.pki.config.dataDir);
    if (values.json === true) {
      io.out(JSON.stringify(describeResult(r), null, 2) + '\n');
      return;
    }
    const c = r.plan.counts;
    const [add, update, disable] = r.dryRun ? ['to add', 'to update', 'to disable'] : ['added', 'updated', 'disabled'];
    io.out(`${r.dryRun ? 'plan (dry run, nothing changed) for' : 'synced'} ${r.source} (${r.mode}): ${c.added} ${add}, ${c.updated} ${update}, ${c.disabled} ${disable}, ${c.groups} group changes, ${c.conflicts} conflicts\n`);
    // A new user's name and e-mail are not printed (a first sync lists thousands); a change of them is.
    const profile = (i: (typeof r.plan.items)[number]): string => (i.profile && i.action !== 'add'
      ? `  name: ${i.profile.displayName ?? '(none)'}  e-mail: ${i.profile.email ?? '(none)'}` : '');
    for (const i of r.plan.items) io.out(`  ${i.action.padEnd(8)}${i.username}${i.groups ? `  groups: ${i.groups.join(', ') || '(none)'}` : ''}${profile(i)}${i.reason === 'vanished' ? '  (gone from the directory)' : ''}\n`);
    for (const k of r.plan.conflicts) io.out(`  conflict ${k.username}: ${k.reason}\n`);
    if (r.revokedCertificates > 0) io.out(`revoked ${r.revokedCertificates} certificates (affiliationChanged)\n`);
  }),
};

function describeRun(r: SyncRunRecord): object {
  return {
    id: r.id, started: new Date(r.startedAt).toISOString(), ended: r.endedAt === null ? null : new Date(r.endedAt).toISOString(),
    mode: r.mode, dryRun: r.dryRun, added: r.added, updated: r.updated, disabled: r.disabled, groups: r.groups, error: r.error,
  };
}

export const ldapRunsCommand: CommandSpec = {
  name: 'ldap runs',
  summary: "a source's recent sync runs, newest first",
  options: { data: DATA_OPTION, name: NAME_OPTION, json: { type: 'boolean', help: 'one JSON array' } },
  run: (values, io) => withLdap(values, (ctx) => {
    const s = ctx.sources.get(str(values, 'name')!);
    const runs = ctx.store.listRuns(s.id);
    if (values.json === true) {
      io.out(JSON.stringify(runs.map(describeRun), null, 2) + '\n');
      return;
    }
    if (runs.length === 0) {
      io.out(`no runs yet for "${s.name}"\n`);
      return;
    }
    for (const r of runs) {
      io.out(`${new Date(r.startedAt).toISOString()}  ${r.mode.padEnd(12)}${r.dryRun ? 'dry-run ' : ''}added ${r.added}, updated ${r.updated}, disabled ${r.disabled}, groups ${r.groups}${r.error ? `  FAILED: ${r.error}` : ''}\n`);
    }
  }),
};
