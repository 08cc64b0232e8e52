// HTTP-only errors and the one table that turns any error into a status and a JSON code.
import { AppError, type ErrorCode } from '../core/errors.js';

export type ApiErrorCode =
  | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'CSRF_FAILED' | 'NOT_FOUND' | 'BAD_INPUT' | 'UNSUPPORTED_MEDIA_TYPE' | 'BODY_TOO_LARGE'
  | 'OTP_REQUIRED' | 'OTP_ENROLMENT_REQUIRED' | 'GONE' | 'UPSTREAM_FAILED' | 'NOT_AVAILABLE';

export class ApiError extends Error {
  constructor(readonly code: ApiErrorCode, message: string, readonly extra?: Record<string, unknown>) {
    super(message);
    this.name = 'ApiError';
  }
}

const API_STATUS: Record<ApiErrorCode, number> = {
  UNAUTHENTICATED: 401, FORBIDDEN: 403, CSRF_FAILED: 403, NOT_FOUND: 404, BAD_INPUT: 400, UNSUPPORTED_MEDIA_TYPE: 415,
  BODY_TOO_LARGE: 413, OTP_REQUIRED: 401, OTP_ENROLMENT_REQUIRED: 401, GONE: 410, UPSTREAM_FAILED: 502, NOT_AVAILABLE: 501,
};

const APP_STATUS: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404, USER_NOT_FOUND: 404, CERT_NOT_FOUND: 404, NAS_NOT_FOUND: 404, POLICY_NOT_FOUND: 404, DEVICE_NOT_FOUND: 404,
  CONFLICT: 409, USER_EXISTS: 409, NAS_EXISTS: 409, DEVICE_EXISTS: 409, CERT_ALREADY_REVOKED: 409, CERT_NOT_ON_HOLD: 409,
  LOGIN_FAILED: 401, OPERATOR_LOCKED: 429,
  BAD_INPUT: 400, USERNAME_INVALID: 400, PASSWORD_POLICY: 400, NAS_INVALID: 400, POLICY_INVALID: 400, DEVICE_INVALID: 400, SAN_INVALID: 400,
  PROFILE_UNKNOWN: 400, KEY_TYPE_UNSUPPORTED: 400, CERT_EXPIRED: 409,
};

export function statusOf(err: unknown): { status: number; code: string; message: string } {
  if (err instanceof ApiError) return { status: API_STATUS[err.code], code: err.code, message: err.message };
  if (err instanceof AppError) {
    const status = APP_STATUS[err.code];
    // Anything not meant for the caller (a damaged key, a disk error) is not described to them.
    return status ? { status, code: err.code, message: err.message } : { status: 500, code: 'INTERNAL', message: 'internal error' };
  }
  const e = err as { type?: string; status?: number } | undefined;
  if (e?.type === 'entity.too.large') return { status: 413, code: 'BODY_TOO_LARGE', message: 'the request body is too large' };
  if (e?.type === 'entity.parse.failed') return { status: 400, code: 'BAD_INPUT', message: 'the request body is not valid JSON' };
  if (e?.status !== undefined && e.status >= 400 && e.status < 500) return { status: e.status, code: 'BAD_INPUT', message: 'bad request' };
  return { status: 500, code: 'INTERNAL', message: 'internal error' };
}
