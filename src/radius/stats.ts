// What the RADIUS engine counts: requests, results, drops by reason, decisions by method and
// client, latency per service. Plain data, so that the primary can relay it to the HTTP
// workers for /healthz and /metrics.
import type { RadiusDecodeReason } from './codec/index.js';

export interface RadiusStats {
  received: number;
  requests: number;
  accepts: number;
  rejects: number;
  retransmissions: number;
  /** Access-Challenges asking for a one-time code (PAP, pap-otp.ts); EAP rounds are not counted here. */
  challenges?: number;
  accounting: { requests: number; responses: number };
  dropped: {
    unknownClient: number;
    malformed: number;
    missingMessageAuthenticator: number;
    badMessageAuthenticator: number;
    badAuthenticator: number;
    unsupportedCode: number;
    internalError: number;
    /** The reply would pass 4096 octets (a request padded with Proxy-State): nothing can be sent. */
    replyTooLong: number;
    /** Accounting-Requests without Acct-Status-Type, or without Acct-Session-Id where one is required. */
    invalidAccounting: number;
    /** The database could not store the request (disk full, I/O error): no answer, so the NAS retries. */
    storageFailed: number;
  };
  malformed: Partial<Record<RadiusDecodeReason, number>>;
  /** Final decisions by "method|client|result" (a few dozen keys: methods × clients × 2). */
  decisions: Record<string, number>;
  /** Seconds from a datagram's arrival to its answer, per service (a histogram: counts per bound, then over the last). */
  latency: Record<'auth' | 'acct', LatencyHistogram>;
}

export interface LatencyHistogram {
  bounds: number[];
  counts: number[];
  sum: number;
}

/** Seconds: 0.5 ms to 2.5 s, the range between a PAP answer from memory and an LDAP bind that times out. */
export const LATENCY_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const emptyHistogram = (): LatencyHistogram => ({ bounds: LATENCY_BOUNDS, counts: new Array<number>(LATENCY_BOUNDS.length + 1).fill(0), sum: 0 });


export const emptyStats = (): RadiusStats => ({
  received: 0, requests: 0, accepts: 0, rejects: 0, retransmissions: 0, challenges: 0,
  accounting: { requests: 0, responses: 0 },
  dropped: {
    unknownClient: 0, malformed: 0, missingMessageAuthenticator: 0, badMessageAuthenticator: 0,
    badAuthenticator: 0, unsupportedCode: 0, internalError: 0, replyTooLong: 0, invalidAccounting: 0, storageFailed: 0,
  },
  malformed: {},
  decisions: {},
  latency: { auth: emptyHistogram(), acct: emptyHistogram() },
});
