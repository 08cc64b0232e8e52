// appliance/: the systemd unit's hardening (and `systemd-analyze verify` where it runs),
// install.sh (syntax, root check, the plan of a --dry-run), and the settings documentation:
// CONFIG.md, authbox.example.json and the keys loadConfig reads are one set.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CONFIG_FILE, loadConfig } from '../../src/config/config.js';

const APPLIANCE = resolve(import.meta.dirname, '../../appliance');
const UNIT = join(APPLIANCE, 'authbox.service');
const INSTALL = join(APPLIANCE, 'install.sh');
const isRoot = process.getuid?.() === 0;
const hasCommand = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** The unit file as section → directive → values (a directive may repeat). */
function parseUnit(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      current = new Map();
      sections.set(s[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (!current || eq < 0) throw new Error(`not a unit-file line: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return sections;
}

describe('authbox.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));
  const service = unit.get('Service')!;
  const one = (key: string): string | undefined => service.get(key)?.at(-1);

  it('runs serve on /var/lib/authbox as the authbox user', () => {
    expect(one('User')).toBe('authbox');
    expect(one('Group')).toBe('authbox');
    expect(one('ExecStart')).toBe('/usr/bin/node /opt/authbox/bin/authbox serve --data /var/lib/authbox');
    expect(unit.get('Install')?.get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('has the sandbox directives', () => {
    const expected: Record<string, string> = {
      ProtectSystem: 'strict', ReadWritePaths: '/var/lib/authbox', StateDirectory: 'authbox', StateDirectoryMode: '0700',
      NoNewPrivileges: 'yes', PrivateTmp: 'yes', ProtectHome: 'yes', PrivateDevices: 'yes',
      ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes', ProtectKernelLogs: 'yes', ProtectControlGroups: 'yes',
      RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', RestrictNamespaces: 'yes', RestrictSUIDSGID: 'yes',
      LockPersonality: 'yes', SystemCallArchitectures: 'native',
      CapabilityBoundingSet: 'CAP_NET_BIND_SERVICE', AmbientCapabilities: 'CAP_NET_BIND_SERVICE',
      UMask: '0077', Restart: 'on-failure', KillSignal: 'SIGTERM',
    };
    for (const [key, value] of Object.entries(expected)) expect(one(key), key).toBe(value);
    expect(service.get('SystemCallFilter')?.[0]).toBe('@system-service');
    expect(Number(one('TimeoutStopSec'))).toBeGreaterThan(0);
  });

  it('gets the master key as a credential, reloads with a signal the daemon handles', () => {
    expect(one('LoadCredential')).toBe('authbox-master-key:/etc/authbox/master.key');
    // SIGHUP reloads (test/integration/reload.test.ts); the daemon never dies of it.
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
  });

  it('does not set MemoryDenyWriteExecute (V8 JIT), and says why', () => {
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(readFileSync(UNIT, 'utf8')).toMatch(/^# MemoryDenyWriteExecute= is deliberately not set: V8/m);
  });

  // systemd-analyze comes with Debian's systemd package (in TEST_PACKAGES).
  it('passes systemd-analyze verify', () => {
    expect(hasCommand('systemd-analyze'), 'systemd-analyze is missing (apt-get install systemd)').toBe(true);
    const r = spawnSync('systemd-analyze', ['verify', UNIT], { encoding: 'utf8', timeout: 30_000 });
    // Other units on this machine may draw warnings; only lines about ours count.
    const ours = r.stderr.split('\n').filter((l) => l.includes('authbox.service'));
    expect(ours).toEqual([]);
    expect(r.status).toBe(0);
  });
});

describe('install.sh', () => {
  let dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    dirs = [];
  });
  const temp = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'authbox-install-'));
    dirs.push(d);
    return d;
  };
  /** As nobody when we are root: a dry run needs no privilege, and a real run must refuse. */
  const asUser = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const cmd = isRoot && hasCommand('setpriv')
      ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'bash', INSTALL, ...args]
      : ['bash', INSTALL, ...args];
    const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', timeout: 60_000, cwd: '/' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('is valid bash', () => {
    const r = spawnSync('bash', ['-n', INSTALL], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('refuses to install as a user other than root', () => {
    expect(!isRoot || hasCommand('setpriv'), 'setpriv (util-linux) is needed to run install.sh as another user').toBe(true);
    const prefix = temp();
    const r = asUser(['--prefix', prefix]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('run as root');
    expect(readdirSync(prefix)).toEqual([]);
  });

  it('--dry-run --prefix plans every step and changes nothing', () => {
    expect(existsSync(resolve(APPLIANCE, '../dist/cli/main.js')), 'build first (make build)').toBe(true);
    const prefix = temp();
    // A folder nobody may write: any change the dry run attempted would fail.
    const r = asUser(['--dry-run', '--prefix', prefix, '--org', 'Test City', '--public-url', 'http://pki.test:8080']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plan = r.stdout;
    const src = resolve(APPLIANCE, '..');
    const steps = [
      `+ cp -a ${src}/dist ${src}/bin ${src}/package.json ${src}/package-lock.json ${src}/node_modules ${prefix}/opt/authbox.new/`,
      `+ npm --prefix ${prefix}/opt/authbox.new prune --omit=dev --offline`,
      `+ mv ${prefix}/opt/authbox.new ${prefix}/opt/authbox`,
      `+ install -d -m 0750 -o root`,
      `+ /usr/bin/node ${prefix}/opt/authbox/bin/authbox init --data ${prefix}/var/lib/authbox --org Test City --public-url http://pki.test:8080`,
      `+ install -m 0600 -o root -g root ${prefix}/var/lib/authbox/master.key ${prefix}/etc/authbox/master.key`,
      `+ rm -f ${prefix}/var/lib/authbox/master.key`,
      `+ chmod 0700 ${prefix}/var/lib/authbox`,
      `+ write ${prefix}/usr/local/sbin/authbox`,
      `+ install -m 0644 ${src}/appliance/authbox.service ${prefix}/etc/systemd/system/authbox.service`,
    ];
    let at = 0;
    for (const step of steps) {
      const i = plan.indexOf(step, at);
      expect(i, `${step}\nin:\n${plan}`).toBeGreaterThanOrEqual(0);
      at = i;
    }
    expect(plan).toContain('skipped: --prefix');
    expect(plan).toContain('skipped systemctl: --prefix');
    expect(plan).not.toMatch(/\+ (useradd|systemctl)/);
    expect(readdirSync(prefix)).toEqual([]);
  });

  it('refuses an unknown option', () => {
    const r = spawnSync('bash', [INSTALL, '--frobnicate'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --frobnicate');
  });
});

describe('CONFIG.md and authbox.example.json', () => {
  let dir: string | undefined;
  afterEach(() => {
    vi.restoreAllMocks();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const documented = (): string[] => [...readFileSync(join(APPLIANCE, 'CONFIG.md'), 'utf8').matchAll(/^\| `([a-zA-Z.]+)` \|/gm)]
    .map((m) => m[1]!).sort();

  const leaves = (value: unknown, path = ''): string[] =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).flatMap(([k, v]) => leaves(v, path ? `${path}.${k}` : k))
      : [path];

  const example = (): Record<string, unknown> => JSON.parse(readFileSync(join(APPLIANCE, 'authbox.example.json'), 'utf8')) as Record<string, unknown>;

  /** The settings loadConfig reads: every property it touches on the parsed authbox.json. */
  function keysLoadConfigReads(settings: unknown): string[] {
    dir = mkdtempSync(join(tmpdir(), 'authbox-config-keys-'));
    const text = JSON.stringify(settings);
    writeFileSync(join(dir, CONFIG_FILE), text);
    const read = new Set<string>();
    const watch = (value: unknown, path: string): unknown => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
      return new Proxy(value, {
        get(target, key, receiver) {
          const v: unknown = Reflect.get(target, key, receiver);
          if (typeof key !== 'string') return v;
          const p = path ? `${path}.${key}` : key;
          if (v === null || typeof v !== 'object' || Array.isArray(v)) read.add(p);
          return watch(v, p);
        },
      });
    };
    const parse = JSON.parse;
    vi.spyOn(JSON, 'parse').mockImplementation((t: string) => (t === text ? watch(parse(t), '') : parse(t)));
    loadConfig(dir, {});
    return [...read].sort();
  }

  it('the example documents every setting, CONFIG.md every setting of the example', () => {
    expect(leaves(example()).sort()).toEqual(documented());
  });

  it('loadConfig reads exactly the documented settings (a new setting needs a line in CONFIG.md and the example)', () => {
    expect(keysLoadConfigReads(example())).toEqual(documented());
  });

  it('the example holds the defaults: loading it equals loading only organization and publicUrl', () => {
    dir = mkdtempSync(join(tmpdir(), 'authbox-config-defaults-'));
    const ex = example() as { organization: string; publicUrl: string };
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify(ex));
    const full = loadConfig(dir, {});
    writeFileSync(join(dir, CONFIG_FILE), JSON.stringify({ organization: ex.organization, publicUrl: ex.publicUrl }));
    const defaults = loadConfig(dir, {});
    // radius.eapWorkers defaults to the number of cores; backup, syslog destinations, SMTP and the webhook have no default (absent: off).
    const stdoutOnly = (l: typeof full.log): unknown => ({ level: l.level, system: { stdout: l.system.stdout }, auth: { stdout: l.auth.stdout }, audit: { stdout: l.audit.stdout } });
    const strip = (c: typeof full): unknown => ({
      ...c, radius: { ...c.radius, eapWorkers: 0 }, backup: undefined, log: stdoutOnly(c.log), expiry: { days: c.expiry.days },
    });
    expect(strip(full)).toEqual(strip(defaults));
    expect(full.backup).toBeDefined();
    expect(full.log.audit.syslog).toBeDefined();
    expect(full.expiry.smtp).toBeDefined();
  });
});
