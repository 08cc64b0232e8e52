// Authorization policy: validation, the engine's choice among several groups, methods per
// client kind, the SQLite store (change and audit rows in the same transaction), the reply
// attributes on the wire (RFC 2868 tags, RFC 3580 VLAN values), and the RADIUS engine
// applying it to PAP, MS-CHAPv2 and EAP accepts.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../../src/core/actor.js';
import { parseCidr } from '../../src/core/cidr.js';
import type { Logger } from '../../src/core/logger.js';
import { NasTable, type NasClient, type NasKind } from '../../src/core/nas.js';
import {
  METHOD_NOT_ALLOWED, PolicyEngine, normalizeVlan, parseMethods, type GroupPolicy,
} from '../../src/core/policy.js';
import { initDataDir, openPkiAt, type Pki } from '../../src/main.js';
import { RadiusAuthEngine } from '../../src/radius/auth.js';
import { authorizationAttributes, authorizeAccess, eapMethodOf } from '../../src/radius/authorize.js';
import {
  Attr, Code, MsAttr, TunnelMediumType, TunnelType, VENDOR_MICROSOFT, decodePacket, encodePacket, hideUserPassword,
  joinAttribute, type RadiusAttribute,
} from '../../src/radius/codec/index.js';
import { EapCode, EapType, encodeEap } from '../../src/radius/eap/codec.js';
import type { EapEngine, EapResult } from '../../src/radius/eap/engine.js';
import { codeOf } from '../helpers/unit.js';

const by: Actor = { actor: 'test:unit', source: 'cli' };
const SECRET = Buffer.from('policy-shared-S3cret');

const policy = (group: string, extra: Partial<GroupPolicy> = {}): GroupPolicy => ({
  group, vlan: null, sessionTimeout: null, filterId: null, class: null, priority: 100, ...extra,
});

describe('validation', () => {
  it('takes VLAN IDs 1-4094 (canonical digits) and names up to 32 characters', () => {
    expect(normalizeVlan('42')).toBe('42');
    expect(normalizeVlan('0042')).toBe('42');
    expect(normalizeVlan('4094')).toBe('4094');
    expect(normalizeVlan('guest-net.2_a')).toBe('guest-net.2_a');
    expect(normalizeVlan('a'.repeat(32))).toBe('a'.repeat(32));
    for (const bad of ['0', '4095', '99999', 'a'.repeat(33), 'has space', '-lead', 'vlan\u0001', '']) {
      expect(codeOf(() => normalizeVlan(bad)), bad).toBe('POLICY_INVALID');
    }
  });

  it('parses method lists, refusing unknown names and empty lists', () => {
    expect(parseMethods(['TTLS', 'pap', 'pap'])).toEqual(['pap', 'ttls']);
    expect(parseMethods(['chap', 'pap'])).toEqual(['pap', 'chap']);
    expect(codeOf(() => parseMethods(['pap', 'mschapv1']))).toBe('POLICY_INVALID');
    expect(codeOf(() => parseMethods([]))).toBe('POLICY_INVALID');
  });
});

