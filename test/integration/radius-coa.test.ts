// Revocation that ends sessions (RFC 5176 Disconnect-Request) through a running `authbox serve`:
// radclient (freeradius-utils) is the NAS for accounting; a dgram socket on 127.0.0.1 plays the
// NAS's Dynamic Authorization Server, checking each request's Request Authenticator and
// Message-Authenticator with node:crypto on its own (and is itself checked against radclient's
// Disconnect-Request first). `authbox cert revoke` and `authbox user disable`, other processes,
// reach the daemon through the change feed; outcomes are read back with `authbox nas coa-log`.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readMasterKey } from '../../src/config/config.js';
import { unseal } from '../../src/core/seal.js';
import {
  authboxAsync, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, withDatabase, type RunningDaemon,
} from '../helpers/authbox.js';
import { ATTR_EVENT_TIMESTAMP, ATTR_USER_NAME, CoaListener } from '../helpers/coa-listener.js';

const SECRET = 'radius-shared-S3cret';
const COA_SECRET = 'coa-only-S3cret-77';
interface Outcome {
  user: string | null; nas: string; target: string; acctSessionId: string; reason: string; serial: string | null; attempts: number;
  outcome: string; errorCause: number | null; detail: string | null;
}

let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let listener: CoaListener;
let acctPort: number;

const acct = (input: string) => radclient(`127.0.0.1:${acctPort}`, 'acct', SECRET, input);

