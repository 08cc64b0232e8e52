// Reading requests and shaping common views, shared by the handler files (one per area).
import QRCode from 'qrcode';
import { reasonName } from '../ca/crl.js';
import type { CertRecord } from '../ca/storage.js';
import type { Caller, HandlerContext } from './app.js';
import { viewOf, type OperatorRecord } from '../core/operators.js';
import { ApiError } from './errors.js';
import { ROLE_PERMISSIONS } from './routes.js';

export const MAX_LIMIT = 200;

export function body(ctx: HandlerContext): Record<string, unknown> {
  const b: unknown = ctx.req.body;
  if (b === undefined) return {};
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new ApiError('BAD_INPUT', 'the body must be a JSON object');
  return b as Record<string, unknown>;
}

export function optString(b: Record<string, unknown>, key: string, max = 1024): string | undefined {
  const v = b[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v.length > max) throw new ApiError('BAD_INPUT', `"${key}" must be a string`);
  return v;
}

export function reqString(b: Record<string, unknown>, key: string, max = 1024): string {
  const v = optString(b, key, max);
  if (v === undefined) throw new ApiError('BAD_INPUT', `"${key}" is required`);
  return v;
}

export function query(ctx: HandlerContext, key: string): string | undefined {
  const v = ctx.req.query[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length > 256) throw new ApiError('BAD_INPUT', `query parameter "${key}" must be given once`);
  return v;
}

export function limitOf(ctx: HandlerContext, fallback = 50, max = MAX_LIMIT): number {
  const v = query(ctx, 'limit');
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new ApiError('BAD_INPUT', `limit must be a whole number from 1 to ${max}`);
  return n;
}

export function timeOf(ctx: HandlerContext, key: string): number | undefined {
  const v = query(ctx, key);
  if (v === undefined) return undefined;
  const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(t)) throw new ApiError('BAD_INPUT', `${key} must be an ISO time or milliseconds since the epoch`);
  return t;
}

export function intOf(ctx: HandlerContext, key: string): number | undefined {
  const v = query(ctx, key);
  if (v === undefined) return undefined;
  if (!/^\d{1,15}$/.test(v)) throw new ApiError('BAD_INPUT', `${key} must be a whole number`);
  return Number(v);
}

export const param = (ctx: HandlerContext, key: string): string => String(ctx.req.params[key]);
export const callerOf = (ctx: HandlerContext): Caller => ctx.caller!;

export function certSummary(c: CertRecord, now: number) {
  const status = c.status === 'valid' && c.notAfter <= now ? 'expired' : c.status;
  return {
    serial: c.serial, commonName: c.commonName, subject: c.subject, profile: c.profile, username: c.username, status,
    notBefore: c.notBefore, notAfter: c.notAfter, issuedAt: c.issuedAt, revokedAt: c.revokedAt, reason: reasonName(c.reason) ?? null,
  };
}

/** The operator as the console sees it, with what its role may do (the pages hide the rest). */
export const operatorBody = (op: OperatorRecord) => ({ ...viewOf(op), permissions: ROLE_PERMISSIONS[op.role] });

/** An otpauth:// URI as an SVG QR code, made here so that the page needs no script for it. */
export const qrSvg = (uri: string): Promise<string> => QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