describe('PolicyEngine', () => {
  const engine = new PolicyEngine({
    groups: [
      policy('staff', { vlan: '42', sessionTimeout: 3600, class: 'staff', priority: 50 }),
      policy('guests', { vlan: 'guest', filterId: 'web-only', priority: 200 }),
      policy('Beta', { vlan: '7', priority: 50 }),
      policy('alpha', { vlan: '8', priority: 50 }),
    ],
    methods: [{ kind: 'wlan', methods: ['eap-tls'] }],
  });

  it('allows every method by default and only the listed ones for a configured kind', () => {
    for (const m of ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'] as const) expect(engine.methodAllowed('vpn', m)).toBe(true);
    expect(engine.methodAllowed('wlan', 'eap-tls')).toBe(true);
    expect(engine.methodAllowed('wlan', 'pap')).toBe(false);
    expect(engine.decide(['staff'], 'wlan', 'pap')).toEqual({ outcome: 'reject', reason: METHOD_NOT_ALLOWED });
  });

  it('gives the policy of the one group a user is in, case-insensitively, and nothing for other groups', () => {
    expect(engine.decide(['STAFF'], 'vpn', 'pap')).toEqual({
      outcome: 'accept', attributes: { group: 'staff', vlan: '42', sessionTimeout: 3600, class: 'staff' },
    });
    expect(engine.decide(['nobody'], 'vpn', 'pap')).toEqual({ outcome: 'accept', attributes: {} });
    expect(engine.decide([], 'wlan', 'eap-tls')).toEqual({ outcome: 'accept', attributes: {} });
  });

  it('picks the lowest priority number among several groups, then the group name; no merging', () => {
    expect(engine.decide(['guests', 'staff'], 'vpn', 'pap')).toMatchObject({ attributes: { group: 'staff' } });
    // staff, Beta and alpha all have priority 50: alpha sorts first (case-insensitively).
    expect(engine.decide(['guests', 'staff', 'Beta', 'alpha'], 'vpn', 'pap')).toEqual({ outcome: 'accept', attributes: { group: 'alpha', vlan: '8' } });
    expect(engine.decide(['Beta', 'staff'], 'vpn', 'pap')).toMatchObject({ attributes: { group: 'Beta' } });
  });

  it('swaps in a new snapshot with replace()', () => {
    const e = new PolicyEngine();
    expect(e.decide(['staff'], 'wlan', 'pap')).toEqual({ outcome: 'accept', attributes: {} });
    e.replace({ groups: [policy('staff', { vlan: '9' })], methods: [{ kind: 'wlan', methods: ['peap'] }] });
    expect(e.decide(['staff'], 'wlan', 'peap')).toMatchObject({ attributes: { vlan: '9' } });
    expect(e.methodAllowed('wlan', 'pap')).toBe(false);
  });
});

/** The attributes as they come back from the wire. */
function roundTrip(attributes: RadiusAttribute[]): { packet: Buffer; attrs: RadiusAttribute[] } {
  const packet = encodePacket({ code: Code.AccessAccept, identifier: 1, requestAuthenticator: randomBytes(16), attributes, secret: SECRET });
  return { packet, attrs: decodePacket(packet).attributes };
}

/** The raw value octets of the first attribute of a type in an encoded packet. */
function rawValue(packet: Buffer, type: number): Buffer {
  for (let i = 20; i < packet.length;) {
    const len = packet[i + 1]!;
    if (packet[i] === type) return packet.subarray(i + 2, i + len);
    i += len;
  }
  throw new Error(`no attribute ${type}`);
}

describe('reply attributes', () => {
  it('encodes a VLAN as RFC 3580 §3.31 asks, untagged by default (tag octet 0 on the integers, none on the string)', () => {
    const { packet, attrs } = roundTrip(authorizationAttributes({ vlan: '42', sessionTimeout: 3600, filterId: 'acl-staff', class: 'staff' }));
    expect(rawValue(packet, Attr.TunnelType)).toEqual(Buffer.from([0, 0, 0, TunnelType.Vlan]));
    expect(rawValue(packet, Attr.TunnelMediumType)).toEqual(Buffer.from([0, 0, 0, TunnelMediumType.Ieee802]));
    expect(rawValue(packet, Attr.TunnelPrivateGroupId)).toEqual(Buffer.from('42'));
    expect(rawValue(packet, Attr.SessionTimeout)).toEqual(Buffer.from([0, 0, 0x0e, 0x10]));
    expect(rawValue(packet, Attr.FilterId)).toEqual(Buffer.from('acl-staff'));
    expect(rawValue(packet, Attr.Class)).toEqual(Buffer.from('staff'));
    expect(TunnelType.Vlan).toBe(13);
    expect(TunnelMediumType.Ieee802).toBe(6);
    const types = attrs.filter((a) => a.type !== Attr.MessageAuthenticator).map((a) => a.type);
    expect(types).toEqual([Attr.TunnelType, Attr.TunnelMediumType, Attr.TunnelPrivateGroupId, Attr.SessionTimeout, Attr.FilterId, Attr.Class]);
  });

  it('carries a tag on all three tunnel attributes when asked (RFC 2868 §3.1)', () => {
    const { packet } = roundTrip(authorizationAttributes({ vlan: 'guest' }, { tunnelTag: 1 }));
    expect(rawValue(packet, Attr.TunnelType)).toEqual(Buffer.from([1, 0, 0, 13]));
    expect(rawValue(packet, Attr.TunnelMediumType)).toEqual(Buffer.from([1, 0, 0, 6]));
    expect(rawValue(packet, Attr.TunnelPrivateGroupId)).toEqual(Buffer.from('\u0001guest'));
  });

  it('sends nothing for an empty authorization', () => {
    expect(authorizationAttributes({})).toEqual([]);
  });

  it('names EAP methods from what the EAP engine reports, and refuses an unnamed method unless everything is allowed', () => {
    expect(eapMethodOf('eap-tls')).toBe('eap-tls');
    expect(eapMethodOf('peap-mschapv2')).toBe('peap');
    expect(eapMethodOf('ttls-pap')).toBe('ttls');
    expect(eapMethodOf('peap')).toBe('peap');
    expect(eapMethodOf('eap-ttls')).toBe('ttls');
    expect(eapMethodOf('md5')).toBeUndefined();
    const open = new PolicyEngine();
    expect(authorizeAccess(open, { kind: 'wlan', method: undefined, groups: [] })).toEqual({ outcome: 'accept', attributes: [] });
    const tight = new PolicyEngine({ groups: [], methods: [{ kind: 'wlan', methods: ['eap-tls'] }] });
    expect(authorizeAccess(tight, { kind: 'wlan', method: undefined, groups: [] })).toEqual({ outcome: 'reject', reason: METHOD_NOT_ALLOWED });
    expect(authorizeAccess(tight, { kind: 'vpn', method: undefined, groups: [] }).outcome).toBe('accept');
  });
});

let tmp: string;
let pki: Pki;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'authbox-policy-'));
  const dataDir = join(tmp, 'data');
  initDataDir({ dataDir, organization: 'Policy Test', keyType: 'ec-p256', publicUrl: 'http://127.0.0.1:9', by });
  pki = openPkiAt(dataDir);
});
afterAll(() => {
  pki?.close();
  rmSync(tmp, { recursive: true, force: true });
});

