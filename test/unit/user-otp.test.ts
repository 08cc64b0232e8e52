// Users' one-time codes (core/user-otp.ts through UserService, over the SQLite store, on a
// real data folder): enrolment confirmed by a first code, the secret sealed with the user
// in its AAD and never returned after the enrolment URI, single-use codes (also against a
// stale copy of the user, as RADIUS's user cache holds), reset, and an audit row with a
// change row for every change. Also the second-factor policy store and engine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/actor.js';
import { readMasterKey } from '../../src/config/config.js';
import { PolicyEngine } from '../../src/core/policy.js';
import { unseal } from '../../src/core/seal.js';
import { base32Decode, hotp, totpStep } from '../../src/core/totp.js';
import { otpAad, otpPendingAad } from '../../src/core/user-otp.js';
import { UserService, type UserRecord } from '../../src/core/users.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { SqliteUserStore } from '../../src/store/users-store.js';
import { codeOf } from '../helpers/unit.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
let tmp: string;
let pki: Pki;
let users: UserService;
let master: Buffer;
/** The service's clock, moved by the tests. */
let now = Date.UTC(2026, 10, 23, 12, 0, 10);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-user-otp-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Test City', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  master = readMasterKey(pki.config.masterKeyFile);
  users = new UserService({ storage: new SqliteUserStore(pki.db), master, clock: () => new Date(now), issuer: 'Test City' });
  users.add({ username: 'alice', password: 'alice-Passw0rd' }, by);
  users.add({ username: 'bob', password: 'bob-Passw0rd' }, by);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const audit = (username: string) => pki.store.changes.listAudit(1000).filter((a) => a.target === username).reverse();
const changes = (id: number): number => pki.store.changes.changesSince(0).filter((c) => c.kind === 'user' && c.ref === String(id)).length;
const secretOf = (uri: string): Buffer => base32Decode(new URL(uri).searchParams.get('secret')!);
const codeAt = (secret: Buffer, offset = 0): string => hotp(secret, totpStep(now) + offset);

describe('enrolment', () => {
  let secret: Buffer;

  it('begins with an otpauth URI naming the organization, the secret sealed as pending', () => {
    const before = changes(users.get('alice').id);
    const { uri } = users.beginOtpEnrollment('ALICE', by);
    expect(uri).toMatch(/^otpauth:\/\/totp\/Test%20City:alice\?secret=[A-Z2-7]{32}&issuer=Test\+City&algorithm=SHA1&digits=6&period=30$/);
    secret = secretOf(uri);
    const u = users.get('alice');
    expect(users.otpStatus('alice')).toEqual({ state: 'pending', enrolledAt: null });
    expect(u.otpSealed).toBeNull();
    // Sealed: the stored bytes do not hold the secret; they open only under this user's pending AAD.
    expect(u.otpPending!.includes(secret)).toBe(false);
    expect(unseal(master, otpPendingAad(u.id), u.otpPending!).equals(secret)).toBe(true);
    expect(codeOf(() => unseal(master, otpAad(u.id), u.otpPending!))).toBe('KEY_DECRYPT_FAILED');
    expect(codeOf(() => unseal(master, otpPendingAad(users.get('bob').id), u.otpPending!))).toBe('KEY_DECRYPT_FAILED');
    expect(changes(u.id)).toBe(before + 1);
    expect(audit('alice').at(-1)).toMatchObject({ action: 'user.otp_begin', actor: 'test:unit', detail: null });
  });

  it('replaces an enrolment under way with a new secret', () => {
    const again = secretOf(users.beginOtpEnrollment('alice', by).uri);
    expect(again.equals(secret)).toBe(false);
    // The first secret's code no longer confirms.
    expect(codeOf(() => users.confirmOtp('alice', codeAt(secret), by))).toBe('BAD_INPUT');
    secret = again;
  });

  it('refuses a wrong code, writing nothing, and confirms with the right one', () => {
    const id = users.get('alice').id;
    const before = changes(id);
    expect(codeOf(() => users.confirmOtp('alice', codeAt(secret, 5), by))).toBe('BAD_INPUT');
    expect(codeOf(() => users.confirmOtp('alice', 'abcdef', by))).toBe('BAD_INPUT');
    expect(changes(id)).toBe(before);
    expect(users.confirmOtp('alice', codeAt(secret, -1), by)).toEqual({ state: 'enrolled', enrolledAt: now });
    const u = users.get('alice');
    expect(u.otpPending).toBeNull();
    expect(u.otpLastStep).toBe(totpStep(now) - 1);
    expect(unseal(master, otpAad(id), u.otpSealed!).equals(secret)).toBe(true);
    expect(codeOf(() => unseal(master, otpPendingAad(id), u.otpSealed!))).toBe('KEY_DECRYPT_FAILED');
    expect(changes(id)).toBe(before + 1);
    expect(audit('alice').map((a) => a.action)).toEqual(['user.add', 'user.otp_begin', 'user.otp_begin', 'user.otp_enrol']);
  });

  it('never gives the secret back: not in the status, not in the audit log', () => {
    const b32 = new URL(users.beginOtpEnrollment('bob', by).uri).searchParams.get('secret')!;
    for (const who of ['alice', 'bob']) {
      expect(JSON.stringify(users.otpStatus(who))).not.toMatch(/secret|[A-Z2-7]{32}/);
    }
    const log = JSON.stringify(pki.store.changes.listAudit(1000));
    expect(log).not.toContain(b32);
    expect(log).not.toContain(secret.toString('base64'));
  });

  it('refuses a second enrolment while one is confirmed, and a confirmation with none under way', () => {
    expect(codeOf(() => users.beginOtpEnrollment('alice', by))).toBe('CONFLICT');
    expect(codeOf(() => users.confirmOtp('alice', codeAt(secret), by))).toBe('CONFLICT');
    expect(codeOf(() => users.beginOtpEnrollment('nobody', by))).toBe('USER_NOT_FOUND');
  });

  describe('codes', () => {
    it('takes the current code once, and the next step\'s once', () => {
      const stale: UserRecord = users.get('alice');
      const current = codeAt(secret);
      expect(users.useOtpCode(users.get('alice'), current)).toBe(true);
      expect(users.useOtpCode(users.get('alice'), current)).toBe(false);
      // A copy of the user read before the code was used (RADIUS's user cache) is refused by the store.
      expect(users.useOtpCode(stale, current)).toBe(false);
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, 1))).toBe(true);
      expect(users.useOtpCode(stale, codeAt(secret, 1))).toBe(false);
      // An older step than the last one used is a replay too.
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, -1))).toBe(false);
    });

    it('accepts one step of clock skew either way, no more', () => {
      now += 5 * 30_000;
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, -2))).toBe(false);
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, 2))).toBe(false);
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, -1))).toBe(true);
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, 1))).toBe(true);
      expect(users.useOtpCode(users.get('alice'), codeAt(secret, 0))).toBe(false);
    });

    it('does not audit a code used (the decision log records authentications)', () => {
      expect(audit('alice').at(-1)!.action).toBe('user.otp_enrol');
    });
  });

  it('resets: the secret is gone, codes are refused, the reset audited once', () => {
    const id = users.get('alice').id;
    const before = changes(id);
    now += 5 * 30_000;
    const stale = users.get('alice');
    expect(users.resetOtp('alice', by)).toBe(true);
    expect(users.otpStatus('alice')).toEqual({ state: 'none', enrolledAt: null });
    const u = users.get('alice');
    expect([u.otpSealed, u.otpPending, u.otpLastStep, u.otpEnrolledAt]).toEqual([null, null, null, null]);
    expect(users.useOtpCode(stale, codeAt(secret))).toBe(false);
    expect(users.resetOtp('alice', by)).toBe(false);
    expect(changes(id)).toBe(before + 1);
    expect(audit('alice').filter((a) => a.action === 'user.otp_reset')).toHaveLength(1);
    // A new enrolment starts afresh.
    expect(users.beginOtpEnrollment('alice', by).uri).toMatch(/^otpauth:/);
  });
});

