// TLS session resumption (roaming) through a running `authbox serve`, with eapol_test `-r 1`:
// the second authentication of the same process resumes the first one's TLS session
// (TLS 1.2 session id, TLS 1.3 ticket), and is still checked against the certificate's
// status and its owner, from memory, at that moment. PEAP resumes and runs its inner method
// again; EAP-TTLS never resumes (supplicants would skip the inner method). Also here: the
// method proposed after the Identity follows the client kind's allowed methods, and PEAP's
// inner MS-CHAPv2 failure goes through the Failure request and Result TLV Windows expects.
import { createSocket, type RemoteInfo } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueUserCert as issueUser, runEapolTest, TLS12, TLS13, type CertHolder } from '../helpers/eap.js';
import {
  daemonLogged, authboxOk, freeUdpPort, initDataDir, sleep, startServe, tempDir, type RunResult, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
/** The change feed promise: a CLI write is live in the daemon within a second. */
const LIVE_MS = 1000;
const ACCESS_ACCEPT = 2;

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;

type Holder = CertHolder;
const issueUserCert = (name: string, user?: string): Holder => issueUser(data.dir, files.path, name, user);

function eapolTest(network: string[], args: string[] = [], port = authPort): Promise<RunResult> {
  return runEapolTest({ dir: files.path, caCert: chain, port, secret: SECRET, network, args, timeoutSeconds: 20 });
}

const tlsNetwork = (identity: string, h: Holder, phase1: string): string[] =>
  ['eap=TLS', `identity="${identity}"`, `client_cert="${h.cert}"`, `private_key="${h.key}"`, `phase1="${phase1}"`];
const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-60).join('\n');

let alice: Holder;

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-eap-resume-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'bob', '--password', 'bob-Passw0rd']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'dave', '--password', 'dave-Passw0rd']);
  alice = issueUserCert('alice', 'alice');
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--log-level', 'debug']);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

/**
 * A UDP relay between eapol_test and the daemon that, once the first Access-Accept has
 * passed, holds the supplicant's next requests until `between` has run: `-r 1` repeats the
 * authentication at once, and this is how something happens between the two.
 */
async function relayWithPause(between: () => Promise<void>): Promise<{ port: number; close(): void }> {
  const sock = createSocket('udp4');
  let client: RemoteInfo | undefined;
  let gate: Promise<void> | undefined;
  let queue: Promise<void> = Promise.resolve();
  sock.on('message', (msg, rinfo) => {
    if (rinfo.port === authPort) {
      if (client) sock.send(msg, client.port, client.address);
      if (msg[0] === ACCESS_ACCEPT && !gate) gate = between();
      return;
    }
    client = rinfo;
    const held = gate;
    queue = queue.then(async () => {
      if (held) await held;
      sock.send(msg, authPort, '127.0.0.1');
    });
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: sock.address().port, close: () => sock.close() };
}

const resumedHandshakes = (r: RunResult): number => [...r.stdout.matchAll(/Handshake finished - resumed=1/g)].length;
const successes = (r: RunResult): number => [...r.stdout.matchAll(/CTRL-EVENT-EAP-SUCCESS/g)].length;

const logged = (pattern: RegExp): Promise<void> => daemonLogged(daemon!, pattern);

describe('EAP-TLS session resumption with eapol_test -r 1', () => {
  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    it(`resumes a ${version} session on the second authentication, with MS-MPPE keys matching the MSK`, async () => {
      const r = await eapolTest(tlsNetwork('alice', alice, phase1), ['-r', '1']);
      expect(/^SUCCESS$/m.test(r.stdout), tail(r)).toBe(true);
      expect(r.stdout).toContain('MPPE keys OK: 2  mismatch: 0');
      expect(r.stdout).toMatch(/Handshake finished - resumed=0/);
      expect(resumedHandshakes(r), tail(r)).toBeGreaterThanOrEqual(1);
      expect(successes(r)).toBe(2);
      const v = version.replace('.', '\\.');
      await logged(new RegExp(`"user":"alice","outcome":"accept","method":"eap-tls","tls":"${v}","serial":"${alice.serial}","resumed":"yes"`));
    });
  }

  it('refuses a resumed TLS 1.2 session whose certificate was revoked after the first authentication', async () => {
    const bob = issueUserCert('bob', 'bob');
    const relay = await relayWithPause(async () => {
      authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', bob.serial, '--reason', 'keyCompromise']);
      await sleep(LIVE_MS + 200);
    });
    try {
      const r = await eapolTest(tlsNetwork('bob', bob, TLS12), ['-r', '1'], relay.port);
      expect(successes(r), tail(r)).toBe(1);
      expect(/^FAILURE$/m.test(r.stdout), tail(r)).toBe(true);
      expect(resumedHandshakes(r), tail(r)).toBeGreaterThanOrEqual(1);
      expect(r.stdout).toMatch(/code=3 \(Access-Reject\)/);
      await logged(new RegExp(`"user":"bob","outcome":"reject","reason":"certificate revoked".*"serial":"${bob.serial}".*"resumed":"yes"`));
    } finally {
      relay.close();
    }
  });

  it('refuses a resumed TLS 1.3 session whose owner was disabled after the first authentication', async () => {
    const dave = issueUserCert('dave', 'dave');
    const relay = await relayWithPause(async () => {
      authboxOk(['user', 'disable', '--data', data.dir, '--username', 'dave']);
      await sleep(LIVE_MS + 200);
    });
    try {
      const r = await eapolTest(tlsNetwork('dave', dave, TLS13), ['-r', '1'], relay.port);
      expect(successes(r), tail(r)).toBe(1);
      expect(/^FAILURE$/m.test(r.stdout), tail(r)).toBe(true);
      expect(resumedHandshakes(r), tail(r)).toBeGreaterThanOrEqual(1);
      await logged(/"user":"dave","outcome":"reject","reason":"account disabled".*"resumed":"yes"/);
    } finally {
      relay.close();
    }
  });
});