async function cli(args: string[]): Promise<string> {
  const r = await authboxAsync(args);
  if (r.status !== 0) throw new Error(`authbox ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const coaLog = async (): Promise<Outcome[]> => JSON.parse(await cli(['nas', 'coa-log', '--data', data.dir, '--json'])) as Outcome[];

async function startSession(user: string, sessionId: string): Promise<void> {
  const r = await acct(`User-Name = "${user}", NAS-IP-Address = 127.0.0.1, Calling-Station-Id = "02-00-00-00-00-0${sessionId.length % 10}", `
    + `Acct-Status-Type = Start, Acct-Session-Id = "${sessionId}"\n`);
  expect(r.stdout + r.stderr).toMatch(/Received Accounting-Response/);
}

/** Waits until `done` holds (polling), failing after `ms`. */
async function until<T>(what: string, ms: number, get: () => T | Promise<T>, done: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  data = await initDataDir();
  listener = await CoaListener.start(COA_SECRET);
  acctPort = await freeUdpPort();
  // No --coa-address: the NAS-IP-Address seen in accounting (127.0.0.1) is where requests go.
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET,
    '--coa-port', String(listener.port), '--coa-secret', COA_SECRET]);
  for (const u of ['alice', 'bob', 'carol', 'dave']) authboxOk(['user', 'add', '--data', data.dir, '--username', u, '--password', `${u}-Passw0rd-1`]);
  daemon = await startServe(data.dir, data.port, ['--radius-acct', `127.0.0.1:${acctPort}`]);
});

afterAll(async () => {
  await daemon?.stop();
  await listener?.close();
  data?.cleanup();
});

describe('the test NAS itself', () => {
  it('accepts radclient\'s Disconnect-Request and refuses one signed with another secret', async () => {
    const input = 'User-Name = "probe", Acct-Session-Id = "probe-1", Message-Authenticator = 0x00\n';
    const r = await radclient(`127.0.0.1:${listener.port}`, 'disconnect' as 'auth', COA_SECRET, input);
    expect(r.stdout + r.stderr).toMatch(/Received Disconnect-ACK/);
    await radclient(`127.0.0.1:${listener.port}`, 'disconnect' as 'auth', 'not-the-coa-secret', input);
    expect(listener.forSession('probe-1').map((s) => [s.authenticatorOk, s.messageAuthenticatorOk])).toEqual([[true, true], [false, false]]);
  });
});

describe('Disconnect-Request on revocation', () => {
  it('shows the CoA settings, never the secret', async () => {
    const [nas] = JSON.parse(await cli(['nas', 'list', '--data', data.dir, '--json'])) as { coa: unknown }[];
    expect(nas!.coa).toEqual({ port: listener.port, address: null, ownSecret: true });
    expect(await cli(['nas', 'list', '--data', data.dir])).not.toContain(COA_SECRET);
    // Sealed under the master key with its own AAD; the audit row says only that a secret of its own is set.
    const { sealed, audit } = withDatabase(data.dir, (db) => ({
      sealed: (db.prepare("SELECT coa_secret_sealed AS s FROM nas_clients WHERE name = 'lo'").get() as { s: Buffer }).s,
      audit: (db.prepare("SELECT detail FROM audit WHERE action = 'nas.add'").get() as { detail: string }).detail,
    }));
    expect(sealed.includes(Buffer.from(COA_SECRET))).toBe(false);
    expect(unseal(readMasterKey(join(data.dir, 'master.key')), 'nas-coa:lo', sealed).toString()).toBe(COA_SECRET);
    expect(JSON.parse(audit)).toMatchObject({ coa: { enabled: true, port: listener.port, ownSecret: true, address: null } });
    expect(audit).not.toContain(COA_SECRET);
  });

  it('revoking a certificate ends its user\'s session and its CN\'s session, within seconds', async () => {
    const work = join(data.dir, '..');
    const out = await cli(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'alice-laptop', '--user', 'alice',
      '--out-cert', join(work, 'alice.pem'), '--out-key', join(work, 'alice.key')]);
    const serial = /certificate ([0-9A-Fa-f]+) for/.exec(out)![1]!;
    await startSession('alice', 'X-alice-1');
    await startSession('alice-laptop', 'X-alice-2');
    await startSession('bob', 'X-bob-0');
    const before = listener.seen.length;
    await cli(['cert', 'revoke', '--data', data.dir, '--serial', serial, '--reason', 'keyCompromise']);
    const revokedAt = Date.now();
    await until('two Disconnect-Requests', 10_000, () => listener.seen.length - before, (n) => n >= 2);
    for (const id of ['X-alice-1', 'X-alice-2']) {
      const [req] = listener.forSession(id);
      expect(req, id).toBeDefined();
      expect(req!.authenticatorOk && req!.messageAuthenticatorOk).toBe(true);
      expect(req!.at - revokedAt).toBeLessThan(5000);
      expect(req!.attrs.has(ATTR_EVENT_TIMESTAMP)).toBe(true);
    }
    expect(listener.forSession('X-alice-1')[0]!.attrs.get(ATTR_USER_NAME)!.toString()).toBe('alice');
    const log = await until('two outcomes', 5000, coaLog, (rows) => rows.length >= 2);
    // (Attempts are not pinned here: on a loaded machine a reply may come after the first 1 s wait.)
    expect(log.map((r) => [r.acctSessionId, r.outcome, r.reason, r.serial]).sort()).toEqual([
      ['X-alice-1', 'ack', 'cert.revoke', serial], ['X-alice-2', 'ack', 'cert.revoke', serial],
    ]);
    expect(log[0]!.target).toBe(`127.0.0.1:${listener.port}`);
    expect(listener.forSession('X-bob-0')).toEqual([]);
    // Audited as a system action.
    const audit = await cli(['nas', 'coa-log', '--data', data.dir, '--user', 'alice']);
    expect(audit).toMatch(/ACK\s+alice on lo session X-alice-1\s+cert.revoke/);
  });

  it('disabling a user ends the open session only, not one already stopped', async () => {
    await startSession('bob', 'X-bob-1');
    await startSession('bob', 'X-bob-2');
    const stop = await acct('User-Name = "bob", NAS-IP-Address = 127.0.0.1, Acct-Status-Type = Stop, Acct-Session-Id = "X-bob-2", Acct-Session-Time = 5\n');
    expect(stop.stdout + stop.stderr).toMatch(/Received Accounting-Response/);
    await cli(['user', 'disable', '--data', data.dir, '--username', 'bob']);
    const rows = await until('bob\'s outcomes', 5000, async () => (await coaLog()).filter((r) => r.user === 'bob'), (r) => r.length >= 2);
    expect(rows.map((r) => [r.acctSessionId, r.outcome, r.reason]).sort()).toEqual([['X-bob-0', 'ack', 'user.disable'], ['X-bob-1', 'ack', 'user.disable']]);
    await sleep(500);
    expect(listener.forSession('X-bob-2')).toEqual([]);
    expect(listener.forSession('X-bob-1').every((s) => s.authenticatorOk && s.messageAuthenticatorOk)).toBe(true);
  });

  it('records a NAK with Error-Cause 503 (Session-Context-Not-Found) as such', async () => {
    await startSession('carol', 'X-carol-1');
    listener.answer = 'nak503';
    try {
      await cli(['user', 'disable', '--data', data.dir, '--username', 'carol']);
      const [row] = await until('carol\'s outcome', 5000, async () => (await coaLog()).filter((r) => r.user === 'carol'), (r) => r.length >= 1);
      expect(row).toMatchObject({ acctSessionId: 'X-carol-1', outcome: 'nak', errorCause: 503, detail: 'Session-Context-Not-Found' });
    } finally {
      listener.answer = 'ack';
    }
    // Still open in accounting: only the NAS's Stop closes a session.
    const open = JSON.parse(await cli(['log', 'acct', '--data', data.dir, '--json', '--open', '--user', 'carol'])) as unknown[];
    expect(open).toHaveLength(1);
  });

  it('retransmits to a silent NAS, then records a timeout', async () => {
    await startSession('dave', 'X-dave-1');
    listener.answer = 'silent';
    try {
      await cli(['user', 'disable', '--data', data.dir, '--username', 'dave']);
      // Nothing blocks this process's event loop meanwhile, so the arrival times are true.
      const sent = await until('three transmissions', 10_000, () => listener.forSession('X-dave-1'), (s) => s.length >= 3);
      const [row] = await until('dave\'s outcome', 10_000, async () => (await coaLog()).filter((r) => r.user === 'dave'), (r) => r.length >= 1);
      expect(row).toMatchObject({ acctSessionId: 'X-dave-1', outcome: 'timeout', attempts: 3, errorCause: null });
      expect(listener.forSession('X-dave-1')).toHaveLength(3);
      // Retransmissions: the same Identifier, spaced by the backoff (1 s, then 2 s).
      expect(new Set(sent.map((s) => s.id)).size).toBe(1);
      expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(900);
      expect(sent[2]!.at - sent[1]!.at).toBeGreaterThanOrEqual(1900);
    } finally {
      listener.answer = 'ack';
    }
  });

  it('refuses bad CoA settings with clear messages', async () => {
    const r = await authboxAsync(['nas', 'set', '--data', data.dir, '--name', 'lo', '--coa-address', '10.0.0.0/8']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/--coa-address must be one IPv4 or IPv6 address/);
    expect((await authboxAsync(['nas', 'set', '--data', data.dir, '--name', 'lo', '--coa-port', '70000'])).stderr).toMatch(/CoA port must be 1 to 65535/);
    expect(await cli(['nas', 'set', '--data', data.dir, '--name', 'lo', '--no-coa'])).toMatch(/Disconnect-Requests off/);
    expect(await cli(['nas', 'set', '--data', data.dir, '--name', 'lo', '--coa'])).toMatch(new RegExp(`to auto:${listener.port}`));
  });
});
