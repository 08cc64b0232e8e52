// What GET /metrics says about the daemon: RADIUS and EAP counters (kept by the primary,
// forwarded to the HTTP workers like /healthz), this process's OCSP responder, CRLs and
// certificate lifetimes per CA and per TLS listener, and this process. Names follow the Prometheus conventions
// (counters end in _total; the `worker` label tells the HTTP processes apart, since each
// scrape lands on any one of them).
import type { LoadedCa } from './ca/authority.js';
import { readCertificate } from './ca/x509.js';
import { counter, gauge, histogram, workerLabel, type MetricFamily, type Sample } from './http/metrics.js';
import type { SyncRunRecord } from './ldap-sync/source.js';
import type { RadiusStats } from './radius/auth.js';
import type { EapPoolStats } from './radius/eap/pool.js';
import type { LoopStats } from './loop-monitor.js';

const DAY_MS = 86_400_000;
/** Days to a thousandth (about a minute and a half): enough for an alert, short to read. */
const days = (ms: number): number => Math.round((ms / DAY_MS) * 1000) / 1000;

export interface DaemonMetricsSource {
  /** The primary's RADIUS status (daemon radiusStatus()); undefined before RADIUS listens. */
  radius: { stats: RadiusStats; eap?: EapPoolStats; loop?: LoopStats } | undefined;
  /** OcspResponder.stats of this process. */
  ocsp: { requests: number; cacheHits: number; signed: number; malformed: number; unauthorized: number };
  cas: readonly LoadedCa[];
  crlInfo(caId: number): { number: number; thisUpdate: number; nextUpdate: number } | undefined;
  /** CertStatusIndex.counts(). */
  certificates?: { total: number; revoked: number };
  now: number;
  /** This process; defaults to process.uptime() and the resident set size. */
  uptimeSeconds?: number;
  residentBytes?: number;
  /** The HTTP worker's number (0: the primary); defaults to the cluster worker id. */
  worker?: string;
  /** Each directory source with its latest sync run (not a dry run), if any. */
  directory?: readonly { source: string; last: SyncRunRecord | undefined }[];
  /** The TLS server certificate each listener presents (server-tls.ts listenerCertificates). */
  tls?: readonly { use: 'admin' | 'radius'; source: 'imported' | 'issued'; notAfter: Date }[];
}

function directoryFamilies(sources: readonly { source: string; last: SyncRunRecord | undefined }[], now: number): MetricFamily[] {
  const ran = sources.filter((s) => s.last);
  const by = (f: (r: SyncRunRecord) => number): Sample[] => ran.map((s) => ({ labels: { source: s.source }, value: f(s.last!) }));
  return [
    gauge('authbox_directory_sync_success', 'Whether the latest sync of a directory source succeeded (1) or failed (0).', by((r) => (r.error === null ? 1 : 0))),
    gauge('authbox_directory_sync_age_seconds', 'Seconds since the latest sync of a directory source started.', by((r) => Math.max(0, Math.floor((now - r.startedAt) / 1000)))),
    gauge('authbox_directory_sync_duration_seconds', 'How long the latest sync of a directory source took.', by((r) => ((r.endedAt ?? r.startedAt) - r.startedAt) / 1000)),
    gauge('authbox_directory_sync_changes', 'Users added, updated and disabled by the latest sync, per source.', ran.flatMap((s) => [
      { labels: { source: s.source, change: 'added' }, value: s.last!.added },
      { labels: { source: s.source, change: 'updated' }, value: s.last!.updated },
      { labels: { source: s.source, change: 'disabled' }, value: s.last!.disabled },
    ])),
  ];
}

const snake = (camel: string): string => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The OCSP signer's notAfter, parsed once per certificate (it changes once a year). */
const signerNotAfter = new WeakMap<Buffer, number>();
function notAfterOf(der: Buffer): number {
  let t = signerNotAfter.get(der);
  if (t === undefined) {
    t = readCertificate(der).notAfter.getTime();
    signerNotAfter.set(der, t);
  }
  return t;
}

function radiusFamilies(stats: RadiusStats, eap: EapPoolStats | undefined): MetricFamily[] {
  return [
    counter('authbox_radius_requests_total', 'RADIUS Access-Requests answered, by result.', [
      { labels: { result: 'accept' }, value: stats.accepts },
      { labels: { result: 'reject' }, value: stats.rejects },
    ]),
    counter('authbox_radius_decisions_total', 'Final RADIUS decisions, by method, client and result.',
      Object.entries(stats.decisions ?? {}).map(([key, value]) => {
        const [method = 'none', client = '', result = ''] = key.split('|');
        return { labels: { method, client, result }, value };
      })),
    ...(stats.latency ? [{
      name: 'authbox_radius_request_duration_seconds', help: 'Seconds from a RADIUS datagram\'s arrival to its answer, per service.', type: 'histogram' as const,
      samples: (['auth', 'acct'] as const).map((service) => ({ labels: { service }, value: stats.latency[service] })),
    }] : []),
    counter('authbox_radius_received_total', 'RADIUS datagrams received (authentication and accounting).', stats.received),
    counter('authbox_radius_dropped_total', 'RADIUS datagrams dropped without an answer, by reason.',
      Object.entries(stats.dropped).map(([reason, value]) => ({ labels: { reason: snake(reason) }, value }))),
    counter('authbox_radius_malformed_total', 'RADIUS datagrams that could not be decoded, by decode failure.',
      Object.entries(stats.malformed).map(([reason, value]) => ({ labels: { reason: reason.toLowerCase() }, value: value ?? 0 }))),
    counter('authbox_radius_retransmissions_total', 'Retransmitted RADIUS requests answered from the reply cache.', stats.retransmissions),
    counter('authbox_radius_otp_challenges_total', 'Access-Challenges sent asking for a one-time code (RFC 2865 §4.4).', stats.challenges ?? 0),
    counter('authbox_radius_accounting_requests_total', 'RADIUS Accounting-Requests received.', stats.accounting.requests),
    counter('authbox_radius_accounting_responses_total', 'RADIUS Accounting-Responses sent (the record was stored).', stats.accounting.responses),
    gauge('authbox_eap_workers', 'EAP worker threads (0: EAP runs beside the RADIUS sockets).', eap?.workers ?? 0),
    ...(eap ? [
      gauge('authbox_eap_sessions', 'EAP conversations in flight on the worker threads.', eap.sessions),
      counter('authbox_eap_rounds_total', 'EAP rounds handled by the worker threads.', eap.rounds),
      counter('authbox_eap_worker_restarts_total', 'EAP worker threads restarted after they failed.', eap.restarts),
    ] : []),
  ];
}

