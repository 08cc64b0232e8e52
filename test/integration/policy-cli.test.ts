// `authbox policy set|show|remove|methods` end to end: --help, exit codes (2 for usage, 1
// with one line for a failure), show output (text and JSON, in winning order), change and
// audit rows with the CLI actor. Needs the build (dist/) first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { authbox, authboxOk, initDataDir , withDatabase } from '../helpers/authbox.js';
import { expectRefusal } from './ca-common.js';

const COMMANDS: Record<string, string[]> = {
  'policy set': ['--data', '--group', '--vlan', '--session-timeout', '--filter-id', '--class', '--priority', '--unset'],
  'policy show': ['--data', '--json'],
  'policy remove': ['--data', '--group'],
  'policy methods': ['--data', '--kind', '--allow'],
  'policy factors': ['--data', '--kind', '--otp', '--tunnel-client-cert'],
  'policy group-otp': ['--data', '--group', '--otp'],
};

let data: Awaited<ReturnType<typeof initDataDir>>;

interface Shown {
  groups: { group: string; vlan: string | null; sessionTimeout: number | null; filterId: string | null; class: string | null; priority: number }[];
  methods: { kind: string; methods: string[]; default: boolean }[];
  factors: { kind: string; otp: string; tunnelClientCert: string }[];
  otpGroups: string[];
}
const showJson = (): Shown => JSON.parse(authboxOk(['policy', 'show', '--data', data.dir, '--json'])) as Shown;

const withDb = <T>(fn: (db: Db) => T): T => withDatabase(data.dir, fn);

beforeAll(async () => {
  data = await initDataDir();
});
afterAll(() => data?.cleanup());

describe('--help', () => {
  it.each(Object.entries(COMMANDS))('%s --help names its options (exit 0)', (name, options) => {
    const r = authbox([...name.split(' '), '--help']);
    expect(r.status, r.stderr).toBe(0);
    for (const o of options) expect(r.stdout).toContain(o);
  });

  it('lists the policy commands in the overview', () => {
    const r = authbox(['--help']);
    for (const name of Object.keys(COMMANDS)) expect(r.stdout).toContain(name);
  });
});