const rows = <T>(sql: string): T[] => pki.db.prepare(sql).all() as T[];

describe('PolicyService over SQLite', () => {
  it('creates, merges and clears group policies, keeping the first spelling of the group', () => {
    expect(pki.policy.set({ group: 'Staff', vlan: '0042', sessionTimeout: 3600 }, by)).toEqual(policy('Staff', { vlan: '42', sessionTimeout: 3600 }));
    expect(pki.policy.set({ group: 'staff', class: 'staff', priority: 10 }, by))
      .toEqual(policy('Staff', { vlan: '42', sessionTimeout: 3600, class: 'staff', priority: 10 }));
    expect(pki.policy.set({ group: 'STAFF', unset: ['sessionTimeout'], filterId: 'acl' }, by))
      .toEqual(policy('Staff', { vlan: '42', filterId: 'acl', class: 'staff', priority: 10 }));
    expect(pki.policy.load().groups).toHaveLength(1);
  });

  it('refuses bad values and a policy that sets nothing, writing nothing', () => {
    const before = rows<{ n: number }>('SELECT count(*) AS n FROM changes')[0]!.n;
    expect(codeOf(() => pki.policy.set({ group: 'g', vlan: '4095' }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', sessionTimeout: 59 }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', sessionTimeout: 7 * 86400 + 1 }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', filterId: 'x'.repeat(254) }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', class: 'a\nb' }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', priority: 100 }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: 'g', vlan: '5', priority: -1 }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.set({ group: ' g', vlan: '5' }, by))).toBe('BAD_INPUT');
    expect(codeOf(() => pki.policy.set({ group: 'Staff', unset: ['vlan', 'filterId', 'class'] }, by))).toBe('POLICY_INVALID');
    expect(codeOf(() => pki.policy.remove('nobody', by))).toBe('POLICY_NOT_FOUND');
    expect(rows<{ n: number }>('SELECT count(*) AS n FROM changes')[0]!.n).toBe(before);
  });

  it('stores methods per kind as a JSON array and goes back to the default', () => {
    pki.policy.setMethods('wlan', ['eap-tls', 'peap'], by);
    expect(rows<{ kind: string; methods: string }>('SELECT * FROM kind_methods')).toEqual([{ kind: 'wlan', methods: '["eap-tls","peap"]' }]);
    expect(pki.policy.methodsByKind().wlan).toEqual(['eap-tls', 'peap']);
    expect(pki.policy.methodsByKind().vpn).toEqual(['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab']);
    pki.policy.setMethods('wlan', undefined, by);
    expect(rows('SELECT * FROM kind_methods')).toEqual([]);
  });

  it('writes one policy change row and one audit row per write', () => {
    pki.policy.remove('staff', by);
    const changes = rows<{ kind: string; ref: string }>("SELECT kind, ref FROM changes WHERE kind = 'policy' ORDER BY seq");
    expect(changes.map((c) => c.ref)).toEqual(['group:Staff', 'group:Staff', 'group:Staff', 'kind:wlan', 'kind:wlan', 'group:Staff']);
    const audit = rows<{ action: string; target: string; actor: string; detail: string }>("SELECT * FROM audit WHERE action LIKE 'policy.%' ORDER BY id");
    expect(audit.map((a) => `${a.action} ${a.target}`)).toEqual([
      'policy.set Staff', 'policy.set Staff', 'policy.set Staff', 'policy.methods wlan', 'policy.methods wlan', 'policy.remove Staff',
    ]);
    expect(audit.every((a) => a.actor === 'test:unit')).toBe(true);
    expect(JSON.parse(audit[3]!.detail)).toEqual({ before: 'default', after: ['eap-tls', 'peap'] });
    expect(JSON.parse(audit[1]!.detail)).toMatchObject({ before: { class: null }, after: { class: 'staff', priority: 10 } });
  });
});

describe('the RADIUS engine applies the policy', () => {
  const logged: Record<string, unknown>[] = [];
  const log: Logger = {
    // Accepts are logged at debug, refusals at info: both are kept here.
    debug: (o) => void logged.push(o as Record<string, unknown>),
    warn: () => {}, error: () => {}, info: (o) => void logged.push(o as Record<string, unknown>), child: () => log,
  };
  const client = (kind: NasKind): NasClient => ({ name: kind, network: parseCidr('127.0.0.1/32')!, secret: SECRET, kind, requireMessageAuthenticator: true });
  const engineFor = (kind: NasKind, snapshot = pki.policy.load(), eap?: Partial<EapEngine>) => {
    const verified: string[] = [];
    const users = {
      find: (name: string) => pki.users.find(name),
      ntHashOf: (u: Parameters<Pki['users']['ntHashOf']>[0]) => pki.users.ntHashOf(u),
      verifyPassword: (u: { passwordHash: string | null }, p: Uint8Array) => {
        verified.push(String(u.passwordHash).slice(0, 6));
        return pki.users.verifyPassword(u, p);
      },
    };
    const engine = new RadiusAuthEngine({
      clients: new NasTable([client(kind)]), users, dummyPasswordHash: 'none', log, policy: new PolicyEngine(snapshot),
      ...(eap ? { eap: eap as EapEngine } : {}),
    });
    return { engine, verified };
  };
  const pap = (user: string, password: string) => {
    const authenticator = randomBytes(16);
    return encodePacket({
      code: Code.AccessRequest, identifier: 3, authenticator, secret: SECRET, messageAuthenticator: true,
      attributes: [{ type: Attr.UserName, value: Buffer.from(user) }, { type: Attr.UserPassword, value: hideUserPassword(password, SECRET, authenticator) }],
    });
  };
  const send = async (engine: RadiusAuthEngine, data: Buffer) => {
    logged.length = 0;
    const reply = await engine.handle({ data, address: '127.0.0.1', port: 40000 }, 'auth');
    return { packet: decodePacket(reply!), decision: logged.find((o) => 'outcome' in o) };
  };

  beforeAll(() => {
    pki.users.add({ username: 'carol', password: 'carol-Passw0rd', groups: ['guests', 'staff'] }, by);
    // RFC 2759 §9.2's user, for MS-CHAPv2.
    pki.users.add({ username: 'User', password: 'clientPass', groups: ['staff'] }, by);
    pki.policy.set({ group: 'staff', vlan: '42', sessionTimeout: 3600, class: 'staff', priority: 10 }, by);
    pki.policy.set({ group: 'guests', vlan: '99', filterId: 'web-only' }, by);
  });

  it('adds the winning group\'s attributes to a PAP Access-Accept', async () => {
    const { engine } = engineFor('wlan');
    const { packet, decision } = await send(engine, pap('carol', 'carol-Passw0rd'));
    expect(packet.code).toBe(Code.AccessAccept);
    expect(joinAttribute(packet.attributes, Attr.TunnelPrivateGroupId)?.toString()).toBe('42');
    expect(joinAttribute(packet.attributes, Attr.TunnelType)?.readUInt32BE()).toBe(TunnelType.Vlan);
    expect(joinAttribute(packet.attributes, Attr.SessionTimeout)?.readUInt32BE()).toBe(3600);
    expect(joinAttribute(packet.attributes, Attr.Class)?.toString()).toBe('staff');
    expect(joinAttribute(packet.attributes, Attr.FilterId)).toBeUndefined();
    expect(decision).toMatchObject({ user: 'carol', outcome: 'accept', policy: 'staff' });
  });

  it('refuses PAP from a kind that does not allow it, before the password is checked, with the reason logged', async () => {
    const snapshot = { ...pki.policy.load(), methods: [{ kind: 'wlan' as const, methods: ['eap-tls' as const] }] };
    const { engine, verified } = engineFor('wlan', snapshot);
    const { packet, decision } = await send(engine, pap('carol', 'carol-Passw0rd'));
    expect(packet.code).toBe(Code.AccessReject);
    expect(joinAttribute(packet.attributes, Attr.TunnelPrivateGroupId)).toBeUndefined();
    expect(verified).toEqual([]);
    expect(decision).toMatchObject({ user: 'carol', outcome: 'reject', reason: METHOD_NOT_ALLOWED });
    // Another kind is not affected.
    const vpn = engineFor('vpn', snapshot);
    expect((await send(vpn.engine, pap('carol', 'carol-Passw0rd'))).packet.code).toBe(Code.AccessAccept);
  });

  const mschap = () => {
    const ms = (type: number, value: Buffer): RadiusAttribute => ({ vendor: VENDOR_MICROSOFT, type, value });
    return encodePacket({
      code: Code.AccessRequest, identifier: 4, authenticator: randomBytes(16), secret: SECRET, messageAuthenticator: true,
      attributes: [
        { type: Attr.UserName, value: Buffer.from('User') },
        ms(MsAttr.ChapChallenge, Buffer.from('5B5D7C7D7B3F2F3E3C2C602132262628', 'hex')),
        ms(MsAttr.Chap2Response, Buffer.concat([Buffer.of(0x2a, 0), Buffer.from('21402324255E262A28295F2B3A337C7E', 'hex'), Buffer.alloc(8),
          Buffer.from('82309ECD8D708B5EA08FAA3981CD83544233114A3D85D6DF', 'hex')])),
      ],
    });
  };

  it('adds the attributes to an MS-CHAPv2 Access-Accept, and refuses MS-CHAPv2 where the kind does not allow it', async () => {
    const accepted = await send(engineFor('vpn').engine, mschap());
    expect(accepted.packet.code).toBe(Code.AccessAccept);
    expect(joinAttribute(accepted.packet.attributes, MsAttr.Chap2Success, VENDOR_MICROSOFT)).toBeDefined();
    expect(joinAttribute(accepted.packet.attributes, Attr.TunnelPrivateGroupId)?.toString()).toBe('42');
    const snapshot = { ...pki.policy.load(), methods: [{ kind: 'vpn' as const, methods: ['pap' as const] }] };
    const refused = await send(engineFor('vpn', snapshot).engine, mschap());
    expect(refused.packet.code).toBe(Code.AccessReject);
    expect(refused.decision).toMatchObject({ outcome: 'reject', reason: METHOD_NOT_ALLOWED });
  });

  const eapAccept = (method: string): EapResult => ({
    code: Code.AccessAccept, outcome: 'accept', identity: 'carol', details: { method },
    attributes: [
      { type: Attr.EapMessage, value: encodeEap({ code: EapCode.Success, identifier: 12, data: Buffer.alloc(0) }) },
      { type: MsAttr.MppeRecvKey, vendor: VENDOR_MICROSOFT, value: randomBytes(50) },
    ],
  });
  const eapRequest = (state?: Buffer) => encodePacket({
    code: Code.AccessRequest, identifier: 5, authenticator: randomBytes(16), secret: SECRET, messageAuthenticator: true,
    attributes: [
      { type: Attr.UserName, value: Buffer.from('carol') },
      { type: Attr.EapMessage, value: encodeEap({ code: EapCode.Response, identifier: 12, type: EapType.Identity, data: Buffer.from('carol') }) },
      ...(state ? [{ type: Attr.State, value: state }] : []),
    ],
  });

  it('adds the attributes to an EAP Access-Accept, and turns the accept of a method the kind does not allow into an EAP-Failure', async () => {
    let calls = 0;
    const eap = { handle: async () => (calls++, eapAccept('peap-mschapv2')) };
    const ok = await send(engineFor('wlan', undefined, eap).engine, eapRequest(randomBytes(16)));
    expect(ok.packet.code).toBe(Code.AccessAccept);
    expect(joinAttribute(ok.packet.attributes, Attr.TunnelPrivateGroupId)?.toString()).toBe('42');
    expect(ok.decision).toMatchObject({ user: 'carol', outcome: 'accept', policy: 'staff' });

    const snapshot = { ...pki.policy.load(), methods: [{ kind: 'wlan' as const, methods: ['eap-tls' as const] }] };
    const refused = await send(engineFor('wlan', snapshot, eap).engine, eapRequest(randomBytes(16)));
    expect(refused.packet.code).toBe(Code.AccessReject);
    const eapMessage = joinAttribute(refused.packet.attributes, Attr.EapMessage)!;
    expect([eapMessage[0], eapMessage[1]]).toEqual([EapCode.Failure, 12]);
    expect(joinAttribute(refused.packet.attributes, MsAttr.MppeRecvKey, VENDOR_MICROSOFT)).toBeUndefined();
    expect(joinAttribute(refused.packet.attributes, Attr.TunnelPrivateGroupId)).toBeUndefined();
    expect(refused.decision).toMatchObject({ outcome: 'reject', reason: METHOD_NOT_ALLOWED, method: 'peap-mschapv2' });
    expect(calls).toBe(2);
  });

  it('refuses EAP at its first packet, without starting a conversation, where the kind allows no EAP method', async () => {
    let calls = 0;
    const eap = { handle: async () => (calls++, eapAccept('eap-tls')) };
    const snapshot = { ...pki.policy.load(), methods: [{ kind: 'switch' as const, methods: ['pap' as const] }] };
    const { packet, decision } = await send(engineFor('switch', snapshot, eap).engine, eapRequest());
    expect(packet.code).toBe(Code.AccessReject);
    const eapMessage = joinAttribute(packet.attributes, Attr.EapMessage)!;
    expect([eapMessage[0], eapMessage[1]]).toEqual([EapCode.Failure, 12]);
    expect(decision).toMatchObject({ user: 'carol', outcome: 'reject', reason: METHOD_NOT_ALLOWED });
    expect(calls).toBe(0);
  });
});
