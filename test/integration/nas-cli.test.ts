// `authbox nas add|list|remove` end to end: --help, exit codes (2 for usage, 1 with one line
// for a failure), list output, the secret sealed at rest and never printed or audited.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { unseal } from '../../src/core/seal.js';
import { readMasterKey } from '../../src/config/config.js';
import type { Db } from '../../src/store/db.js';
import { authbox, authboxOk, initDataDir, tempDir , withDatabase } from '../helpers/authbox.js';
import { expectRefusal } from './ca-common.js';

const COMMANDS: Record<string, string[]> = {
  'nas add': ['--data', '--name', '--address', '--secret', '--secret-file', '--kind', '--allow-missing-message-authenticator'],
  'nas list': ['--data', '--json'],
  'nas remove': ['--data', '--name'],
};

const SECRET = 'Sh4red-Secret-for-AP';
let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;
const outputs: string[] = [];

function run(args: string[]) {
  const r = authbox(args);
  outputs.push(r.stdout, r.stderr);
  return r;
}

interface Listed { name: string; address: string; kind: string; requireMessageAuthenticator: boolean }
const listJson = (): Listed[] => JSON.parse(authboxOk(['nas', 'list', '--data', data.dir, '--json'])) as Listed[];

const withDb = <T>(fn: (db: Db) => T): T => withDatabase(data.dir, fn);

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-nas-cli-');
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('--help', () => {
  it.each(Object.entries(COMMANDS))('%s --help names its options (exit 0)', (name, options) => {
    const r = authbox([...name.split(' '), '--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const o of options) expect(r.stdout).toContain(o);
  });
});

describe('nas add, list, remove', () => {
  it('starts with no clients', () => {
    expect(authboxOk(['nas', 'list', '--data', data.dir])).toBe('no RADIUS clients\n');
  });

  it('adds clients for IPv4 and IPv6 networks, kinds and the legacy flag', () => {
    const r = run(['nas', 'add', '--data', data.dir, '--name', 'ap-1', '--address', '192.0.2.10', '--secret', SECRET]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added RADIUS client "ap-1" for 192.0.2.10/32 (wlan)\n');
    expect(run(['nas', 'add', '--data', data.dir, '--name', 'vpn', '--address', '2001:DB8::/32', '--secret', SECRET, '--kind', 'vpn']).status).toBe(0);
    const legacy = run(['nas', 'add', '--data', data.dir, '--name', 'old-switch', '--address', '10.0.0.0/8', '--secret', SECRET,
      '--kind', 'switch', '--allow-missing-message-authenticator']);
    expect(legacy.status, legacy.stderr).toBe(0);
    expect(legacy.stderr).toMatch(/BlastRADIUS/);
    expect(listJson()).toMatchObject([
      { name: 'ap-1', address: '192.0.2.10/32', kind: 'wlan', requireMessageAuthenticator: true },
      { name: 'old-switch', address: '10.0.0.0/8', kind: 'switch', requireMessageAuthenticator: false },
      { name: 'vpn', address: '2001:db8::/32', kind: 'vpn', requireMessageAuthenticator: true },
    ]);
    const table = authboxOk(['nas', 'list', '--data', data.dir]);
    expect(table).toMatch(/^NAME\s+ADDRESS\s+KIND\s+TRANSPORT\s+MESSAGE-AUTHENTICATOR\s+COA$/m);
    expect(table).toMatch(/^old-switch\s+10\.0\.0\.0\/8\s+switch\s+udp\s+optional\s+off$/m);
  });

  it('keeps the secret sealed with the master key (AAD nas:<name>)', () => {
    const row = withDb((db) => db.prepare("SELECT secret_sealed FROM nas_clients WHERE name = 'ap-1'").get() as { secret_sealed: Buffer });
    expect(row.secret_sealed.includes(Buffer.from(SECRET))).toBe(false);
    const master = readMasterKey(join(data.dir, 'master.key'));
    expect(unseal(master, 'nas:ap-1', row.secret_sealed).toString()).toBe(SECRET);
    expect(() => unseal(master, 'nas:vpn', row.secret_sealed)).toThrow();
  });

  it('refuses bad input with one line and exit 1, and usage errors with exit 2', () => {
    const add = (...a: string[]) => run(['nas', 'add', '--data', data.dir, ...a]);
    expectRefusal(add('--name', 'short', '--address', '192.0.2.11', '--secret', 'seven77'), 1, /too short: at least 8/);
    expectRefusal(add('--name', 'AP-1', '--address', '192.0.2.11', '--secret', SECRET), 1, /already exists/);
    expectRefusal(add('--name', 'dup-addr', '--address', '10.0.0.0/8', '--secret', SECRET), 1, /already the address of RADIUS client "old-switch"/);
    expectRefusal(add('--name', 'typo', '--address', '192.0.2.1/24', '--secret', SECRET), 1, /--address must be/);
    expectRefusal(add('--name', 'host', '--address', 'ap.example', '--secret', SECRET), 1, /--address must be/);
    expectRefusal(add('--name', 'bad name!', '--address', '192.0.2.12', '--secret', SECRET), 1, /client name/);
    expectRefusal(add('--name', 'kind', '--address', '192.0.2.13', '--secret', SECRET, '--kind', 'printer'), 2, /--kind must be one of/);
    expectRefusal(add('--name', 'nosecret', '--address', '192.0.2.14'), 2, /--secret or --secret-file is required/);
    expectRefusal(add('--address', '192.0.2.14', '--secret', SECRET), 2, /--name is required/);
    expect(listJson()).toHaveLength(3);
  });

  it('removes a client (any case of its name); removing an unknown one is exit 1', () => {
    const r = run(['nas', 'remove', '--data', data.dir, '--name', 'VPN']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('removed RADIUS client "vpn"\n');
    expect(listJson().map((n) => n.name)).toEqual(['ap-1', 'old-switch']);
    expectRefusal(run(['nas', 'remove', '--data', data.dir, '--name', 'vpn']), 1, /no RADIUS client "vpn"/);
  });

  it('writes a change row and an audit row per write, with the CLI actor and no secret', () => {
    const audit = withDb((db) => db.prepare("SELECT actor, source, action, target, detail FROM audit WHERE action LIKE 'nas.%' ORDER BY id").all()) as
      { actor: string; source: string; action: string; target: string; detail: string }[];
    expect(audit.map((a) => `${a.action} ${a.target}`)).toEqual(['nas.add ap-1', 'nas.add vpn', 'nas.add old-switch', 'nas.remove vpn']);
    for (const a of audit) {
      expect(a.actor).toMatch(/^cli:/);
      expect(a.source).toBe('cli');
      expect(a.detail).not.toContain(SECRET);
      expect(a.detail).not.toMatch(/secret/i);
    }
    const changes = withDb((db) => db.prepare("SELECT count(*) AS n FROM changes WHERE kind = 'nas'").get()) as { n: number };
    expect(changes.n).toBe(4);
  });

  it('never printed the secret', () => {
    for (const o of outputs) expect(o).not.toContain(SECRET);
    expect(authboxOk(['nas', 'list', '--data', data.dir, '--json'])).not.toContain(SECRET);
  });
});
