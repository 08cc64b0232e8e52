// src/core/devices.ts over src/store/devices-store.ts, on a real data folder: MAC
// spellings, the checks on add, enable/disable/remove, certificate bindings, the change
// feed and audit rows written with every change, and the in-memory DeviceIndex.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/ca/storage.js';
import { DeviceIndex, normalizeMac, parseMac } from '../../src/core/devices.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { codeOf } from '../helpers/unit.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
let tmp: string;
let pki: Pki;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-devices-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Devices Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
  pki.users.add({ username: 'alice', password: 'correct horse', groups: [] }, by);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const changesFor = (mac: string): number => pki.store.changes.changesSince(0).filter((c) => c.kind === 'device' && c.ref === mac).length;
const auditFor = (mac: string) => pki.store.changes.listAudit(1000).filter((a) => a.target === mac);

describe('MAC addresses', () => {
  it.each([
    'aa:bb:cc:dd:ee:ff', 'AA:BB:CC:DD:EE:FF', 'aa-bb-cc-dd-ee-ff', 'AA-BB-CC-DD-EE-FF', 'aabbccddeeff', 'AABBCCDDEEFF',
    'aabb.ccdd.eeff', 'AABB.CCDD.EEFF', ' aa:bb:cc:dd:ee:ff ',
  ])('reads %j as aa:bb:cc:dd:ee:ff', (text) => {
    expect(normalizeMac(text)).toBe('aa:bb:cc:dd:ee:ff');
  });

  it.each([
    '', 'aa:bb:cc:dd:ee', 'aa:bb:cc:dd:ee:ff:00', 'aa:bb-cc:dd:ee:ff', 'aabbccddeef', 'aabbccddeeffa', 'gg:bb:cc:dd:ee:ff',
    'aab.bccd.deeff', 'a:b:c:d:e:f', 'aa:bb:cc:dd:ee:f', 'alice', 'aa bb cc dd ee ff',
  ])('refuses %j', (text) => {
    expect(normalizeMac(text)).toBeUndefined();
    expect(codeOf(() => parseMac(text))).toBe('DEVICE_INVALID');
  });
});