describe('PEAP and EAP-TTLS with eapol_test -r 1', () => {
  const tunnel = (eap: string, phase2: string, phase1: string): Promise<RunResult> =>
    eapolTest([`eap=${eap}`, 'identity="alice"', 'password="alice-Passw0rd"', `phase1="${phase1}"`, `phase2="${phase2}"`], ['-r', '1']);

  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    it(`PEAP resumes a ${version} tunnel and runs the inner MS-CHAPv2 again (no fast reconnect)`, async () => {
      const r = await tunnel('PEAP', 'auth=MSCHAPV2', phase1);
      expect(/^SUCCESS$/m.test(r.stdout), tail(r)).toBe(true);
      expect(r.stdout).toContain('MPPE keys OK: 2  mismatch: 0');
      expect(resumedHandshakes(r), tail(r)).toBeGreaterThanOrEqual(1);
      expect(successes(r)).toBe(2);
      // The inner EAP-MSCHAPv2 (type 26) Challenge and Success-Request arrive in both tunnels.
      expect([...r.stdout.matchAll(/EAP-PEAP: Phase 2 Request: type=26/g)].length).toBe(4);
      await logged(new RegExp(`"user":"alice","outcome":"accept","method":"peap","inner":"eap-mschapv2","tls":"${version.replace('.', '\\.')}","resumed":"yes"`));
    });

    for (const phase2 of ['auth=PAP', 'auth=MSCHAPV2']) {
      it(`EAP-TTLS ${phase2} over ${version} is never resumed: the supplicant would skip the inner method`, async () => {
        const r = await tunnel('TTLS', phase2, phase1);
        expect(/^SUCCESS$/m.test(r.stdout), tail(r)).toBe(true);
        expect(r.stdout).toContain('MPPE keys OK: 2  mismatch: 0');
        expect(resumedHandshakes(r), tail(r)).toBe(0);
        expect(r.stdout).not.toContain('Session resumption - skip phase 2');
        expect(successes(r)).toBe(2);
      });
    }
  }
});

describe('EAP method proposal by client kind, with eapol_test', () => {
  const methods = async (allow: string): Promise<void> => {
    authboxOk(['policy', 'methods', '--data', data.dir, '--kind', 'wlan', '--allow', allow]);
    await sleep(LIVE_MS + 200);
  };
  const peap = (): Promise<RunResult> =>
    eapolTest(['eap=PEAP', 'identity="alice"', 'password="alice-Passw0rd"', `phase1="${TLS12}"`, 'phase2="auth=MSCHAPV2"']);

  afterAll(() => methods('all'));

  it('proposes PEAP first when the kind allows PEAP and EAP-TTLS but not EAP-TLS (no Nak needed)', async () => {
    await methods('peap,ttls');
    const r = await peap();
    expect(/^SUCCESS$/m.test(r.stdout), tail(r)).toBe(true);
    expect(r.stdout).toMatch(/EAP: Received EAP-Request id=\d+ method=25 /);
    expect(r.stdout).not.toMatch(/Building EAP-Nak/);
  });

  it('refuses a Nak to a method the kind does not allow, with the reason logged', async () => {
    await methods('ttls');
    const r = await peap();
    expect(/^FAILURE$/m.test(r.stdout), tail(r)).toBe(true);
    expect(r.stdout).toMatch(/EAP: Received EAP-Request id=\d+ method=21 /);
    expect(r.stdout).toMatch(/Building EAP-Nak/);
    await logged(/"user":"alice","outcome":"reject","reason":"method not allowed for this client kind","method":"eap-ttls","wanted":"25"/);
  });
});

describe('PEAP inner MS-CHAPv2 failure, the way Windows expects it', () => {
  for (const [version, phase1] of [['TLSv1.2', TLS12], ['TLSv1.3', TLS13]] as const) {
    it(`sends the MS-CHAPv2 Failure "E=691 R=0 C=... V=3 M=..." and a failure Result TLV before the EAP-Failure (${version})`, async () => {
      const r = await eapolTest(['eap=PEAP', 'identity="alice"', 'password="not-the-Passw0rd"', `phase1="${phase1}"`, 'phase2="auth=MSCHAPV2"']);
      expect(/^FAILURE$/m.test(r.stdout), tail(r)).toBe(true);
      // eapol_test parses "E=691 R=0 C=<16 octets> V=3 M=Authentication failed" into these lines.
      const failure = r.stdout.indexOf("EAP-MSCHAPV2: failure message: 'Authentication failed' (retry not allowed, error 691)");
      expect(failure, tail(r)).toBeGreaterThan(0);
      expect(r.stdout).toMatch(/EAP-MSCHAPV2: failure challenge - hexdump\(len=16\)/);
      expect(r.stdout).toContain('EAP-MSCHAPV2: password changing protocol version 3');
      const tlv = r.stdout.indexOf('EAP-TLV: TLV Result - Failure');
      const eapFailure = r.stdout.indexOf('EAP: Received EAP-Failure');
      expect(tlv).toBeGreaterThan(failure);
      expect(eapFailure).toBeGreaterThan(tlv);
      expect(r.stdout).toMatch(/code=3 \(Access-Reject\)/);
      await logged(/"user":"alice","outcome":"reject","reason":"wrong password","method":"peap"/);
    });
  }
});
