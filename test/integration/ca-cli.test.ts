// The `authbox` command's conventions: --help everywhere (exit 0), a wrong argument
// says what is wrong (exit 2), a failure is one line (exit 1), never a stack trace.
import { chmodSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, initDataDir, tempDir } from '../helpers/authbox.js';
import { authboxAsync, expectRefusal } from './ca-common.js';

const COMMANDS: Record<string, string[]> = {
  init: ['--data', '--org', '--key-type', '--public-url', '--admin-password'],
  serve: ['--data', '--http'],
  'ca cert': ['--data'],
  'cert issue': ['--data', '--profile', '--cn', '--user', '--email', '--upn', '--dns', '--ip', '--days', '--key-type',
    '--out-p12', '--p12-password', '--legacy-p12', '--out-cert', '--out-key'],
  'cert sign': ['--data', '--csr', '--profile', '--user', '--days', '--out', '--cn'],
  'cert revoke': ['--data', '--serial', '--reason'],
  'cert unhold': ['--data', '--serial'],
  'cert list': ['--data', '--user', '--status', '--json'],
  'cert show': ['--data', '--serial', '--json'],
};

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-ca-cli-');
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('--help', () => {
  it('lists every command with `authbox --help` (exit 0) and exits 2 with no arguments', () => {
    const help = authbox(['--help']);
    expect(help.status).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(help.stdout).toContain(`  ${name} `);
    const none = authbox([]);
    expect(none.status).toBe(2);
    expect(none.stdout + none.stderr).toMatch(/usage: authbox <command>/);
  });

  it('works for every command, naming its options, and does nothing else', async () => {
    // --help wins even beside otherwise wrong arguments, and never touches --data.
    const runs = await Promise.all(Object.keys(COMMANDS).map((name) =>
      authboxAsync([...name.split(' '), '--help', '--data', join(work.path, 'must-not-exist')])));
    Object.entries(COMMANDS).forEach(([name, options], i) => {
      const r = runs[i]!;
      expect(r.status, `${name}: ${r.stderr}`).toBe(0);
      expect(r.stdout, name).toMatch(new RegExp(`^authbox ${name} `));
      for (const o of options) expect(r.stdout, `${name} ${o}`).toContain(o);
      expect(r.stderr, name).toBe('');
    });
    expect(existsSync(join(work.path, 'must-not-exist'))).toBe(false);
    expect(authbox(['cert', 'issue', '-h']).status).toBe(0);
  });
});

describe('wrong arguments exit 2 and say what is wrong', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['unknown command', () => ['frobnicate'], /unknown command "frobnicate"/],
    ['unknown subcommand', () => ['cert', 'frobnicate'], /"cert frobnicate" is not a command.*cert issue/],
    ['unknown option', () => ['cert', 'list', '--data', data.dir, '--colour'], /unknown option '--colour'/],
    ['missing --data', () => ['cert', 'list'], /--data is required/],
    ['missing --profile', () => ['cert', 'issue', '--data', data.dir, '--cn', 'x', '--out-p12', join(work.path, 'x.p12'),
      '--p12-password', 'pw'], /--profile is required/],
    ['missing --serial', () => ['cert', 'revoke', '--data', data.dir], /--serial is required/],
    ['missing --csr', () => ['cert', 'sign', '--data', data.dir, '--profile', 'device', '--out', join(work.path, 'x.pem')], /--csr is required/],
    ['option without its value', () => ['cert', 'show', '--data', data.dir, '--serial'], /--serial/],
    ['empty value', () => ['cert', 'show', '--data', data.dir, '--serial', ''], /--serial needs a value|--serial is required/],
    ['a positional argument', () => ['cert', 'list', '--data', data.dir, 'extra'], /extra/],
    ['bad --profile', () => ['cert', 'issue', '--data', data.dir, '--profile', 'admin', '--cn', 'x',
      '--out-p12', join(work.path, 'x.p12'), '--p12-password', 'pw'], /--profile must be one of user, device, server, not "admin"/],
    ['bad --profile to sign', () => ['cert', 'sign', '--data', data.dir, '--csr', join(work.path, 'x.csr'), '--profile', 'ca',
      '--out', join(work.path, 'x.pem')], /--profile must be one of .*"ca"/],
    ['bad --key-type', () => ['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--key-type', 'dsa-1024',
      '--out-p12', join(work.path, 'x.p12'), '--p12-password', 'pw'], /--key-type must be one of .*"dsa-1024"/],
    ['bad --reason', () => ['cert', 'revoke', '--data', data.dir, '--serial', '01', '--reason', 'lost'], /--reason must be one of .*keyCompromise.*"lost"/],
    ['bad --status', () => ['cert', 'list', '--data', data.dir, '--status', 'dead'], /--status must be one of .*revoked.*"dead"/],
    ['bad --days', () => ['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--days', '-5',
      '--out-p12', join(work.path, 'x.p12'), '--p12-password', 'pw'], /--days/],
    ['no output for cert issue', () => ['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x'], /--out-p12.*--out-cert.*--out-key/],
    ['--out-cert without --out-key', () => ['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x',
      '--out-cert', join(work.path, 'x.pem')], /--out-key/],
  ];

  it.each(cases)('%s', (_, args, pattern) => {
    const r = authbox(args());
    expectRefusal(r, 2, pattern);
    expect(r.stdout).toBe('');
  });

  it('issues nothing after a usage error', () => {
    const db = (): string => authbox(['cert', 'list', '--data', data.dir, '--json']).stdout;
    const before = db();
    authbox(['cert', 'issue', '--data', data.dir, '--profile', 'admin', '--cn', 'x', '--out-p12', join(work.path, 'y.p12'), '--p12-password', 'pw']);
    authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--key-type', 'dsa', '--out-p12', join(work.path, 'y.p12'), '--p12-password', 'pw']);
    expect(db()).toBe(before);
  });
});

