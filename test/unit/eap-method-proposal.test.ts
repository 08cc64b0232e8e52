// Which EAP method the engine proposes after the Identity, and where a Nak may lead, for
// the methods the client's kind allows (policy.methodAllowed, RFC 3748 §5.3.1).
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { Attr, Code, joinAttribute, type RadiusPacket } from '../../src/radius/codec/index.js';
import { EapCode, EapType, TlsFlag, decodeEap, encodeEap } from '../../src/radius/eap/codec.js';
import { EapEngine, type EapMethodFilter, type EapPolicyMethod, type EapResult } from '../../src/radius/eap/engine.js';
import type { InnerAuthenticator } from '../../src/radius/eap/inner-auth.js';

// Never reached: these conversations end before any tunnel.
const inner: InnerAuthenticator = {
  pap: () => Promise.reject(new Error('not in these tests')),
  mschapv2: () => { throw new Error('not in these tests'); },
};

function engine(withInner = true): EapEngine {
  return new EapEngine({
    tls: () => { throw new Error('no TLS in these tests'); },
    log: silentLogger,
    certificates: { cas: () => [], status: () => undefined, record: () => undefined, user: () => undefined, now: Date.now },
    ...(withInner ? { inner } : {}),
  });
}

const packet = (eap: Buffer, state?: Buffer): { packet: RadiusPacket; eap: Buffer } => ({
  eap,
  packet: {
    code: Code.AccessRequest, identifier: 1, authenticator: Buffer.alloc(16, 7),
    attributes: [{ type: Attr.EapMessage, value: eap }, ...(state ? [{ type: Attr.State, value: state }] : [])],
  },
});

const only = (...methods: EapPolicyMethod[]): EapMethodFilter => (m) => methods.includes(m);

async function identity(e: EapEngine, allowed?: EapMethodFilter): Promise<EapResult> {
  const p = packet(encodeEap({ code: EapCode.Response, identifier: 1, type: EapType.Identity, data: Buffer.from('alice') }));
  return e.handle(p.packet, p.eap, 'secret', allowed);
}

async function nak(e: EapEngine, previous: EapResult, wanted: number[], allowed?: EapMethodFilter): Promise<EapResult> {
  const request = decodeEap(joinAttribute(previous.attributes, Attr.EapMessage)!);
  const state = joinAttribute(previous.attributes, Attr.State)!;
  const p = packet(encodeEap({ code: EapCode.Response, identifier: request.identifier, type: EapType.Nak, data: Buffer.from(wanted) }), state);
  return e.handle(p.packet, p.eap, 'secret', allowed);
}

const proposed = (r: EapResult): { type?: number; start: boolean } => {
  const eap = decodeEap(joinAttribute(r.attributes, Attr.EapMessage)!);
  return { ...(eap.type !== undefined ? { type: eap.type } : {}), start: eap.data.length === 1 && eap.data[0] === TlsFlag.Start };
};

describe('EAP method proposal by client kind', () => {
  it('proposes EAP-TLS when allowed, else PEAP, else EAP-TTLS, with the S flag', async () => {
    const e = engine();
    expect(proposed(await identity(e))).toEqual({ type: EapType.Tls, start: true });
    expect(proposed(await identity(e, only('eap-tls', 'ttls')))).toEqual({ type: EapType.Tls, start: true });
    expect(proposed(await identity(e, only('peap', 'ttls')))).toEqual({ type: EapType.Peap, start: true });
    expect(proposed(await identity(e, only('ttls', 'pap' as EapPolicyMethod)))).toEqual({ type: EapType.Ttls, start: true });
    e.close();
  });

  it('refuses at the Identity when no method it runs is allowed (PEAP/TTLS need inner authentication)', async () => {
    const r = await identity(engine(false), only('peap'));
    expect(r.code).toBe(Code.AccessReject);
    expect(r.reason).toBe('method not allowed for this client kind');
    expect(r.identity).toBe('alice');
  });

  it('lets a Nak switch only to an allowed method', async () => {
    const e = engine();
    const allowed = only('eap-tls', 'ttls');
    const first = await identity(e, allowed);
    // The peer wants PEAP first, then EAP-TTLS: PEAP is not allowed, EAP-TTLS is.
    const second = await nak(e, first, [EapType.Peap, EapType.Ttls], allowed);
    expect(second.code).toBe(Code.AccessChallenge);
    expect(proposed(second)).toEqual({ type: EapType.Ttls, start: true });
    e.close();
  });

  it('refuses a Nak asking only for a method the client kind does not allow, with that reason', async () => {
    const e = engine();
    const allowed = only('eap-tls');
    const r = await nak(e, await identity(e, allowed), [EapType.Peap], allowed);
    expect(r.code).toBe(Code.AccessReject);
    expect(r.reason).toBe('method not allowed for this client kind');
    expect(r.details?.wanted).toBe(String(EapType.Peap));
  });

  it('refuses a Nak for a method it does not run, and a Nak back to a method already refused', async () => {
    const e = engine();
    expect((await nak(e, await identity(e), [4 /* MD5-Challenge */])).reason).toBe('EAP method refused by the peer');
    const toPeap = await nak(e, await identity(e), [EapType.Peap]);
    expect(proposed(toPeap).type).toBe(EapType.Peap);
    const back = await nak(e, toPeap, [EapType.Peap]);
    expect(back.code).toBe(Code.AccessReject);
    expect(back.reason).toBe('EAP method refused by the peer');
    const third = await nak(e, await nak(e, await identity(e), [EapType.Peap]), [EapType.Ttls]);
    expect(proposed(third).type).toBe(EapType.Ttls);
  });
});
