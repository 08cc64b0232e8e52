// EAP in-process: the packet and EAP-TLS framing codec (RFC 3748 §4, RFC 5216 §3.1), the
// session table's bounds (count and age) and reclaiming, and every refusal of the client
// certificate check with real certificates made by openssl.
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  certificateBelongsTo, checkClientCertificate, checkTunnelCertificate, type ClientCertDeps,
} from '../../src/radius/eap/client-cert.js';
import {
  EapCode, EapDecodeError, EapType, TlsFlag, decodeEap, decodeEapTls, encodeEap, encodeEapTls,
} from '../../src/radius/eap/codec.js';
import { EapSessionTable } from '../../src/radius/eap/sessions.js';
import { openssl, tempDir } from '../helpers/authbox.js';

describe('EAP codec', () => {
  it('round-trips an Identity Response and ignores padding past Length (RFC 3748 §4)', () => {
    const bytes = encodeEap({ code: EapCode.Response, identifier: 7, type: EapType.Identity, data: Buffer.from('alice') });
    expect(bytes.toString('hex')).toBe('0207000a01' + Buffer.from('alice').toString('hex'));
    const p = decodeEap(Buffer.concat([bytes, Buffer.from([0, 0, 0])]));
    expect(p).toEqual({ code: EapCode.Response, identifier: 7, type: EapType.Identity, data: Buffer.from('alice') });
  });

  it('encodes Success and Failure as four octets', () => {
    expect(encodeEap({ code: EapCode.Success, identifier: 9, data: Buffer.alloc(0) }).toString('hex')).toBe('03090004');
    expect(decodeEap(Buffer.from('04090004', 'hex'))).toEqual({ code: EapCode.Failure, identifier: 9, data: Buffer.alloc(0) });
  });

  it.each([
    ['TOO_SHORT', '020100'],
    ['LENGTH_MISMATCH', '02010010010203'],
    ['LENGTH_MISMATCH', '02010002'],
    ['BAD_CODE', '05010004'],
    ['NO_TYPE', '02010004'],
  ])('refuses %s (%s)', (reason, hex) => {
    expect(() => decodeEap(Buffer.from(hex, 'hex'))).toThrow(EapDecodeError);
    try {
      decodeEap(Buffer.from(hex, 'hex'));
    } catch (e) {
      expect((e as EapDecodeError).reason).toBe(reason);
    }
  });

  it('frames EAP-TLS data with the L, M and S flags (RFC 5216 §3.1)', () => {
    expect(encodeEapTls({ flags: TlsFlag.Start, tls: Buffer.alloc(0) }).toString('hex')).toBe('20');
    const first = encodeEapTls({ flags: TlsFlag.More, totalLength: 1000, tls: Buffer.from('abc') });
    expect(first.toString('hex')).toBe('c0000003e8616263');
    expect(decodeEapTls(first)).toEqual({ flags: 0xc0, totalLength: 1000, tls: Buffer.from('abc') });
    expect(decodeEapTls(Buffer.alloc(0))).toEqual({ flags: 0, tls: Buffer.alloc(0) });
    expect(decodeEapTls(Buffer.from('00', 'hex'))).toEqual({ flags: 0, tls: Buffer.alloc(0) });
    expect(() => decodeEapTls(Buffer.from('800000', 'hex'))).toThrow(EapDecodeError);
  });
});

describe('EAP session table', () => {
  it('keys sessions by a random 16-octet State and forgets them after their age', () => {
    let now = 0;
    const disposed: string[] = [];
    const t = new EapSessionTable<string>({ maxAgeMs: 60_000, now: () => now, dispose: (v) => disposed.push(v as string) });
    const a = t.create('a')!;
    expect(a).toHaveLength(16);
    expect(t.get(a)).toBe('a');
    expect(t.get(Buffer.alloc(16))).toBeUndefined();
    expect(t.get(Buffer.alloc(3))).toBeUndefined();
    now = 60_000;
    expect(t.get(a)).toBeUndefined();
    expect(disposed).toEqual(['a']);
    expect(t.size).toBe(0);
  });

  it('is bounded in count, and reclaims abandoned sessions to make room', () => {
    let now = 0;
    const disposed: number[] = [];
    const t = new EapSessionTable<number>({ maxSessions: 3, maxAgeMs: 1000, now: () => now, dispose: (v) => disposed.push(v as number) });
    const states = [1, 2, 3].map((n) => t.create(n));
    expect(states.every(Boolean)).toBe(true);
    expect(t.create(4)).toBeUndefined();
    now = 1000;
    expect(t.create(5)).toBeDefined();
    expect(disposed).toEqual([1, 2, 3]);
    expect(t.size).toBe(1);
    t.delete(states[0]!);
    t.clear();
    expect(disposed).toEqual([1, 2, 3, 5]);
  });
});

