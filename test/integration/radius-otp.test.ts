// One-time codes after the password (issue 6) through a running `authbox serve`, with the
// real radclient (freeradius-utils) as a remote-desktop gateway: the RFC 2865 §4.4
// challenge (two requests, the second carrying the State of the first), the joined field
// (password and code in one User-Password), replayed codes and reused States refused, a
// user without an enrolment refused with a Reply-Message, the policy per client kind and
// per group, and the reasons in the decision log. Inside EAP-TTLS (eapol_test) there is
// no challenge: TTLS-PAP takes the joined field, and a password alone through TTLS or PEAP
// is refused where a code is required.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { base32Decode, hotp, totpStep } from '../../src/core/totp.js';
import {
  authbox, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, tempDir, type RunResult, type RunningDaemon,
} from '../helpers/authbox.js';
import { runEapolTest, TLS13, verdict } from '../helpers/eap.js';

const SECRET = 'otp-radius-S3cret';
const PW = { alice: 'alice-Passw0rd', bob: 'bob-Passw0rd', carol: 'carol-Passw0rd', dave: 'dave-Passw0rd', erin: 'erin-Passw0rd' };
const LIVE_MS = 1000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let chain: string;
let daemon: RunningDaemon | undefined;
let authPort: number;
const secrets: Record<string, Buffer> = {};

type Reply = { code: string | undefined; out: string; state: string | undefined; messages: string[] };

/** The code of the step `offset` steps from now. */
const code = (user: string, offset = 0): string => hotp(secrets[user]!, totpStep(Date.now()) + offset);

async function send(user: string, password: string, state?: string): Promise<Reply> {
  const input = `User-Name = "${user}", User-Password = "${password}"${state ? `, State = ${state}` : ''}, Message-Authenticator = 0x00\n`;
  // The first password check runs the slow hash on a busy box: more than radclient's usual second.
  const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, input, ['-r', '1', '-t', '5']);
  const out = r.stdout + r.stderr;
  // radclient -x prints the reply's attributes, one a line, after "Received <code>".
  const reply = out.slice(out.indexOf('Received '));
  return {
    code: /Received (Access-Accept|Access-Reject|Access-Challenge)/.exec(out)?.[1], out,
    state: /^\s+State = (0x[0-9a-f]+)$/m.exec(reply)?.[1],
    messages: [...reply.matchAll(/^\s+Reply-Message = "(.*)"$/gm)].map((m) => m[1]!),
  };
}

const cli = (command: string, ...args: string[]) => authboxOk([...command.split(' '), '--data', data.dir, ...args]);

/**
 * Enrols through the CLI; the confirming code is the previous step's, so this step's and the
 * next stay usable. The previous step's code is good until this step ends: a CLI run on a
 * busy box takes seconds, so close to the end of a step this waits for the next one.
 */
async function enrol(user: string): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < 12_000) await sleep(left + 100);
  const out = cli('user otp enroll', '--username', user, '--print-secret');
  const secret = /^secret: ([A-Z2-7]+)$/m.exec(out)?.[1];
  expect(secret, out).toBeDefined();
  secrets[user] = base32Decode(secret!);
  cli('user otp confirm', '--username', user, '--code', code(user, -1));
}

async function decisions(user: string, n: number): Promise<{ outcome: string; reason: string | null; method: string; details?: Record<string, string> }[]> {
  for (const deadline = Date.now() + 5000; ; await sleep(100)) {
    const rows = JSON.parse(cli('log auth', '--json', '--user', user, '--limit', String(n))) as never[];
    if (rows.length >= n || Date.now() > deadline) return rows;
  }
}

/** Sends until `check` passes, at most LIVE_MS after `since` (a CLI policy change is live within a second). */
async function until(since: number, attempt: () => Promise<Reply>, check: (r: Reply) => boolean): Promise<Reply> {
  for (;;) {
    const r = await attempt();
    if (check(r)) return r;
    if (Date.now() - since > LIVE_MS) throw new Error(`not applied within ${LIVE_MS} ms: ${r.out}`);
    await sleep(50);
  }
}

