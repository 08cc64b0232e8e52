// Who is behind a write beyond the Actor: the client address of an API request. The API
// runs each engine call inside `withAuditContext`, and the audit writer (store/changes.ts)
// adds the address to the audit row's detail. better-sqlite3 is synchronous, so the
// context is the one of the request that made the call.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface AuditContext {
  /** The client's IP address as the HTTP server saw it. */
  client?: string;
}

const context = new AsyncLocalStorage<AuditContext>();

export function withAuditContext<T>(ctx: AuditContext, fn: () => T): T {
  return context.run(ctx, fn);
}

export function currentAuditContext(): AuditContext | undefined {
  return context.getStore();
}