function loopFamilies(loop: LoopStats): MetricFamily[] {
  return [
    histogram('authbox_radius_event_loop_lag_seconds', 'How late a 10 ms timer fires on the thread that answers RADIUS.', loop.lag),
    counter('authbox_radius_event_loop_stalls_total', 'Turns of the RADIUS thread late by more than 20 ms, by cause: busy (the thread was running), '
      + 'cpu_wait (ready, but the CPUs were given to other processes), unknown (stopped, or no scheduler counters).',
    (['busy', 'cpu_wait', 'unknown'] as const).map((cause) => ({ labels: { cause }, value: loop.stalls[cause] }))),
    gauge('authbox_radius_event_loop_longest_stall_seconds', 'The longest stall of the RADIUS thread since the daemon started.', loop.longestSeconds),
  ];
}

export function daemonMetrics(src: DaemonMetricsSource): MetricFamily[] {
  const worker = src.worker ?? workerLabel();
  const w = { worker };
  const crlAge: Sample[] = [];
  const crlNumber: Sample[] = [];
  const crlNextUpdate: Sample[] = [];
  const certDays: Sample[] = [];
  for (const ca of src.cas) {
    const name = ca.record.name;
    const crl = src.crlInfo(ca.record.id);
    if (crl) {
      crlAge.push({ labels: { ca: name }, value: Math.max(0, Math.floor((src.now - crl.thisUpdate) / 1000)) });
      crlNumber.push({ labels: { ca: name }, value: crl.number });
      crlNextUpdate.push({ labels: { ca: name }, value: Math.floor((crl.nextUpdate - src.now) / 1000) });
    }
    certDays.push({ labels: { ca: name, certificate: 'ca' }, value: days(ca.facts.notAfter.getTime() - src.now) });
    if (ca.ocsp) certDays.push({ labels: { ca: name, certificate: 'ocsp-signer' }, value: days(notAfterOf(ca.ocsp.certDer) - src.now) });
  }
  const o = src.ocsp;
  return [
    ...(src.radius ? radiusFamilies(src.radius.stats, src.radius.eap) : []),
    ...(src.radius?.loop ? loopFamilies(src.radius.loop) : []),
    counter('authbox_ocsp_requests_total', 'OCSP requests seen by this HTTP process\'s responder.', [{ labels: w, value: o.requests }]),
    counter('authbox_ocsp_cache_hits_total', 'OCSP requests answered with a response signed earlier.', [{ labels: w, value: o.cacheHits }]),
    counter('authbox_ocsp_signed_total', 'OCSP responses signed.', [{ labels: w, value: o.signed }]),
    gauge('authbox_crl_age_seconds', 'Seconds since thisUpdate of the latest CRL, per CA.', crlAge),
    gauge('authbox_crl_number', 'CRL number of the latest CRL, per CA.', crlNumber),
    gauge('authbox_crl_next_update_seconds', 'Seconds until nextUpdate of the latest CRL, per CA (negative: relying parties refuse it).', crlNextUpdate),
    gauge('authbox_certificate_expiry_days', 'Days until a CA certificate or its OCSP signer certificate expires.', certDays),
    ...(src.certificates ? [
      gauge('authbox_certificates', 'Certificates known to the status index, by status (revoked includes on hold).', [
        { labels: { status: 'valid' }, value: src.certificates.total - src.certificates.revoked },
        { labels: { status: 'revoked' }, value: src.certificates.revoked },
      ]),
    ] : []),
    ...(src.tls ? [
      // An imported certificate is renewed by hand at another CA: this is what an alert watches (negative: clients refuse it).
      gauge('authbox_tls_certificate_expiry_days', 'Days until the TLS server certificate a listener presents expires (use admin: the console; radius: EAP and RadSec).',
        src.tls.map((c) => ({ labels: { use: c.use, source: c.source }, value: days(c.notAfter.getTime() - src.now) }))),
    ] : []),
    ...(src.directory ? directoryFamilies(src.directory, src.now) : []),
    gauge('authbox_process_uptime_seconds', 'Seconds since this process started.', [{ labels: w, value: Math.floor(src.uptimeSeconds ?? process.uptime()) }]),
    gauge('authbox_process_resident_memory_bytes', 'Resident set size of this process.', [{ labels: w, value: src.residentBytes ?? process.memoryUsage.rss() }]),
  ];
}