beforeAll(async () => {
  data = await initDataDir();
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'rdgw', '--address', '127.0.0.1/32', '--secret', SECRET, '--kind', 'gateway']);
  for (const [user, pw] of Object.entries(PW)) {
    authboxOk(['user', 'add', '--data', data.dir, '--username', user, '--password', pw, '--group', user === 'erin' ? 'remote' : 'staff']);
  }
  cli('policy set', '--group', 'staff', '--vlan', '42');
  cli('policy factors', '--kind', 'gateway', '--otp', 'required');
  for (const u of ['alice', 'bob', 'erin']) await enrol(u);
  files = tempDir('authbox-otp-');
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
}, 120_000);

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('user otp commands', () => {
  it('enrols with a QR code, shows the state but never the secret again, and resets', () => {
    cli('user add', '--username', 'frank', '--password', 'frank-Passw0rd');
    const show = () => JSON.parse(cli('user show', '--username', 'frank', '--json')) as Record<string, unknown>;
    expect(show()).toMatchObject({ otp: 'none', otpEnrolledAt: null });
    const out = cli('user otp enroll', '--username', 'frank');
    const uri = /^otpauth URI: (otpauth:\/\/totp\/Test%20City:frank\?secret=([A-Z2-7]+)&issuer=Test\+City\S*)$/m.exec(out);
    expect(uri, out).not.toBeNull();
    // The terminal QR code: rows of block characters.
    expect(out.split('\n').filter((l) => /[▀▄█]/.test(l)).length).toBeGreaterThan(10);
    expect(out).not.toMatch(/^secret:/m);
    expect(show()).toMatchObject({ otp: 'pending' });
    const secret = base32Decode(uri![2]!);
    cli('user otp confirm', '--username', 'frank', '--code', hotp(secret, totpStep(Date.now())));
    const shown = JSON.stringify(show());
    expect(JSON.parse(shown)).toMatchObject({ otp: 'enrolled' });
    expect(shown).not.toContain(uri![2]!);
    expect(cli('user show', '--username', 'frank')).toMatch(/^one-time code enrolled \d{4}-/m);
    expect(authbox(['user', 'otp', 'enroll', '--data', data.dir, '--username', 'frank']).stderr).toMatch(/already has a one-time code enrolled: reset it first/);
    expect(cli('user otp reset', '--username', 'frank')).toBe('one-time code of "frank" reset\n');
    expect(show()).toMatchObject({ otp: 'none' });
    expect(cli('user otp reset', '--username', 'frank')).toBe('"frank" had no one-time code\n');
  });
});

describe('the challenge (RFC 2865 §4.4)', () => {
  let firstState: string;
  let firstCode: string;

  it('answers a right password with Access-Challenge (State, Reply-Message), then the code with Access-Accept and the policy', async () => {
    const c = await send('alice', PW.alice);
    expect(c.code, c.out).toBe('Access-Challenge');
    expect(c.state).toMatch(/^0x4f545031[0-9a-f]{32}$/);
    expect(c.messages).toEqual(['Enter the one-time code from your authenticator app']);
    firstState = c.state!;
    firstCode = code('alice');
    const a = await send('alice', firstCode, firstState);
    expect(a.code, a.out).toBe('Access-Accept');
    expect(a.out).toMatch(/^\s+Tunnel-Private-Group-Id:0 = "42"$/m);
  });

  it('gives each challenge a fresh State', async () => {
    const one = await send('alice', PW.alice);
    const two = await send('alice', PW.alice);
    expect(one.code).toBe('Access-Challenge');
    expect(two.code).toBe('Access-Challenge');
    expect(one.state).not.toBe(two.state);
  });

  it('refuses a wrong code', async () => {
    const c = await send('alice', PW.alice);
    const wrong = hotp(secrets.alice!, totpStep(Date.now()) + 1000);
    const r = await send('alice', wrong, c.state);
    expect(r.code, r.out).toBe('Access-Reject');
  });

  it('refuses a replayed code', async () => {
    const c = await send('alice', PW.alice);
    const r = await send('alice', firstCode, c.state);
    expect(r.code, r.out).toBe('Access-Reject');
  });

  it('refuses a State answered before, even with a good code', async () => {
    const r = await send('alice', code('alice', 1), firstState);
    expect(r.code, r.out).toBe('Access-Reject');
    // That code was not used up: a fresh challenge takes it.
    const c = await send('alice', PW.alice);
    expect((await send('alice', code('alice', 1), c.state)).code).toBe('Access-Accept');
  });

  it('refuses a wrong password without a challenge', async () => {
    const r = await send('alice', 'not-the-Passw0rd');
    expect(r.code, r.out).toBe('Access-Reject');
    expect(r.state).toBeUndefined();
  });

  it('logs each refusal with its reason, the method and how the code came', async () => {
    const rows = await decisions('alice', 5);
    expect(rows.map((d) => [d.outcome, d.reason, d.method])).toEqual([
      ['reject', 'wrong password', 'pap'],
      ['accept', null, 'pap'],
      ['reject', 'challenge unknown, expired or already answered', 'pap'],
      ['reject', 'wrong or reused one-time code', 'pap'],
      ['reject', 'wrong or reused one-time code', 'pap'],
    ]);
    expect(rows[1]!.details).toMatchObject({ otp: 'challenge' });
  });
});

