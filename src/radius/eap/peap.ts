// PEAPv0 (draft-josefsson-pppext-eap-tls-eap-05, Microsoft [MS-PEAP]) with EAP-MSCHAPv2
// inside. Inside the tunnel, PEAPv0 packets are "compressed": the inner EAP packet without
// its Code/Identifier/Length header (Type first), except the Extensions packets (type 33)
// which keep the whole header. The conversation: Identity, MS-CHAPv2 Challenge, Response,
// Success request "S=...", the peer's Success, then the Result TLV both ways; only then
// does the engine send the outer EAP-Success with the keys. A refused password goes the
// way Windows expects ([MS-PEAP] §3.1.5.7, FreeRADIUS alike): the MS-CHAPv2 Failure request
// "E=691 R=0 ...", the peer's Failure, a failure Result TLV both ways, then EAP-Failure.
import { randomBytes } from 'node:crypto';
import { MSCHAPV2_CHALLENGE_LENGTH } from '../mschap/mschapv2.js';
import { EapCode, EapDecodeError, EapType, decodeEap, encodeEap } from './codec.js';
import { MsChapV2Op, mschapv2Challenge, mschapv2FailureRequest, mschapv2SuccessRequest, parseMschapv2Response } from './eap-mschapv2.js';
import type { InnerAuthenticator, InnerRefusal } from './inner-auth.js';
import type { TunnelMethod, TunnelStep } from './tunnel.js';

/** [MS-PEAP] §2.2.8: the EAP Extensions method. */
export const EAP_TYPE_EXTENSIONS = 33;
/** [MS-PEAP] §2.2.8.1: Result TLV, mandatory bit set. */
const TLV_MANDATORY = 0x8000;
const TLV_TYPE_MASK = 0x3fff;
const TLV_RESULT = 3;
export const TlvResult = { Success: 1, Failure: 2 } as const;

export const SERVER_NAME = 'authbox';

/** An EAP-Request/Extensions with one Result TLV, header included (PEAPv0 does not compress it). */
export function resultTlvRequest(identifier: number, result: number): Buffer {
  const tlv = Buffer.alloc(6);
  tlv.writeUInt16BE(TLV_MANDATORY | TLV_RESULT, 0);
  tlv.writeUInt16BE(2, 2);
  tlv.writeUInt16BE(result, 4);
  return encodeEap({ code: EapCode.Request, identifier, type: EAP_TYPE_EXTENSIONS, data: tlv });
}

/** The Result TLV's value in an Extensions packet's Type-Data, if there is one. */
export function resultOf(typeData: Buffer): number | undefined {
  for (let at = 0; at + 4 <= typeData.length;) {
    const type = typeData.readUInt16BE(at) & TLV_TYPE_MASK;
    const len = typeData.readUInt16BE(at + 2);
    if (at + 4 + len > typeData.length) return undefined;
    if (type === TLV_RESULT && len >= 2) return typeData.readUInt16BE(at + 4);
    at += 4 + len;
  }
  return undefined;
}

type State = 'identity' | 'challenge' | 'success' | 'result' | 'failure' | 'failure-result' | 'done';

export class PeapTunnel implements TunnelMethod {
  private state: State = 'identity';
  private identity = '';
  private username = '';
  private readonly challenge: Buffer;
  private readonly msId: number;
  /** Why the inner method refused, kept for the reject once the failure exchange is over. */
  private refusal: { reason: InnerRefusal; username: string } | undefined;

  constructor(private readonly inner: InnerAuthenticator, private readonly random: (n: number) => Buffer = randomBytes) {
    this.challenge = random(MSCHAPV2_CHALLENGE_LENGTH);
    this.msId = random(1)[0]!;
  }

  /** The inner EAP-Request/Identity, compressed: the Type octet alone. */
  start(): Buffer {
    return Buffer.of(EapType.Identity);
  }

  async receive(data: Buffer, nextId: number): Promise<TunnelStep> {
    const protocol = (detail: string): TunnelStep => ({
      kind: 'reject', reason: 'EAP protocol error', detail, ...(this.username || this.identity ? { username: this.username || this.identity } : {}),
    });
    switch (this.state) {
      case 'identity': {
        if (data[0] !== EapType.Identity) return protocol(`inner type ${data[0]} instead of Identity`);
        this.identity = data.subarray(1).toString('utf8').replace(/\0+$/, '');
        if (!this.identity) return protocol('empty inner identity');
        this.state = 'challenge';
        return { kind: 'send', data: Buffer.concat([Buffer.of(EapType.MsChapV2), mschapv2Challenge(this.msId, this.challenge, SERVER_NAME)]) };
      }
      case 'challenge': {
        if (data[0] === EapType.Nak) return { kind: 'reject', reason: 'EAP method refused by the peer', username: this.identity, detail: 'inner EAP-MSCHAPv2 refused' };
        if (data[0] !== EapType.MsChapV2) return protocol(`inner type ${data[0]} instead of EAP-MSCHAPv2`);
        const r = parseMschapv2Response(data.subarray(1));
        if (!r || r.id !== this.msId) return protocol('malformed EAP-MSCHAPv2 Response');
        const d = this.inner.mschapv2({
          username: this.identity, peerName: r.name, authenticatorChallenge: this.challenge, peerChallenge: r.peerChallenge, ntResponse: r.ntResponse,
        });
        this.username = d.username;
        if (!d.ok) {
          this.refusal = { reason: d.reason, username: d.username };
          this.state = 'failure';
          const failure = mschapv2FailureRequest(this.msId, this.random(MSCHAPV2_CHALLENGE_LENGTH));
          return { kind: 'send', data: Buffer.concat([Buffer.of(EapType.MsChapV2), failure]) };
        }
        this.state = 'success';
        return { kind: 'send', data: Buffer.concat([Buffer.of(EapType.MsChapV2), mschapv2SuccessRequest(this.msId, d.authenticatorResponse!)]) };
      }
      case 'success': {
        if (data[0] !== EapType.MsChapV2 || data[1] !== MsChapV2Op.Success) return protocol('no EAP-MSCHAPv2 Success response');
        this.state = 'result';
        return { kind: 'send', data: resultTlvRequest(nextId, TlvResult.Success) };
      }
      case 'result': {
        let result: number | undefined;
        try {
          const p = decodeEap(data);
          result = p.code === EapCode.Response && p.type === EAP_TYPE_EXTENSIONS ? resultOf(p.data) : undefined;
        } catch (e) {
          if (!(e instanceof EapDecodeError)) throw e;
        }
        if (result !== TlvResult.Success) {
          return { kind: 'reject', reason: 'inner method failed', username: this.username, detail: `Result TLV ${result ?? 'missing'}` };
        }
        this.state = 'done';
        return { kind: 'accept', username: this.username, inner: 'eap-mschapv2' };
      }
      case 'failure': {
        // The peer answers the Failure request with a Failure of its own (OpCode alone), and the
        // Result TLV tells it the tunnel failed; anything else ends the conversation at once.
        this.state = 'failure-result';
        if (data[0] !== EapType.MsChapV2 || data[1] !== MsChapV2Op.Failure) return this.refused('no EAP-MSCHAPv2 Failure response');
        return { kind: 'send', data: resultTlvRequest(nextId, TlvResult.Failure) };
      }
      case 'failure-result':
        this.state = 'done';
        return this.refused();
      default:
        return protocol('data after the end of PEAP');
    }
  }

  private refused(detail?: string): TunnelStep {
    const r = this.refusal!;
    return { kind: 'reject', reason: r.reason, username: r.username, ...(detail ? { detail } : {}) };
  }
}
