// RFC 5424 formatting (golden lines), RFC 6587 octet counting, and the sender over TCP:
// lines survive a server that comes up late, and a server that never comes up costs nothing
// but dropped lines.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeParamValue, FACILITIES, formatSyslog, octetFrame, SEVERITY, SyslogSender } from '../../src/core/syslog.js';
import { pinoLogger } from '../../src/core/pino-logger.js';

const T = Date.UTC(2026, 10, 23, 17, 18, 16, 326);

describe('formatSyslog (RFC 5424)', () => {
  it('writes PRI, version, timestamp, hostname, app-name, procid, msgid, structured data and a BOM before MSG', () => {
    expect(formatSyslog({
      facility: FACILITIES.authpriv!, severity: SEVERITY.informational, time: T, hostname: 'box1', appName: 'authbox',
      procId: 4242, msgId: 'auth', structuredData: { meta: { sequenceId: '7' } }, msg: '{"msg":"hi"}',
    })).toBe('<86>1 2026-11-23T17:18:16.326Z box1 authbox 4242 auth [meta sequenceId="7"] \ufeff{"msg":"hi"}');
  });

  it('uses NILVALUE for empty fields and no structured data, and cuts header fields to their RFC lengths', () => {
    expect(formatSyslog({
      facility: 3, severity: 3, time: T, hostname: '', appName: 'authbox', procId: '', msgId: 'x'.repeat(40), msg: '',
    })).toBe(`<27>1 2026-11-23T17:18:16.326Z - authbox - ${'x'.repeat(32)} -`);
    expect(formatSyslog({ facility: 13, severity: 7, time: T, hostname: 'h o\tst', appName: 'authbox', procId: 1, msgId: 'audit', msg: 'm' }))
      .toBe('<111>1 2026-11-23T17:18:16.326Z host authbox 1 audit - \ufeffm');
  });

  it('escapes ] " and \\ in SD-PARAM values (§6.3.3) and strips = ] " and spaces from SD names', () => {
    expect(escapeParamValue('a]b"c\\d')).toBe('a\\]b\\"c\\\\d');
    expect(formatSyslog({
      facility: 1, severity: 5, time: T, hostname: 'h', appName: 'authbox', procId: 1, msgId: 'm',
      structuredData: { 'ex@32473': { user: 'eve"]\\', 'bad name=': 'v' }, meta: { sequenceId: '1' } }, msg: 'x',
    })).toBe('<13>1 2026-11-23T17:18:16.326Z h authbox 1 m [ex@32473 user="eve\\"\\]\\\\" badname="v"][meta sequenceId="1"] \ufeffx');
  });
});

describe('octetFrame (RFC 6587 §3.4.1)', () => {
  it('prefixes the length in bytes, not characters', () => {
    expect(octetFrame('<13>1 - - - - - - abc').toString()).toBe('21 <13>1 - - - - - - abc');
    expect(octetFrame('é').toString('utf8')).toBe('2 é');
  });
});

/** Splits an octet-counted TCP stream into messages. */
function deframe(buf: string): string[] {
  const out: string[] = [];
  let rest = Buffer.from(buf, 'utf8');
  while (rest.length > 0) {
    const sp = rest.indexOf(0x20);
    const len = Number(rest.subarray(0, sp).toString());
    out.push(rest.subarray(sp + 1, sp + 1 + len).toString('utf8'));
    rest = rest.subarray(sp + 1 + len);
  }
  return out;
}

describe('SyslogSender', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function tcpListener(port = 0): Promise<{ server: Server; port: number; received: () => string }> {
    let data = '';
    const server = createServer((s) => s.on('data', (d) => (data += d.toString('utf8'))));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => { server.close(() => r()); }));
    return { server, port: (server.address() as { port: number }).port, received: () => data };
  }

  it('queues while the TCP server is down, connects when it comes up, and frames each line', async () => {
    const probe = await tcpListener();
    const port = probe.port;
    await new Promise<void>((r) => probe.server.close(() => r()));
    const sender = new SyslogSender({ transport: 'tcp', host: '127.0.0.1', port }, { reconnectMs: 50, maxReconnectMs: 100 });
    cleanups.push(() => sender.close(0));
    sender.send('<14>1 - h authbox 1 system - one');
    sender.send('<14>1 - h authbox 1 system - two');
    expect(sender.stats.queued).toBe(2);
    const l = await tcpListener(port);
    for (let i = 0; i < 100 && deframe(l.received()).length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    expect(deframe(l.received())).toEqual(['<14>1 - h authbox 1 system - one', '<14>1 - h authbox 1 system - two']);
  });

  it('drops and counts lines beyond the bounded queue, and never throws, while the server stays down', async () => {
    const errors: string[] = [];
    const sender = new SyslogSender({ transport: 'tcp', host: '127.0.0.1', port: 9 }, { maxQueued: 3, onError: (e) => errors.push(e.message) });
    cleanups.push(() => sender.close(0));
    for (let i = 0; i < 10; i++) sender.send(`line ${i}`);
    expect(sender.stats.queued).toBe(3);
    expect(sender.stats.dropped).toBe(7);
    await new Promise((r) => setTimeout(r, 100));
    expect(errors.length).toBe(1);
  });

  it('sends one datagram per line over UDP', async () => {
    const sock = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => sock.close(() => r())));
    const sender = new SyslogSender({ transport: 'udp', host: '127.0.0.1', port: sock.address().port });
    cleanups.push(() => sender.close(0));
    sender.send('a');
    sender.send('b');
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['a', 'b']);
  });
});

