// Directory sources from the console, through the engine the `authbox ldap` CLI uses: test
// the connection, preview a run (a dry run, recorded as the CLI's is), run a sync now as the
// schedule does (in a child process, off the thread that answers RADIUS), and the run history.
// Each action is audited under the operator; the sync's own changes are audited by the sync.
import { AppError, isAppError } from '../core/errors.js';
import { isLdapError } from '../ldap-sync/errors.js';
import type { LdapSourceRecord } from '../ldap-sync/source.js';
import type { AdminAppDeps, DirectoryPreview, Handler, HandlerContext } from './app.js';
import { ApiError } from './errors.js';
import { callerOf, limitOf, param } from './handlers-common.js';
import { lastRealRun, runView } from './handlers-console.js';
import type { RouteId } from './routes.js';

type Directory = NonNullable<AdminAppDeps['directory']>;

/** Sources with a console-started sync under way, per directory engine: one run at a time each. */
const running = new WeakMap<Directory, Set<number>>();

function directoryOf(ctx: HandlerContext): Directory {
  const d = ctx.deps.directory;
  if (!d) throw new ApiError('NOT_AVAILABLE', 'directory sync is not available in this console');
  return d;
}

function sourceOf(ctx: HandlerContext): { dir: Directory; source: LdapSourceRecord } {
  const dir = directoryOf(ctx);
  const name = param(ctx, 'name');
  const source = dir.sources().find((s) => s.name.toLowerCase() === name.toLowerCase());
  if (!source) throw new ApiError('NOT_FOUND', `no directory source "${name}"`);
  return { dir, source };
}

/** Never the bind password, sealed or not. */
function sourceView(ctx: HandlerContext, s: LdapSourceRecord) {
  return {
    id: s.id, name: s.name, url: s.url, starttls: s.starttls, ca: s.caPem !== null, bindDn: s.bindDn, baseDn: s.baseDn, userFilter: s.userFilter,
    groupBaseDn: s.groupBaseDn, preset: s.preset, schedule: s.scheduleMinutes, maxDisablePercent: Math.round(s.maxDisableShare * 1000) / 10,
    certPolicy: s.certPolicy, lastFullAt: s.lastFullAt, createdAt: s.createdAt, lastRun: lastRealRun(ctx, s.id),
  };
}

function failureOf(e: unknown): { code: string; error: string } {
  if (isLdapError(e)) return { code: e.ldapCode, error: e.message };
  if (isAppError(e)) return { code: e.code, error: e.message };
  throw e;
}

export const DIRECTORY_HANDLERS = {
  'directory.sources'(ctx) {
    return { items: (ctx.deps.directory?.sources() ?? []).map((s) => sourceView(ctx, s)) };
  },

  async 'directory.test'(ctx) {
    const { dir, source } = sourceOf(ctx);
    const by = callerOf(ctx).actor;
    try {
      const r = await dir.test(source.name);
      ctx.deps.audit(by, 'ldap.test', source.name, { ok: true, count: r.count });
      return { ok: true, url: r.url, count: r.count };
    } catch (e) {
      const f = failureOf(e);
      ctx.deps.audit(by, 'ldap.test', source.name, { ok: false, code: f.code });
      return { ok: false, ...f };
    }
  },

  async 'directory.preview'(ctx) {
    const { dir, source } = sourceOf(ctx);
    const by = callerOf(ctx).actor;
    let r: DirectoryPreview;
    try {
      r = await dir.preview(source.name);
    } catch (e) {
      const error = (e as Error).message;
      ctx.deps.audit(by, 'ldap.preview', source.name, { ok: false });
      throw new ApiError('UPSTREAM_FAILED', error);
    }
    ctx.deps.audit(by, 'ldap.preview', source.name, { ok: true, runId: r.runId, ...r.counts });
    const items = r.items;
    return {
      source: r.source, mode: r.mode, runId: r.runId, counts: r.counts,
      add: items.filter((i) => i.action === 'add').map((i) => ({ username: i.username, groups: i.groups ?? [] })),
      update: items.filter((i) => i.action === 'update' || i.action === 'enable')
        .map((i) => ({
          username: i.username, action: i.action, ...(i.groups ? { groups: i.groups } : {}),
          ...(i.displayName !== undefined || i.email !== undefined ? { displayName: i.displayName ?? null, email: i.email ?? null } : {}),
        })),
      disable: items.filter((i) => i.action === 'disable').map((i) => ({ username: i.username, reason: i.reason ?? 'directory' })),
      conflicts: r.conflicts, skipped: r.skipped,
    };
  },

  async 'directory.sync'(ctx) {
    const { dir, source } = sourceOf(ctx);
    const busy = running.get(dir) ?? new Set<number>();
    running.set(dir, busy);
    if (busy.has(source.id)) throw new AppError('CONFLICT', `a sync of "${source.name}" started from the console is still running`);
    ctx.deps.audit(callerOf(ctx).actor, 'ldap.sync_requested', source.name);
    const before = dir.runs(source.id, 1)[0]?.id ?? 0;
    let failure: string | undefined;
    busy.add(source.id);
    try {
      await dir.syncNow(source.name);
    } catch (e) {
      failure = (e as Error).message;
    } finally {
      busy.delete(source.id);
    }
    const run = dir.runs(source.id, 10).find((r) => r.id > before && !r.dryRun);
    if (!run) throw new ApiError('UPSTREAM_FAILED', failure ?? 'the sync ended without recording a run');
    return runView(run);
  },

  'directory.runs'(ctx) {
    const { dir, source } = sourceOf(ctx);
    return { source: source.name, items: dir.runs(source.id, limitOf(ctx)).map(runView) };
  },
} satisfies Partial<Record<RouteId, Handler>>;
