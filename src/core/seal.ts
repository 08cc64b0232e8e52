// Secrets at rest (private keys, NT hashes): sealed with AES-256-GCM under the master
// key, which lives outside the database. The id of what is sealed is the AAD, so a
// sealed value copied to another row does not open.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from './errors.js';

const SEAL_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function seal(master: Buffer, id: string, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, cipher.getAuthTag(), body]);
}

export function unseal(master: Buffer, id: string, sealed: Buffer): Buffer {
  if (sealed[0] !== SEAL_VERSION || sealed.length < 1 + IV_BYTES + TAG_BYTES) {
    throw new AppError('KEY_DECRYPT_FAILED', `secret ${id} is not in a known sealed format`);
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', master, iv);
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new AppError('KEY_DECRYPT_FAILED', `secret ${id} cannot be unsealed: wrong master key or damaged data`);
  }
}
