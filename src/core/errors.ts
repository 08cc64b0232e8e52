// Typed errors with stable codes. Each edge translates them: the CLI into one line and
// exit 1, HTTP into a status, OCSP into a response status, RADIUS into Reject or silence.

export type ErrorCode =
  | 'BAD_INPUT'
  | 'DIRECTORY_UNAVAILABLE'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'DATA_DIR_EXISTS'
  | 'DATA_DIR_MISSING'
  | 'MASTER_KEY_MISSING'
  | 'MASTER_KEY_INVALID'
  | 'KEY_DECRYPT_FAILED'
  | 'PEM_INVALID'
  | 'DER_INVALID'
  | 'CSR_INVALID'
  | 'CSR_SIGNATURE_INVALID'
  | 'CSR_KEY_UNSUPPORTED'
  | 'PROFILE_UNKNOWN'
  | 'SAN_INVALID'
  | 'KEY_TYPE_UNSUPPORTED'
  | 'CERT_NOT_FOUND'
  | 'CERT_ALREADY_REVOKED'
  | 'CERT_NOT_ON_HOLD'
  | 'CERT_EXPIRED'
  | 'USER_NOT_FOUND'
  | 'USER_EXISTS'
  | 'USERNAME_INVALID'
  | 'PASSWORD_POLICY'
  | 'NAS_INVALID'
  | 'NAS_EXISTS'
  | 'NAS_NOT_FOUND'
  | 'POLICY_INVALID'
  | 'POLICY_NOT_FOUND'
  | 'DEVICE_INVALID'
  | 'DEVICE_EXISTS'
  | 'DEVICE_NOT_FOUND'
  | 'LISTEN_FAILED'
  | 'OCSP_MALFORMED'
  | 'BACKUP_INVALID'
  | 'BACKUP_DECRYPT_FAILED'
  | 'PASSPHRASE_INVALID'
  | 'LOGIN_FAILED'
  | 'OPERATOR_LOCKED'
  | 'TLS_KEY_MISMATCH'
  | 'TLS_KEY_UNSUPPORTED'
  | 'TLS_CERT_NOT_VALID'
  | 'TLS_CERT_PURPOSE'
  | 'TLS_CHAIN_INVALID'
  | 'INTERNAL';

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
  }
}

export function isAppError(e: unknown, code?: ErrorCode): e is AppError {
  return e instanceof AppError && (code === undefined || e.code === code);
}
