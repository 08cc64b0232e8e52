// Syslog: an RFC 5424 formatter and a non-blocking sender over UDP (RFC 5426), TCP with
// octet-counting framing (RFC 6587 §3.4.1) or TLS (RFC 5425). A syslog server that is down
// or slow never blocks or crashes the daemon: lines wait in a bounded queue while the
// connection is re-made, and what does not fit is dropped and counted.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIP, Socket, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

/** RFC 5424 §6.2.1 facilities by name. */
export const FACILITIES: Readonly<Record<string, number>> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9,
  authpriv: 10, ftp: 11, ntp: 12, audit: 13, alert: 14, clock: 15,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};

/** RFC 5424 §6.2.1 severities. */
export const SEVERITY = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6, debug: 7 } as const;

export type StructuredData = Record<string, Record<string, string>>;

export interface SyslogMessage {
  facility: number;
  severity: number;
  /** ms since the epoch. */
  time: number;
  hostname: string;
  appName: string;
  procId: string | number;
  msgId: string;
  structuredData?: StructuredData;
  msg: string;
}

const NILVALUE = '-';

/** PRINTUSASCII without spaces, cut to the field's length (RFC 5424 §6.2.4-6.2.7); "-" when empty. */
function headerField(value: string | number, max: number): string {
  const v = String(value).replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return v === '' ? NILVALUE : v;
}

