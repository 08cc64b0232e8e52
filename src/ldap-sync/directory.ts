// Talking to a directory with ldapts: connect (LDAPS, or StartTLS per RFC 4511 §4.14),
// verifying the server against the configured CA, bind, paged search (RFC 2696). Every
// failure becomes one LdapError with a clear message; nothing waits without a deadline.
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, ResultCodeError } from 'ldapts';
import { LdapError } from './errors.js';
import type { RawEntry } from './presets.js';

export interface DirectoryEndpoint {
  url: string;
  starttls: boolean;
  /** The CA that must have signed the server's certificate; null: the system's CAs. */
  caPem: string | null;
}

export interface DirectoryTimeouts {
  /** TCP (and TLS) connection. */
  connectTimeoutMs?: number;
  /** Each LDAP operation. */
  operationTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_OPERATION_TIMEOUT_MS = 30_000;
export const DEFAULT_PAGE_SIZE = 500;

function hostOf(url: string): string {
  return new URL(url).hostname.replace(/^\[|\]$/g, '');
}

/** TLS that always verifies: the configured CA, the host name or IP address in the certificate. */
export function tlsOptionsFor(endpoint: DirectoryEndpoint): ConnectionOptions {
  const host = hostOf(endpoint.url);
  return {
    ...(endpoint.caPem !== null ? { ca: endpoint.caPem } : {}),
    host,
    ...(isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
  };
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|CERT_|HOSTNAME_MISMATCH|ERR_OSSL)/;
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/** One clear error for anything ldapts or the socket threw. */
export function translateError(e: unknown, url: string, during: string): LdapError {
  if (e instanceof LdapError) return e;
  const err = e as Error & { code?: string };
  const code = err?.code ?? '';
  if (e instanceof InvalidCredentialsError) return new LdapError('LDAP_BIND_FAILED', `${url}: bind refused: invalid credentials`, { cause: e });
  if (TLS_CODES.test(code)) return new LdapError('LDAP_TLS_FAILED', `${url}: TLS failed, the server's certificate was not accepted (${code})`, { cause: e });
  if (NET_CODES.has(code)) return new LdapError('LDAP_UNREACHABLE', `${url}: cannot connect (${code})`, { cause: e });
  const message = err?.message ?? String(e);
  if (/timeout|timed out/i.test(message)) return new LdapError('LDAP_TIMEOUT', `${url}: no answer in time during ${during}`, { cause: e });
  if (/Connection closed|Socket error|socket/i.test(message)) return new LdapError('LDAP_UNREACHABLE', `${url}: the connection was closed during ${during}`, { cause: e });
  if (e instanceof ResultCodeError) {
    const kind = during === 'bind' ? 'LDAP_BIND_FAILED' : 'LDAP_SEARCH_FAILED';
    return new LdapError(kind, `${url}: ${during} failed: ${message.split('\n')[0]} (result code ${e.code})`, { cause: e });
  }
  return new LdapError('LDAP_SEARCH_FAILED', `${url}: ${during} failed: ${message.split('\n')[0]}`, { cause: e });
}

/** Rejects with LDAP_TIMEOUT after ms, whatever the library does. */
export async function withDeadline<T>(p: Promise<T>, ms: number, url: string, during: string, onTimeout?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new LdapError('LDAP_TIMEOUT', `${url}: no answer within ${ms} ms during ${during}`));
    }, ms);
  });
  try {
    return await Promise.race([p, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A connected, bound client. */
export class DirectoryConnection {
  private constructor(readonly client: Client, readonly url: string, private readonly opTimeoutMs: number) {}

  /** Connects, upgrades with StartTLS if asked, binds. LDAP_UNREACHABLE, LDAP_TLS_FAILED, LDAP_BIND_FAILED or LDAP_TIMEOUT. */
  static async open(endpoint: DirectoryEndpoint, bindDn: string, password: string, timeouts: DirectoryTimeouts = {}): Promise<DirectoryConnection> {
    const connectMs = timeouts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const opMs = timeouts.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    const tlsOptions = tlsOptionsFor(endpoint);
    let client: Client;
    try {
      // ldapts speaks TLS from the first byte whenever tlsOptions are given: only for ldaps://.
      const ldaps = new URL(endpoint.url).protocol === 'ldaps:';
      client = new Client({ url: endpoint.url, connectTimeout: connectMs, timeout: opMs, ...(ldaps ? { tlsOptions } : {}), strictDN: false });
    } catch (e) {
      throw new LdapError('LDAP_SOURCE_INVALID', `${endpoint.url}: ${(e as Error).message}`);
    }
    const abort = (): void => void client.unbind().catch(() => undefined);
    let during = 'connect';
    try {
      if (endpoint.starttls) {
        during = 'StartTLS';
        await withDeadline(client.startTLS({ ...tlsOptions }), connectMs + opMs, endpoint.url, during, abort);
      }
      during = 'bind';
      // An empty password would be an unauthenticated bind (RFC 4513 §5.1.2), which "succeeds".
      if (password === '') throw new LdapError('LDAP_BIND_FAILED', `${endpoint.url}: bind refused: empty password`);
      await withDeadline(client.bind(bindDn, password), connectMs + opMs, endpoint.url, during, abort);
    } catch (e) {
      abort();
      throw translateError(e, endpoint.url, during);
    }
    return new DirectoryConnection(client, endpoint.url, opMs);
  }

  /** Every entry under base matching filter, page by page (RFC 2696). */
  async search(base: string, filter: string, attributes: string[], options: { binary?: string[]; pageSize?: number; limitMs?: number } = {}): Promise<RawEntry[]> {
    const out: RawEntry[] = [];
    const run = async (): Promise<void> => {
      const pages = this.client.searchPaginated(base, {
        scope: 'sub', filter, attributes, explicitBufferAttributes: options.binary ?? [],
        paged: { pageSize: options.pageSize ?? DEFAULT_PAGE_SIZE },
      });
      for await (const page of pages) out.push(...(page.searchEntries as RawEntry[]));
    };
    try {
      await withDeadline(run(), options.limitMs ?? this.opTimeoutMs * 10, this.url, 'search', () => void this.close());
    } catch (e) {
      throw translateError(e, this.url, 'search');
    }
    return out;
  }

  async close(): Promise<void> {
    await this.client.unbind().catch(() => undefined);
  }
}
