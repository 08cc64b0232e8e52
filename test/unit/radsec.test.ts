// RadSec transport (RFC 6614) without the daemon: a test CA made with openssl, a fake engine
// that echoes, and Node's TLS client. Framing (several packets per write, one packet over
// several writes), the client binding (CN or DNS SAN, address, EKU, status), revocation on
// an open connection, bounds, the connection cap and the idle timeout.
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCidr } from '../../src/core/cidr.js';
import { silentLogger } from '../../src/core/logger.js';
import type { NasClient } from '../../src/core/nas.js';
import type { Datagram, RadiusService } from '../../src/radius/auth.js';
import { Code, encodePacket } from '../../src/radius/codec/index.js';
import { RadsecClientScope, radsecClientFor, startRadsecServer, type RadsecCertStatus, type RadsecServer } from '../../src/radius/radsec.js';
import { openssl, tempDir } from '../helpers/authbox.js';

let dir: ReturnType<typeof tempDir>;
const file = (n: string): string => join(dir.path, n);

function run(args: string[]): void {
  const r = openssl(args, { cwd: dir.path });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A leaf under the test CA with the given subject and extensions. */
function leaf(name: string, subject: string, ext: string): X509Certificate {
  run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
  writeFileSync(file(`${name}.ext`), ext);
  run(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  return new X509Certificate(readFileSync(file(`${name}.crt`)));
}

const CLIENT_EXT = 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n';
let nasA: X509Certificate;
let bySan: X509Certificate;
let serverOnly: X509Certificate;
const serial = (c: X509Certificate): string => c.serialNumber.toLowerCase().replace(/^0+(?=.)/, '');

const client = (name: string, cidr = '127.0.0.1/32'): NasClient => ({
  name, network: parseCidr(cidr)!, secret: Buffer.from('unused-secret'), kind: 'switch', requireMessageAuthenticator: true,
});

let clients: NasClient[] = [];
let statuses = new Map<string, RadsecCertStatus>();
const seen: { service: RadiusService; client: string | undefined; secret: string | undefined }[] = [];
let server: RadsecServer;

beforeAll(async () => {
  dir = tempDir('authbox-radsec-unit-');
  run(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt',
    '-subj', '/CN=Test RadSec CA', '-days', '2', '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  leaf('server', '/CN=localhost', 'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  nasA = leaf('nas-a', '/CN=NAS-A', CLIENT_EXT);
  bySan = leaf('by-san', '/CN=something', `${CLIENT_EXT}subjectAltName=DNS:nas-b.example\n`);
  serverOnly = leaf('server-only', '/CN=nas-a', 'extendedKeyUsage=serverAuth\n');
  const scope = new RadsecClientScope();
  const engine = {
    handle(d: Datagram, service: RadiusService): Promise<Buffer | undefined> {
      const c = scope.lookup();
      seen.push({ service, client: c?.name, secret: c?.secret.toString() });
      const reply = Buffer.from(d.data);
      reply[0] = service === 'acct' ? Code.AccountingResponse : Code.AccessAccept;
      return new Promise((r) => setTimeout(() => r(reply), 5));
    },
  };
  server = await startRadsecServer({
    listen: { host: '127.0.0.1', port: 0 },
    certDer: new X509Certificate(readFileSync(file('server.crt'))).raw,
    key: createPrivateKey(readFileSync(file('server.key'))),
    chain: [new X509Certificate(readFileSync(file('ca.crt'))).raw],
    clients: () => clients, status: (s) => statuses.get(s), engine, scope, log: silentLogger,
    idleTimeoutMs: 400, maxConnections: 2,
  });
});

afterAll(async () => {
  await server?.close();
  dir?.cleanup();
});

function reset(): void {
  clients = [client('nas-a'), client('nas-b.example')];
  statuses = new Map([[serial(nasA), 'valid'], [serial(bySan), 'valid'], [serial(serverOnly), 'valid']]);
  seen.length = 0;
}

function open(name: string): Promise<{ socket: TLSSocket; replies: Buffer[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1', port: server.address.port, servername: 'localhost', ca: readFileSync(file('ca.crt')),
      cert: readFileSync(file(`${name}.crt`)), key: readFileSync(file(`${name}.key`)),
    });
    const replies: Buffer[] = [];
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= buf.readUInt16BE(2)) {
        replies.push(buf.subarray(0, buf.readUInt16BE(2)));
        buf = buf.subarray(buf.readUInt16BE(2));
      }
    });
    socket.on('error', () => undefined);
    const closed = new Promise<void>((r) => socket.on('close', () => r()));
    socket.once('secureConnect', () => resolve({ socket, replies, closed }));
    socket.once('error', reject);
  });
}

