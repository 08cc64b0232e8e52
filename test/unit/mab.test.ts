// MAC authentication bypass (src/radius/mab.ts) and device certificates
// (src/radius/eap/client-cert.ts): the users engine with devices (a MAC finds a
// device-backed user whose password is its MAC), the MAB request test and decision with
// their plain reasons, and the EAP-TLS check of a certificate bound to a device, with a
// real certificate issued and bound on a real data folder.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROFILES } from '../../src/ca/profiles.js';
import type { Actor } from '../../src/ca/storage.js';
import { DeviceIndex } from '../../src/core/devices.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { Attr, Code, type RadiusPacket } from '../../src/radius/codec/index.js';
import { checkClientCertificate, withDeviceCertificates, type ClientCertDeps } from '../../src/radius/eap/client-cert.js';
import { decideMab, isDeviceUser, mabRequest, withDevices, type MabDevices } from '../../src/radius/mab.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };

const devices = new DeviceIndex([
  { id: 1, mac: 'aa:bb:cc:00:00:01', name: 'printer', owner: null, description: null, groups: ['printers'], enabled: true, bindMac: false, createdAt: 0, updatedAt: 0 },
  { id: 2, mac: 'aa:bb:cc:00:00:02', name: null, owner: null, description: null, groups: [], enabled: false, bindMac: false, createdAt: 0, updatedAt: 0 },
]);

/** A stand-in users engine: one user, "alice", password "alice-pw". */
const users = {
  find: (username: string) => (username.toLowerCase() === 'alice'
    ? { id: 7, username: 'alice', enabled: true, passwordHash: 'h', groups: ['staff'] } : undefined),
  verifyPassword: (user: { passwordHash: string | null }, password: Uint8Array) =>
    Promise.resolve(user.passwordHash === 'h' && Buffer.from(password).toString() === 'alice-pw'),
  ntHashOf: () => Buffer.alloc(16, 1),
};

const packet = (attrs: Record<number, string>): RadiusPacket => ({
  code: Code.AccessRequest, identifier: 1, authenticator: Buffer.alloc(16),
  attributes: Object.entries(attrs).map(([type, value]) => ({ type: Number(type), value: Buffer.from(value) })),
});

describe('the users engine with devices', () => {
  const engine = withDevices(users, devices);

  it.each(['aa:bb:cc:00:00:01', 'AA-BB-CC-00-00-01', 'aabbcc000001', 'aabb.cc00.0001'])(
    'finds the device for %j, with its groups, and takes its MAC in any spelling as the password', async (name) => {
      const user = engine.find(name) as object;
      expect(user).toMatchObject({ username: 'aa:bb:cc:00:00:01', groups: ['printers'], enabled: true, passwordHash: null });
      expect(isDeviceUser(user)).toBe(true);
      for (const pw of ['aa:bb:cc:00:00:01', 'AABBCC000001', 'aa-bb-cc-00-00-01', 'aabb.cc00.0001']) {
        expect(await engine.verifyPassword(user as never, Buffer.from(pw))).toBe(true);
      }
      expect(await engine.verifyPassword(user as never, Buffer.from('aa:bb:cc:00:00:02'))).toBe(false);
      expect(await engine.verifyPassword(user as never, Buffer.from('alice-pw'))).toBe(false);
    });

  it('leaves users, unknown MACs and the rest of the engine alone', async () => {
    expect(engine.find('alice')).toMatchObject({ id: 7, username: 'alice' });
    expect(await engine.verifyPassword(engine.find('alice') as never, Buffer.from('alice-pw'))).toBe(true);
    expect(engine.find('aa:bb:cc:99:99:99')).toBeUndefined();
    expect(engine.ntHashOf()).toEqual(Buffer.alloc(16, 1));
  });

  it('gives a disabled device as a disabled user', () => {
    expect(engine.find('aabbcc000002')).toMatchObject({ username: 'aa:bb:cc:00:00:02', enabled: false });
  });
});

describe('MAB requests', () => {
  const engine = withDevices(users, devices);
  const decide = (attrs: Record<number, string>, password: string, over: object = engine) =>
    mabRequest(packet(attrs), Buffer.from(password), over)?.();

  it('claims a request whose name and password are one MAC, in any spellings, and accepts a registered device with its groups', async () => {
    expect(await decide({ [Attr.UserName]: 'AABBCC000001' }, 'aa-bb-cc-00-00-01'))
      .toEqual({ outcome: 'accept', username: 'aa:bb:cc:00:00:01', groups: ['printers'] });
    expect(await decide({ [Attr.UserName]: 'aabb.cc00.0001', [Attr.CallingStationId]: 'AA-BB-CC-00-00-01' }, 'aabb.cc00.0001'))
      .toMatchObject({ outcome: 'accept' });
  });

  it('refuses an unknown device, a disabled one, and a Calling-Station-Id of another MAC, with plain reasons', async () => {
    expect(await decide({ [Attr.UserName]: 'aa:bb:cc:99:99:99' }, 'aa:bb:cc:99:99:99'))
      .toEqual({ outcome: 'reject', reason: 'unknown device', username: 'aa:bb:cc:99:99:99' });
    expect(await decide({ [Attr.UserName]: 'aabbcc000002' }, 'aabbcc000002')).toMatchObject({ outcome: 'reject', reason: 'device disabled' });
    expect(await decide({ [Attr.UserName]: 'aabbcc000001', [Attr.CallingStationId]: 'aa-bb-cc-00-00-09' }, 'aabbcc000001'))
      .toMatchObject({ outcome: 'reject', reason: 'calling station does not match the MAC' });
  });

  it('does not claim PAP: another password, a name that is no MAC, or an engine without devices', () => {
    const pw = Buffer.from('aabbcc000001');
    expect(mabRequest(packet({ [Attr.UserName]: 'aabbcc000001' }), Buffer.from('secret-pw'), engine)).toBeUndefined();
    expect(mabRequest(packet({ [Attr.UserName]: 'aabbcc000001' }), Buffer.from('aabbcc000002'), engine)).toBeUndefined();
    expect(mabRequest(packet({ [Attr.UserName]: 'alice' }), Buffer.from('alice'), engine)).toBeUndefined();
    expect(mabRequest(packet({}), pw, engine)).toBeUndefined();
    expect(mabRequest(packet({ [Attr.UserName]: 'aabbcc000001' }), pw, users)).toBeUndefined();
  });

  it('zeroes the password once it decides', async () => {
    const pw = Buffer.from('aabbcc000001');
    await mabRequest(packet({ [Attr.UserName]: 'aabbcc000001' }), pw, engine)!();
    expect(pw.every((b) => b === 0)).toBe(true);
  });

  it('decides from whatever device source it is given', () => {
    const none: MabDevices = { device: () => undefined };
    expect(decideMab(none, 'aa:bb:cc:00:00:01', undefined)).toMatchObject({ outcome: 'reject', reason: 'unknown device' });
  });
});

