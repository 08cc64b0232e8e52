// Certificates from the console API, in-process: issue with a key made here as a PKCS#12 that
// opens with openssl under its one-time password and downloads once, for its operator, within
// 10 minutes; reissue; the lost-device action (keyCompromise, audited, with where each
// certificate was last used) for a user and a device; devices; no secret sent twice.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CrlReason } from '../../src/ca/crl.js';
import { PROFILES } from '../../src/ca/profiles.js';
import { API_PREFIX } from '../../src/admin-ui/routes.js';
import type { Pki } from '../../src/main.js';
import { openssl } from '../helpers/authbox.js';
import { by, expectSecretsShownOnce, startConsole, type ConsoleHarness } from '../helpers/console-api.js';

let h: ConsoleHarness;
let pki: Pki;
let call: ConsoleHarness['call'];
let api: ConsoleHarness['api'];
let as: ConsoleHarness['as'];
let login: ConsoleHarness['login'];
let auditRows: ConsoleHarness['auditRows'];
let aliceCert: string;

beforeAll(async () => {
  h = await startConsole('authbox-console-certs-');
  ({ pki, call, api, as, login, auditRows } = h);
  aliceCert = h.aliceCert;
});

afterAll(async () => {
  await h?.close();
});

describe('issue with a PKCS#12 download', () => {
  const file = () => join(h.tmp, `dl-${Math.random().toString(36).slice(2)}.p12`);

  it('issues for a user; the file opens with the one-time password, once, for its operator only', async () => {
    const issued = await api('POST', '/certificates', as('admin'), { username: 'bob' });
    expect(issued.status, issued.text).toBe(201);
    expect(issued.json).toMatchObject({ commonName: 'bob', username: 'bob', profile: 'user', status: 'valid' });
    expect(issued.json.password).toMatch(/^[A-Za-z0-9]{16,}$/);
    expect(issued.json.download).toMatch(new RegExp(`^${API_PREFIX}/downloads/[A-Za-z0-9_-]{43}$`));
    const other = await call('GET', issued.json.download, as('helpdesk'));
    expect(other.status).toBe(403);
    const got = await call('GET', issued.json.download, as('admin'));
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toMatch(/^application\/x-pkcs12/);
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="bob.p12"');
    const path = file();
    writeFileSync(path, got.bytes);
    const info = openssl(['pkcs12', '-info', '-noout', '-in', path, '-passin', `pass:${issued.json.password}`]);
    expect(info.status, info.stderr).toBe(0);
    expect(openssl(['pkcs12', '-info', '-noout', '-in', path, '-passin', 'pass:not-the-password']).status).not.toBe(0);
    const leaf = openssl(['pkcs12', '-in', path, '-passin', `pass:${issued.json.password}`, '-nokeys', '-clcerts']);
    const serial = openssl(['x509', '-noout', '-serial'], { input: leaf.stdout }).stdout.trim().replace(/^serial=/, '').toLowerCase().replace(/^0+/, '');
    expect(serial).toBe(issued.json.serial);
    const again = await call('GET', issued.json.download, as('admin'));
    expect([again.status, again.json.error.code]).toEqual([410, 'GONE']);
    expect(auditRows((a) => a.target === issued.json.serial).map((a) => `${a.actor} ${a.action}`))
      .toEqual(expect.arrayContaining(['operator:admin cert.issue', 'operator:admin cert.pkcs12_download']));
  });

  it('a download not fetched within 10 minutes is gone', async () => {
    const issued = await api('POST', '/certificates', as('admin'), { username: 'bob', keyType: 'rsa-2048', legacy: true, days: 30 });
    expect(issued.status, issued.text).toBe(201);
    expect(issued.json.notAfter - Date.now()).toBeLessThan(31 * 86_400_000);
    h.advance(10 * 60_000 + 1000);
    expect((await call('GET', issued.json.download, as('admin'))).status).toBe(410);
  });

  it('refuses what it cannot issue', async () => {
    expect((await api('POST', '/certificates', as('admin'), { username: 'nobody-here' })).status).toBe(404);
    expect((await api('POST', '/certificates', as('admin'), { username: 'bob', profile: 'server' })).status).toBe(400);
    expect((await api('POST', '/certificates', as('admin'), { username: 'bob', keyType: 'dsa' })).status).toBe(400);
    expect((await api('POST', '/certificates', as('admin'), {})).status).toBe(400);
  });

  it('reissue: the helpdesk supersedes a user\'s certificate and gets its replacement; not a server\'s', async () => {
    const r = await api('POST', `/certificates/${aliceCert}/reissue`, as('helpdesk'));
    expect(r.status, r.text).toBe(201);
    expect(r.json).toMatchObject({ commonName: 'alice', username: 'alice', supersedes: aliceCert, keyType: 'ec-p256' });
    expect(pki.authority.find(aliceCert)).toMatchObject({ status: 'revoked', reason: CrlReason.superseded });
    expect((await call('GET', r.json.download, as('admin'))).status).toBe(403);
    expect((await call('GET', r.json.download, as('helpdesk'))).status).toBe(200);
    expect((await api('POST', `/certificates/${aliceCert}/reissue`, as('admin'))).status).toBe(409);
    expect((await api('POST', `/certificates/${h.serverCert}/reissue`, as('helpdesk'))).status).toBe(403);
    expect((await api('POST', `/certificates/${h.serverCert}/reissue`, as('admin'))).status).toBe(400);
    aliceCert = r.json.serial;
  });
});

