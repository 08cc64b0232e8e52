// Running as an appliance: `authbox tls renew` and SIGHUP put a new server certificate in
// front of EAP and the console without dropping RADIUS; SIGHUP applies a changed
// authbox.json (lockout) and survives a broken one; SIGTERM answers requests in flight first.
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Attr, Code, encodePacket, hideUserPassword } from '../../src/radius/codec/index.js';
import { issueUserCert, runEapolTest, TLS12, verdict, type CertHolder } from '../helpers/eap.js';
import {
  authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, tempDir, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;
let alice: CertHolder;

const pap = async (user: string, password: string): Promise<string | undefined> => {
  const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`);
  return /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
};
/** SHA-256 of the server certificate an EAP-TLS client is shown now (eapol_test prints it for depth 0). */
async function eapServerHash(): Promise<string> {
  const r = await runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET,
    network: ['eap=TLS', 'identity="alice"', `client_cert="${alice.cert}"`, `private_key="${alice.key}"`, `phase1="${TLS12}"`],
  });
  expect(verdict(r), r.stdout.slice(-2000)).toBe('SUCCESS');
  return /CTRL-EVENT-EAP-PEER-CERT depth=0 [^\n]*hash=([0-9a-f]{64})/.exec(r.stdout)![1]!;
}

/** SHA-256 of the certificate the HTTPS console presents now. */
async function consoleHash(): Promise<string> {
  const port = Number(/"address":"127\.0\.0\.1:(\d+)"[^\n]*admin console listening/.exec(daemon!.output())![1]);
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: readFileSync(chain) }, () => {
      resolve(createHash('sha256').update(s.getPeerCertificate().raw).digest('hex'));
      s.end();
    });
    s.on('error', reject);
  });
}

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-reload-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  for (const u of ['bob', 'carol']) authboxOk(['user', 'add', '--data', data.dir, '--username', u, '--password', `${u}-Passw0rd`]);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  alice = issueUserCert(data.dir, files.path, 'alice', 'alice');
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('reload without dropping RADIUS', () => {
  it('a renewed server certificate is what EAP (on its workers) and the console present next, while PAP keeps answering', async () => {
    const before = await eapServerHash();
    expect(await consoleHash()).toBe(before);
    // PAP requests one after another during the renewal: every one answered.
    let stop = false;
    let asked = 0;
    const unanswered: number[] = [];
    const loop = (async () => {
      while (!stop) {
        asked++;
        if ((await pap('alice', 'alice-Passw0rd')) !== 'Access-Accept') unanswered.push(asked);
      }
    })();
    expect(authboxOk(['tls', 'renew', '--data', data.dir])).toMatch(/^server certificate [0-9a-f]+ valid until .* \(replaces [0-9a-f]+;/);
    let now = before;
    for (const deadline = Date.now() + 5000; now === before && Date.now() < deadline;) now = await eapServerHash();
    expect(now).not.toBe(before);
    expect(await consoleHash()).toBe(now);
    // SIGHUP takes it again too (an operator's reload after any change), and nothing else moves.
    process.kill(daemon!.pid, 'SIGHUP');
    await sleep(300);
    expect(await eapServerHash()).toBe(now);
    stop = true;
    await loop;
    expect(asked).toBeGreaterThan(5);
    expect(unanswered).toEqual([]);
    expect(daemon!.proc.exitCode).toBeNull();
  }, 60_000);

  it('SIGHUP applies a changed lockout policy, and a broken authbox.json changes nothing', async () => {
    const file = join(data.dir, 'authbox.json');
    const original = readFileSync(file, 'utf8');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(original), lockout: { attempts: 2, windowMinutes: 15, durationMinutes: 15 } }));
    process.kill(daemon!.pid, 'SIGHUP');
    for (const deadline = Date.now() + 3000; !daemon!.output().includes('configuration reloaded') && Date.now() < deadline;) await sleep(50);
    expect(await pap('bob', 'wrong-Passw0rd-1')).toBe('Access-Reject');
    expect(await pap('bob', 'wrong-Passw0rd-2')).toBe('Access-Reject');
    let locked = false;
    for (const deadline = Date.now() + 3000; !locked && Date.now() < deadline; await sleep(100)) locked = (await pap('bob', 'bob-Passw0rd')) === 'Access-Reject';
    expect(locked).toBe(true);

    writeFileSync(file, '{ not json');
    process.kill(daemon!.pid, 'SIGHUP');
    for (const deadline = Date.now() + 3000; !daemon!.output().includes('configuration not reloaded') && Date.now() < deadline;) await sleep(50);
    expect(daemon!.output()).toContain('configuration not reloaded');
    expect(await pap('alice', 'alice-Passw0rd')).toBe('Access-Accept');
    writeFileSync(file, original);
  });

  it('SIGTERM answers a request already being decided before the daemon exits', async () => {
    // Sent from this process (no radclient start-up to race with): carol's first password
    // check is a full scrypt (tens of ms), and SIGTERM lands while it runs.
    const socket = createSocket('udp4');
    const authenticator = randomBytes(16);
    const request = encodePacket({
      code: Code.AccessRequest, identifier: 9, authenticator, secret: SECRET, attributes: [
        { type: Attr.UserName, value: Buffer.from('carol') },
        { type: Attr.UserPassword, value: hideUserPassword('carol-Passw0rd', SECRET, authenticator) },
      ],
    });
    const reply = new Promise<number>((resolve) => socket.once('message', (m) => resolve(m[0]!)));
    await new Promise<void>((resolve) => socket.send(request, authPort, '127.0.0.1', () => resolve()));
    await sleep(5);
    process.kill(daemon!.pid, 'SIGTERM');
    const code = await Promise.race([reply, sleep(5000).then(() => -1)]);
    socket.close();
    expect(code).toBe(Code.AccessAccept);
    for (const deadline = Date.now() + 10_000; daemon!.proc.exitCode === null && Date.now() < deadline;) await sleep(50);
    expect(daemon!.proc.exitCode).toBe(0);
  });
});
