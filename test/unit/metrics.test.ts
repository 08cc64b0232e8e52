// src/http/metrics.ts: the Prometheus text format 0.0.4 (golden text), histograms, and the
// /metrics source-address allow-list; src/daemon-metrics.ts: the daemon's families.
import { describe, expect, it } from 'vitest';
import {
  counter, formatValue, gauge, Histogram, histogram, renderMetrics, sourceAllowList,
} from '../../src/http/metrics.js';
import { daemonMetrics } from '../../src/daemon-metrics.js';
import type { LoadedCa } from '../../src/ca/authority.js';
import { codeOf } from '../helpers/unit.js';

describe('renderMetrics', () => {
  it('renders counters and gauges with HELP, TYPE and labels (golden text)', () => {
    const text = renderMetrics([
      counter('authbox_radius_requests_total', 'RADIUS Access-Requests answered, by result.', [
        { labels: { result: 'accept' }, value: 12 },
        { labels: { result: 'reject' }, value: 3 },
      ]),
      gauge('authbox_eap_sessions', 'EAP conversations in flight.', 0),
      gauge('authbox_crl_age_seconds', 'Seconds since thisUpdate.', [{ labels: { ca: 'issuing' }, value: 42.5 }]),
    ]);
    expect(text).toBe([
      '# HELP authbox_radius_requests_total RADIUS Access-Requests answered, by result.',
      '# TYPE authbox_radius_requests_total counter',
      'authbox_radius_requests_total{result="accept"} 12',
      'authbox_radius_requests_total{result="reject"} 3',
      '# HELP authbox_eap_sessions EAP conversations in flight.',
      '# TYPE authbox_eap_sessions gauge',
      'authbox_eap_sessions 0',
      '# HELP authbox_crl_age_seconds Seconds since thisUpdate.',
      '# TYPE authbox_crl_age_seconds gauge',
      'authbox_crl_age_seconds{ca="issuing"} 42.5',
      '',
    ].join('\n'));
  });

  it('escapes label values (backslash, double quote, line feed) and HELP (backslash, line feed)', () => {
    const text = renderMetrics([
      gauge('x', 'a \\ help\nwith "quotes"', [{ labels: { a: 'C:\\dir', b: 'say "hi"', c: 'two\nlines' }, value: 1 }]),
    ]);
    expect(text).toBe([
      '# HELP x a \\\\ help\\nwith "quotes"',
      '# TYPE x gauge',
      'x{a="C:\\\\dir",b="say \\"hi\\"",c="two\\nlines"} 1',
      '',
    ].join('\n'));
  });

  it('spells special values as Go does', () => {
    expect([NaN, Infinity, -Infinity, 0, -2, 1.5, 1e21].map(formatValue)).toEqual(['NaN', '+Inf', '-Inf', '0', '-2', '1.5', '1e+21']);
  });

  it('renders a histogram as cumulative buckets, +Inf, _sum and _count (golden text)', () => {
    const h = new Histogram([0.001, 0.01, 0.1]);
    for (const v of [0.0005, 0.001, 0.002, 0.05, 0.5, 2]) h.observe(v);
    const text = renderMetrics([histogram('authbox_ocsp_response_seconds', 'Time to answer.', h.snapshot(), { worker: '1' })]);
    expect(text).toBe([
      '# HELP authbox_ocsp_response_seconds Time to answer.',
      '# TYPE authbox_ocsp_response_seconds histogram',
      'authbox_ocsp_response_seconds_bucket{worker="1",le="0.001"} 2',
      'authbox_ocsp_response_seconds_bucket{worker="1",le="0.01"} 3',
      'authbox_ocsp_response_seconds_bucket{worker="1",le="0.1"} 4',
      'authbox_ocsp_response_seconds_bucket{worker="1",le="+Inf"} 6',
      'authbox_ocsp_response_seconds_sum{worker="1"} 2.5535',
      'authbox_ocsp_response_seconds_count{worker="1"} 6',
      '',
    ].join('\n'));
  });

  it('an empty histogram has zero buckets', () => {
    const text = renderMetrics([histogram('h', 'h', new Histogram([1]).snapshot())]);
    expect(text).toContain('h_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\n');
  });

  it('refuses bad metric and label names, reserved labels, and a name rendered twice', () => {
    expect(codeOf(() => renderMetrics([gauge('1bad', 'h', 1)]))).toBe('BAD_INPUT');
    expect(codeOf(() => renderMetrics([gauge('bad-name', 'h', 1)]))).toBe('BAD_INPUT');
    expect(codeOf(() => renderMetrics([gauge('ok', 'h', [{ labels: { 'bad-label': 'x' }, value: 1 }])]))).toBe('BAD_INPUT');
    expect(codeOf(() => renderMetrics([gauge('ok', 'h', [{ labels: { __name__: 'x' }, value: 1 }])]))).toBe('BAD_INPUT');
    expect(codeOf(() => renderMetrics([gauge('ok', 'h', 1), counter('ok', 'h', 1)]))).toBe('BAD_INPUT');
    expect(codeOf(() => new Histogram([1, 1]))).toBe('BAD_INPUT');
  });

  it('renders nothing for no families', () => {
    expect(renderMetrics([])).toBe('');
  });
});

