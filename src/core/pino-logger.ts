// The daemon's logger: pino, three streams (system, auth, audit), each to stdout (the
// journal) and/or its own syslog server. A child with the binding { stream: 'auth' } or
// { stream: 'audit' } writes to that stream; every other record is the system stream's.
// Its own module, so that only `serve` and the EAP workers load pino; the CLI does not.
import { hostname } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogSettings, LogStreamSettings } from '../config/config.js';
import { formatSyslog, SEVERITY, SyslogSender, type SyslogStats } from './syslog.js';
import type { Logger } from './logger.js';

export const LOG_STREAMS = ['system', 'auth', 'audit'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** Field names whose values never reach a log, whoever passes them (belt and braces: callers pass identifiers). */
const SECRET_FIELDS = [
  'password', 'newPassword', 'oldPassword', 'passwd', 'passphrase', 'secret', 'sharedSecret', 'clientSecret',
  'privateKey', 'keyPem', 'masterKey', 'ticketKeys', 'token', 'accessToken', 'apiKey', 'authorization', 'cookie',
  'userPassword', 'otp', 'bindPassword', 'smtpPassword',
];
export const REDACT_PATHS = [...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`)];

const SYSLOG_SEVERITY: Record<string, number> = {
  trace: SEVERITY.debug, debug: SEVERITY.debug, info: SEVERITY.informational, warn: SEVERITY.warning, error: SEVERITY.error, fatal: SEVERITY.critical,
};

export interface ClosableLogger extends Logger {
  /** Syslog counters per stream (sent, dropped, queued, connected). */
  syslogStats(): Partial<Record<LogStream, SyslogStats>>;
  /** Gives syslog lines a moment to leave, then closes the connections. */
  close(): Promise<void>;
}

export interface PinoLoggerOptions {
  /** Where stdout lines go; process.stdout by default. */
  stdout?: (line: string) => void;
  bindings?: object;
  hostname?: string;
}

interface Destination {
  write(line: string): void;
  sender?: SyslogSender;
}

function destination(stream: LogStream, s: LogStreamSettings, stdout: (line: string) => void, host: string): Destination {
  if (!s.syslog) return { write: s.stdout ? stdout : () => {} };
  const facility = s.syslog.facility;
  // Errors of the syslog connection go to stdout only: never back into the syslog they are about.
  const sender = new SyslogSender(s.syslog, {
    onError: (e) => stdout(JSON.stringify({ level: 'warn', time: new Date().toISOString(), component: 'syslog', stream, err: e.message, msg: 'syslog server unreachable; lines are queued (TCP) or lost (UDP)' }) + '\n'),
  });
  let sequence = 0;
  return {
    sender,
    write: (line) => {
      if (s.stdout) stdout(line);
      let level = 'info';
      let time = Date.now();
      try {
        const rec = JSON.parse(line) as { level?: string; time?: string };
        level = rec.level ?? level;
        time = rec.time ? Date.parse(rec.time) : time;
      } catch { /* pino writes JSON; keep the defaults otherwise */ }
      sequence = sequence >= 2_147_483_647 ? 1 : sequence + 1;
      sender.send(formatSyslog({
        facility, severity: SYSLOG_SEVERITY[level] ?? SEVERITY.informational, time, hostname: host, appName: 'authbox',
        procId: process.pid, msgId: stream, structuredData: { meta: { sequenceId: String(sequence) } }, msg: line.replace(/\n$/, ''),
      }));
    },
  };
}

/** Lines dropped on stdout are told (on stdout) this long after the first of a burst. */
const STDOUT_DROP_REPORT_MS = 5000;

/**
 * stdout for the main thread: written asynchronously (sonic-boom, pino's own destination, in
 * libuv's thread pool), so a log file on a slow disk never blocks the thread that answers RADIUS
 * (Node writes files synchronously), and a journal that stops reading fills a bounded buffer
 * (Node queues writes to a pipe or socket in memory without limit). Beyond log.stdoutBufferKiB, lines are
 * dropped and counted, and the count is told once stdout takes lines again. Writes of at most
 * 4 KiB of whole lines (PIPE_BUF), so lines never interleave inside one with the EAP worker
 * threads' (process.stdout, written by the main thread). Flushed at exit.
 */
function asyncStdout(bufferBytes: number): { write: (line: string) => void; flush: () => Promise<void> } {
  if (!isMainThread) return { write: (line) => void process.stdout.write(line), flush: async () => {} };
  const boom = pino.destination({ dest: 1, sync: false, minLength: 0, maxWrite: 4096, maxLength: bufferBytes });
  let dropped = 0;
  let report: NodeJS.Timeout | undefined;
  const tell = (): void => {
    report = undefined;
    const n = dropped;
    dropped = 0;
    boom.write(JSON.stringify({ level: 'warn', time: new Date().toISOString(), component: 'log', dropped: n, msg: 'log lines dropped: stdout (the journal) was not reading' }) + '\n');
    // Still full: this line was dropped too, and the next report carries the count.
    if (dropped > 0) dropped += n;
  };
  boom.on('drop', () => {
    dropped++;
    report ??= setTimeout(tell, STDOUT_DROP_REPORT_MS);
    report.unref();
  });
  return {
    write: (line) => void boom.write(line),
    flush: () => new Promise<void>((resolve) => {
      if (report) {
        clearTimeout(report);
        tell();
      }
      try {
        boom.flush(() => resolve());
      } catch {
        resolve(); // not open yet, or already ended
      }
    }),
  };
}

/** The daemon's Logger: pino with secrets redacted, the three streams routed by the `stream` binding. */
export function pinoLogger(settings: LogSettings, options: PinoLoggerOptions = {}): ClosableLogger {
  const own = options.stdout ? undefined : asyncStdout(settings.stdoutBufferKiB * 1024);
  const stdout = options.stdout ?? own!.write;
  const host = options.hostname ?? hostname();
  const destinations = {} as Record<LogStream, Destination>;
  const roots = {} as Record<LogStream, PinoLogger>;
  for (const stream of LOG_STREAMS) {
    destinations[stream] = destination(stream, settings[stream], stdout, host);
    roots[stream] = pino({
      // Decisions and audit rows are always written: their volume is chosen by the destinations.
      // A stream that goes nowhere is silent, so that its records are not even serialised (one per RADIUS request on auth).
      level: !settings[stream].stdout && !settings[stream].syslog ? 'silent' : stream === 'system' ? settings.level : 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    }, destinations[stream]);
  }
  const wrap = (stream: LogStream, bindings: object): Logger => {
    const p = roots[stream].child(bindings);
    const at = (fn: 'debug' | 'info' | 'warn' | 'error') => (obj: object, msg?: string): void => {
      if (msg === undefined) p[fn](obj);
      else p[fn](obj, msg);
    };
    return {
      debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'),
      child: (b) => {
        const { stream: to, ...rest } = b as { stream?: unknown };
        const next = LOG_STREAMS.find((s) => s === to) ?? stream;
        return wrap(next, { ...bindings, ...rest, ...(next === 'system' ? {} : { stream: next }) });
      },
    };
  };
  const root = wrap('system', options.bindings ?? {});
  // Lines lost on the way to a syslog server are reported once a minute on stdout.
  const reported: Partial<Record<LogStream, number>> = {};
  const dropWatch = setInterval(() => {
    for (const stream of LOG_STREAMS) {
      const st = destinations[stream].sender?.stats;
      if (st && st.dropped > (reported[stream] ?? 0)) {
        stdout(JSON.stringify({ level: 'warn', time: new Date().toISOString(), component: 'syslog', stream, dropped: st.dropped - (reported[stream] ?? 0), msg: 'syslog lines dropped' }) + '\n');
        reported[stream] = st.dropped;
      }
    }
  }, 60_000);
  dropWatch.unref();
  return {
    ...root,
    syslogStats: () => Object.fromEntries(LOG_STREAMS.flatMap((s) => destinations[s].sender ? [[s, { ...destinations[s].sender!.stats }]] : [])),
    close: async () => {
      clearInterval(dropWatch);
      await Promise.all(LOG_STREAMS.map((s) => destinations[s].sender?.close()));
      await own?.flush();
    },
  };
}
