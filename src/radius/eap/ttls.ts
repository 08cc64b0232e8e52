// EAP-TTLSv0 (RFC 5281) inside the tunnel: Diameter AVPs. PAP (§11.2.5: User-Name and
// User-Password) and MS-CHAPv2 (§11.2.4: MS-CHAP-Challenge and MS-CHAP2-Response, the
// challenge and its ident derived from the TLS keying material with "ttls challenge").
import { MsAttr, VENDOR_MICROSOFT } from '../codec/index.js';
import { MSCHAPV2_CHALLENGE_LENGTH, msChap2SuccessValue, parseMsChap2Response } from '../mschap/mschapv2.js';
import { AvpDecodeError, decodeAvps, encodeAvp, findAvp } from './diameter-avp.js';
import type { InnerAuthenticator } from './inner-auth.js';
import type { TunnelMethod, TunnelStep } from './tunnel.js';

/** RFC 2865 attribute numbers, which RFC 5281 §10.1 reuses as AVP codes. */
const AVP_USER_NAME = 1;
const AVP_USER_PASSWORD = 2;

/** RFC 5281 §11.1: 16 octets of challenge then one of ident. */
export const TTLS_CHALLENGE_LABEL = 'ttls challenge';
export const TTLS_CHALLENGE_LENGTH = MSCHAPV2_CHALLENGE_LENGTH + 1;

export class TtlsTunnel implements TunnelMethod {
  private done = false;

  /** `challenge` exports TTLS_CHALLENGE_LENGTH octets of "ttls challenge" from the TLS session. */
  constructor(private readonly inner: InnerAuthenticator, private readonly challenge: () => Buffer) {}

  start(): undefined {
    return undefined;
  }

  async receive(data: Buffer): Promise<TunnelStep> {
    if (this.done) return { kind: 'reject', reason: 'EAP protocol error', detail: 'data after the end of TTLS' };
    let avps;
    try {
      avps = decodeAvps(data);
    } catch (e) {
      if (e instanceof AvpDecodeError) return { kind: 'reject', reason: 'EAP protocol error', detail: e.message };
      throw e;
    }
    const name = findAvp(avps, AVP_USER_NAME)?.data.toString('utf8');
    if (!name) return { kind: 'reject', reason: 'EAP protocol error', detail: 'no User-Name AVP' };
    const password = findAvp(avps, AVP_USER_PASSWORD);
    if (password) {
      this.done = true;
      // RFC 5281 §11.2.5: the password is padded with nulls to a multiple of 16 octets.
      let end = password.data.length;
      while (end > 0 && password.data[end - 1] === 0) end--;
      const d = await this.inner.pap(name, Buffer.from(password.data.subarray(0, end)));
      password.data.fill(0);
      // 'pap+otp': a one-time code was joined to the password (inner-auth.ts); the policy may require one.
      return d.ok ? { kind: 'accept', username: d.username, inner: d.otp ? 'pap+otp' : 'pap' } : { kind: 'reject', reason: d.reason, username: d.username };
    }
    const response = findAvp(avps, MsAttr.Chap2Response, VENDOR_MICROSOFT);
    if (response) {
      this.done = true;
      const r = parseMsChap2Response(response.data);
      const sent = findAvp(avps, MsAttr.ChapChallenge, VENDOR_MICROSOFT)?.data;
      const expected = this.challenge();
      const challenge = expected.subarray(0, MSCHAPV2_CHALLENGE_LENGTH);
      // §11.2.4: the peer must use the implicit challenge and ident, not ones of its choosing.
      if (!r || !sent || !sent.equals(challenge) || r.ident !== expected[MSCHAPV2_CHALLENGE_LENGTH]) {
        return { kind: 'reject', reason: 'EAP protocol error', username: name, detail: 'MS-CHAP challenge not the one derived from TLS' };
      }
      const d = this.inner.mschapv2({
        username: name, peerName: name, authenticatorChallenge: Buffer.from(challenge), peerChallenge: r.peerChallenge, ntResponse: r.ntResponse,
      });
      if (!d.ok) return { kind: 'reject', reason: d.reason, username: d.username };
      const success = encodeAvp({
        code: MsAttr.Chap2Success, vendor: VENDOR_MICROSOFT, mandatory: true, data: msChap2SuccessValue(r.ident, d.authenticatorResponse!),
      });
      return { kind: 'send', data: success, done: { username: d.username, inner: 'mschapv2' } };
    }
    return { kind: 'reject', reason: 'EAP protocol error', username: name, detail: 'no inner method this server supports' };
  }
}
