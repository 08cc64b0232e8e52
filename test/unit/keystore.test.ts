// src/ca/keystore.ts: private keys at rest, AES-256-GCM under the master key, the key id
// bound as additional authenticated data. Every failure is KEY_DECRYPT_FAILED.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyVault, sealKey, unsealKey } from '../../src/ca/keystore.js';
import { codeOf } from '../helpers/unit.js';

const master = randomBytes(32);
const pkcs8 = (k: KeyObject): Buffer => k.export({ type: 'pkcs8', format: 'der' });
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;


describe('sealKey / unsealKey', () => {
  const id = '3b0c5a7e-1111-4222-8333-444455556666';
  const plain = pkcs8(ecKey);

  it('round-trips', () => {
    const sealed = sealKey(master, id, plain);
    expect(sealed[0]).toBe(1); // format version
    expect(sealed.length).toBe(1 + 12 + 16 + plain.length); // version, IV, tag, ciphertext
    expect(unsealKey(master, id, sealed).equals(plain)).toBe(true);
  });

  it('uses a fresh IV each time', () => {
    const a = sealKey(master, id, plain), b = sealKey(master, id, plain);
    expect(a.subarray(1, 13).equals(b.subarray(1, 13))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('a wrong master key is KEY_DECRYPT_FAILED', () => {
    const sealed = sealKey(master, id, plain);
    expect(codeOf(() => unsealKey(randomBytes(32), id, sealed))).toBe('KEY_DECRYPT_FAILED');
  });

  it('any altered byte (IV, tag or ciphertext) is KEY_DECRYPT_FAILED', () => {
    const sealed = sealKey(master, id, plain);
    for (const at of [1, 12, 13, 28, 29, 40, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x01;
      expect(codeOf(() => unsealKey(master, id, bad)), `byte ${at}`).toBe('KEY_DECRYPT_FAILED');
    }
  });

  it('a truncated or extended ciphertext is KEY_DECRYPT_FAILED', () => {
    const sealed = sealKey(master, id, plain);
    expect(codeOf(() => unsealKey(master, id, sealed.subarray(0, sealed.length - 1)))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => unsealKey(master, id, Buffer.concat([sealed, Buffer.from([0])])))).toBe('KEY_DECRYPT_FAILED');
  });

  it('another key id (the AAD) is KEY_DECRYPT_FAILED: a sealed key cannot be moved to another row', () => {
    const sealed = sealKey(master, id, plain);
    expect(codeOf(() => unsealKey(master, id.replace(/6$/, '7'), sealed))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => unsealKey(master, '', sealed))).toBe('KEY_DECRYPT_FAILED');
  });

  it('an unknown version or a too-short blob is KEY_DECRYPT_FAILED', () => {
    const sealed = sealKey(master, id, plain);
    for (const v of [0, 2, 0xff]) {
      const bad = Buffer.from(sealed);
      bad[0] = v;
      expect(codeOf(() => unsealKey(master, id, bad)), `version ${v}`).toBe('KEY_DECRYPT_FAILED');
    }
    expect(codeOf(() => unsealKey(master, id, Buffer.alloc(0)))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => unsealKey(master, id, sealed.subarray(0, 28)))).toBe('KEY_DECRYPT_FAILED');
  });
});

/** The two storage calls KeyVault needs, in memory. */
function memoryStorage(): { saveKey(id: string, alg: string, sealed: Buffer): void; loadSealedKey(id: string): Buffer | undefined; rows: Map<string, { alg: string; sealed: Buffer }> } {
  const rows = new Map<string, { alg: string; sealed: Buffer }>();
  return {
    rows,
    saveKey: (id, alg, sealed) => void rows.set(id, { alg, sealed: Buffer.from(sealed) }),
    loadSealedKey: (id) => rows.get(id)?.sealed,
  };
}

describe('KeyVault', () => {
  const keys: [string, KeyObject][] = [
    ['EC P-256', ecKey],
    ['EC P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
  ];

  for (const [name, key] of keys) {
    it(`${name}: store, then load in a fresh vault, gives an equal key that signs for the same public key`, () => {
      const storage = memoryStorage();
      const id = new KeyVault(master, storage).store(key, name);
      expect(storage.rows.get(id)!.alg).toBe(name);
      const loaded = new KeyVault(master, storage).load(id);
      expect(loaded.equals(key)).toBe(true);
      const data = Buffer.from('authbox');
      const sig = sign('sha256', data, loaded);
      expect(verify('sha256', data, createPublicKey(key), sig)).toBe(true);
    });
  }

  it('the sealed bytes contain neither the PKCS#8 DER nor any 16-byte run of it', () => {
    const storage = memoryStorage();
    const key = keys[2]![1];
    const id = new KeyVault(master, storage).store(key, 'rsa');
    const sealed = storage.rows.get(id)!.sealed;
    const der = pkcs8(key);
    expect(sealed.includes(der)).toBe(false);
    for (let i = 0; i + 16 <= der.length; i += 16) expect(sealed.includes(der.subarray(i, i + 16)), `offset ${i}`).toBe(false);
  });

  it('ids are distinct, and a vault with another master key cannot load', () => {
    const storage = memoryStorage();
    const vault = new KeyVault(master, storage);
    const a = vault.store(ecKey, 'ec'), b = vault.store(ecKey, 'ec');
    expect(a).not.toBe(b);
    expect(codeOf(() => new KeyVault(randomBytes(32), storage).load(a))).toBe('KEY_DECRYPT_FAILED');
  });

  it('an altered row is KEY_DECRYPT_FAILED; a missing row is NOT_FOUND', () => {
    const storage = memoryStorage();
    const id = new KeyVault(master, storage).store(ecKey, 'ec');
    storage.rows.get(id)!.sealed[20]! ^= 0x80;
    expect(codeOf(() => new KeyVault(master, storage).load(id))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => new KeyVault(master, storage).load('no-such-id'))).toBe('NOT_FOUND');
  });

  it('refuses a master key that is not 32 bytes', () => {
    for (const n of [0, 16, 31, 33, 64]) expect(codeOf(() => new KeyVault(randomBytes(n), memoryStorage()))).toBe('MASTER_KEY_INVALID');
  });
});
