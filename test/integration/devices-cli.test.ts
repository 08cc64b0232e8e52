// `authbox device add|list|show|disable|enable|remove` end to end, and `cert issue
// --profile device --device MAC`: MAC spellings, exit codes (2 for usage, 1 with one line
// for a failure, nothing stored), audit rows with the CLI actor, and the certificate's
// binding to its device. Needs the build (dist/) first.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, initDataDir, tempDir, withDatabase } from '../helpers/authbox.js';

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: ReturnType<typeof tempDir>;

interface Listed { mac: string; name: string | null; owner: string | null; groups: string[]; enabled: boolean; description: string | null; certificates?: string[] }
const device = (...args: string[]) => authbox(['device', args[0]!, '--data', data.dir, ...args.slice(1)]);
const listJson = (): Listed[] => JSON.parse(authboxOk(['device', 'list', '--data', data.dir, '--json'])) as Listed[];
const showJson = (mac: string): Listed => JSON.parse(authboxOk(['device', 'show', '--data', data.dir, '--mac', mac, '--json'])) as Listed;
const deviceRows = (): number => withDatabase(data.dir, (db) => (db.prepare('SELECT count(*) AS n FROM devices').get() as { n: number }).n);
const auditRows = (): { actor: string; source: string; action: string; target: string }[] =>
  withDatabase(data.dir, (db) => db.prepare("SELECT actor, source, action, target FROM audit WHERE action LIKE 'device.%' ORDER BY id").all() as never);

/** A failure: exit 1 and exactly one line on stderr. */
function expectFailure(r: { status: number; stderr: string; stdout: string }, text: RegExp): void {
  expect(r.status, r.stderr).toBe(1);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(text);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  data = await initDataDir();
  work = tempDir('authbox-devices-cli-');
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
});
afterAll(() => {
  data?.cleanup();
  work?.cleanup();
});

describe('--help', () => {
  it('lists the device commands and their options', () => {
    const help = authboxOk(['--help']);
    for (const c of ['device add', 'device list', 'device show', 'device remove', 'device disable', 'device enable']) expect(help).toContain(c);
    const add = authboxOk(['device', 'add', '--help']);
    for (const o of ['--data', '--mac', '--owner', '--group', '--description', '--name']) expect(add).toContain(o);
    expect(authboxOk(['cert', 'issue', '--help'])).toContain('--device MAC');
  });

  it('refuses a missing --mac as a usage error (exit 2)', () => {
    expect(device('add').status).toBe(2);
  });
});

describe('device add', () => {
  it('registers devices given in every usual MAC spelling, stored as aa:bb:cc:dd:ee:ff', () => {
    const spellings = ['02:00:00:00:01:01', '02-00-00-00-01-02', '020000000103', '0200.0000.0104', 'AA:BB:CC:00:01:05'];
    for (const mac of spellings) expect(device('add', '--mac', mac).status).toBe(0);
    expect(listJson().map((d) => d.mac)).toEqual(['02:00:00:00:01:01', '02:00:00:00:01:02', '02:00:00:00:01:03', '02:00:00:00:01:04', 'aa:bb:cc:00:01:05']);
  });

  it('registers a device with a name, an owner, groups and a description', () => {
    const r = device('add', '--mac', '02-00-00-00-02-01', '--name', 'printer-2f', '--owner', 'alice', '--group', 'printers', '--group', 'iot',
      '--description', 'second floor');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('added device 02:00:00:00:02:01 "printer-2f" in iot, printers\n');
    expect(showJson('020000000201')).toMatchObject({
      mac: '02:00:00:00:02:01', name: 'printer-2f', owner: 'alice', groups: ['iot', 'printers'], enabled: true, description: 'second floor', certificates: [],
    });
  });

  it.each([
    ['a bad MAC', ['--mac', '02:00:00:00:02'], /is not a MAC address/],
    ['a MAC with a stray character', ['--mac', '02:00:00:00:02:0g'], /is not a MAC address/],
    ['a MAC already registered, in another spelling', ['--mac', '0200.0000.0201'], /02:00:00:00:02:01 is already registered/],
    ['a name already used', ['--mac', '02:00:00:00:02:09', '--name', 'PRINTER-2F'], /already used by device 02:00:00:00:02:01/],
    ['an owner that is no user', ['--mac', '02:00:00:00:02:09', '--owner', 'nobody'], /no such user: nobody/],
  ])('refuses %s: exit 1, one line, nothing stored', (_what, args, text) => {
    const before = deviceRows();
    expectFailure(device('add', ...args), text);
    expect(deviceRows()).toBe(before);
  });
});

