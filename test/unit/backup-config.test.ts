// The "backup" slice of authbox.json (src/config/config.ts): absent by default, paths taken
// from the data folder, defaults, and one clear error for each wrong value.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CONFIG_FILE, loadConfig } from '../../src/config/config.js';
import { codeOf } from '../helpers/unit.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'authbox-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const base = { organization: 'Test City', publicUrl: 'http://ca.test:8080' };
const load = (backup: unknown) => {
  writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(backup === undefined ? base : { ...base, backup }));
  return loadConfig(dir, {});
};

describe('backup settings', () => {
  it('are absent unless authbox.json has "backup"', () => {
    expect(load(undefined).backup).toBeUndefined();
  });

  it('default to every 24 hours, keeping 7, with paths taken from the data folder', () => {
    expect(load({ dir: 'backups', passphraseFile: '/etc/authbox/backup-pass' }).backup).toEqual({
      dir: join(dir, 'backups'), everyHours: 24, keep: 7, passphraseFile: '/etc/authbox/backup-pass',
    });
    expect(load({ dir: '/srv/b', passphraseFile: 'p', everyHours: 6, keep: 30 }).backup).toEqual({
      dir: '/srv/b', everyHours: 6, keep: 30, passphraseFile: join(dir, 'p'),
    });
  });

  it('are frozen', () => {
    const c = load({ dir: '/srv/b', passphraseFile: '/p' });
    expect(Object.isFrozen(c.backup)).toBe(true);
  });

  const bad: [string, unknown][] = [
    ['no dir', { passphraseFile: '/p' }],
    ['no passphrase file', { dir: '/srv/b' }],
    ['the data folder itself', { dir: '.', passphraseFile: '/p' }],
    ['keep 0', { dir: '/srv/b', passphraseFile: '/p', keep: 0 }],
    ['keep 2.5', { dir: '/srv/b', passphraseFile: '/p', keep: 2.5 }],
    ['everyHours 0', { dir: '/srv/b', passphraseFile: '/p', everyHours: 0 }],
    ['everyHours as text', { dir: '/srv/b', passphraseFile: '/p', everyHours: '24' }],
    ['not an object', 'daily'],
  ];
  for (const [what, value] of bad) {
    it(`refuses ${what}`, () => {
      expect(codeOf(() => load(value))).toBe('BAD_INPUT');
    });
  }
});
