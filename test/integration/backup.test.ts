// Backup and restore against a real `authbox serve` under RADIUS load (radclient), with
// openssl checking the restored CA, a certificate issued after the restore and the next
// CRL; damaged backups and wrong passphrases; and a SIGKILL of the daemon and of a CLI in
// the middle of a burst of acknowledged writes.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTHBOX, authbox, authboxOk, freePort, freeUdpPort, initDataDir, openssl, radclient, sleep, startServe, withDatabase,
  type RunResult, type RunningDaemon,
} from '../helpers/authbox.js';
import { crlFacts, httpRequest, normSerial, pollUntil, waitPortFree, writeCaFiles, type CaFiles } from '../helpers/pki.js';

const SECRET = 'radius-shared-S3cret';
const ALICE_PW = 'alice-Passw0rd!';
const PASSPHRASE = 'backup passphrase kept apart';

/** Tables whose rows keep being appended by RADIUS traffic, compared as prefixes only. */
const APPEND_ONLY = ['auth_log', 'changes'];
/** AUTOINCREMENT counters: they move with the append-only tables. */
const VOLATILE = ['sqlite_sequence'];

let data: Awaited<ReturnType<typeof initDataDir>>;
let work: string;
let ca: CaFiles;
let passFile: string;
const daemons: RunningDaemon[] = [];

/** The CLI without blocking the event loop (radclient load keeps running meanwhile). */
function authboxAsync(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<RunResult> } {
  const child = spawn(process.execPath, [AUTHBOX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<RunResult>((res) => child.on('close', (code, signal) => res({ status: code ?? (signal ? -1 : -2), stdout, stderr })));
  return { child, done };
}

async function cli(args: string[]): Promise<string> {
  const r = await authboxAsync(args).done;
  if (r.status !== 0) throw new Error(`authbox ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

async function issue(dir: string, cn: string): Promise<{ serial: string; cert: string }> {
  const cert = join(work, `${cn}-${Date.now()}.pem`);
  const out = await cli(['cert', 'issue', '--data', dir, '--profile', 'device', '--cn', cn, '--dns', `${cn}.test`,
    '--out-cert', cert, '--out-key', cert.replace(/\.pem$/, '.key')]);
  return { serial: /certificate ([0-9a-f]+) for/.exec(out)![1]!, cert };
}

type Rows = Record<string, unknown[]>;
function allRows(dir: string): Rows {
  return withDatabase(dir, (db) => {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
      .map((t) => t.name).filter((t) => !VOLATILE.includes(t));
    // Every column in the order, so the comparison does not depend on a table's row order (some have one column).
    const order = (t: string): string => (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(t) as { name: string }[]).map((c) => `"${c.name}"`).join(', ');
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}" ORDER BY ${order(t)}`).all()]));
  });
}

async function issuingCrl(base: string, name: string) {
  const res = await httpRequest(`${base}/crl/issuing.crl`);
  expect(res.status).toBe(200);
  const file = join(work, name);
  writeFileSync(file, res.body);
  return crlFacts(file, ca.chain);
}

const pap = `User-Name = "alice", User-Password = "${ALICE_PW}", Message-Authenticator = 0x00\n`;

beforeAll(async () => {
  data = await initDataDir();
  work = dirname(data.dir);
  ca = writeCaFiles(data.dir, work);
  passFile = join(work, 'passphrase');
  writeFileSync(passFile, PASSPHRASE + '\n', { mode: 0o600 });
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['user', 'add', '--data', data.dir, '--username', 'alice', '--password', ALICE_PW, '--group', 'staff']);
  authboxOk(['device', 'add', '--data', data.dir, '--mac', '00:11:22:33:44:55', '--name', 'printer-1', '--group', 'staff']);
  authboxOk(['policy', 'set', '--data', data.dir, '--group', 'staff', '--vlan', '42']);
});

afterAll(async () => {
  for (const d of daemons) await d.stop('SIGKILL');
  data?.cleanup();
});