describe('device list, show, disable, enable, remove', () => {
  it('lists a table and shows one device', () => {
    const table = authboxOk(['device', 'list', '--data', data.dir]);
    expect(table).toMatch(/^MAC\s+NAME\s+OWNER\s+STATE\s+GROUPS$/m);
    expect(table).toMatch(/^02:00:00:00:02:01\s+printer-2f\s+alice\s+enabled\s+iot,printers$/m);
    const show = authboxOk(['device', 'show', '--data', data.dir, '--mac', '02-00-00-00-02-01']);
    expect(show).toMatch(/^Name:\s+printer-2f$/m);
    expect(show).toMatch(/^State:\s+enabled$/m);
  });

  it('disables and enables a device', () => {
    expect(device('disable', '--mac', '020000000201').stdout).toBe('disabled device 02:00:00:00:02:01\n');
    expect(showJson('02:00:00:00:02:01').enabled).toBe(false);
    expect(device('disable', '--mac', '020000000201').stdout).toBe('device 02:00:00:00:02:01 was already disabled\n');
    expect(device('enable', '--mac', '0200.0000.0201').stdout).toBe('enabled device 02:00:00:00:02:01\n');
    expect(showJson('02:00:00:00:02:01').enabled).toBe(true);
  });

  it('removes a device; an unknown one is a one-line failure', () => {
    expect(device('remove', '--mac', 'AA-BB-CC-00-01-05').stdout).toBe('removed device aa:bb:cc:00:01:05\n');
    expect(listJson().map((d) => d.mac)).not.toContain('aa:bb:cc:00:01:05');
    expectFailure(device('remove', '--mac', 'aa:bb:cc:00:01:05'), /no device with MAC aa:bb:cc:00:01:05/);
    expectFailure(device('show', '--mac', 'nonsense'), /is not a MAC address/);
  });

  it('audits every change with the CLI actor', () => {
    const rows = auditRows();
    expect(rows.every((r) => r.source === 'cli' && r.actor.startsWith('cli:'))).toBe(true);
    expect(rows.filter((r) => r.target === '02:00:00:00:02:01').map((r) => r.action)).toEqual(['device.add', 'device.disable', 'device.enable']);
    expect(rows.filter((r) => r.target === 'aa:bb:cc:00:01:05').map((r) => r.action)).toEqual(['device.add', 'device.remove']);
  });
});

describe('cert issue --device', () => {
  const issue = (...args: string[]) => authbox(['cert', 'issue', '--data', data.dir, '--profile', 'device', ...args]);

  it('binds the certificate to the device, with the device name as the default CN', () => {
    const r = issue('--device', '02:00:00:00:02:01', '--out-cert', join(work.path, 'p.crt'), '--out-key', join(work.path, 'p.key'));
    expect(r.status, r.stderr).toBe(0);
    const serial = /certificate ([0-9a-f]+) for "printer-2f"/.exec(r.stdout)?.[1];
    expect(serial, r.stdout).toBeDefined();
    expect(showJson('02:00:00:00:02:01').certificates).toEqual([serial]);
    const cert = JSON.parse(authboxOk(['cert', 'show', '--data', data.dir, '--serial', serial!, '--json'])) as { device?: string; commonName: string };
    expect(cert).toMatchObject({ device: '02:00:00:00:02:01', commonName: 'printer-2f' });
  });

  it('uses the MAC as the CN of a device without a name, and --cn when given', () => {
    const r = issue('--device', '020000000101', '--out-cert', join(work.path, 'm.crt'), '--out-key', join(work.path, 'm.key'));
    expect(r.stdout).toMatch(/for "02:00:00:00:01:01"/);
    const c = issue('--device', '020000000102', '--cn', 'cam.city.example', '--out-cert', join(work.path, 'c.crt'), '--out-key', join(work.path, 'c.key'));
    expect(c.stdout).toMatch(/for "cam.city.example"/);
    expect(showJson('02:00:00:00:01:02').certificates).toHaveLength(1);
  });

  it('refuses an unknown device (nothing issued), --device with another profile or with --user, and no --cn without --device', () => {
    const certs = (): number => withDatabase(data.dir, (db) => (db.prepare('SELECT count(*) AS n FROM certificates').get() as { n: number }).n);
    const before = certs();
    expectFailure(issue('--device', '02:00:00:00:09:09', '--out-cert', join(work.path, 'u.crt'), '--out-key', join(work.path, 'u.key')),
      /no device with MAC 02:00:00:00:09:09/);
    expect(certs()).toBe(before);
    expect(authbox(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--device', '02:00:00:00:01:01',
      '--out-cert', join(work.path, 'x.crt'), '--out-key', join(work.path, 'x.key')]).status).toBe(2);
    expect(issue('--device', '02:00:00:00:01:01', '--user', 'alice', '--out-cert', join(work.path, 'y.crt'), '--out-key', join(work.path, 'y.key')).status).toBe(2);
    expect(issue('--out-cert', join(work.path, 'z.crt'), '--out-key', join(work.path, 'z.key')).status).toBe(2);
  });
});
