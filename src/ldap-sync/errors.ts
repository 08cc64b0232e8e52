// Directory failures with stable codes. They extend AppError (code BAD_INPUT, NOT_FOUND,
// CONFLICT or INTERNAL) so every edge already turns them into one line; `ldapCode` says
// precisely what went wrong with the directory.
import { AppError, type ErrorCode } from '../core/errors.js';

export type LdapErrorCode =
  | 'LDAP_SOURCE_INVALID'
  | 'LDAP_SOURCE_EXISTS'
  | 'LDAP_SOURCE_NOT_FOUND'
  | 'LDAP_UNREACHABLE'
  | 'LDAP_TLS_FAILED'
  | 'LDAP_BIND_FAILED'
  | 'LDAP_TIMEOUT'
  | 'LDAP_SEARCH_FAILED'
  | 'LDAP_SAFETY_STOP';

const APP_CODE: Record<LdapErrorCode, ErrorCode> = {
  LDAP_SOURCE_INVALID: 'BAD_INPUT',
  LDAP_SOURCE_EXISTS: 'CONFLICT',
  LDAP_SOURCE_NOT_FOUND: 'NOT_FOUND',
  LDAP_UNREACHABLE: 'INTERNAL',
  LDAP_TLS_FAILED: 'INTERNAL',
  LDAP_BIND_FAILED: 'INTERNAL',
  LDAP_TIMEOUT: 'INTERNAL',
  LDAP_SEARCH_FAILED: 'INTERNAL',
  LDAP_SAFETY_STOP: 'CONFLICT',
};

export class LdapError extends AppError {
  readonly ldapCode: LdapErrorCode;
  constructor(code: LdapErrorCode, message: string, options?: { cause?: unknown }) {
    super(APP_CODE[code], message, options);
    this.name = 'LdapError';
    this.ldapCode = code;
  }
}

export function isLdapError(e: unknown, code?: LdapErrorCode): e is LdapError {
  return e instanceof LdapError && (code === undefined || e.ldapCode === code);
}