describe('backup under load, restore into a new folder', () => {
  it('gives back every row, the same CA, and a CRL number that keeps increasing', async () => {
    const authPort = await freeUdpPort();
    const daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
    daemons.push(daemon);
    let stopLoad = false;
    const outcomes = { accept: 0, other: 0 };
    const load = (async () => {
      while (!stopLoad) {
        const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, (pap + '\n').repeat(5), ['-r', '2', '-t', '2', '-p', '5']);
        const n = (r.stdout.match(/Received Access-Accept/g) ?? []).length;
        outcomes.accept += n;
        outcomes.other += 5 - n;
      }
    })();

    const revoked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await issue(data.dir, `before-${i}`);
      if (i % 2 === 0) {
        await cli(['cert', 'revoke', '--data', data.dir, '--serial', c.serial, '--reason', 'keyCompromise']);
        revoked.push(c.serial);
      }
    }
    // The daemon re-issues the CRL after a revocation; wait for it, so the backup holds it.
    const before = await pollUntil('the CRL to list the revocations', 5000, async () => {
      const c = await issuingCrl(daemon.base, 'before.crl');
      return c.verified && revoked.every((s) => c.serials.includes(normSerial(s))) ? c : undefined;
    });
    await sleep(500);

    const file = join(work, 'full.abk');
    const r = await authboxAsync(['backup', '--data', data.dir, '--out', file, '--passphrase-file', passFile]).done;
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/backup .*full\.abk/);
    expect(readFileSync(file).subarray(0, 14).toString()).toBe('AUTHBOX-BACKUP');
    expect((readdirSync(work).filter((n) => n.startsWith('.authbox-backup-')))).toEqual([]);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    await sleep(500);
    stopLoad = true;
    await load;
    expect(outcomes.accept, JSON.stringify(outcomes)).toBeGreaterThan(20);
    expect(outcomes.other).toBe(0);
    await daemon.stop();
    daemons.pop();
    await waitPortFree(data.port);

    // The audit row of the backup: counts, never a secret.
    const auditRow = withDatabase(data.dir, (db) => db.prepare("SELECT * FROM audit WHERE action = 'backup.create'").get() as { detail: string });
    const detail = JSON.parse(auditRow.detail) as { counts: Record<string, number>; crlNumbers: Record<string, number> };
    expect(detail.counts).toMatchObject({ cas: 2, users: 1, devices: 1, nasClients: 1, revocations: 3 });
    expect(auditRow.detail).not.toContain(PASSPHRASE);
    expect(auditRow.detail).not.toContain(readFileSync(join(data.dir, 'master.key'), 'utf8').trim());

    const restored = join(work, 'restored');
    const rr = authbox(['restore', '--data', restored, '--in', file, '--passphrase-file', passFile]);
    expect(rr.status, rr.stderr).toBe(0);
    expect(rr.stdout.trim().split('\n')).toHaveLength(1);
    expect(statSync(join(restored, 'master.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(restored, 'master.key'))).toEqual(readFileSync(join(data.dir, 'master.key')));
    expect(readFileSync(join(restored, 'authbox.json'))).toEqual(readFileSync(join(data.dir, 'authbox.json')));
    withDatabase(restored, (db) => expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]));

    // Every table row for row; the append-only ones as a prefix of the original's (RADIUS
    // kept writing decisions after the snapshot); the audit log but for the two backup rows.
    const a = allRows(data.dir);
    const b = allRows(restored);
    expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
    for (const t of Object.keys(a)) {
      if (t === 'audit') {
        const strip = (rows: unknown[], action: string) => rows.filter((x) => (x as { action: string }).action !== action);
        expect(strip(b[t]!, 'backup.restore'), t).toEqual(strip(a[t]!, 'backup.create'));
        expect(b[t]!.filter((x) => (x as { action: string }).action === 'backup.restore')).toHaveLength(1);
      } else if (APPEND_ONLY.includes(t)) {
        expect(a[t]!.slice(0, b[t]!.length), t).toEqual(b[t]);
      } else {
        expect(b[t], t).toEqual(a[t]);
      }
    }
    expect(b.auth_log!.length).toBeGreaterThan(0);

    // The restored folder serves: same CA, PAP with the restored user and client secret.
    const port2 = await freePort();
    const authPort2 = await freeUdpPort();
    const d2 = await startServe(restored, port2, ['--radius', `127.0.0.1:${authPort2}`]);
    daemons.push(d2);
    expect(authboxOk(['ca', 'cert', '--data', restored])).toBe(ca.chainPem);
    const pr = await radclient(`127.0.0.1:${authPort2}`, 'auth', SECRET, pap);
    expect(pr.stdout + pr.stderr).toMatch(/Received Access-Accept/);

    // A certificate issued after the restore verifies against the original chain.
    const after = await issue(restored, 'after-restore');
    const v = openssl(['verify', '-CAfile', ca.root, '-untrusted', ca.issuing, after.cert]);
    expect(v.stdout + v.stderr).toMatch(/: OK$/m);
    expect(v.status).toBe(0);

    // The next CRL: a higher number than any in the backup, every revoked serial, verified.
    await cli(['cert', 'revoke', '--data', restored, '--serial', after.serial, '--reason', 'superseded']);
    const next = await pollUntil('the restored daemon to publish a new CRL', 5000, async () => {
      const c = await issuingCrl(d2.base, 'after.crl');
      return c.serials.includes(normSerial(after.serial)) ? c : undefined;
    });
    expect(next.verified, next.text).toBe(true);
    expect(next.number).toBeGreaterThan(before.number);
    expect(next.number).toBeGreaterThan(Math.max(...Object.values(detail.crlNumbers)));
    for (const s of revoked) expect(next.serials).toContain(normSerial(s));
    await d2.stop();
    daemons.pop();
  }, 120_000);
});