describe('lost device', () => {
  it('revokes every valid certificate of a user (keyCompromise), audited, with where each was last used', async () => {
    const second = pki.authority.issueWithNewKey({ profile: PROFILES.user, commonName: 'alice', username: 'alice', sans: [] }, 'ec-p256', by).cert.serial;
    const usedAt = h.now() - 3_600_000;
    pki.authLog.appendDecisions([
      { at: usedAt - 60_000, username: 'alice', nas: 'ap0', nasAddress: '192.0.2.9', method: 'eap-tls', outcome: 'accept', details: { serial: aliceCert } },
      { at: usedAt, username: 'alice', nas: 'ap1', nasAddress: '192.0.2.10', method: 'eap-tls', outcome: 'accept', callingStationId: '02-00-00-00-00-01', details: { serial: aliceCert } },
      { at: usedAt + 1000, username: 'alice', nas: 'vpn1', nasAddress: '198.51.100.1', method: 'pap', outcome: 'accept' },
    ]);
    const s = await login('helpdesk');
    const r = await api('POST', '/lost-device', s, { username: 'alice' });
    expect(r.status, r.text).toBe(200);
    const bySerial = new Map((r.json.revoked as { serial: string; lastUsed: unknown; reason: string }[]).map((c) => [c.serial, c]));
    expect([...bySerial.keys()].sort()).toEqual([aliceCert, second].sort());
    expect(bySerial.get(aliceCert)).toMatchObject({ reason: 'keyCompromise', lastUsed: { at: usedAt, client: 'ap1', method: 'eap-tls', callingStationId: '02-00-00-00-00-01' } });
    expect(bySerial.get(second)!.lastUsed).toBeNull();
    expect(r.json.lastSeen).toMatchObject({ at: usedAt + 1000, client: 'vpn1', method: 'pap' });
    expect(r.json.alreadyRevoked).toBe(1);
    for (const serial of [aliceCert, second]) {
      expect(pki.authority.find(serial)).toMatchObject({ status: 'revoked', reason: CrlReason.keyCompromise });
      const row = auditRows((a) => a.target === serial && a.action === 'cert.revoke')[0]!;
      expect(row.actor).toBe('operator:helen');
      expect(JSON.parse(row.detail!)).toMatchObject({ client: '127.0.0.1' });
    }
    expect(JSON.parse(auditRows((a) => a.action === 'cert.lost_device' && a.target === 'alice')[0]!.detail!).serials.sort()).toEqual([aliceCert, second].sort());
    const again = await api('POST', '/lost-device', s, { username: 'alice' });
    expect(again.json).toMatchObject({ revoked: [], alreadyRevoked: 3 });
  });

  it('by device: its bound certificates; the helpdesk only for a device a user owns', async () => {
    pki.devices.add({ mac: '02:00:00:00:00:aa', name: 'laptop-bob', owner: 'bob' }, by);
    pki.devices.add({ mac: '02:00:00:00:00:bb', name: 'printer1' }, by);
    const laptop = await api('POST', '/certificates', as('admin'), { device: '02-00-00-00-00-AA' });
    expect(laptop.status, laptop.text).toBe(201);
    expect(laptop.json).toMatchObject({ profile: 'device', commonName: 'laptop-bob', username: null, device: '02:00:00:00:00:aa' });
    const printer = await api('POST', '/certificates', as('admin'), { device: '02:00:00:00:00:bb' });
    expect((await api('POST', '/lost-device', as('helpdesk'), { device: '02:00:00:00:00:bb' })).status).toBe(403);
    expect((await api('POST', `/certificates/${printer.json.serial}/reissue`, as('helpdesk'))).status).toBe(403);
    const re = await api('POST', `/certificates/${laptop.json.serial}/reissue`, as('helpdesk'));
    expect(re.status, re.text).toBe(201);
    expect(pki.devices.certificateDevice(re.json.serial)).toBe('02:00:00:00:00:aa');
    expect((await api('GET', `/certificates/${re.json.serial}`, as('helpdesk'))).json.device).toBe('02:00:00:00:00:aa');
    const lost = await api('POST', '/lost-device', as('helpdesk'), { device: '0200.0000.00aa' });
    expect(lost.status, lost.text).toBe(200);
    expect(lost.json).toMatchObject({ device: '02:00:00:00:00:aa', owner: 'bob', alreadyRevoked: 1 });
    expect(lost.json.revoked.map((c: { serial: string }) => c.serial)).toEqual([re.json.serial]);
    const devices = await api('GET', '/devices?owner=bob', as('auditor'));
    expect(devices.json.items).toMatchObject([{ mac: '02:00:00:00:00:aa', name: 'laptop-bob', owner: 'bob', certificates: 2 }]);
    expect((await api('GET', '/devices?prefix=print', as('auditor'))).json.items.map((d: { mac: string }) => d.mac)).toEqual(['02:00:00:00:00:bb']);
    expect((await api('GET', '/devices?prefix=02-00-00-00-00-B', as('auditor'))).json.items.map((d: { name: string }) => d.name)).toEqual(['printer1']);
    const page = await api('GET', '/devices?limit=1', as('auditor'));
    expect(page.json.items).toHaveLength(1);
    const next = await api('GET', `/devices?limit=1&cursor=${page.json.nextCursor}`, as('auditor'));
    expect(next.json.items.map((d: { name: string }) => d.name)).toEqual(['printer1']);
    expect(next.json.nextCursor).toBeUndefined();
    expect((await api('POST', '/lost-device', as('admin'), { username: 'bob', device: '02:00:00:00:00:aa' })).status).toBe(400);
  });
});

describe('revoking a device certificate', () => {
  it('the helpdesk revokes one of a user-owned device, not one of a device nobody owns', async () => {
    const owned = await api('POST', '/certificates', as('admin'), { device: '02:00:00:00:00:aa' });
    const unowned = await api('POST', '/certificates', as('admin'), { device: '02:00:00:00:00:bb' });
    expect((await api('POST', `/certificates/${unowned.json.serial}/revoke`, as('helpdesk'), { reason: 'keyCompromise' })).status).toBe(403);
    const r = await api('POST', `/certificates/${owned.json.serial}/revoke`, as('helpdesk'), { reason: 'keyCompromise' });
    expect([r.status, r.json.status], r.text).toEqual([200, 'revoked']);
  });
});

describe('no secret in any response', () => {
  it('no private key or hash; each one-time password was sent exactly once', () => {
    expectSecretsShownOnce(h.seen, 4);
  });
});
