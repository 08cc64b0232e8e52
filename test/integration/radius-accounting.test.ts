// Accounting and the decision log through a running `authbox serve`, with the real radclient
// (freeradius-utils) as the NAS: Start, Interim-Update and Stop make one closed session with
// bytes and duration; Accounting-On closes open sessions; a wrong secret gets no answer; and
// `authbox log auth` shows a PAP accept and a wrong-password refusal with their reasons.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authbox, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon } from '../helpers/authbox.js';

const SECRET = 'radius-shared-S3cret';
const ALICE_PW = 'alice-Passw0rd';

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let acctPort: number;

interface Session {
  user: string | null; nas: string; acctSessionId: string; status: 'open' | 'closed'; framedIp: string | null; callingStationId: string | null;
  nasIp: string | null; nasPort: number | null; durationSeconds: number; inputOctets: number; outputOctets: number; inputPackets: number;
  outputPackets: number; interimUpdates: number; terminateCause: string | null; startedAt: string; stoppedAt: string | null;
}
interface Decision { user: string | null; nas: string; callingStationId: string | null; method: string | null; outcome: string; reason: string | null; at: string }

const received = (r: { stdout: string; stderr: string }): string | undefined =>
  /Received (Access-Accept|Access-Reject|Accounting-Response)/.exec(r.stdout + r.stderr)?.[1];

const acct = (input: string, secret = SECRET) => radclient(`127.0.0.1:${acctPort}`, 'acct', secret, input);
const sessions = (extra: string[] = []): Session[] => JSON.parse(authboxOk(['log', 'acct', '--data', data.dir, '--json', ...extra])) as Session[];

