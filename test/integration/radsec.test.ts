// RadSec (RFC 6614) with a real peer: radclient → radsecproxy (UDP in, TLS out) → authbox.
// radsecproxy presents a device certificate from authbox's CA naming the RadSec client;
// PAP accept and reject and accounting go through it. Refused: a certificate from a foreign
// CA, one from authbox's CA that names no RadSec client, a revoked one (also on an open
// connection), a packet length outside 20..4096, and plain TCP or UDP to the RadSec port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authbox, authboxOk, freePort, freeUdpPort, initDataDir, openssl, radclient, sleep, startServe, tempDir, type RunningDaemon,
} from '../helpers/authbox.js';
import { Code, decodePacket, encodePacket } from '../../src/radius/codec/index.js';
import { foreignClientCert } from '../helpers/eap.js';

const PROXY_SECRET = 'proxy-udp-S3cret';
const NAS = 'edge-proxy';
const ALICE_PW = 'alice-Passw0rd';

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let proxy: ChildProcess | undefined;
let proxyLog = '';
let radsecPort: number;
let proxyPort: number;
let chain: string;

interface Holder { cert: string; key: string; serial: string }

function issueDevice(name: string, cn: string): Holder {
  const cert = join(files.path, `${name}.crt`);
  const key = join(files.path, `${name}.key`);
  authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', cn, '--ip', '127.0.0.1', '--out-cert', cert, '--out-key', key]);
  const serial = /serial=([0-9A-F]+)/i.exec(openssl(['x509', '-in', cert, '-noout', '-serial']).stdout)![1]!;
  return { cert, key, serial };
}

const foreignCert = (cn: string): Holder => foreignClientCert(files.path, cn);

function statusServer(): Buffer {
  return encodePacket({ code: Code.StatusServer, identifier: 7, authenticator: randomBytes(16), attributes: [], secret: Buffer.from('radsec') });
}

/**
 * Connects over TLS with a client certificate, writes `bytes`, and resolves with the first
 * reply packet, or 'closed' when the server ends the connection without one, or 'silent'.
 */
function radsecExchange(holder: Holder, bytes: Buffer, waitMs = 3000): Promise<Buffer | 'closed' | 'silent'> {
  return new Promise((resolve) => {
    const socket = tlsConnect({
      host: '127.0.0.1', port: radsecPort, ca: readFileSync(chain), cert: readFileSync(holder.cert), key: readFileSync(holder.key),
      servername: 'localhost',
    });
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('silent');
    }, waitMs);
    const done = (v: Buffer | 'closed'): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    socket.on('secureConnect', () => socket.write(bytes));
    socket.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      if (got.length >= 4 && got.length >= got.readUInt16BE(2)) done(got.subarray(0, got.readUInt16BE(2)));
    });
    socket.on('error', () => done('closed'));
    socket.on('close', () => done('closed'));
  });
}

async function startProxy(): Promise<void> {
  const conf = join(files.path, 'radsecproxy.conf');
  writeFileSync(conf, `ListenUDP 127.0.0.1:${proxyPort}
LoopPrevention on
tls authbox {
    CACertificateFile ${chain}
    CertificateFile ${join(files.path, 'proxy.crt')}
    CertificateKeyFile ${join(files.path, 'proxy.key')}
}
client localhost {
    host 127.0.0.1
    type udp
    secret ${PROXY_SECRET}
}
server authbox {
    host 127.0.0.1
    port ${radsecPort}
    type tls
    tls authbox
    CertificateNameCheck on
}
realm * {
    server authbox
    accountingServer authbox
}
`);
  proxy = spawn('radsecproxy', ['-f', '-d', '4', '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  proxy.stdout!.on('data', (d: Buffer) => (proxyLog += d.toString()));
  proxy.stderr!.on('data', (d: Buffer) => (proxyLog += d.toString()));
  const deadline = Date.now() + 5000;
  while (!/radsecproxy .*starting|started/i.test(proxyLog)) {
    if (proxy.exitCode !== null) throw new Error(`radsecproxy exited ${proxy.exitCode}: ${proxyLog}`);
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  await sleep(300);
}

const pap = (password: string) => radclient(`127.0.0.1:${proxyPort}`, 'auth', PROXY_SECRET,
  `User-Name = "alice", User-Password = "${password}", Message-Authenticator = 0x00\n`, ['-r', '2', '-t', '3']);
const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject|Accounting-Response)/.exec(r.stdout + r.stderr)?.[1];

let device: Holder;

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-radsec-');
  [radsecPort, proxyPort] = [await freePort(), await freeUdpPort()];
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', ALICE_PW]);
  const added = authboxOk(['nas', 'add', '--data', data.dir, '--name', NAS, '--address', '127.0.0.1/32', '--radsec', '--kind', 'gateway']);
  expect(added).toMatch(/added RadSec client "edge-proxy"/);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  const proxyCert = issueDevice('proxy', NAS);
  writeFileSync(join(files.path, 'proxy.serial'), proxyCert.serial);
  device = issueDevice('probe', NAS);
  daemon = await startServe(data.dir, data.port, ['--radsec', `127.0.0.1:${radsecPort}`, '--log-level', 'debug']);
  await startProxy();
}, 60_000);

