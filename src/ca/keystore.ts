// Private keys at rest: PKCS#8 sealed with AES-256-GCM under the master key, which
// lives outside the database (a 0600 file or a systemd credential). A copy of the
// database alone reveals no key.
import { createCipheriv, createDecipheriv, createPrivateKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import type { PkiStorage } from './storage.js';

const SEAL_VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export function sealKey(master: Buffer, id: string, pkcs8: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', master, iv);
  cipher.setAAD(Buffer.from(id, 'utf8'));
  const body = Buffer.concat([cipher.update(pkcs8), cipher.final()]);
  return Buffer.concat([Buffer.from([SEAL_VERSION]), iv, cipher.getAuthTag(), body]);
}

export function unsealKey(master: Buffer, id: string, sealed: Buffer): Buffer {
  if (sealed[0] !== SEAL_VERSION || sealed.length < 1 + IV_BYTES + TAG_BYTES) {
    throw new AppError('KEY_DECRYPT_FAILED', `key ${id} is not in a known sealed format`);
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  try {
    const decipher = createDecipheriv('aes-256-gcm', master, iv);
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    throw new AppError('KEY_DECRYPT_FAILED', `key ${id} cannot be unsealed: wrong master key or damaged data`);
  }
}

export class KeyVault {
  private readonly cache = new Map<string, KeyObject>();

  constructor(
    private readonly master: Buffer,
    private readonly storage: Pick<PkiStorage, 'saveKey' | 'loadSealedKey'>,
  ) {
    if (master.length !== 32) throw new AppError('MASTER_KEY_INVALID', 'the master key must be 32 bytes');
  }

  store(key: KeyObject, algorithm: string): string {
    const id = randomUUID();
    const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    this.storage.saveKey(id, algorithm, sealKey(this.master, id, pkcs8));
    this.cache.set(id, key);
    return id;
  }

  load(id: string): KeyObject {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const sealed = this.storage.loadSealedKey(id);
    if (!sealed) throw new AppError('NOT_FOUND', `key ${id} is not in the database`);
    const key = createPrivateKey({ key: unsealKey(this.master, id, sealed), format: 'der', type: 'pkcs8' });
    this.cache.set(id, key);
    return key;
  }
}