describe('the devices service', () => {
  it('adds a device with a normalised MAC, its groups, a change row and an audit row', () => {
    const d = pki.devices.add({ mac: 'AA-BB-CC-00-00-01', name: 'printer-3f', owner: 'ALICE', groups: ['printers', 'PRINTERS', 'iot'], description: 'third floor' }, by);
    expect(d).toMatchObject({ mac: 'aa:bb:cc:00:00:01', name: 'printer-3f', owner: 'alice', groups: ['iot', 'printers'], enabled: true, description: 'third floor' });
    expect(changesFor('aa:bb:cc:00:00:01')).toBe(1);
    expect(auditFor('aa:bb:cc:00:00:01').map((a) => a.action)).toEqual(['device.add']);
    expect(pki.devices.find('aabb.cc00.0001')?.name).toBe('printer-3f');
  });

  it('adds a device with nothing but its MAC', () => {
    expect(pki.devices.add({ mac: 'aabbcc000002' }, by)).toMatchObject({ mac: 'aa:bb:cc:00:00:02', name: null, owner: null, groups: [] });
  });

  it.each([
    ['a bad MAC', { mac: 'aa:bb:cc:dd:ee' }, 'DEVICE_INVALID'],
    ['a MAC taken in another spelling', { mac: 'AABBCC000001' }, 'DEVICE_EXISTS'],
    ['a name taken in another case', { mac: 'aa:bb:cc:00:00:09', name: 'PRINTER-3F' }, 'DEVICE_EXISTS'],
    ['an owner that is no user', { mac: 'aa:bb:cc:00:00:09', owner: 'nobody' }, 'USER_NOT_FOUND'],
    ['a bad name', { mac: 'aa:bb:cc:00:00:09', name: 'has space' }, 'DEVICE_INVALID'],
    ['a name that is a MAC', { mac: 'aa:bb:cc:00:00:09', name: 'aabbcc000001' }, 'DEVICE_INVALID'],
    ['a bad group', { mac: 'aa:bb:cc:00:00:09', groups: ['bad\u0001group'] }, 'BAD_INPUT'],
    ['a description with a control character', { mac: 'aa:bb:cc:00:00:09', description: 'a\nb' }, 'DEVICE_INVALID'],
  ])('refuses %s and stores nothing', (_what, input, code) => {
    const before = pki.devices.list().length;
    const seq = pki.store.changes.latestSeq();
    expect(codeOf(() => pki.devices.add(input, by))).toBe(code);
    expect(pki.devices.list().length).toBe(before);
    expect(pki.store.changes.latestSeq()).toBe(seq);
  });

  it('disables and enables a device, each with a change row and an audit row; a no-op writes nothing', () => {
    expect(pki.devices.setEnabled('aa-bb-cc-00-00-01', false, by)).toBe(true);
    expect(pki.devices.find('aa:bb:cc:00:00:01')?.enabled).toBe(false);
    const seq = pki.store.changes.latestSeq();
    expect(pki.devices.setEnabled('aa:bb:cc:00:00:01', false, by)).toBe(false);
    expect(pki.store.changes.latestSeq()).toBe(seq);
    expect(pki.devices.setEnabled('aa:bb:cc:00:00:01', true, by)).toBe(true);
    expect(auditFor('aa:bb:cc:00:00:01').map((a) => a.action).reverse()).toEqual(['device.add', 'device.disable', 'device.enable']);
    expect(codeOf(() => pki.devices.setEnabled('aa:bb:cc:99:99:99', false, by))).toBe('DEVICE_NOT_FOUND');
  });

  it('binds certificates to a device and keeps the binding when the device is removed', () => {
    pki.devices.add({ mac: 'aa:bb:cc:00:00:03' }, by);
    pki.devices.bindCertificate('0a1b', 'AABBCC000003', by);
    expect(pki.devices.certificatesOf('aa:bb:cc:00:00:03')).toEqual(['0a1b']);
    expect(pki.devices.certificateDevice('0a1b')).toBe('aa:bb:cc:00:00:03');
    expect(codeOf(() => pki.devices.bindCertificate('0a1c', 'aa:bb:cc:99:99:99', by))).toBe('DEVICE_NOT_FOUND');
    expect(pki.devices.remove('aa-bb-cc-00-00-03', by).mac).toBe('aa:bb:cc:00:00:03');
    expect(pki.devices.find('aa:bb:cc:00:00:03')).toBeUndefined();
    expect(pki.devices.certificateDevice('0a1b')).toBe('aa:bb:cc:00:00:03');
    expect(auditFor('aa:bb:cc:00:00:03').map((a) => a.action).reverse()).toEqual(['device.add', 'device.certificate', 'device.remove']);
    expect(codeOf(() => pki.devices.remove('aa:bb:cc:00:00:03', by))).toBe('DEVICE_NOT_FOUND');
  });

  it('looks devices up without throwing for the RADIUS paths', () => {
    expect(pki.devices.device('AABB.CC00.0001')?.mac).toBe('aa:bb:cc:00:00:01');
    expect(pki.devices.device('not a mac')).toBeUndefined();
  });
});

describe('the in-memory device index', () => {
  it('answers any spelling and follows replace()', () => {
    const index = new DeviceIndex(pki.devices.list());
    expect(index.device('aa-bb-cc-00-00-01')).toEqual({ mac: 'aa:bb:cc:00:00:01', name: 'printer-3f', enabled: true, groups: ['iot', 'printers'] });
    expect(index.device('AABBCC000002')?.mac).toBe('aa:bb:cc:00:00:02');
    expect(index.device('alice')).toBeUndefined();
    pki.devices.setEnabled('aa:bb:cc:00:00:02', false, by);
    expect(index.device('aa:bb:cc:00:00:02')?.enabled).toBe(true);
    index.replace(pki.devices.list());
    expect(index.device('aa:bb:cc:00:00:02')?.enabled).toBe(false);
    expect(index.size).toBe(2);
  });
});