describe('SyslogSender over TLS (RFC 5425)', () => {
  /** A self-signed certificate for 127.0.0.1 (it is its own CA) made by the openssl CLI. */
  function selfSigned(dir: string, name: string): { key: string; cert: string } {
    const key = join(dir, `${name}.key`);
    const cert = join(dir, `${name}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:TRUE',
      '-keyout', key, '-out', cert], { stdio: 'ignore' });
    return { key, cert };
  }

  it('delivers to a server whose certificate chains to caFile, and to no other', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'authbox-syslog-tls-'));
    const good = selfSigned(dir, 'syslog-server');
    const other = selfSigned(dir, 'someone-else');
    let data = '';
    const server = createTlsServer({ key: readFileSync(good.key), cert: readFileSync(good.cert) }, (s) => s.on('data', (d: Buffer) => (data += d.toString())));
    server.on('tlsClientError', () => {});
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const errors: string[] = [];
    const trusted = new SyslogSender({ transport: 'tls', host: '127.0.0.1', port, caFile: good.cert });
    const untrusted = new SyslogSender({ transport: 'tls', host: '127.0.0.1', port, caFile: other.cert }, { onError: (e) => errors.push(e.message) });
    try {
      trusted.send('<14>1 - h authbox 1 system - over tls');
      untrusted.send('<14>1 - h authbox 1 system - must not arrive');
      for (let i = 0; i < 100 && (!data.includes('over tls') || errors.length === 0); i++) await new Promise((r) => setTimeout(r, 20));
      expect(data).toBe('37 <14>1 - h authbox 1 system - over tls');
      expect(errors.join()).toMatch(/self[- ]signed|unable to verify|certificate/i);
      expect(untrusted.stats.connected).toBe(false);
    } finally {
      await trusted.close(0);
      await untrusted.close(0);
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('pinoLogger', () => {
  const settings = {
    level: 'info' as const,
    system: { stdout: true }, auth: { stdout: true }, audit: { stdout: false }, stdoutBufferKiB: 16_384,
  };

  it('keeps the Logger interface, routes children by the stream binding, and redacts secrets', async () => {
    const lines: string[] = [];
    const log = pinoLogger(settings, { stdout: (l) => lines.push(l) });
    log.debug({}, 'not at info');
    log.child({ component: 'radius' }).child({ stream: 'auth' }).info({ user: 'alice', password: 'hunter2', nas: { secret: 's3' } }, 'refused');
    log.child({ stream: 'audit' }).info({ action: 'user.add' }, 'not on stdout');
    log.warn({ sharedSecret: 'x' });
    await log.close();
    const recs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({ level: 'info', component: 'radius', stream: 'auth', user: 'alice', password: '[redacted]', nas: { secret: '[redacted]' }, msg: 'refused' });
    expect(typeof recs[0]!.time).toBe('string');
    expect(recs[1]).toMatchObject({ level: 'warn', sharedSecret: '[redacted]' });
    expect(lines.join('')).not.toMatch(/hunter2|s3"/);
  });

  it('sends each stream to its own syslog server with the msgid of the stream', async () => {
    const sock = createSocket('udp4');
    const got: string[] = [];
    sock.on('message', (m) => got.push(m.toString('utf8')));
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const syslog = { transport: 'udp' as const, host: '127.0.0.1', port: sock.address().port, facility: FACILITIES.authpriv! };
    const log = pinoLogger({ ...settings, auth: { stdout: false, syslog } }, { stdout: () => {}, hostname: 'box1' });
    log.child({ stream: 'auth' }).info({ user: 'bob' }, 'authentication refused');
    log.info({}, 'system only');
    for (let i = 0; i < 50 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 10));
    await log.close();
    sock.close();
    expect(got).toHaveLength(1);
    expect(got[0]).toMatch(new RegExp(`^<86>1 \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z box1 authbox ${process.pid} auth \\[meta sequenceId="1"\\] \ufeff\\{`));
    expect(got[0]).toContain('"msg":"authentication refused"');
  });
});