describe('policy set, show, remove', () => {
  it('starts with no group policies and every method allowed', () => {
    const text = authboxOk(['policy', 'show', '--data', data.dir]);
    expect(text).toMatch(/^no group policies$/m);
    expect(text).toMatch(/^wlan\s+pap, chap, mschapv2, eap-tls, peap, ttls, mab$/m);
    expect(showJson()).toEqual({
      groups: [],
      methods: ['wlan', 'vpn', 'gateway', 'switch'].map((kind) => ({ kind, methods: ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'], default: true })),
      factors: ['wlan', 'vpn', 'gateway', 'switch'].map((kind) => ({ kind, otp: 'off', tunnelClientCert: 'off' })),
      otpGroups: [],
    });
  });

  it('sets policies, merges later changes into them, and shows them in the order they win', () => {
    const r = authbox(['policy', 'set', '--data', data.dir, '--group', 'staff', '--vlan', '42', '--session-timeout', '3600', '--class', 'staff']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('policy of group "staff": VLAN 42, session timeout 3600 s, class staff, priority 100\n');
    authboxOk(['policy', 'set', '--data', data.dir, '--group', 'guests', '--vlan', 'guest-net', '--filter-id', 'web-only', '--priority', '200']);
    authboxOk(['policy', 'set', '--data', data.dir, '--group', 'admins', '--vlan', '10', '--priority', '5']);
    authboxOk(['policy', 'set', '--data', data.dir, '--group', 'STAFF', '--priority', '50', '--unset', 'class']);
    expect(showJson().groups).toEqual([
      { group: 'admins', vlan: '10', sessionTimeout: null, filterId: null, class: null, priority: 5 },
      { group: 'staff', vlan: '42', sessionTimeout: 3600, filterId: null, class: null, priority: 50 },
      { group: 'guests', vlan: 'guest-net', sessionTimeout: null, filterId: 'web-only', class: null, priority: 200 },
    ]);
    const text = authboxOk(['policy', 'show', '--data', data.dir]);
    expect(text).toMatch(/^GROUP\s+PRIORITY\s+VLAN\s+TIMEOUT\s+FILTER-ID\s+CLASS$/m);
    expect(text).toMatch(/^staff\s+50\s+42\s+3600\s+-\s+-$/m);
    expect(text).toMatch(/^guests\s+200\s+guest-net\s+-\s+web-only\s+-$/m);
  });

  it('refuses bad values with one line and exit 1, and usage errors with exit 2, changing nothing', () => {
    const before = showJson();
    const set = (...a: string[]) => authbox(['policy', 'set', '--data', data.dir, ...a]);
    expectRefusal(set('--group', 'g', '--vlan', '0'), 1, /VLAN ID is 1 to 4094/);
    expectRefusal(set('--group', 'g', '--vlan', '4095'), 1, /VLAN ID is 1 to 4094/);
    expectRefusal(set('--group', 'g', '--vlan', 'x'.repeat(33)), 1, /name of 1 to 32/);
    expectRefusal(set('--group', 'g', '--vlan', 'bad name'), 1, /a VLAN is an ID/);
    expectRefusal(set('--group', 'g', '--session-timeout', '59'), 1, /60 to 604800 seconds/);
    expectRefusal(set('--group', 'g', '--session-timeout', '604801'), 1, /60 to 604800 seconds/);
    expectRefusal(set('--group', 'g', '--filter-id', 'f'.repeat(254)), 1, /filter ID has 1 to 253 bytes/);
    expectRefusal(set('--group', 'g', '--priority', '7'), 1, /would set nothing/);
    expectRefusal(set('--group', 'g', '--session-timeout', '1h'), 2, /--session-timeout must be a whole number/);
    expectRefusal(set('--group', 'g', '--priority=-3'), 2, /--priority must be a whole number/);
    expectRefusal(set('--group', 'g'), 2, /give at least one of/);
    expectRefusal(set('--group', 'g', '--unset', 'colour'), 2, /--unset must be one of/);
    expectRefusal(set('--vlan', '5'), 2, /--group is required/);
    expectRefusal(set('--group', 'g', '--vlan', '5', '--bogus'), 2, /unknown option/);
    expectRefusal(authbox(['policy', 'remove', '--data', data.dir, '--group', 'nobody']), 1, /group "nobody" has no policy/);
    expect(showJson()).toEqual(before);
  });

  it('removes a policy (any case of the group name)', () => {
    const r = authbox(['policy', 'remove', '--data', data.dir, '--group', 'ADMINS']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('removed the policy of group "admins"\n');
    expect(showJson().groups.map((g) => g.group)).toEqual(['staff', 'guests']);
  });
});

describe('policy methods', () => {
  it('limits a kind to the methods given, and "all" goes back to the default', () => {
    const r = authbox(['policy', 'methods', '--data', data.dir, '--kind', 'wlan', '--allow', 'peap,EAP-TLS']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('wlan clients allow eap-tls, peap\n');
    authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'vpn', '--allow', 'pap']);
    expect(showJson().methods).toEqual([
      { kind: 'wlan', methods: ['eap-tls', 'peap'], default: false },
      { kind: 'vpn', methods: ['pap'], default: false },
      { kind: 'gateway', methods: ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'], default: true },
      { kind: 'switch', methods: ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'], default: true },
    ]);
    expect(authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'vpn', '--allow', 'all'])).toMatch(/^vpn clients allow every method/);
    expect(showJson().methods[1]).toEqual({ kind: 'vpn', methods: ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'], default: true });
  });

  it('refuses an unknown kind or method with exit 2', () => {
    const methods = (...a: string[]) => authbox(['policy', 'methods', '--data', data.dir, ...a]);
    expectRefusal(methods('--kind', 'printer', '--allow', 'pap'), 2, /--kind must be one of wlan, vpn, gateway, switch/);
    expectRefusal(methods('--kind', 'wlan', '--allow', 'pap,mschapv1'), 2, /--allow takes methods from .*not "mschapv1"/);
    expectRefusal(methods('--kind', 'wlan', '--allow', ','), 2, /--allow takes methods from/);
    expectRefusal(methods('--kind', 'wlan'), 2, /--allow is required/);
  });
});

describe('change feed and audit', () => {
  it('writes one policy change row and one audit row per write, with the CLI actor', () => {
    const audit = withDb((db) => db.prepare("SELECT actor, source, action, target, detail FROM audit WHERE action LIKE 'policy.%' ORDER BY id").all()) as
      { actor: string; source: string; action: string; target: string; detail: string }[];
    expect(audit.map((a) => `${a.action} ${a.target}`)).toEqual([
      'policy.set staff', 'policy.set guests', 'policy.set admins', 'policy.set staff', 'policy.remove admins',
      'policy.methods wlan', 'policy.methods vpn', 'policy.methods vpn',
    ]);
    for (const a of audit) {
      expect(a.actor).toMatch(/^cli:/);
      expect(a.source).toBe('cli');
    }
    expect(JSON.parse(audit[3]!.detail)).toEqual({
      before: { vlan: '42', sessionTimeout: 3600, filterId: null, class: 'staff', priority: 100 },
      after: { vlan: '42', sessionTimeout: 3600, filterId: null, class: null, priority: 50 },
    });
    const changes = withDb((db) => db.prepare("SELECT ref FROM changes WHERE kind = 'policy' ORDER BY seq").all()) as { ref: string }[];
    expect(changes.map((c) => c.ref)).toEqual([
      'group:staff', 'group:guests', 'group:admins', 'group:staff', 'group:admins', 'kind:wlan', 'kind:vpn', 'kind:vpn',
    ]);
  });
});

describe('second factors (issue 6)', () => {
  it('requires a one-time code or a tunnel client certificate per kind, and a code per group, audited', () => {
    const factors = (...a: string[]) => authbox(['policy', 'factors', '--data', data.dir, ...a]);
    expect(authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'gateway', '--otp', 'required']))
      .toBe('gateway clients: one-time code required, tunnel client certificate off\n');
    authboxOk(['policy', 'factors', '--data', data.dir, '--kind', 'wlan', '--tunnel-client-cert', 'required']);
    authboxOk(['policy', 'group-otp', '--data', data.dir, '--group', 'remote', '--otp', 'required']);
    const shown = showJson();
    expect(shown.factors).toEqual([
      { kind: 'wlan', otp: 'off', tunnelClientCert: 'required' }, { kind: 'vpn', otp: 'off', tunnelClientCert: 'off' },
      { kind: 'gateway', otp: 'required', tunnelClientCert: 'off' }, { kind: 'switch', otp: 'off', tunnelClientCert: 'off' },
    ]);
    expect(shown.otpGroups).toEqual(['remote']);
    const text = authboxOk(['policy', 'show', '--data', data.dir]);
    expect(text).toMatch(/^gateway\s+required\s+off$/m);
    expect(text).toMatch(/^wlan\s+off\s+required$/m);
    expect(text).toMatch(/^groups requiring OTP: remote$/m);
    authboxOk(['policy', 'group-otp', '--data', data.dir, '--group', 'remote', '--otp', 'off']);
    expect(showJson().otpGroups).toEqual([]);
    expectRefusal(factors('--kind', 'gateway'), 2, /give --otp or --tunnel-client-cert/);
    expectRefusal(factors('--kind', 'gateway', '--otp', 'maybe'), 2, /--otp must be one of off, required/);
    const audit = withDb((db) => db.prepare("SELECT action, target, detail FROM audit WHERE action IN ('policy.factors', 'policy.group-otp') ORDER BY id").all()) as
      { action: string; target: string; detail: string }[];
    expect(audit.map((a) => `${a.action} ${a.target}`)).toEqual([
      'policy.factors gateway', 'policy.factors wlan', 'policy.group-otp remote', 'policy.group-otp remote',
    ]);
    expect(JSON.parse(audit[0]!.detail)).toEqual({ before: { otp: 'off', tunnelClientCert: 'off' }, after: { otp: 'required', tunnelClientCert: 'off' } });
  });
});
