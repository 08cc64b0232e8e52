// @ts-check
// The fetch wrapper every page uses: JSON in and out, the CSRF token on each state change,
// errors as ApiError {status, code, message, body}; a 401 on an ordinary call sends the
// operator to the login page (the session ended or expired).

const PREFIX = '/api/v1';
/** @type {string | null} */
let csrfToken = null;
/** @type {(() => void) | null} */
let onUnauthenticated = null;

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {any} body */
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** @param {string | null} token */
export function setCsrfToken(token) {
  csrfToken = token;
}

/** @param {() => void} fn */
export function setUnauthenticatedHandler(fn) {
  onUnauthenticated = fn;
}

/**
 * @param {string} method @param {string} path under /api/v1 (or a full /api/v1/... path)
 * @param {unknown} [body] @param {{ raw?: boolean, quiet401?: boolean }} [options]
 */
export async function request(method, path, body, options = {}) {
  const url = path.startsWith(PREFIX) ? path : PREFIX + path;
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(url, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (e) {
    throw new ApiError(0, 'NETWORK', String(/** @type {Error} */ (e).message ?? e), null);
  }
  if (options.raw && res.ok) return res;
  const type = res.headers.get('content-type') ?? '';
  const data = res.status === 204 ? null : type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const err = data && typeof data === 'object' && data.error ? data.error : { code: `HTTP_${res.status}`, message: res.statusText };
    const apiError = new ApiError(res.status, String(err.code), String(err.message ?? ''), data);
    if (res.status === 401 && err.code === 'UNAUTHENTICATED' && !options.quiet401 && onUnauthenticated) onUnauthenticated();
    throw apiError;
  }
  return data;
}

/** Query string from an object, leaving out empty values. @param {Record<string, unknown>} params */
export function qs(params) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export const api = {
  /** @param {string} path @param {Record<string, unknown>} [params] */
  get: (path, params) => request('GET', path + (params ? qs(params) : '')),
  /** @param {string} path @param {unknown} [body] */
  post: (path, body = {}) => request('POST', path, body),
  /** @param {string} path @param {unknown} [body] */
  put: (path, body = {}) => request('PUT', path, body),
  /** @param {string} path */
  del: (path) => request('DELETE', path),
  /** The raw Response (for downloads). @param {string} path */
  raw: (path) => request('GET', path, undefined, { raw: true }),
  request,
  qs,
  ApiError,
};
