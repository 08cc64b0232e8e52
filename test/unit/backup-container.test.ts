// core/backup-container.ts: the sealed format round-trips, and a wrong passphrase, a flipped
// byte anywhere, a truncation, or a short passphrase each fail with their own code.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BACKUP_MAGIC, checkPassphrase, openBackup, sealBackup, type BackupContents,
} from '../../src/core/backup-container.js';
import { AppError } from '../../src/core/errors.js';
import { codeOf } from '../helpers/unit.js';

// The cheapest scrypt the reader accepts, so the tests stay fast; the CLI uses 2^17.
const KDF = { log2N: 14, r: 8, p: 1 };
const PASS = 'twelve chars or more';

const contents: BackupContents = {
  manifest: {
    createdAt: '2026-01-01T00:00:00.000Z', authboxVersion: '0.1.0', schemaVersion: 9, databaseBytes: 5000,
    counts: { cas: 2, certificates: 3, revocations: 1, users: 4, devices: 5, nasClients: 6, policies: 7, auditRows: 8 },
    crlNumbers: { root: 1, issuing: 7 },
  },
  config: Buffer.from('{"organization":"T","publicUrl":"http://x"}\n'),
  masterKey: randomBytes(32),
  database: randomBytes(5000),
};

async function codeOfAsync(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof AppError ? e.code : `not an AppError: ${String(e)}`;
  }
  return undefined;
}

describe('backup container', () => {
  it('round-trips manifest, config, master key and database', async () => {
    const sealed = await sealBackup(contents, PASS, KDF);
    expect(sealed.subarray(0, BACKUP_MAGIC.length).toString()).toBe('AUTHBOX-BACKUP');
    expect(sealed.includes(contents.masterKey)).toBe(false);
    const opened = await openBackup(sealed, PASS);
    expect(opened.manifest).toEqual(contents.manifest);
    expect(opened.config).toEqual(contents.config);
    expect(opened.masterKey).toEqual(contents.masterKey);
    expect(opened.database).toEqual(contents.database);
  });

  it('uses a new salt and nonce each time', async () => {
    const [a, b] = [await sealBackup(contents, PASS, KDF), await sealBackup(contents, PASS, KDF)];
    expect(a.subarray(14, 60).equals(b.subarray(14, 60))).toBe(false);
  });

  it('tells a wrong passphrase apart from a damaged file', async () => {
    const sealed = await sealBackup(contents, PASS, KDF);
    expect(await codeOfAsync(openBackup(sealed, 'another twelve chars'))).toBe('BACKUP_DECRYPT_FAILED');
  });

  it('refuses a flipped byte in the header, the ciphertext or the tag', async () => {
    const sealed = await sealBackup(contents, PASS, KDF);
    for (const at of [15, sealed.length >> 1, 80, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 0x80;
      expect(await codeOfAsync(openBackup(bad, PASS)), `byte ${at}`).toMatch(/^BACKUP_(INVALID|DECRYPT_FAILED)$/);
    }
  });

  it('refuses every truncation', async () => {
    const sealed = await sealBackup(contents, PASS, KDF);
    for (const len of [0, 10, 14, 40, 90, 100, sealed.length >> 1, sealed.length - 16, sealed.length - 1]) {
      expect(await codeOfAsync(openBackup(sealed.subarray(0, len), PASS)), `length ${len}`).toBe('BACKUP_INVALID');
    }
  });

  it('takes the first line of a passphrase file and refuses fewer than 12 characters', () => {
    expect(checkPassphrase('correct horse battery\nsecond line', 'f')).toBe('correct horse battery');
    expect(checkPassphrase('パスフレーズは十二文字以上です\r\n', 'f')).toBe('パスフレーズは十二文字以上です');
    expect(codeOf(() => checkPassphrase('elevenchars\n', 'f'))).toBe('PASSPHRASE_INVALID');
    expect(codeOf(() => checkPassphrase('', 'f'))).toBe('PASSPHRASE_INVALID');
  });
});