describe('the joined field', () => {
  it('accepts password and code in one User-Password, and refuses the same field again', async () => {
    const field = PW.bob + code('bob');
    const a = await send('bob', field);
    expect(a.code, a.out).toBe('Access-Accept');
    expect(a.out).toMatch(/Tunnel-Private-Group-Id:0 = "42"/);
    const again = await send('bob', field);
    expect(again.code, again.out).toBe('Access-Reject');
    const rows = await decisions('bob', 2);
    expect(rows.map((d) => [d.outcome, d.reason, d.details?.otp])).toEqual([
      ['reject', 'wrong or reused one-time code', 'joined'], ['accept', null, 'joined'],
    ]);
  });

  it('refuses a joined field with a wrong password', async () => {
    const r = await send('bob', `not-the-Passw0rd${code('bob', 1)}`);
    expect(r.code).toBe('Access-Reject');
    expect(r.state).toBeUndefined();
  });
});

describe('who must give a code', () => {
  it('refuses a user without an enrolment, saying why', async () => {
    const r = await send('carol', PW.carol);
    expect(r.code, r.out).toBe('Access-Reject');
    expect(r.messages[0]).toMatch(/one-time code is required, but none is enrolled/);
    expect((await decisions('carol', 1))[0]!.reason).toBe('one-time code required but not enrolled');
  });

  it('takes a plain password once the kind no longer requires a code', async () => {
    const since = Date.now();
    cli('policy factors', '--kind', 'gateway', '--otp', 'off');
    await until(since, () => send('carol', PW.carol), (r) => r.code === 'Access-Accept');
    expect((await send('alice', PW.alice)).code).toBe('Access-Accept');
  });

  it('requires a code from the members of a group only', async () => {
    const since = Date.now();
    cli('policy group-otp', '--group', 'remote', '--otp', 'required');
    const c = await until(since, () => send('erin', PW.erin), (r) => r.code === 'Access-Challenge');
    expect((await send('erin', code('erin'), c.state)).code).toBe('Access-Accept');
    expect((await send('dave', PW.dave)).code).toBe('Access-Accept');
  });

  it('asks for a new code after a helpdesk reset and re-enrolment', async () => {
    cli('user otp reset', '--username', 'erin');
    const since = Date.now();
    const r = await until(since, () => send('erin', PW.erin), (x) => x.code === 'Access-Reject');
    expect(r.messages[0]).toMatch(/none is enrolled/);
    await enrol('erin');
    const c = await until(Date.now(), () => send('erin', PW.erin), (x) => x.code === 'Access-Challenge');
    expect((await send('erin', code('erin'), c.state)).code).toBe('Access-Accept');
  });
});

describe('inside EAP-TTLS and PEAP (eapol_test), where erin\'s group requires a code', () => {
  const eapol = (eap: 'TTLS' | 'PEAP', phase2: string, identity: string, password: string): Promise<RunResult> => runEapolTest({
    dir: files.path, caCert: chain, port: authPort, secret: SECRET,
    network: [`eap=${eap}`, `identity="${identity}"`, `password="${password}"`, `phase1="${TLS13}"`, `phase2="${phase2}"`],
  });
  const tail = (r: RunResult): string => (r.stdout + r.stderr).split('\n').slice(-40).join('\n');

  it('accepts TTLS-PAP with the code joined to the password, once', async () => {
    const field = PW.erin + code('erin', 1);
    const r = await eapol('TTLS', 'auth=PAP', 'erin', field);
    expect(verdict(r), tail(r)).toBe('SUCCESS');
    const again = await eapol('TTLS', 'auth=PAP', 'erin', field);
    expect(verdict(again), tail(again)).toBe('FAILURE');
    const rows = await decisions('erin', 2);
    expect(rows.map((d) => [d.outcome, d.method, d.reason])).toEqual([
      ['reject', 'eap-ttls', 'wrong or reused one-time code'], ['accept', 'eap-ttls', null],
    ]);
    expect(rows[1]!.details).toMatchObject({ inner: 'pap+otp' });
  });

  it('refuses a password alone through TTLS-PAP and PEAP-MSCHAPv2, and takes it from a user without the requirement', async () => {
    for (const [eap, phase2] of [['TTLS', 'auth=PAP'], ['PEAP', 'auth=MSCHAPV2']] as const) {
      const r = await eapol(eap, phase2, 'erin', PW.erin);
      expect(verdict(r), tail(r)).toBe('FAILURE');
      expect((await decisions('erin', 1))[0]).toMatchObject({ outcome: 'reject', reason: 'one-time code required: this method cannot carry one' });
    }
    const dave = await eapol('PEAP', 'auth=MSCHAPV2', 'dave', PW.dave);
    expect(verdict(dave), tail(dave)).toBe('SUCCESS');
  });
});
