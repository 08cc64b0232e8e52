// What several commands share: the --data option, who is acting, safe output files.
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname } from 'node:path';
import type { Actor } from '../ca/storage.js';
import { AppError } from '../core/errors.js';
import { openPkiAt, type Pki } from '../main.js';
import { str, type OptionSpec, type Values } from './args.js';

export const DATA_OPTION: OptionSpec = { type: 'string', required: true, arg: 'DIR', help: 'the data folder' };

export function cliActor(): Actor {
  let name = 'unknown';
  try {
    name = userInfo().username;
  } catch { /* no passwd entry in some containers */ }
  return { actor: `cli:${name}`, source: 'cli' };
}

/** Checked before anything is issued, so a bad path never leaves a certificate without its key. */
export function checkOutputPath(path: string): void {
  if (existsSync(path)) throw new AppError('CONFLICT', `${path} already exists; choose another file name`);
  const dir = dirname(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AppError('BAD_INPUT', `folder ${dir} does not exist`);
}

/** Writes a new file; secret ones (keys, PKCS#12) are 0600 from the first byte. */
export function writeNewFile(path: string, data: string | Buffer, secret: boolean): void {
  writeFileSync(path, data, { mode: secret ? 0o600 : 0o644, flag: 'wx' });
}

/** Opens the data folder named by --data for one command, and closes it whatever happens. */
export function withPki<T>(values: Values, fn: (pki: Pki) => T): T {
  const pki = openPkiAt(str(values, 'data')!);
  try {
    return fn(pki);
  } finally {
    pki.close();
  }
}
