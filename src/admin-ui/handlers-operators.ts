// Operators from the console: an operator's own API tokens (shown once, optionally narrowed to
// a lesser role), and for admins the accounts and every live session. A session is named by a
// hash of its stored hash, so nothing that could rebuild or look up a cookie leaves.
import { createHash } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { parseRole, type OperatorRole, type TokenRecord } from '../core/operators.js';
import type { Handler, HandlerContext } from './app.js';
import { ApiError } from './errors.js';
import { body, callerOf, optString, param, reqString } from './handlers-common.js';
import { withinRole, type RouteId } from './routes.js';

const publicSessionId = (idHash: string): string => createHash('sha256').update(`session:${idHash}`).digest('hex').slice(0, 32);

function tokenView(t: TokenRecord, role: OperatorRole | undefined, operatorRole: OperatorRole) {
  return { id: t.id, name: t.name, role: role ?? operatorRole, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt };
}

function liveSessions(ctx: HandlerContext) {
  const now = ctx.deps.clock().getTime();
  return ctx.deps.admin.listSessions().map((s) => ({
    ...s,
    expiresAt: ctx.deps.operators.sessionExpiry({ idHash: s.idHash, operatorId: s.operatorId, csrfToken: '', createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, client: s.client }),
  })).filter((s) => s.expiresAt > now);
}

export const OPERATOR_HANDLERS = {
  'tokens.list'(ctx) {
    const caller = callerOf(ctx);
    const roles = ctx.deps.admin.tokenRoles(caller.operator.id);
    const real = ctx.deps.operators.get(caller.operator.username).role;
    return { items: ctx.deps.operators.tokens(caller.operator.username).map((t) => tokenView(t, roles.get(t.id), real)) };
  },

  'tokens.create'(ctx) {
    const caller = callerOf(ctx);
    const b = body(ctx);
    const name = reqString(b, 'name', 64);
    const asked = optString(b, 'role', 16);
    // A token never does more than its maker can now (a narrowed token makes narrowed tokens).
    const role = asked === undefined ? caller.operator.role : parseRole(asked);
    if (!withinRole(role, caller.operator.role)) throw new ApiError('FORBIDDEN', `a ${caller.operator.role} operator cannot make a ${role} token`);
    const token = ctx.deps.transaction(() => {
      const t = ctx.deps.operators.createToken(caller.operator.username, name, caller.actor);
      ctx.deps.admin.setTokenRole(caller.operator.id, name, role, caller.actor);
      return t;
    });
    const made = ctx.deps.operators.tokens(caller.operator.username).find((t) => t.revokedAt === null && t.name.toLowerCase() === name.toLowerCase())!;
    ctx.res.status(201);
    return { ...tokenView(made, role, role), token };
  },

  'tokens.revoke'(ctx) {
    const caller = callerOf(ctx);
    const id = param(ctx, 'id');
    const t = ctx.deps.operators.tokens(caller.operator.username).find((x) => String(x.id) === id && x.revokedAt === null);
    if (!t) throw new ApiError('NOT_FOUND', `you have no live token ${id}`);
    ctx.deps.operators.revokeToken(caller.operator.username, t.name, caller.actor);
    ctx.res.status(204).end();
    return undefined;
  },

  'operators.list'(ctx) {
    return { items: ctx.deps.operators.list() };
  },

  'operators.add'(ctx) {
    const b = body(ctx);
    const password = optString(b, 'password', 256);
    const r = ctx.deps.operators.add({
      username: reqString(b, 'username', 64), role: parseRole(reqString(b, 'role', 16)), ...(password !== undefined ? { password } : {}),
    }, callerOf(ctx).actor);
    ctx.res.status(201);
    // A password the caller chose is not sent back; a generated one is shown this once.
    return { operator: r.operator, ...(r.password !== undefined ? { password: r.password } : {}) };
  },

  'operators.remove'(ctx) {
    const caller = callerOf(ctx);
    const op = ctx.deps.operators.get(param(ctx, 'username'));
    if (op.id === caller.operator.id) throw new ApiError('BAD_INPUT', 'you cannot disable your own account');
    if (op.role === 'admin' && op.enabled && !ctx.deps.operators.list().some((o) => o.role === 'admin' && o.enabled && o.username !== op.username)) {
      throw new AppError('CONFLICT', 'this is the last enabled admin');
    }
    return { username: op.username, enabled: false, changed: ctx.deps.operators.setEnabled(op.username, false, caller.actor) };
  },

  'operators.sessions'(ctx) {
    const current = callerOf(ctx).session?.idHash;
    return {
      items: liveSessions(ctx).map((s) => ({
        id: publicSessionId(s.idHash), username: s.username, role: s.role, createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, expiresAt: s.expiresAt,
        client: s.client, current: s.idHash === current,
      })),
    };
  },

  'operators.endSession'(ctx) {
    const id = param(ctx, 'id');
    const s = ctx.deps.admin.listSessions().find((x) => publicSessionId(x.idHash) === id);
    if (!s || !ctx.deps.admin.endSession(s.idHash, callerOf(ctx).actor)) throw new ApiError('NOT_FOUND', 'no such session');
    ctx.res.status(204).end();
    return undefined;
  },
} satisfies Partial<Record<RouteId, Handler>>;