/** SD-NAME: printable US-ASCII except = ] " and space, at most 32 characters (§6.3.2). */
function sdName(value: string): string {
  return value.replace(/[^\x21-\x7e]|[=\]"]/g, '').slice(0, 32) || 'x';
}

/** PARAM-VALUE: UTF-8 with " \ and ] escaped by a backslash (§6.3.3). */
export function escapeParamValue(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

function structuredData(sd: StructuredData | undefined): string {
  const elements = Object.entries(sd ?? {});
  if (elements.length === 0) return NILVALUE;
  return elements.map(([id, params]) => `[${sdName(id)}${Object.entries(params)
    .map(([k, v]) => ` ${sdName(k)}="${escapeParamValue(v)}"`).join('')}]`).join('');
}

/** TIMESTAMP (§6.2.3): RFC 3339 in UTC with milliseconds. */
function timestamp(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : NILVALUE;
}

/** One RFC 5424 SYSLOG-MSG, without any transport framing. MSG is UTF-8 with a BOM (§6.4). */
export function formatSyslog(m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const header = `<${pri}>1 ${timestamp(m.time)} ${headerField(m.hostname, 255)} ${headerField(m.appName, 48)} ${headerField(m.procId, 128)} ${headerField(m.msgId, 32)}`;
  return `${header} ${structuredData(m.structuredData)}${m.msg === '' ? '' : ` \ufeff${m.msg}`}`;
}

/** RFC 6587 §3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG, the length in bytes. */
export function octetFrame(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

export type SyslogTransportName = 'udp' | 'tcp' | 'tls';

export interface SyslogTarget {
  transport: SyslogTransportName;
  host: string;
  port: number;
  /** TLS only: the CA (PEM) the server's certificate must chain to. */
  caFile?: string;
}

export interface SyslogSenderOptions {
  /** Lines waiting for a connection; more are dropped and counted. */
  maxQueued?: number;
  /** First reconnect delay; doubles up to maxReconnectMs. */
  reconnectMs?: number;
  maxReconnectMs?: number;
  /** A UDP datagram is cut to this many bytes (RFC 5426 §3.2 asks receivers for 2048 at least). */
  maxDatagram?: number;
  onError?: (err: Error) => void;
}

export interface SyslogStats {
  sent: number;
  dropped: number;
  queued: number;
  connected: boolean;
  reconnects: number;
}

/** Sends formatted messages to one syslog server; send() never throws and never waits. */
export class SyslogSender {
  private readonly queue: Buffer[] = [];
  private udp: UdpSocket | undefined;
  private stream: Socket | undefined;
  private connected = false;
  private writable = true;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private delay: number;
  private lastError = '';
  readonly stats: SyslogStats = { sent: 0, dropped: 0, queued: 0, connected: false, reconnects: 0 };

  constructor(private readonly target: SyslogTarget, private readonly options: SyslogSenderOptions = {}) {
    this.delay = options.reconnectMs ?? 500;
    if (target.transport === 'udp') {
      this.udp = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
      this.udp.on('error', (e) => this.fail(e));
      this.udp.unref();
    }
    // TCP and TLS connect at the first line: processes that never log on a stream hold no connection.
  }

  send(message: string): void {
    if (this.closed) return;
    if (this.udp) {
      const max = this.options.maxDatagram ?? 8192;
      let body = Buffer.from(message, 'utf8');
      if (body.length > max) body = body.subarray(0, max);
      // A full socket buffer or an unreachable port is reported to the callback, never thrown.
      this.udp.send(body, this.target.port, this.target.host, (e) => {
        if (e) {
          this.stats.dropped++;
          this.fail(e);
        } else this.stats.sent++;
      });
      return;
    }
    if (this.queue.length >= (this.options.maxQueued ?? 10_000)) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(octetFrame(message));
    this.stats.queued = this.queue.length;
    if (!this.stream && !this.timer) this.connect();
    this.flush();
  }

  /** Gives queued lines up to `waitMs` to leave, then closes. */
  async close(waitMs = 1000): Promise<void> {
    const deadline = Date.now() + waitMs;
    while (this.stream && this.connected && this.queue.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    this.closed = true;
    clearTimeout(this.timer);
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
    this.stats.queued = 0;
    if (this.udp) this.udp.close();
    const stream = this.stream;
    if (stream) await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.end();
      setTimeout(() => { stream.destroy(); resolve(); }, 200).unref();
    });
  }

  private connect(): void {
    if (this.closed) return;
    const { host, port } = this.target;
    let socket: Socket;
    try {
      socket = this.target.transport === 'tls'
        ? tlsConnect({
          host, port, ...(isIP(host) ? {} : { servername: host }),
          // RFC 5425 §5.2: the server is authenticated against the configured CA.
          ...(this.target.caFile ? { ca: readFileSync(this.target.caFile) } : {}),
        })
        : netConnect({ host, port });
    } catch (e) {
      this.fail(e as Error);
      this.scheduleReconnect();
      return;
    }
    this.stream = socket;
    socket.setKeepAlive(true, 30_000);
    socket.unref();
    socket.once(this.target.transport === 'tls' ? 'secureConnect' : 'connect', () => {
      this.connected = true;
      this.stats.connected = true;
      this.writable = true;
      this.delay = this.options.reconnectMs ?? 500;
      this.flush();
    });
    socket.on('drain', () => {
      this.writable = true;
      this.flush();
    });
    // Syslog servers send nothing back; reading keeps a closed connection noticed.
    socket.on('data', () => {});
    socket.on('error', (e) => this.fail(e));
    socket.once('close', () => {
      if (this.stream === socket) {
        this.stream = undefined;
        this.connected = false;
        this.stats.connected = false;
        this.scheduleReconnect();
      }
    });
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.stats.reconnects++;
      this.connect();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.options.maxReconnectMs ?? 30_000);
  }

  private flush(): void {
    const socket = this.stream;
    if (!socket || !this.connected) return;
    while (this.writable && this.queue.length > 0) {
      const frame = this.queue.shift()!;
      this.stats.sent++;
      this.writable = socket.write(frame);
    }
    this.stats.queued = this.queue.length;
  }

  /** Reports each distinct error once in a row, so a server that stays down is not a flood. */
  private fail(e: Error): void {
    if (e.message === this.lastError) return;
    this.lastError = e.message;
    this.options.onError?.(e);
  }
}
