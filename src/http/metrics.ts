// The Prometheus text exposition format, version 0.0.4: counters, gauges and histograms
// with labels, rendered from plain values (no client library, no global registry), and the
// source-address allow-list that guards GET /metrics.
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format
import cluster from 'node:cluster';
import { DEFAULT_METRICS_ALLOW } from '../config/config.js';
import { addressBytes, contains, parseCidr, type Network } from '../core/cidr.js';
import { AppError } from '../core/errors.js';

export { DEFAULT_METRICS_ALLOW };

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export type Labels = Readonly<Record<string, string>>;

export interface Sample {
  labels?: Labels;
  value: number;
}

export interface HistogramSnapshot {
  /** Upper bounds, ascending, without +Inf. */
  bounds: readonly number[];
  /** Observations at or under each bound (not cumulative), then over the last one. */
  counts: readonly number[];
  sum: number;
}

export type MetricFamily =
  | { name: string; help: string; type: 'counter' | 'gauge'; samples: readonly Sample[] }
  | { name: string; help: string; type: 'histogram'; samples: readonly { labels?: Labels; value: HistogramSnapshot }[] };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function counter(name: string, help: string, samples: number | readonly Sample[]): MetricFamily {
  return { name, help, type: 'counter', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function gauge(name: string, help: string, samples: number | readonly Sample[]): MetricFamily {
  return { name, help, type: 'gauge', samples: typeof samples === 'number' ? [{ value: samples }] : samples };
}

export function histogram(name: string, help: string, snapshot: HistogramSnapshot, labels?: Labels): MetricFamily {
  return { name, help, type: 'histogram', samples: [{ ...(labels ? { labels } : {}), value: snapshot }] };
}

/** Observations into fixed buckets; cheap enough for a hot path (a short linear scan). */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;

  constructor(readonly bounds: readonly number[]) {
    if (bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!))) {
      throw new AppError('BAD_INPUT', 'histogram bounds must be finite and ascending');
    }
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
  }

  snapshot(): HistogramSnapshot {
    return { bounds: this.bounds, counts: [...this.counts], sum: this.sum };
  }
}

/**
 * The `worker` label of per-process series: the HTTP worker's number, 0 in the primary (or a
 * single-process daemon). Each scrape lands on one HTTP process, so their counters are kept apart.
 */
export function workerLabel(): string {
  return String(cluster.isWorker ? cluster.worker?.id ?? 0 : 0);
}

/** HELP text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values: backslash, double quote and line feed escaped. */
function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Go's ParseFloat spellings for the special values; integers without a fraction. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function formatLabels(labels: Labels | undefined, extra?: [string, string]): string {
  const pairs = Object.entries(labels ?? {});
  if (extra) pairs.push(extra);
  if (pairs.length === 0) return '';
  for (const [k] of pairs) {
    if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new AppError('BAD_INPUT', `"${k}" is not a Prometheus label name`);
  }
  return `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

/** The exposition text of the families, in the order given; each name once. */
export function renderMetrics(families: readonly MetricFamily[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const f of families) {
    if (!METRIC_NAME.test(f.name)) throw new AppError('BAD_INPUT', `"${f.name}" is not a Prometheus metric name`);
    if (seen.has(f.name)) throw new AppError('BAD_INPUT', `metric ${f.name} is rendered twice`);
    seen.add(f.name);
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    if (f.type === 'histogram') {
      for (const s of f.samples) {
        const h = s.value;
        let cumulative = 0;
        h.bounds.forEach((bound, i) => {
          cumulative += h.counts[i] ?? 0;
          lines.push(`${f.name}_bucket${formatLabels(s.labels, ['le', formatValue(bound)])} ${cumulative}`);
        });
        cumulative += h.counts[h.bounds.length] ?? 0;
        lines.push(`${f.name}_bucket${formatLabels(s.labels, ['le', '+Inf'])} ${cumulative}`);
        lines.push(`${f.name}_sum${formatLabels(s.labels)} ${formatValue(h.sum)}`);
        lines.push(`${f.name}_count${formatLabels(s.labels)} ${cumulative}`);
      }
    } else {
      for (const s of f.samples) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
    }
  }
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** A predicate on a socket's remote address; an IPv4-mapped IPv6 address matches as IPv4. */
export function sourceAllowList(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const nets: Network[] = cidrs.map((c) => {
    const net = parseCidr(c);
    if (!net) throw new AppError('BAD_INPUT', `metrics.allow: "${c}" is not an address or network (e.g. 10.0.0.0/8, ::1/128)`);
    return net;
  });
  return (address) => {
    const a = address === undefined ? undefined : addressBytes(address);
    return a !== undefined && nets.some((n) => contains(n, a));
  };
}