describe('second-factor policy', () => {
  it('stores per-kind factors and per-group OTP with an audit row and a change row each', () => {
    const seq = pki.store.changes.latestSeq();
    expect(pki.policy.setFactors('gateway', { otp: 'required' }, by)).toEqual({ kind: 'gateway', otp: 'required', tunnelClientCert: 'off' });
    expect(pki.policy.setFactors('wlan', { tunnelClientCert: 'required' }, by)).toEqual({ kind: 'wlan', otp: 'off', tunnelClientCert: 'required' });
    expect(pki.policy.setFactors('gateway', { tunnelClientCert: 'required' }, by)).toEqual({ kind: 'gateway', otp: 'required', tunnelClientCert: 'required' });
    pki.policy.setGroupOtp('Remote', true, by);
    pki.policy.setGroupOtp('remote', true, by);
    const rows = pki.store.changes.changesSince(seq);
    expect(rows.map((c) => [c.kind, c.ref])).toEqual([
      ['policy', 'kind:gateway'], ['policy', 'kind:wlan'], ['policy', 'kind:gateway'], ['policy', 'group-otp:Remote'],
    ]);
    const actions = pki.store.changes.listAudit(4).map((a) => a.action).reverse();
    expect(actions).toEqual(['policy.factors', 'policy.factors', 'policy.factors', 'policy.group-otp']);
    expect(codeOf(() => pki.policy.setFactors('gateway', {}, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.setFactors('gateway', { otp: 'maybe' as 'off' }, by))).toBe('POLICY_INVALID');
  });

  it('the engine answers per kind and per group, and follows a new snapshot', () => {
    const engine = new PolicyEngine(pki.policy.load());
    expect(engine.otpRequired('gateway', [])).toBe(true);
    expect(engine.otpRequired('vpn', [])).toBe(false);
    expect(engine.otpRequired('vpn', ['staff', 'REMOTE'])).toBe(true);
    expect(engine.tunnelClientCertRequired('wlan')).toBe(true);
    expect(engine.tunnelClientCertRequired('vpn')).toBe(false);
    pki.policy.setFactors('gateway', { otp: 'off', tunnelClientCert: 'off' }, by);
    pki.policy.setGroupOtp('remote', false, by);
    engine.replace(pki.policy.load());
    expect(engine.otpRequired('gateway', ['remote'])).toBe(false);
    expect(engine.tunnelClientCertRequired('gateway')).toBe(false);
    // Back at off/off the kind has no row: the default.
    expect(pki.policy.load().factors!.map((f) => f.kind)).toEqual(['wlan']);
    // An engine built without factors (older callers) requires nothing.
    expect(new PolicyEngine({ groups: [], methods: [] }).otpRequired('gateway', ['remote'])).toBe(false);
  });
});