describe('EAP-TLS with a device certificate', () => {
  let tmp: string;
  let pki: Pki;
  let bound: X509Certificate;
  let unbound: X509Certificate;
  let deps: ClientCertDeps;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'authbox-devcert-'));
    const dataDir = join(tmp, 'data');
    initDataDir({ dataDir, organization: 'Device Certs', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
    pki = openPkiAt(dataDir);
    pki.devices.add({ mac: '00:11:22:33:44:55', name: 'cam-lobby', groups: ['cameras'] }, by);
    const issue = (cn: string) => pki.authority.issueWithNewKey({ profile: PROFILES.device, commonName: cn, sans: [] }, 'ec-p256', by).cert;
    const cert = issue('cam-lobby.city.example');
    pki.devices.bindCertificate(cert.serial, '00-11-22-33-44-55', by);
    bound = new X509Certificate(cert.der);
    unbound = new X509Certificate(issue('plain-device').der);
    deps = withDeviceCertificates({
      cas: () => pki.authority.cas().map((c) => ({ id: c.record.id, certDer: c.record.certDer })),
      status: () => ({ status: 'valid' }),
      record: (serial) => pki.authority.find(serial),
      user: (u) => pki.users.find(u),
      now: () => Date.now(),
    }, pki.devices);
  });
  afterAll(() => {
    pki?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('accepts the device name, its MAC in any spelling or the CN as the identity, and names the device by its MAC', () => {
    for (const identity of ['cam-lobby', 'CAM-LOBBY', '00:11:22:33:44:55', '001122334455', '0011.2233.4455', 'cam-lobby.city.example']) {
      expect(checkClientCertificate(bound, identity, deps), identity)
        .toMatchObject({ ok: true, username: '00:11:22:33:44:55', device: '00:11:22:33:44:55' });
    }
  });

  it('refuses another identity', () => {
    expect(checkClientCertificate(bound, 'alice', deps)).toMatchObject({ ok: false, reason: 'identity does not match the certificate' });
    expect(checkClientCertificate(bound, '00:11:22:33:44:56', deps)).toMatchObject({ ok: false, reason: 'identity does not match the certificate' });
  });

  it('with --bind-mac, accepts it only when Calling-Station-Id is the device MAC (any spelling)', () => {
    expect(pki.devices.setBindMac('00:11:22:33:44:55', true, by)).toBe(true);
    for (const station of ['00-11-22-33-44-55', '001122334455', '0011.2233.4455', '00:11:22:33:44:55']) {
      expect(checkClientCertificate(bound, 'cam-lobby', deps, { callingStationId: station }), station).toMatchObject({ ok: true });
    }
    for (const station of ['00-11-22-33-44-56', '192.0.2.7', undefined]) {
      expect(checkClientCertificate(bound, 'cam-lobby', deps, { callingStationId: station }), String(station))
        .toMatchObject({ ok: false, reason: 'calling station does not match the device' });
    }
    expect(pki.devices.setBindMac('00:11:22:33:44:55', false, by)).toBe(true);
    expect(checkClientCertificate(bound, 'cam-lobby', deps, { callingStationId: '192.0.2.7' })).toMatchObject({ ok: true });
  });

  it('refuses it while the device is disabled, and once it is removed', () => {
    pki.devices.setEnabled('00:11:22:33:44:55', false, by);
    expect(checkClientCertificate(bound, 'cam-lobby', deps)).toMatchObject({ ok: false, reason: 'device disabled' });
    pki.devices.setEnabled('00:11:22:33:44:55', true, by);
    expect(checkClientCertificate(bound, 'cam-lobby', deps)).toMatchObject({ ok: true });
    pki.devices.remove('00:11:22:33:44:55', by);
    expect(checkClientCertificate(bound, 'cam-lobby.city.example', deps)).toMatchObject({ ok: false, reason: 'unknown device' });
  });

  it('refuses a bound certificate when no device source is wired', () => {
    const { device: _unused, ...withoutDevices } = deps;
    expect(checkClientCertificate(bound, 'cam-lobby.city.example', withoutDevices)).toMatchObject({ ok: false, reason: 'unknown device' });
  });

  it('checks a device-profile certificate issued without --device as before (CN)', () => {
    expect(checkClientCertificate(unbound, 'plain-device', deps)).toMatchObject({ ok: true });
    expect(checkClientCertificate(unbound, 'plain-device', deps)).not.toHaveProperty('device');
  });
});
