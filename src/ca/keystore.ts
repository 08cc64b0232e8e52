// Private keys at rest: PKCS#8 sealed (core/seal.ts) under the master key, which lives
// outside the database (a 0600 file or a systemd credential). A copy of the database
// alone reveals no key.
import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { AppError } from '../core/errors.js';
import { seal, unseal } from '../core/seal.js';
import type { PkiStorage } from './storage.js';

/** Kept under these names for the key vault's callers and tests. */
export { seal as sealKey, unseal as unsealKey };

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
    this.storage.saveKey(id, algorithm, seal(this.master, id, pkcs8));
    this.cache.set(id, key);
    return id;
  }

  load(id: string): KeyObject {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const sealed = this.storage.loadSealedKey(id);
    if (!sealed) throw new AppError('NOT_FOUND', `key ${id} is not in the database`);
    const key = createPrivateKey({ key: unseal(this.master, id, sealed), format: 'der', type: 'pkcs8' });
    this.cache.set(id, key);
    return key;
  }
}