const access = (id: number): Buffer => encodePacket({ code: Code.AccessRequest, identifier: id, authenticator: randomBytes(16), attributes: [], secret: 'radsec' });
const accounting = (id: number): Buffer => encodePacket({ code: Code.AccountingRequest, identifier: id, attributes: [], secret: 'radsec' });

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('radsecClientFor', () => {
  it('binds by CN or DNS SAN, case-insensitively, from an address in the client\'s network', () => {
    reset();
    const a = radsecClientFor(nasA, '127.0.0.1', { clients: () => clients, status: (s) => statuses.get(s) });
    expect(a).toMatchObject({ ok: true, client: { name: 'nas-a', secret: Buffer.from('radsec') } });
    expect(radsecClientFor(bySan, '::ffff:127.0.0.1', { clients: () => clients, status: (s) => statuses.get(s) }))
      .toMatchObject({ ok: true, client: { name: 'nas-b.example' } });
    expect(radsecClientFor(nasA, '192.0.2.1', { clients: () => clients, status: (s) => statuses.get(s) }))
      .toMatchObject({ ok: false, reason: 'no RadSec client for this certificate and address' });
  });

  it('refuses a certificate without clientAuth, unknown to authbox, revoked or on hold', () => {
    reset();
    const deps = { clients: () => clients, status: (s: string) => statuses.get(s) };
    expect(radsecClientFor(serverOnly, '127.0.0.1', deps)).toMatchObject({ ok: false, reason: 'certificate not for client authentication' });
    statuses.delete(serial(nasA));
    expect(radsecClientFor(nasA, '127.0.0.1', deps)).toMatchObject({ ok: false, reason: 'unknown certificate' });
    statuses.set(serial(nasA), 'hold');
    expect(radsecClientFor(nasA, '127.0.0.1', deps)).toMatchObject({ ok: false, reason: 'certificate on hold' });
    statuses.set(serial(nasA), 'revoked');
    expect(radsecClientFor(nasA, '127.0.0.1', deps)).toMatchObject({ ok: false, reason: 'certificate revoked' });
  });
});

describe('startRadsecServer', () => {
  it('splits the stream by the Length field: two packets in one write, one packet over two writes', async () => {
    reset();
    const c = await open('nas-a');
    c.socket.write(Buffer.concat([access(1), accounting(2)]));
    const third = access(3);
    c.socket.write(third.subarray(0, 7));
    await new Promise((r) => setTimeout(r, 30));
    c.socket.write(third.subarray(7));
    await until(() => c.replies.length === 3);
    expect(c.replies.map((r) => [r[0], r[1]]).sort((x, y) => x[1]! - y[1]!)).toEqual([[Code.AccessAccept, 1], [Code.AccountingResponse, 2], [Code.AccessAccept, 3]]);
    expect(seen).toEqual([
      { service: 'auth', client: 'nas-a', secret: 'radsec' }, { service: 'acct', client: 'nas-a', secret: 'radsec' },
      { service: 'auth', client: 'nas-a', secret: 'radsec' },
    ]);
    // Revoked while connected: the next packet closes the connection, unanswered.
    statuses.set(serial(nasA), 'revoked');
    c.socket.write(access(4));
    await c.closed;
    expect(c.replies).toHaveLength(3);
  });

  it('closes on a Length below 20, and when idle', async () => {
    reset();
    const c = await open('nas-a');
    const bad = access(5);
    bad.writeUInt16BE(19, 2);
    c.socket.write(bad);
    await c.closed;
    const idle = await open('by-san');
    const started = Date.now();
    await idle.closed;
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('refuses connections beyond the cap', async () => {
    reset();
    const a = await open('nas-a');
    const b = await open('by-san');
    await until(() => server.stats.connections === 2);
    const c = await open('nas-a');
    await c.closed;
    expect(server.stats.refused.tooMany).toBeGreaterThan(0);
    a.socket.destroy();
    b.socket.destroy();
  });
});