describe('a damaged backup, a wrong passphrase', () => {
  let good: Buffer;
  beforeAll(() => {
    const file = join(work, 'small.abk');
    authboxOk(['backup', '--data', data.dir, '--out', file, '--passphrase-file', passFile]);
    good = readFileSync(file);
  });

  const refused = (bytes: Buffer | undefined, pass = passFile): { r: RunResult; target: string } => {
    const file = join(work, `bad-${Math.random().toString(36).slice(2)}.abk`);
    writeFileSync(file, bytes ?? good);
    const target = join(work, `empty-${Math.random().toString(36).slice(2)}`);
    mkdirSync(target);
    return { r: authbox(['restore', '--data', target, '--in', file, '--passphrase-file', pass]), target };
  };
  const expectRefused = ({ r, target }: { r: RunResult; target: string }, what: RegExp): void => {
    expect(r.status).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(what);
    expect(readdirSync(target)).toEqual([]);
    expect(readdirSync(work).filter((n) => n.startsWith('.authbox-restore-'))).toEqual([]);
  };

  it('refuses a byte flipped in the middle', () => {
    const bad = Buffer.from(good);
    bad[bad.length >> 1]! ^= 0x01;
    expectRefused(refused(bad), /damaged or truncated/);
  });

  it('refuses a truncated file', () => {
    expectRefused(refused(good.subarray(0, good.length - 1000)), /damaged or truncated/);
    expectRefused(refused(good.subarray(0, 40)), /damaged or truncated/);
  });

  it('refuses a wrong passphrase', () => {
    const wrong = join(work, 'wrong-pass');
    writeFileSync(wrong, 'not the right passphrase\n');
    expectRefused(refused(undefined, wrong), /wrong passphrase/);
  });

  it('refuses a file that is not a backup, and a folder that is not empty', () => {
    expectRefused(refused(Buffer.from('hello world, not a backup at all')), /not an authbox backup/);
    const r = authbox(['restore', '--data', data.dir, '--in', join(work, 'small.abk'), '--passphrase-file', passFile]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/not empty.*--force/);
  });

  it('refuses a passphrase under 12 characters, and a missing one is a usage error', () => {
    const short = join(work, 'short-pass');
    writeFileSync(short, 'short\n');
    const r = authbox(['backup', '--data', data.dir, '--out', join(work, 'x.abk'), '--passphrase-file', short]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/shorter than 12/);
    expect(existsSync(join(work, 'x.abk'))).toBe(false);
    expect(authbox(['backup', '--data', data.dir, '--out', join(work, 'y.abk')]).status).toBe(2);
  });

  it('restores with --force over a folder, replacing its database', () => {
    const target = join(work, 'forced');
    mkdirSync(target);
    writeFileSync(join(target, 'authbox.db-wal'), 'stale');
    writeFileSync(join(target, 'notes.txt'), 'kept');
    chmodSync(target, 0o700);
    const r = authbox(['restore', '--data', target, '--in', join(work, 'small.abk'), '--passphrase-file', passFile, '--force']);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(target).sort()).toEqual(['authbox.db', 'authbox.json', 'master.key', 'notes.txt']);
    expect(authboxOk(['ca', 'cert', '--data', target])).toBe(ca.chainPem);
  });
});