describe('failures exit 1 with one line and no stack trace', () => {
  it('a data folder that does not exist', () => {
    const missing = join(work.path, 'nowhere');
    for (const args of [['cert', 'list'], ['ca', 'cert'], ['cert', 'show', '--serial', '01'], ['cert', 'revoke', '--serial', '01'],
      ['cert', 'issue', '--profile', 'user', '--cn', 'x', '--out-cert', join(work.path, 'n.pem'), '--out-key', join(work.path, 'n.key')]]) {
      expectRefusal(authbox([...args, '--data', missing]), 1, /not an authbox data folder.*authbox init/);
    }
  });

  it('a master key that others can read, or that is missing', () => {
    const d = join(work.path, 'copy');
    expect(authbox(['init', '--data', d, '--public-url', 'http://127.0.0.1:9']).status).toBe(0);
    chmodSync(join(d, 'master.key'), 0o644);
    expectRefusal(authbox(['ca', 'cert', '--data', d]), 1, /master key .* readable by others .*chmod 600/);
    chmodSync(join(d, 'master.key'), 0o600);
    expect(authbox(['ca', 'cert', '--data', d]).status).toBe(0);
    writeFileSync(join(d, 'master.key'), 'too short\n', { mode: 0o600 });
    expectRefusal(authbox(['ca', 'cert', '--data', d]), 1, /master key .* not 32 base64-encoded bytes/);
    renameSync(join(d, 'master.key'), join(d, 'master.key.away'));
    expectRefusal(authbox(['ca', 'cert', '--data', d]), 1, /master key .* is missing/);
  });

  it('a master key that does not open the sealed keys', () => {
    const d = join(work.path, 'wrong-key');
    expect(authbox(['init', '--data', d, '--public-url', 'http://127.0.0.1:9']).status).toBe(0);
    writeFileSync(join(d, 'master.key'), Buffer.alloc(32, 7).toString('base64') + '\n', { mode: 0o600 });
    const r = authbox(['cert', 'issue', '--data', d, '--profile', 'user', '--cn', 'x',
      '--out-cert', join(work.path, 'wk.pem'), '--out-key', join(work.path, 'wk.key')]);
    expectRefusal(r, 1, /cannot be unsealed: wrong master key/);
  });

  it('an unknown serial, a bad CSR, a p12 password file that is missing', () => {
    expectRefusal(authbox(['cert', 'show', '--data', data.dir, '--serial', 'abcdef']), 1, /no certificate with serial abcdef/);
    const csr = join(work.path, 'junk.csr');
    writeFileSync(csr, '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n');
    expectRefusal(authbox(['cert', 'sign', '--data', data.dir, '--csr', csr, '--profile', 'device', '--out', join(work.path, 'junk.pem')]),
      1, /not a PKCS#10 request/);
    expectRefusal(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'x', '--out-p12', join(work.path, 'pf.p12'),
      '--p12-password-file', join(work.path, 'no-such-password-file')]), 1, /cannot read .*no-such-password-file: ENOENT/);
  });
});
