// `authbox user add|passwd|disable|enable|list` end to end: --help, exit codes (2 for
// usage, 1 with one line for a failure), list output without hashes, audit rows with
// the CLI actor, and no password in any output. Needs the build (dist/) first.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ntHash } from '../../src/core/md4.js';
import { openPkiAt } from '../../src/main.js';
import { authbox, authboxOk, initDataDir, tempDir , withDatabase } from '../helpers/authbox.js';
import { expectRefusal } from './ca-common.js';

const COMMANDS: Record<string, string[]> = {
  'user add': ['--data', '--username', '--password', '--password-file', '--group', '--chap'],
  'user passwd': ['--data', '--username', '--password', '--password-file', '--chap', '--no-chap'],
  'user disable': ['--data', '--username'],
  'user enable': ['--data', '--username'],
  'user list': ['--data', '--json'],
};

const PASSWORD = 'Tr0ub4dor&3-secret';
let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;
const outputs: string[] = [];

/** Runs authbox, keeping every output to check later that no password ever appears in one. */
function run(args: string[]) {
  const r = authbox(args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

interface Listed { username: string; enabled: boolean; source: string; groups: string[] }
const listJson = (): Listed[] => JSON.parse(authboxOk(['user', 'list', '--data', data.dir, '--json'])) as Listed[];

function auditRows(): { actor: string; source: string; action: string; target: string; detail: string | null }[] {
  return withDatabase(data.dir, (db) => db.prepare("SELECT actor, source, action, target, detail FROM audit WHERE action LIKE 'user.%' ORDER BY id").all() as never);
}

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-users-cli-');
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('--help', () => {
  it('lists the user commands in the overview', () => {
    const help = authbox(['--help']);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toContain(`  ${name} `);
  });

  it.each(Object.entries(COMMANDS))('%s --help names its options (exit 0)', (name, options) => {
    const r = authbox([...name.split(' '), '--help', '--data', join(work.path, 'must-not-exist')]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^authbox ${name} `));
    for (const o of options) expect(r.stdout).toContain(o);
    expect(r.stderr).toBe('');
  });
});

describe('user add and list', () => {
  it('starts with no users', () => {
    expect(authboxOk(['user', 'list', '--data', data.dir])).toBe('no users\n');
    expect(listJson()).toEqual([]);
  });

  it('adds users with --password and --password-file, with groups', () => {
    const r = run(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', PASSWORD, '--group', 'staff', '--group', 'wifi']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added user "alice" in staff, wifi\n');
    const file = join(work.path, 'bob.pw');
    writeFileSync(file, `${PASSWORD}-bob\n`, { mode: 0o600 });
    expect(run(['user', 'add', '--data', data.dir, '--username', 'bob', '--password-file', file]).status).toBe(0);
    expect(listJson()).toMatchObject([
      { username: 'alice', enabled: true, source: 'local', groups: ['staff', 'wifi'] },
      { username: 'bob', enabled: true, source: 'local', groups: [] },
    ]);
  });

  it('stores a password from a file without its line break', async () => {
    const pki = openPkiAt(data.dir);
    try {
      const bob = pki.users.get('bob');
      expect(await pki.users.verifyPassword(bob, `${PASSWORD}-bob`)).toBe(true);
      expect(pki.users.ntHashOf(bob)!.equals(ntHash(`${PASSWORD}-bob`))).toBe(true);
    } finally {
      pki.close();
    }
  });

  it('lists as a table and as JSON, never with a hash', () => {
    const table = authboxOk(['user', 'list', '--data', data.dir]);
    expect(table.split('\n')[0]).toMatch(/^USERNAME\s+STATE\s+SOURCE\s+CHAP\s+GROUPS$/);
    expect(table).toMatch(/^alice\s+enabled\s+local\s+no\s+staff,wifi$/m);
    expect(table).toMatch(/^bob\s+enabled\s+local\s+no\s+-$/m);
    const json = authboxOk(['user', 'list', '--data', data.dir, '--json']);
    for (const text of [table, json]) {
      expect(text).not.toMatch(/scrypt|hash"\s*:\s*"|sealed/i);
      expect(text).not.toContain(PASSWORD);
    }
  });

  it('refuses a duplicate user whatever its case (exit 1, one line)', () => {
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'ALICE', '--password', PASSWORD]), 1, /user "ALICE" already exists/);
    expect(listJson()).toHaveLength(2);
  });

  it('refuses a weak password and a bad user name (exit 1, one line)', () => {
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'short']), 1, /too short: at least 8/);
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'x'.repeat(129)]), 1, /too long/);
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'a'.repeat(129), '--password', PASSWORD]), 1, /1 to 128 characters/);
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'tab\there', '--password', PASSWORD]), 1, /control characters/);
    expectRefusal(run(['user', 'add', '--data', data.dir, '--username', 'carol', '--password-file', join(work.path, 'none')]), 1, /cannot read .*ENOENT/);
    expect(listJson()).toHaveLength(2);
  });

  it('exits 2 on usage errors', () => {
    const cases: [string[], RegExp][] = [
      [['user', 'add', '--data', data.dir, '--username', 'carol'], /--password or --password-file is required/],
      [['user', 'add', '--data', data.dir, '--username', 'carol', '--password', PASSWORD, '--password-file', 'f'], /not both/],
      [['user', 'add', '--data', data.dir, '--password', PASSWORD], /--username is required/],
      [['user', 'add', '--username', 'carol', '--password', PASSWORD], /--data is required/],
      [['user', 'passwd', '--data', data.dir, '--username', 'alice'], /--password or --password-file is required/],
      [['user', 'disable', '--data', data.dir], /--username is required/],
      [['user', 'list', '--data', data.dir, '--colour'], /unknown option '--colour'/],
      [['user', 'frobnicate'], /"user frobnicate" is not a command.*user add/],
    ];
    for (const [args, pattern] of cases) {
      const r = run(args);
      expectRefusal(r, 2, pattern);
      expect(r.stdout).toBe('');
    }
    expect(listJson()).toHaveLength(2);
  });
});

describe('user passwd, disable, enable', () => {
  it('changes a password', async () => {
    const r = run(['user', 'passwd', '--data', data.dir, '--username', 'Alice', '--password', `${PASSWORD}-new`]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('changed the password of "alice"\n');
    const pki = openPkiAt(data.dir);
    try {
      const alice = pki.users.get('alice');
      expect(await pki.users.verifyPassword(alice, `${PASSWORD}-new`)).toBe(true);
      expect(await pki.users.verifyPassword(alice, PASSWORD)).toBe(false);
      expect(pki.users.ntHashOf(alice)!.equals(ntHash(`${PASSWORD}-new`))).toBe(true);
    } finally {
      pki.close();
    }
    expectRefusal(run(['user', 'passwd', '--data', data.dir, '--username', 'alice', '--password', 'short']), 1, /too short/);
  });

  it('disables and enables', () => {
    expect(run(['user', 'disable', '--data', data.dir, '--username', 'bob']).stdout).toBe('disabled user "bob"\n');
    expect(listJson().find((u) => u.username === 'bob')!.enabled).toBe(false);
    expect(authboxOk(['user', 'list', '--data', data.dir])).toMatch(/^bob\s+disabled\s+local/m);
    expect(run(['user', 'disable', '--data', data.dir, '--username', 'BOB']).stdout).toBe('user "bob" is already disabled\n');
    expect(run(['user', 'enable', '--data', data.dir, '--username', 'bob']).stdout).toBe('enabled user "bob"\n');
    expect(listJson().find((u) => u.username === 'bob')!.enabled).toBe(true);
  });

  it('refuses an unknown user (exit 1, one line)', () => {
    for (const cmd of [['passwd', '--password', PASSWORD], ['disable'], ['enable']]) {
      expectRefusal(run(['user', cmd[0]!, '--data', data.dir, '--username', 'nobody', ...cmd.slice(1)]), 1, /no user "nobody"/);
    }
  });
});

describe('audit and secrecy', () => {
  it('writes an audit row with the CLI actor for every change, and no secret in it', () => {
    const rows = auditRows();
    expect(rows.map((r) => `${r.action} ${r.target}`)).toEqual([
      'user.add alice', 'user.add bob', 'user.passwd alice', 'user.disable bob', 'user.enable bob',
    ]);
    for (const row of rows) {
      expect(row.actor).toMatch(/^cli:/);
      expect(row.source).toBe('cli');
      expect(row.detail ?? '').not.toContain(PASSWORD);
    }
    expect(JSON.parse(rows[0]!.detail!)).toEqual({ groups: ['staff', 'wifi'], enabled: true, chap: false });
  });

  it('never prints a password', () => {
    expect(outputs.length).toBeGreaterThan(10);
    for (const text of outputs) expect(text).not.toContain(PASSWORD);
  });

  it('leaves no password in plain in the database', () => {
    const db = readFileSync(join(data.dir, 'authbox.db'));
    expect(db.includes(Buffer.from(PASSWORD))).toBe(false);
    expect(db.includes(ntHash(`${PASSWORD}-new`))).toBe(false);
  });
});