describe('sourceAllowList', () => {
  it('loopback only by default networks, IPv4-mapped IPv6 as IPv4', () => {
    const allowed = sourceAllowList(['127.0.0.1/32', '::1/128']);
    expect(allowed('127.0.0.1')).toBe(true);
    expect(allowed('::ffff:127.0.0.1')).toBe(true);
    expect(allowed('::1')).toBe(true);
    expect(allowed('127.0.0.2')).toBe(false);
    expect(allowed('10.0.0.1')).toBe(false);
    expect(allowed('::2')).toBe(false);
    expect(allowed(undefined)).toBe(false);
    expect(allowed('not an address')).toBe(false);
  });

  it('matches networks of either family', () => {
    const allowed = sourceAllowList(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    expect(allowed('10.200.3.4')).toBe(true);
    expect(allowed('::ffff:10.1.1.1')).toBe(true);
    expect(allowed('2001:db8:1::5')).toBe(true);
    expect(allowed('192.0.2.7')).toBe(true);
    expect(allowed('192.0.2.8')).toBe(false);
    expect(allowed('127.0.0.1')).toBe(false);
    expect(allowed('2001:db9::1')).toBe(false);
  });

  it('an empty list allows nobody', () => {
    expect(sourceAllowList([])('127.0.0.1')).toBe(false);
  });

  it('refuses what is not a network', () => {
    expect(codeOf(() => sourceAllowList(['10.0.0.1/8']))).toBe('BAD_INPUT');
    expect(codeOf(() => sourceAllowList(['localhost']))).toBe('BAD_INPUT');
  });
});

describe('daemonMetrics', () => {
  const now = Date.UTC(2026, 0, 10);
  const ca = (id: number, name: string, notAfter: number): LoadedCa =>
    ({ record: { id, name }, facts: { notAfter: new Date(notAfter) } }) as unknown as LoadedCa;

  it('maps the RADIUS, EAP, OCSP, CRL and certificate state to families (golden text)', () => {
    const text = renderMetrics(daemonMetrics({
      radius: {
        stats: {
          received: 20, requests: 15, accepts: 12, rejects: 3, retransmissions: 1,
          accounting: { requests: 4, responses: 4 },
          dropped: {
            unknownClient: 1, malformed: 0, missingMessageAuthenticator: 0, badMessageAuthenticator: 0,
            badAuthenticator: 0, unsupportedCode: 0, internalError: 0, replyTooLong: 0, invalidAccounting: 0, storageFailed: 0,
          },
          malformed: { TOO_SHORT: 2 },
          decisions: { 'pap|vpn-1|accept': 10, 'eap-tls|ap "3"|reject': 3 },
          latency: {
            auth: { bounds: [0.001, 0.01], counts: [10, 4, 1], sum: 0.05 },
            acct: { bounds: [0.001, 0.01], counts: [0, 4, 0], sum: 0.012 },
          },
        },
        eap: { workers: 2, sessions: 5, rounds: 40, restarts: 0 },
      },
      ocsp: { requests: 9, cacheHits: 6, signed: 3, malformed: 0, unauthorized: 0 },
      cas: [ca(1, 'root', now + 3650 * 86_400_000), ca(2, 'issuing', now + 1825.5 * 86_400_000)],
      crlInfo: (id) => (id === 2 ? { number: 7, thisUpdate: now - 90_000, nextUpdate: now + 86_400_000 } : undefined),
      certificates: { total: 10, revoked: 2 },
      now, uptimeSeconds: 61.7, residentBytes: 123456, worker: '1',
      directory: [
        { source: 'corp', last: { id: 4, sourceId: 1, startedAt: now - 120_000, endedAt: now - 118_500, mode: 'full', dryRun: false, added: 5, updated: 2, disabled: 1, groups: 3, error: null } },
        { source: 'never', last: undefined },
      ],
    }));
    expect(text).toBe(`# HELP authbox_radius_requests_total RADIUS Access-Requests answered, by result.
# TYPE authbox_radius_requests_total counter
authbox_radius_requests_total{result="accept"} 12
authbox_radius_requests_total{result="reject"} 3
# HELP authbox_radius_decisions_total Final RADIUS decisions, by method, client and result.
# TYPE authbox_radius_decisions_total counter
authbox_radius_decisions_total{method="pap",client="vpn-1",result="accept"} 10
authbox_radius_decisions_total{method="eap-tls",client="ap \\"3\\"",result="reject"} 3
# HELP authbox_radius_request_duration_seconds Seconds from a RADIUS datagram's arrival to its answer, per service.
# TYPE authbox_radius_request_duration_seconds histogram
authbox_radius_request_duration_seconds_bucket{service="auth",le="0.001"} 10
authbox_radius_request_duration_seconds_bucket{service="auth",le="0.01"} 14
authbox_radius_request_duration_seconds_bucket{service="auth",le="+Inf"} 15
authbox_radius_request_duration_seconds_sum{service="auth"} 0.05
authbox_radius_request_duration_seconds_count{service="auth"} 15
authbox_radius_request_duration_seconds_bucket{service="acct",le="0.001"} 0
authbox_radius_request_duration_seconds_bucket{service="acct",le="0.01"} 4
authbox_radius_request_duration_seconds_bucket{service="acct",le="+Inf"} 4
authbox_radius_request_duration_seconds_sum{service="acct"} 0.012
authbox_radius_request_duration_seconds_count{service="acct"} 4
# HELP authbox_radius_received_total RADIUS datagrams received (authentication and accounting).
# TYPE authbox_radius_received_total counter
authbox_radius_received_total 20
# HELP authbox_radius_dropped_total RADIUS datagrams dropped without an answer, by reason.
# TYPE authbox_radius_dropped_total counter
authbox_radius_dropped_total{reason="unknown_client"} 1
authbox_radius_dropped_total{reason="malformed"} 0
authbox_radius_dropped_total{reason="missing_message_authenticator"} 0
authbox_radius_dropped_total{reason="bad_message_authenticator"} 0
authbox_radius_dropped_total{reason="bad_authenticator"} 0
authbox_radius_dropped_total{reason="unsupported_code"} 0
authbox_radius_dropped_total{reason="internal_error"} 0
authbox_radius_dropped_total{reason="reply_too_long"} 0
authbox_radius_dropped_total{reason="invalid_accounting"} 0
authbox_radius_dropped_total{reason="storage_failed"} 0
# HELP authbox_radius_malformed_total RADIUS datagrams that could not be decoded, by decode failure.
# TYPE authbox_radius_malformed_total counter
authbox_radius_malformed_total{reason="too_short"} 2
# HELP authbox_radius_retransmissions_total Retransmitted RADIUS requests answered from the reply cache.
# TYPE authbox_radius_retransmissions_total counter
authbox_radius_retransmissions_total 1
# HELP authbox_radius_otp_challenges_total Access-Challenges sent asking for a one-time code (RFC 2865 §4.4).
# TYPE authbox_radius_otp_challenges_total counter
authbox_radius_otp_challenges_total 0
# HELP authbox_radius_accounting_requests_total RADIUS Accounting-Requests received.
# TYPE authbox_radius_accounting_requests_total counter
authbox_radius_accounting_requests_total 4
# HELP authbox_radius_accounting_responses_total RADIUS Accounting-Responses sent (the record was stored).
# TYPE authbox_radius_accounting_responses_total counter
authbox_radius_accounting_responses_total 4
# HELP authbox_eap_workers EAP worker threads (0: EAP runs beside the RADIUS sockets).
# TYPE authbox_eap_workers gauge
authbox_eap_workers 2
# HELP authbox_eap_sessions EAP conversations in flight on the worker threads.
# TYPE authbox_eap_sessions gauge
authbox_eap_sessions 5
# HELP authbox_eap_rounds_total EAP rounds handled by the worker threads.
# TYPE authbox_eap_rounds_total counter
authbox_eap_rounds_total 40
# HELP authbox_eap_worker_restarts_total EAP worker threads restarted after they failed.
# TYPE authbox_eap_worker_restarts_total counter
authbox_eap_worker_restarts_total 0
# HELP authbox_ocsp_requests_total OCSP requests seen by this HTTP process's responder.
# TYPE authbox_ocsp_requests_total counter
authbox_ocsp_requests_total{worker="1"} 9
# HELP authbox_ocsp_cache_hits_total OCSP requests answered with a response signed earlier.
# TYPE authbox_ocsp_cache_hits_total counter
authbox_ocsp_cache_hits_total{worker="1"} 6
# HELP authbox_ocsp_signed_total OCSP responses signed.
# TYPE authbox_ocsp_signed_total counter
authbox_ocsp_signed_total{worker="1"} 3
# HELP authbox_crl_age_seconds Seconds since thisUpdate of the latest CRL, per CA.
# TYPE authbox_crl_age_seconds gauge
authbox_crl_age_seconds{ca="issuing"} 90
# HELP authbox_crl_number CRL number of the latest CRL, per CA.
# TYPE authbox_crl_number gauge
authbox_crl_number{ca="issuing"} 7
# HELP authbox_crl_next_update_seconds Seconds until nextUpdate of the latest CRL, per CA (negative: relying parties refuse it).
# TYPE authbox_crl_next_update_seconds gauge
authbox_crl_next_update_seconds{ca="issuing"} 86400
# HELP authbox_certificate_expiry_days Days until a CA certificate or its OCSP signer certificate expires.
# TYPE authbox_certificate_expiry_days gauge
authbox_certificate_expiry_days{ca="root",certificate="ca"} 3650
authbox_certificate_expiry_days{ca="issuing",certificate="ca"} 1825.5
# HELP authbox_certificates Certificates known to the status index, by status (revoked includes on hold).
# TYPE authbox_certificates gauge
authbox_certificates{status="valid"} 8
authbox_certificates{status="revoked"} 2
# HELP authbox_directory_sync_success Whether the latest sync of a directory source succeeded (1) or failed (0).
# TYPE authbox_directory_sync_success gauge
authbox_directory_sync_success{source="corp"} 1
# HELP authbox_directory_sync_age_seconds Seconds since the latest sync of a directory source started.
# TYPE authbox_directory_sync_age_seconds gauge
authbox_directory_sync_age_seconds{source="corp"} 120
# HELP authbox_directory_sync_duration_seconds How long the latest sync of a directory source took.
# TYPE authbox_directory_sync_duration_seconds gauge
authbox_directory_sync_duration_seconds{source="corp"} 1.5
# HELP authbox_directory_sync_changes Users added, updated and disabled by the latest sync, per source.
# TYPE authbox_directory_sync_changes gauge
authbox_directory_sync_changes{source="corp",change="added"} 5
authbox_directory_sync_changes{source="corp",change="updated"} 2
authbox_directory_sync_changes{source="corp",change="disabled"} 1
# HELP authbox_process_uptime_seconds Seconds since this process started.
# TYPE authbox_process_uptime_seconds gauge
authbox_process_uptime_seconds{worker="1"} 61
# HELP authbox_process_resident_memory_bytes Resident set size of this process.
# TYPE authbox_process_resident_memory_bytes gauge
authbox_process_resident_memory_bytes{worker="1"} 123456
`);
  });

  it('leaves out RADIUS where it is not running yet, and reads this process by default', () => {
    const text = renderMetrics(daemonMetrics({
      radius: undefined, ocsp: { requests: 0, cacheHits: 0, signed: 0, malformed: 0, unauthorized: 0 },
      cas: [], crlInfo: () => undefined, now,
    }));
    expect(text).not.toContain('authbox_radius');
    expect(text).toMatch(/^authbox_process_resident_memory_bytes\{worker="0"\} [1-9]\d*$/m);
  });
});