afterAll(async () => {
  if (proxy?.pid && proxy.exitCode === null) process.kill(proxy.pid, 'SIGTERM');
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('RadSec through radsecproxy', () => {
  it('lists the client as RadSec, refuses a secret with --radsec, and keeps it out of UDP', async () => {
    const list = JSON.parse(authboxOk(['nas', 'list', '--data', data.dir, '--json'])) as { name: string; transport: string }[];
    expect(list).toMatchObject([{ name: NAS, transport: 'radsec' }]);
    expect(authboxOk(['nas', 'list', '--data', data.dir])).toMatch(/^edge-proxy\s+127\.0\.0\.1\/32\s+gateway\s+radsec\s+required\s+off$/m);
    const r = authbox(['nas', 'add', '--data', data.dir, '--name', 'x', '--address', '192.0.2.1', '--radsec', '--secret', 'abcdefghijk']);
    expect(r.status).not.toBe(0);
    expect(daemon!.output()).toMatch(/RadSec\s+127\.0\.0\.1:\d+\/tcp/);
  });

  it('accepts the right password and rejects a wrong one (PAP)', async () => {
    const ok = await pap(ALICE_PW);
    expect(received(ok), ok.stdout + ok.stderr + proxyLog.slice(-3000) + daemon!.output().slice(-3000)).toBe('Access-Accept');
    const bad = await pap('wrong-Passw0rd');
    expect(received(bad), bad.stdout + bad.stderr).toBe('Access-Reject');
    const log = JSON.parse(authboxOk(['log', 'auth', '--data', data.dir, '--json'])) as { user: string; nas: string; outcome: string }[];
    expect(log.filter((d) => d.nas === NAS).map((d) => d.outcome).sort()).toEqual(['accept', 'reject']);
  });

  it('records accounting sent through the proxy', async () => {
    const r = await radclient(`127.0.0.1:${proxyPort}`, 'acct', PROXY_SECRET,
      'User-Name = "alice", Acct-Status-Type = Start, Acct-Session-Id = "radsec-1", NAS-IP-Address = 127.0.0.1\n', ['-r', '2', '-t', '3']);
    expect(received(r), r.stdout + r.stderr).toBe('Accounting-Response');
    const sessions = JSON.parse(authboxOk(['log', 'acct', '--data', data.dir, '--json'])) as { acctSessionId: string; nas: string }[];
    expect(sessions).toMatchObject([{ acctSessionId: 'radsec-1', nas: NAS }]);
  });

  it('answers Status-Server (RFC 5997) with an Access-Accept', async () => {
    const reply = await radsecExchange(device, statusServer());
    expect(Buffer.isBuffer(reply), String(reply)).toBe(true);
    expect(decodePacket(reply as Buffer).code).toBe(Code.AccessAccept);
  });

  it('refuses a certificate from a foreign CA', async () => {
    expect(await radsecExchange(foreignCert(NAS), statusServer())).toBe('closed');
  });

  it('refuses a certificate from authbox\'s CA that names no RadSec client', async () => {
    expect(await radsecExchange(issueDevice('other', 'some-other-box'), statusServer())).toBe('closed');
  });

  it('drops a connection whose packet length is outside 20..4096', async () => {
    const bad = statusServer();
    bad.writeUInt16BE(5000, 2);
    expect(await radsecExchange(device, bad)).toBe('closed');
  });

  it('gives nothing to plain TCP or UDP on the RadSec port', async () => {
    const packet = statusServer();
    const tcp = await new Promise<string>((resolve) => {
      const s = tcpConnect(radsecPort, '127.0.0.1', () => s.write(packet));
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      // A TLS alert may come back (0x15); a RADIUS reply must not.
      s.on('close', () => resolve(got.length >= 20 && got[0] === Code.AccessAccept ? 'answered' : 'nothing'));
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 2000);
    });
    expect(tcp).toBe('nothing');
    const udp = await new Promise<string>((resolve) => {
      const s = createSocket('udp4');
      s.on('message', () => {
        s.close();
        resolve('answered');
      });
      s.send(packet, radsecPort, '127.0.0.1');
      setTimeout(() => {
        s.close();
        resolve('nothing');
      }, 1000);
    });
    expect(udp).toBe('nothing');
  });

  it('refuses a revoked certificate at once, also on an open connection', async () => {
    // The proxy's connection is open (the tests above used it); revoke its certificate.
    const serial = readFileSync(join(files.path, 'proxy.serial'), 'utf8');
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', serial]);
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', device.serial]);
    await sleep(500);
    const r = await radclient(`127.0.0.1:${proxyPort}`, 'auth', PROXY_SECRET,
      `User-Name = "alice", User-Password = "${ALICE_PW}", Message-Authenticator = 0x00\n`, ['-r', '1', '-t', '2']);
    expect(received(r), r.stdout + r.stderr).toBeUndefined();
    expect(await radsecExchange(device, statusServer())).toBe('closed');
    expect(daemon!.output()).toMatch(/"reason":"certificate revoked"/);
  });
});