describe('EAP-TLS client certificate check', () => {
  let dir: ReturnType<typeof tempDir>;
  const pem = (name: string): X509Certificate => new X509Certificate(readFileSync(join(dir.path, name)));
  let ca: X509Certificate;
  let other: X509Certificate;
  let alice: X509Certificate;
  let server: X509Certificate;
  const run = (args: string[]): void => {
    const r = openssl(args, { cwd: dir.path });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  };
  const makeCa = (name: string): void => run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '30',
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign']);
  const makeLeaf = (name: string, cn: string, eku: string): void => {
    run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir.path, `${name}.ext`), `extendedKeyUsage=${eku}\n`);
    run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '10', '-extfile', `${name}.ext`]);
  };

  beforeAll(() => {
    dir = tempDir('authbox-eap-unit-');
    makeCa('ca');
    makeCa('other');
    makeLeaf('alice', 'Alice Example', 'clientAuth');
    makeLeaf('server', 'alice', 'serverAuth');
    [ca, other, alice, server] = [pem('ca.crt'), pem('other.crt'), pem('alice.crt'), pem('server.crt')];
  });
  afterAll(() => dir?.cleanup());

  const serialOf = (c: X509Certificate): string => c.serialNumber.toLowerCase().replace(/^0+/, '');
  const deps = (over: Partial<ClientCertDeps> & { statusName?: 'valid' | 'revoked' | 'hold'; enabled?: boolean } = {}): ClientCertDeps => ({
    cas: () => [{ id: 1, certDer: other.raw }, { id: 2, certDer: ca.raw }],
    status: (caId, serial) => (caId === 2 && [serialOf(alice), serialOf(server)].includes(serial) ? { status: over.statusName ?? 'valid' } : undefined),
    record: () => ({ username: 'alice', commonName: 'Alice Example', sans: [{ kind: 'email', value: 'alice@city.example' }] }),
    user: (u) => (u === 'alice' ? { username: 'alice', enabled: over.enabled ?? true } : undefined),
    now: () => Date.now(),
    ...over,
  });

  it('accepts a valid certificate under the owner name, the CN or an e-mail SAN, case-insensitively', () => {
    for (const identity of ['alice', 'ALICE', 'Alice Example', 'alice@city.example']) {
      expect(checkClientCertificate(alice, identity, deps())).toMatchObject({ ok: true, username: 'alice', serial: serialOf(alice) });
    }
  });

  it.each([
    ['no client certificate', () => checkClientCertificate(undefined, 'alice', deps())],
    ['unknown CA', () => checkClientCertificate(alice, 'alice', deps({ cas: () => [{ id: 1, certDer: other.raw }] }))],
    ['certificate expired', () => checkClientCertificate(alice, 'alice', deps({ now: () => Date.now() + 20 * 86_400_000 }))],
    ['certificate not yet valid', () => checkClientCertificate(alice, 'alice', deps({ now: () => Date.now() - 86_400_000 }))],
    ['certificate not for client authentication', () => checkClientCertificate(server, 'alice', deps())],
    ['certificate revoked', () => checkClientCertificate(alice, 'alice', deps({ statusName: 'revoked' }))],
    ['certificate on hold', () => checkClientCertificate(alice, 'alice', deps({ statusName: 'hold' }))],
    ['unknown certificate', () => checkClientCertificate(alice, 'alice', deps({ record: () => undefined }))],
    ['unknown user', () => checkClientCertificate(alice, 'alice', deps({ user: () => undefined }))],
    ['account disabled', () => checkClientCertificate(alice, 'alice', deps({ enabled: false }))],
    ['identity does not match the certificate', () => checkClientCertificate(alice, 'bob', deps())],
  ])('refuses: %s', (reason, check) => {
    expect(check()).toMatchObject({ ok: false, reason });
  });
  it('PEAP/TTLS: a user-bound certificate vouches for its user alone; an unbound one for its CN and UPN SANs', () => {
    const bound = checkTunnelCertificate(alice, deps());
    expect(bound).toMatchObject({ ok: true, serial: serialOf(alice), owners: ['alice'] });
    const owners = bound.ok ? bound.owners : [];
    expect(certificateBelongsTo(owners, 'ALICE')).toBe(true);
    expect(certificateBelongsTo(owners, 'alice example')).toBe(false);
    expect(certificateBelongsTo(owners, 'bob')).toBe(false);
    const unbound = checkTunnelCertificate(alice, deps({
      record: () => ({ username: null, commonName: 'Alice Example', sans: [{ kind: 'upn', value: 'alice@city.example' }, { kind: 'email', value: 'a@x.example' }] }),
    }));
    expect(unbound).toMatchObject({ ok: true, owners: ['alice example', 'alice example', 'alice@city.example'] });
    const device = checkTunnelCertificate(alice, deps({ record: () => ({ username: null, commonName: 'cam', sans: [], device: 'aa:bb:cc:dd:ee:ff' }) }));
    expect(device).toMatchObject({ ok: true, owners: [] });
  });

  it.each([
    ['no client certificate', () => checkTunnelCertificate(undefined, deps())],
    ['unknown CA', () => checkTunnelCertificate(alice, deps({ cas: () => [{ id: 1, certDer: other.raw }] }))],
    ['certificate revoked', () => checkTunnelCertificate(alice, deps({ statusName: 'revoked' }))],
    ['certificate not for client authentication', () => checkTunnelCertificate(server, deps())],
    ['account disabled', () => checkTunnelCertificate(alice, deps({ enabled: false }))],
  ])('PEAP/TTLS refuses: %s', (reason, check) => {
    expect(check()).toMatchObject({ ok: false, reason });
  });
});