beforeAll(async () => {
  data = await initDataDir();
  [authPort, acctPort] = [await freeUdpPort(), await freeUdpPort()];
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', ALICE_PW]);
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`, '--radius-acct', `127.0.0.1:${acctPort}`]);
});

afterAll(async () => {
  await daemon?.stop();
  data?.cleanup();
});

describe('accounting with radclient', () => {
  const where = 'User-Name = "alice", NAS-IP-Address = 127.0.0.1, NAS-Port = 7, Framed-IP-Address = 10.0.0.7, Calling-Station-Id = "02-00-00-00-00-01"';

  it('stores Start, Interim-Update and Stop as one session, closed with bytes (Gigawords included) and duration', async () => {
    const start = await acct(`${where}, Acct-Status-Type = Start, Acct-Session-Id = "sess-1"\n`);
    expect(received(start), start.stdout + start.stderr).toBe('Accounting-Response');
    // The response came after the commit: the CLI, another process, sees the session at once.
    expect(sessions(['--open'])).toMatchObject([{ acctSessionId: 'sess-1', status: 'open', user: 'alice' }]);

    const interim = await acct(`${where}, Acct-Status-Type = Interim-Update, Acct-Session-Id = "sess-1", Acct-Session-Time = 30, `
      + 'Acct-Input-Octets = 1000, Acct-Output-Octets = 2000, Acct-Input-Packets = 10, Acct-Output-Packets = 20\n');
    expect(received(interim)).toBe('Accounting-Response');
    expect(sessions()[0]).toMatchObject({ status: 'open', durationSeconds: 30, inputOctets: 1000, interimUpdates: 1 });

    const stopInput = `${where}, Acct-Status-Type = Stop, Acct-Session-Id = "sess-1", Acct-Session-Time = 95, Acct-Input-Octets = 5000, `
      + 'Acct-Input-Gigawords = 1, Acct-Output-Octets = 9000, Acct-Input-Packets = 40, Acct-Output-Packets = 50, Acct-Terminate-Cause = User-Request\n';
    const stop = await acct(stopInput);
    expect(received(stop)).toBe('Accounting-Response');
    // A repeated Stop is answered and changes nothing.
    expect(received(await acct(stopInput))).toBe('Accounting-Response');

    const all = sessions();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({
      user: 'alice', nas: 'lo', acctSessionId: 'sess-1', status: 'closed', framedIp: '10.0.0.7', callingStationId: '02-00-00-00-00-01',
      nasIp: '127.0.0.1', nasPort: 7, durationSeconds: 95, inputOctets: 2 ** 32 + 5000, outputOctets: 9000, inputPackets: 40,
      outputPackets: 50, interimUpdates: 1, terminateCause: 'User-Request',
    });
    expect(all[0]!.stoppedAt).not.toBeNull();
    expect(sessions(['--open'])).toEqual([]);
    expect(sessions(['--user', 'ALICE'])).toHaveLength(1);
    expect(sessions(['--user', 'bob'])).toEqual([]);
  });

  it('closes the NAS\'s open sessions on Accounting-On', async () => {
    for (const id of ['sess-2', 'sess-3']) {
      expect(received(await acct(`${where}, Acct-Status-Type = Start, Acct-Session-Id = "${id}"\n`))).toBe('Accounting-Response');
    }
    expect(sessions(['--open']).map((s) => s.acctSessionId).sort()).toEqual(['sess-2', 'sess-3']);
    const on = await acct('NAS-IP-Address = 127.0.0.1, Acct-Status-Type = Accounting-On\n');
    expect(received(on), on.stdout + on.stderr).toBe('Accounting-Response');
    expect(sessions(['--open'])).toEqual([]);
    expect(sessions().filter((s) => s.acctSessionId !== 'sess-1').map((s) => s.terminateCause)).toEqual(['NAS-Reboot', 'NAS-Reboot']);
  });

  it('gives no answer to a request signed with the wrong secret, and stores nothing from it', async () => {
    const bad = await acct(`${where}, Acct-Status-Type = Start, Acct-Session-Id = "forged"\n`, 'wrong-shared-secret');
    expect(received(bad)).toBeUndefined();
    expect(sessions().map((s) => s.acctSessionId)).not.toContain('forged');
  });

  it('shows sessions as text', () => {
    const r = authbox(['log', 'acct', '--data', data.dir]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/closed\s+alice via lo\s+sess-1\s+10\.0\.0\.7\s+95s/);
  });
});

describe('the decision log', () => {
  it('shows a PAP accept and a wrong-password refusal with their reasons, never the password', async () => {
    const pap = (pw: string) => `User-Name = "alice", User-Password = "${pw}", Calling-Station-Id = "02-00-00-00-00-09", Message-Authenticator = 0x00\n`;
    expect(received(await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, pap(ALICE_PW)))).toBe('Access-Accept');
    expect(received(await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, pap('not-the-Passw0rd')))).toBe('Access-Reject');
    expect(received(await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET,
      'User-Name = "mallory", User-Password = "x-Passw0rd", Message-Authenticator = 0x00\n'))).toBe('Access-Reject');
    // Decisions are written in batches (every 200 ms): wait for them.
    let out = '';
    let rows: Decision[] = [];
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(100)) {
      out = authboxOk(['log', 'auth', '--data', data.dir, '--json']);
      rows = JSON.parse(out) as Decision[];
      if (rows.length >= 3) break;
    }
    expect(rows.map((d) => [d.user, d.outcome, d.reason])).toEqual([
      ['mallory', 'reject', 'unknown user'], ['alice', 'reject', 'wrong password'], ['alice', 'accept', null],
    ]);
    expect(rows[1]).toMatchObject({ nas: 'lo', method: 'pap', callingStationId: '02-00-00-00-00-09' });
    expect(out).not.toContain('not-the-Passw0rd');
    expect(out).not.toContain(ALICE_PW);

    const alice = JSON.parse(authboxOk(['log', 'auth', '--data', data.dir, '--json', '--user', 'alice', '--limit', '1'])) as Decision[];
    expect(alice.map((d) => d.reason)).toEqual(['wrong password']);
    const text = authboxOk(['log', 'auth', '--data', data.dir, '--user', 'alice']);
    expect(text).toMatch(/REJECT\s+alice via lo from 02-00-00-00-00-09\s+pap\s+wrong password/);
    expect(text).toMatch(/ACCEPT\s+alice via lo/);
  });
});