describe('scheduled backups (the daemon\'s BackupScheduler, in process)', () => {
  it('writes a backup that restores, and keeps the newest N', async () => {
    const { scheduledBackups } = await import('../../src/backup.js');
    const { loadConfig } = await import('../../src/config/config.js');
    const { silentLogger } = await import('../../src/core/logger.js');
    const dir = join(work, 'scheduled');
    let now = Date.UTC(2026, 0, 1);
    const config = { ...loadConfig(data.dir), backup: { dir, everyHours: 1, keep: 2, passphraseFile: passFile } };
    const s = scheduledBackups(config, silentLogger, () => new Date(now))!;
    const files: string[] = [];
    for (let i = 0; i < 3; i++) {
      files.push((await s.tick())!);
      now += 3_600_000;
    }
    expect(readdirSync(dir).sort()).toEqual(files.slice(1).map((f) => f.slice(dir.length + 1)).sort());
    const target = join(work, 'from-scheduled');
    const r = authbox(['restore', '--data', target, '--in', files[2]!, '--passphrase-file', passFile]);
    expect(r.status, r.stderr).toBe(0);
    expect(authboxOk(['ca', 'cert', '--data', target])).toBe(ca.chainPem);
    const actors = withDatabase(data.dir, (db) => db.prepare("SELECT actor FROM audit WHERE action = 'backup.create'").all());
    expect(actors).toContainEqual({ actor: 'system' });
  });
});

describe('SIGKILL in the middle of a burst of CLI writes', () => {
  it('keeps every acknowledged issue and revocation, with an intact database', async () => {
    const daemon = await startServe(data.dir, data.port);
    daemons.push(daemon);
    const certs = await Promise.all(Array.from({ length: 8 }, (_, i) => issue(data.dir, `pre-kill-${i}`)));
    const acked: { op: 'issue' | 'revoke'; serial: string }[] = [];
    let victim: ReturnType<typeof authboxAsync> | undefined;
    const burst = (async () => {
      for (let i = 0; i < 40; i++) {
        const jobs = [
          authboxAsync(['cert', 'issue', '--data', data.dir, '--profile', 'device', '--cn', `burst-${i}`, '--dns', `b${i}.test`,
            '--out-cert', join(work, `burst-${i}.pem`), '--out-key', join(work, `burst-${i}.key`)]),
          ...(certs[i] ? [authboxAsync(['cert', 'revoke', '--data', data.dir, '--serial', certs[i]!.serial])] : []),
        ];
        if (i === 3) victim = jobs[0];
        const results = await Promise.all(jobs.map((j) => j.done));
        if (results[0]!.status === 0) acked.push({ op: 'issue', serial: /certificate ([0-9a-f]+) for/.exec(results[0]!.stdout)![1]! });
        if (results[1]?.status === 0) acked.push({ op: 'revoke', serial: certs[i]!.serial });
      }
    })();
    // Kill one CLI mid-write, then the daemon mid-burst; the CLI goes on without a daemon.
    await pollUntil('the victim CLI to start', 5000, () => victim);
    victim!.child.kill('SIGKILL');
    await pollUntil('a few acknowledged writes', 20_000, () => (acked.length >= 10 ? true : undefined));
    await daemon.stop('SIGKILL');
    daemons.pop();
    await burst;
    expect(acked.filter((a) => a.op === 'revoke').length).toBeGreaterThan(0);

    withDatabase(data.dir, (db) => {
      expect(db.pragma('integrity_check')).toEqual([{ integrity_check: 'ok' }]);
      const status = db.prepare('SELECT status FROM certificates WHERE serial = ?');
      for (const a of acked) {
        const row = status.get(a.serial) as { status: string } | undefined;
        expect(row, `${a.op} ${a.serial}`).toBeDefined();
        if (a.op === 'revoke') expect(row!.status, a.serial).toBe('revoked');
      }
    });

    await waitPortFree(data.port);
    const again = await startServe(data.dir, data.port);
    daemons.push(again);
    const revokedSerials = acked.filter((a) => a.op === 'revoke').map((a) => normSerial(a.serial));
    await pollUntil('the restarted daemon to list every acknowledged revocation', 5000, async () => {
      const c = await issuingCrl(again.base, 'after-kill.crl');
      return c.verified && revokedSerials.every((s) => c.serials.includes(s)) ? c : undefined;
    });
    await again.stop();
    daemons.pop();
  }, 120_000);
});
