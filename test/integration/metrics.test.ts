// GET /metrics of a running `authbox serve`: Prometheus text 0.0.4 to 127.0.0.1 (the default
// metrics.allow), every line well formed, the daemon's families present and moving (an OCSP
// answer, a RADIUS datagram from an unknown client); 403 when metrics.allow leaves 127.0.0.1 out.
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, initDataDir, radclient, sleep, startServe, type RunningDaemon } from '../helpers/authbox.js';

const METRIC_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/;

interface Sample { name: string; labels: string; value: number }

/** Parses the exposition text line by line; throws on a line that is neither a comment nor a sample. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.slice(0, -1).split('\n')) {
    const t = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      expect(types.has(t[1]!), `TYPE ${t[1]} twice`).toBe(false);
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = METRIC_LINE.exec(line);
    if (!m) throw new Error(`not a metrics line: ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels = ''): number | undefined =>
  samples.find((s) => s.name === name && s.labels.includes(labels))?.value;

describe('GET /metrics from an allowed address', () => {
  let data: Awaited<ReturnType<typeof initDataDir>>;
  let daemon: RunningDaemon | undefined;
  beforeAll(async () => {
    data = await initDataDir();
    // One HTTP process, so the OCSP counters read back are the ones this test moved.
    daemon = await startServe(data.dir, data.port, ['--http-workers', '1']);
  });
  afterAll(async () => {
    await daemon?.stop();
    data?.cleanup();
  });

  it('answers Prometheus text with the daemon families, every line well formed', async () => {
    const r = await fetch(`${daemon!.base}/metrics`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parseMetrics(await r.text());
    const expected: Record<string, string> = {
      authbox_radius_requests_total: 'counter',
      authbox_radius_dropped_total: 'counter',
      authbox_radius_retransmissions_total: 'counter',
      authbox_radius_accounting_requests_total: 'counter',
      authbox_eap_workers: 'gauge',
      authbox_ocsp_requests_total: 'counter',
      authbox_ocsp_responses_total: 'counter',
      authbox_ocsp_response_seconds: 'histogram',
      authbox_crl_age_seconds: 'gauge',
      authbox_crl_number: 'gauge',
      authbox_certificate_expiry_days: 'gauge',
      authbox_process_uptime_seconds: 'gauge',
      authbox_process_resident_memory_bytes: 'gauge',
      authbox_radius_event_loop_lag_seconds: 'histogram',
      authbox_radius_event_loop_stalls_total: 'counter',
      authbox_radius_event_loop_longest_stall_seconds: 'gauge',
    };
    for (const [name, type] of Object.entries(expected)) expect(types.get(name), name).toBe(type);
    expect(value(samples, 'authbox_certificate_expiry_days', 'ca="issuing",certificate="ca"')).toBeGreaterThan(300);
    expect(value(samples, 'authbox_certificate_expiry_days', 'ca="issuing",certificate="ocsp-signer"')).toBeGreaterThan(30);
    expect(value(samples, 'authbox_crl_number', 'ca="issuing"')).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'authbox_process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(value(samples, 'authbox_radius_requests_total', 'result="accept"')).toBe(0);
    // The RADIUS thread's 10 ms timer has been turning since the daemon listened, and each stall cause has its series.
    expect(value(samples, 'authbox_radius_event_loop_lag_seconds_count')).toBeGreaterThan(0);
    for (const cause of ['busy', 'cpu_wait', 'unknown']) expect(value(samples, 'authbox_radius_event_loop_stalls_total', `cause="${cause}"`), cause).toBeGreaterThanOrEqual(0);
  });

  it('counts an OCSP answer by status and a RADIUS datagram from an unknown client', async () => {
    const before = parseMetrics(await (await fetch(`${daemon!.base}/metrics`)).text()).samples;
    const malformed = value(before, 'authbox_ocsp_responses_total', 'status="malformedRequest"') ?? 0;
    await fetch(`${daemon!.base}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not DER' });
    const port = Number(/authentication 127\.0\.0\.1:(\d+)\/udp/.exec(daemon!.output())![1]);
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.send(Buffer.alloc(20, 1), port, '127.0.0.1', () => resolve()));
    socket.close();
    let after: Sample[] = [];
    for (let i = 0; i < 40; i++) {
      after = parseMetrics(await (await fetch(`${daemon!.base}/metrics`)).text()).samples;
      if ((value(after, 'authbox_radius_dropped_total', 'reason="unknown_client"') ?? 0) >= 1) break;
      await sleep(50);
    }
    expect(value(after, 'authbox_ocsp_responses_total', 'status="malformedRequest"')).toBe(malformed + 1);
    expect(value(after, 'authbox_ocsp_response_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(value(after, 'authbox_radius_dropped_total', 'reason="unknown_client"')).toBe(1);
  });

  it('counts a RADIUS decision by method, client and result, and its latency', async () => {
    authboxOk(['nas', 'add', '--data', data.dir, '--name', 'metrics-nas', '--address', '127.0.0.1/32', '--secret', 'metrics-S3cret-x']);
    authboxOk(['user', 'add', '--data', data.dir, '--username', 'mia', '--password', 'mia-Passw0rd']);
    const port = Number(/authentication 127\.0\.0\.1:(\d+)\/udp/.exec(daemon!.output())![1]);
    let answered: string | undefined;
    for (let i = 0; i < 40 && answered !== 'Access-Accept'; i++) {
      const r = await radclient(`127.0.0.1:${port}`, 'auth', 'metrics-S3cret-x', 'User-Name = "mia", User-Password = "mia-Passw0rd", Message-Authenticator = 0x00\n');
      answered = /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
      if (answered !== 'Access-Accept') await sleep(100);
    }
    expect(answered).toBe('Access-Accept');
    let after: Sample[] = [];
    for (let i = 0; i < 40; i++) {
      after = parseMetrics(await (await fetch(`${daemon!.base}/metrics`)).text()).samples;
      if ((value(after, 'authbox_radius_decisions_total', 'method="pap",client="metrics-nas",result="accept"') ?? 0) >= 1) break;
      await sleep(50);
    }
    expect(value(after, 'authbox_radius_decisions_total', 'method="pap",client="metrics-nas",result="accept"')).toBe(1);
    expect(value(after, 'authbox_radius_request_duration_seconds_count', 'service="auth"')).toBeGreaterThanOrEqual(1);
  });

  it('HEAD answers the headers only; /healthz is unchanged', async () => {
    const head = await fetch(`${daemon!.base}/metrics`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${daemon!.base}/healthz`)).status).toBe(200);
  });
});

describe('GET /metrics from an address metrics.allow leaves out', () => {
  let data: Awaited<ReturnType<typeof initDataDir>>;
  let daemon: RunningDaemon | undefined;
  afterEach(async () => {
    await daemon?.stop();
    data?.cleanup();
  });

  it('is refused with 403 (behind two HTTP workers), while /healthz still answers', async () => {
    data = await initDataDir();
    const file = join(data.dir, 'authbox.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), metrics: { allow: ['10.0.0.0/8'] } }));
    daemon = await startServe(data.dir, data.port);
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${daemon.base}/metrics`);
      expect(r.status).toBe(403);
      expect(await r.text()).toContain('metrics.allow');
    }
    expect((await fetch(`${daemon.base}/healthz`)).status).toBe(200);
  });

  it('a malformed metrics.allow stops the daemon at start, naming the setting', async () => {
    data = await initDataDir();
    const file = join(data.dir, 'authbox.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), metrics: { allow: ['10.0.0.1/8'] } }));
    await expect(startServe(data.dir, data.port)).rejects.toThrow(/metrics\.allow/);
  });
});
