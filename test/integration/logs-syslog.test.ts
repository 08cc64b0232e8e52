// The three log streams of a running `authbox serve` reaching syslog servers the test runs:
// the start-up line on the system stream (UDP), a RADIUS refusal on the auth stream (TCP,
// octet-counted), `authbox user add` on the audit stream (TCP); and a syslog server that is
// down does not stop RADIUS from answering.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freePort, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
const PW = 'alice-Passw0rd';

interface Listener { port: number; lines(): string[]; close(): Promise<void> }

async function udpListener(): Promise<Listener> {
  const sock: UdpSocket = createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString('utf8')));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return { port: sock.address().port, lines: () => got, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/** A TCP syslog server reading RFC 6587 octet-counted frames. */
async function tcpListener(): Promise<Listener> {
  const got: string[] = [];
  const server: Server = createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) return;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) return;
        got.push(buf.subarray(sp + 1, sp + 1 + len).toString('utf8'));
        buf = buf.subarray(sp + 1 + len);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port, lines: () => got,
    close: () => new Promise<void>((r) => { server.close(() => r()); }),
  };
}

async function until(what: string, fn: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}`);
    await sleep(50);
  }
}

function setLog(dir: string, log: unknown): void {
  const file = join(dir, 'authbox.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), log }));
}

const access = (user: string, pw: string): string => `User-Name = "${user}", User-Password = "${pw}", Message-Authenticator = 0x00\n`;

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let system: Listener;
let auth: Listener;
let audit: Listener;
let authPort: number;

beforeAll(async () => {
  [system, auth, audit] = [await udpListener(), await tcpListener(), await tcpListener()];
  data = await initDataDir();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  setLog(data.dir, {
    system: { syslog: { transport: 'udp', host: '127.0.0.1', port: system.port } },
    auth: { syslog: { transport: 'tcp', host: '127.0.0.1', port: auth.port } },
    audit: { syslog: { transport: 'tcp', host: '127.0.0.1', port: audit.port, facility: 'local4' } },
  });
  authPort = await freeUdpPort();
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--http-workers', '1']);
});

afterAll(async () => {
  await daemon?.stop();
  await Promise.all([system?.close(), auth?.close(), audit?.close()]);
  data?.cleanup();
});

describe('log streams to syslog', () => {
  it('the start-up line reaches the system destination (UDP), as RFC 5424 with facility daemon', async () => {
    await until('the start-up line', () => system.lines().some((l) => l.includes('"msg":"authbox started"')));
    const line = system.lines().find((l) => l.includes('"msg":"authbox started"'))!;
    // <30>: daemon (3) * 8 + informational (6)
    expect(line).toMatch(new RegExp(`^<30>1 \\S+Z \\S+ authbox ${daemon!.pid} system \\[meta sequenceId="\\d+"\\] \ufeff\\{`));
    expect(auth.lines().concat(audit.lines()).some((l) => l.includes('authbox started'))).toBe(false);
  });

  it('a RADIUS refusal reaches the auth destination (TCP), not the system one', async () => {
    const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, access('nobody', 'wrong-Passw0rd'));
    expect(r.stdout + r.stderr).toMatch(/Received Access-Reject/);
    await until('the refusal', () => auth.lines().some((l) => l.includes('"user":"nobody"')));
    const line = auth.lines().find((l) => l.includes('"user":"nobody"'))!;
    // <86>: authpriv (10) * 8 + informational (6)
    expect(line).toMatch(/^<86>1 \S+Z \S+ authbox \d+ auth /);
    expect(line).toContain('"outcome":"reject"');
    expect(line).not.toContain('wrong-Passw0rd');
    expect(system.lines().some((l) => l.includes('"user":"nobody"') && l.includes('"event":"auth"'))).toBe(false);
  });

  it('`authbox user add` reaches the audit destination with its facility', async () => {
    authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', PW]);
    await until('the audit record', () => audit.lines().some((l) => l.includes('"action":"user.') && l.includes('alice')));
    const line = audit.lines().find((l) => l.includes('"action":"user.') && l.includes('alice'))!;
    // <166>: local4 (20) * 8 + informational (6)
    expect(line).toMatch(/^<166>1 \S+Z \S+ authbox \d+ audit /);
    expect(line).toContain('"actor":"cli:');
    expect(line).not.toContain(PW);
  });
});

describe('a syslog server that is down', () => {
  it('does not stop RADIUS from answering', async () => {
    const tmp = await initDataDir();
    const deadPort = await freePort();
    let d: RunningDaemon | undefined;
    try {
      authboxOk(['nas', 'add', '--data', tmp.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
      authboxOk(['user', 'add', '--data', tmp.dir, '--username', 'alice', '--password', PW]);
      setLog(tmp.dir, {
        system: { syslog: { transport: 'tcp', host: '127.0.0.1', port: deadPort } },
        auth: { syslog: { transport: 'tcp', host: '127.0.0.1', port: deadPort } },
        audit: { syslog: { transport: 'udp', host: '127.0.0.1', port: deadPort } },
      });
      const port = await freeUdpPort();
      d = await startServe(tmp.dir, tmp.port, ['--radius', `127.0.0.1:${port}`]);
      for (let i = 0; i < 3; i++) {
        const ok = await radclient(`127.0.0.1:${port}`, 'auth', SECRET, access('alice', PW));
        expect(ok.stdout + ok.stderr).toMatch(/Received Access-Accept/);
        const no = await radclient(`127.0.0.1:${port}`, 'auth', SECRET, access('alice', 'nope-Passw0rd'));
        expect(no.stdout + no.stderr).toMatch(/Received Access-Reject/);
      }
      expect(d.output()).toMatch(/syslog server unreachable/);
      expect(await d.stop()).toBe(0);
      d = undefined;
    } finally {
      await d?.stop('SIGKILL');
      tmp.cleanup();
    }
  });
});
