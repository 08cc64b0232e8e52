// The backup file: a small clear header, then one AES-256-GCM message whose key comes
// from a passphrase through scrypt. The header is the GCM additional data, so a changed
// header byte fails like a changed ciphertext byte. No master key is needed to open it:
// a backup is what you reach for when the master key is lost.
import { createCipheriv, createDecipheriv, createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { AppError } from './errors.js';

export const BACKUP_MAGIC = Buffer.from('AUTHBOX-BACKUP', 'ascii');
export const BACKUP_FORMAT_VERSION = 1;
const KDF_SCRYPT = 1;
/** scrypt N = 2^17, r = 8, p = 1: 128 MiB and a few hundred milliseconds per open. */
export const DEFAULT_KDF = { log2N: 17, r: 8, p: 1 } as const;
export const MIN_PASSPHRASE_LENGTH = 12;

const SALT_BYTES = 16;
const NONCE_BYTES = 12;
const CHECK_BYTES = 16;
const TAG_BYTES = 16;
// magic, version, kdf id, log2 N, r, p, salt, nonce, passphrase check
const HEADER_BYTES = BACKUP_MAGIC.length + 1 + 1 + 1 + 1 + 1 + SALT_BYTES + NONCE_BYTES + CHECK_BYTES;

/** What one backup holds, besides its manifest. */
export interface BackupContents {
  manifest: BackupManifest;
  /** DIR/authbox.json, byte for byte. */
  config: Buffer;
  /** The 32-byte master key. */
  masterKey: Buffer;
  /** The SQLite database made by the online backup API. */
  database: Buffer;
}

export interface BackupManifest {
  createdAt: string;
  authboxVersion: string;
  schemaVersion: number;
  counts: BackupCounts;
  /** CA name → the CRL number it last used. */
  crlNumbers: Record<string, number>;
  databaseBytes: number;
}

export interface BackupCounts {
  cas: number;
  certificates: number;
  revocations: number;
  users: number;
  devices: number;
  nasClients: number;
  policies: number;
  auditRows: number;
}

export interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

/** The first line of a passphrase file, refused when shorter than 12 characters. */
export function checkPassphrase(text: string, where: string): string {
  const line = text.split(/\r?\n/)[0] ?? '';
  if ([...line].length < MIN_PASSPHRASE_LENGTH) {
    throw new AppError('PASSPHRASE_INVALID', `the passphrase in ${where} is shorter than ${MIN_PASSPHRASE_LENGTH} characters`);
  }
  return line;
}

// Asynchronous: in the daemon, scrypt runs on the thread pool, not in the RADIUS event loop.
function scryptAsync(password: string, salt: Buffer, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((res, rej) => scrypt(password, salt, length, options, (err, key) => (err ? rej(err) : res(key))));
}

async function deriveKeys(passphrase: string, salt: Buffer, kdf: KdfParams): Promise<{ key: Buffer; check: Buffer }> {
  const N = 2 ** kdf.log2N;
  const out = await scryptAsync(passphrase.normalize('NFC'), salt, 64, { N, r: kdf.r, p: kdf.p, maxmem: 256 * N * kdf.r });
  // The second half only proves the passphrase, so a wrong one is told apart from a damaged file.
  return { key: out.subarray(0, 32), check: createHash('sha256').update(out.subarray(32)).digest().subarray(0, CHECK_BYTES) };
}

function section(data: Buffer): Buffer[] {
  const len = Buffer.alloc(8);
  len.writeBigUInt64BE(BigInt(data.length));
  return [len, data];
}

export async function sealBackup(contents: BackupContents, passphrase: string, kdf: KdfParams = DEFAULT_KDF): Promise<Buffer> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const { key, check } = await deriveKeys(passphrase, salt, kdf);
  const header = Buffer.concat([
    BACKUP_MAGIC, Buffer.from([BACKUP_FORMAT_VERSION, KDF_SCRYPT, kdf.log2N, kdf.r, kdf.p]), salt, nonce, check,
  ]);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(header);
  const body = cipher.update(Buffer.concat([
    ...section(Buffer.from(JSON.stringify(contents.manifest), 'utf8')),
    ...section(contents.config), ...section(contents.masterKey), ...section(contents.database),
  ]));
  cipher.final();
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

const damaged = (why: string): AppError => new AppError('BACKUP_INVALID', `the backup is damaged or truncated (${why}); nothing was restored`);

/** Opens a backup; a wrong passphrase, a damaged or truncated file each fail with one line. */
export async function openBackup(file: Buffer, passphrase: string): Promise<BackupContents> {
  if (file.length < BACKUP_MAGIC.length || !file.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC)) {
    throw new AppError('BACKUP_INVALID', 'this is not an authbox backup (no AUTHBOX-BACKUP header)');
  }
  if (file.length < HEADER_BYTES + TAG_BYTES) throw damaged('shorter than its header');
  let at = BACKUP_MAGIC.length;
  const [version, kdfId, log2N, r, p] = file.subarray(at, at + 5);
  at += 5;
  if (version !== BACKUP_FORMAT_VERSION) throw new AppError('BACKUP_INVALID', `backup format version ${version} is not one this authbox reads (${BACKUP_FORMAT_VERSION})`);
  if (kdfId !== KDF_SCRYPT || log2N! < 14 || log2N! > 22 || r! < 1 || r! > 32 || p! < 1 || p! > 16) throw damaged('unknown key derivation parameters');
  const salt = file.subarray(at, at += SALT_BYTES);
  const nonce = file.subarray(at, at += NONCE_BYTES);
  const storedCheck = file.subarray(at, at += CHECK_BYTES);
  const header = file.subarray(0, HEADER_BYTES);
  const { key, check } = await deriveKeys(passphrase, salt, { log2N: log2N!, r: r!, p: p! });
  if (!timingSafeEqual(check, storedCheck)) {
    throw new AppError('BACKUP_DECRYPT_FAILED', 'wrong passphrase for this backup (or its header is damaged); nothing was restored');
  }
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAAD(header);
  decipher.setAuthTag(file.subarray(file.length - TAG_BYTES));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(file.subarray(HEADER_BYTES, file.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw damaged('authentication tag mismatch');
  }
  return parsePlain(plain);
}

function parsePlain(plain: Buffer): BackupContents {
  const parts: Buffer[] = [];
  let at = 0;
  for (let i = 0; i < 4; i++) {
    if (at + 8 > plain.length) throw damaged('section missing');
    const len = Number(plain.readBigUInt64BE(at));
    at += 8;
    if (at + len > plain.length) throw damaged('section too long');
    parts.push(plain.subarray(at, at + len));
    at += len;
  }
  if (at !== plain.length) throw damaged('trailing bytes');
  let manifest: BackupManifest;
  try {
    manifest = JSON.parse(parts[0]!.toString('utf8')) as BackupManifest;
  } catch {
    throw damaged('manifest is not JSON');
  }
  if (parts[2]!.length !== 32) throw damaged('master key is not 32 bytes');
  return { manifest, config: parts[1]!, masterKey: parts[2]!, database: parts[3]! };
}
