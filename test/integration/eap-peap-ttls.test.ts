// PEAPv0/EAP-MSCHAPv2 and EAP-TTLS (PAP, MS-CHAPv2) through a running `authbox serve`, with
// the real eapol_test as supplicant and NAS. The server proposes EAP-TLS after the Identity;
// eapol_test Naks it for PEAP or TTLS and the server switches (RFC 3748 §5.3.1). Over TLS
// 1.2 and 1.3 the MS-MPPE keys are checked by eapol_test against the MSK it derives itself
// (RFC 5216 / RFC 5281 labels for TLS 1.2, RFC 9427 for TLS 1.3); a wrong password and a
// disabled account are refused, each with its reason in the daemon's log.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEapolTest, TLS12, TLS13, verdict } from '../helpers/eap.js';
import {
  daemonLogged, authboxOk, freeUdpPort, initDataDir, startServe, tempDir, type RunResult, type RunningDaemon,
} from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;

/** One eapol_test authentication with a password method; its whole output for the assertions. */
function eapolTest(eap: 'PEAP' | 'TTLS', phase2: string, identity: string, password: string, phase1: string, extra: string[] = [], args: string[] = []): Promise<RunResult> {
  return runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET, args,
    network: [`eap=${eap}`, `identity="${identity}"`, `password="${password}"`, `phase1="${phase1}"`, `phase2="${phase2}"`, ...extra],
  });
}

const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-60).join('\n');

/** The daemon's log since `mark` (its length before the run) has `text`. */
const logged = (text: string, mark: number): Promise<void> => daemonLogged(daemon!, text, mark);

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-peap-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', 'alice-Passw0rd']);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'carol', '--password', 'carol-Passw0rd']);
  authboxOk(['user', 'disable', '--data', data.dir, '--username', 'carol']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--log-level', 'debug']);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('PEAPv0 / EAP-MSCHAPv2 with eapol_test', () => {
  const peap = (identity: string, password: string, phase1: string): Promise<RunResult> =>
    eapolTest('PEAP', 'auth=MSCHAPV2', identity, password, phase1);

  it('accepts over TLS 1.2 after a Nak of EAP-TLS, with MS-MPPE keys matching the MSK', async () => {
    const mark = daemon!.output().length;
    const r = await peap('alice', 'alice-Passw0rd', TLS12);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.2/);
    expect(r.stdout).toContain('EAP-MSCHAPV2: Authentication succeeded');
    expect(r.stdout).toMatch(/EAP-PEAP: Selected Phase 2 EAP vendor 0 method 26/);
    await logged('"user":"alice","outcome":"accept","method":"peap","inner":"eap-mschapv2","tls":"TLSv1.2"', mark);
  });

  it('accepts over TLS 1.3 with the RFC 9427 keys', async () => {
    const mark = daemon!.output().length;
    const r = await peap('alice', 'alice-Passw0rd', TLS13);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.3/);
    await logged('"method":"peap","inner":"eap-mschapv2","tls":"TLSv1.3"', mark);
  });

  it('fragments its flights to the Framed-MTU (300) and the tunnel still runs', async () => {
    const mark = daemon!.output().length;
    // -N12:d:300 makes eapol_test send Framed-MTU = 300 instead of its 1400.
    const r = await eapolTest('PEAP', 'auth=MSCHAPV2', 'alice', 'alice-Passw0rd', TLS13, ['fragment_size=300'], ['-N12:d:300']);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
    expect(r.stdout).toMatch(/SSL: Received packet\(len=296\) - Flags 0xc0/);
    expect(r.stdout).toMatch(/SSL: Received packet\(len=296\) - Flags 0x40/);
    await logged('"user":"alice","outcome":"accept","method":"peap"', mark);
  });

  it('refuses a wrong password with an EAP-Failure', async () => {
    const mark = daemon!.output().length;
    const r = await peap('alice', 'not-the-Passw0rd', TLS12);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    expect(r.stdout).toMatch(/code=3 \(Access-Reject\)/);
    await logged('"user":"alice","outcome":"reject","reason":"wrong password","method":"peap"', mark);
  });

  it('refuses a disabled account', async () => {
    const mark = daemon!.output().length;
    const r = await peap('carol', 'carol-Passw0rd', TLS13);
    expect(verdict(r), tail(r)).toBe('FAILURE');
    await logged('"user":"carol","outcome":"reject","reason":"account disabled","method":"peap"', mark);
  });
});

describe('EAP-TTLS with eapol_test', () => {
  const ttls = (phase2: string, identity: string, password: string, phase1: string): Promise<RunResult> =>
    eapolTest('TTLS', phase2, identity, password, phase1);

  for (const [phase2, inner] of [['auth=PAP', 'pap'], ['auth=MSCHAPV2', 'mschapv2']] as const) {
    it(`${phase2}: accepts over TLS 1.2 with the "ttls keying material" keys`, async () => {
      const mark = daemon!.output().length;
      const r = await ttls(phase2, 'alice', 'alice-Passw0rd', TLS12);
      expect(verdict(r), tail(r)).toBe('SUCCESS');
      expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
      expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.2/);
      await logged(`"user":"alice","outcome":"accept","method":"eap-ttls","inner":"${inner}","tls":"TLSv1.2"`, mark);
    });

    it(`${phase2}: accepts over TLS 1.3 with the RFC 9427 keys`, async () => {
      const mark = daemon!.output().length;
      const r = await ttls(phase2, 'alice', 'alice-Passw0rd', TLS13);
      expect(verdict(r), tail(r)).toBe('SUCCESS');
      expect(r.stdout).toContain('MPPE keys OK: 1  mismatch: 0');
      expect(r.stdout).toMatch(/SSL: Using TLS version TLSv1\.3/);
      await logged(`"method":"eap-ttls","inner":"${inner}","tls":"TLSv1.3"`, mark);
    });

    it(`${phase2}: refuses a wrong password and a disabled account`, async () => {
      const wrongMark = daemon!.output().length;
      const wrong = await ttls(phase2, 'alice', 'not-the-Passw0rd', TLS12);
      expect(verdict(wrong), tail(wrong)).toBe('FAILURE');
      await logged('"user":"alice","outcome":"reject","reason":"wrong password","method":"eap-ttls"', wrongMark);
      const disabledMark = daemon!.output().length;
      const disabled = await ttls(phase2, 'carol', 'carol-Passw0rd', TLS13);
      expect(verdict(disabled), tail(disabled)).toBe('FAILURE');
      await logged('"user":"carol","outcome":"reject","reason":"account disabled","method":"eap-ttls"', disabledMark);
    });
  }
});
