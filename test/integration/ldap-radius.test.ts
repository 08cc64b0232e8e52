// Users synced from a real slapd authenticate through `authbox serve`: PAP (radclient) and
// EAP-TTLS/PAP (eapol_test) by an LDAP bind as the user; PEAP/MS-CHAPv2 is refused with its
// reason, since a directory gives out no NT hash; a down directory refuses without hanging.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEapolTest, TLS12, verdict } from '../helpers/eap.js';
import { authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, tempDir, type RunningDaemon } from '../helpers/authbox.js';
import { BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, passwordOf, startSlapd, uidOf, type Slapd } from '../helpers/slapd.js';

const SECRET = 'radius-shared-S3cret';
let slapd: Slapd;
let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let authPort: number;
let chain: string;

const pap = (user: string, password: string): string => `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`;
async function auth(user: string, password: string): Promise<string | undefined> {
  const r = await radclient(`127.0.0.1:${authPort}`, 'auth', SECRET, pap(user, password), ['-r', '1', '-t', '5']);
  return /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
}
async function newestReason(user: string): Promise<string | null | undefined> {
  await sleep(400); // the decision log is written in batches
  const [row] = JSON.parse(authboxOk(['log', 'auth', '--data', data.dir, '--json', '--limit', '1', '--user', user])) as { reason: string | null }[];
  return row?.reason;
}

beforeAll(async () => {
  slapd = await startSlapd({ users: 4 });
  data = await initDataDir();
  files = tempDir('authbox-ldap-radius-');
  authPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxOk(['ldap', 'add', '--data', data.dir, '--name', 'corp', '--url', slapd.url, '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD,
    '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap']);
  authboxOk(['ldap', 'sync', '--data', data.dir, '--name', 'corp', '--full']);
  chain = join(files.path, 'chain.pem');
  writeFileSync(chain, authboxOk(['ca', 'cert', '--data', data.dir]));
  daemon = await startServe(data.dir, data.port, ['--radius', `127.0.0.1:${authPort}`]);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await slapd?.cleanup();
  data?.cleanup();
  files?.cleanup();
});

describe('synced users over RADIUS', () => {
  it("the daemon's schedule runs a sync at start, in a process of its own, recorded like any other", async () => {
    let runs: { error: string | null; dryRun: boolean }[] = [];
    for (const deadline = Date.now() + 20_000; runs.length < 2 && Date.now() < deadline; await sleep(200)) {
      runs = JSON.parse(authboxOk(['ldap', 'runs', '--data', data.dir, '--name', 'corp', '--json'])) as typeof runs;
    }
    // The CLI's full sync before the daemon started, then the daemon's.
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.error === null)).toBe(true);
    expect(daemon!.output()).not.toMatch(/scheduled ldap sync failed/);
  });

  it('PAP: accepts the directory password, refuses a wrong one', async () => {
    const u = uidOf(1);
    expect(await auth(u, passwordOf(u))).toBe('Access-Accept');
    expect(await auth(u, 'not-the-password')).toBe('Access-Reject');
    expect(await newestReason(u)).toBe('wrong password');
  });

  it('EAP-TTLS/PAP: the inner password is checked by the directory too (on an EAP worker)', async () => {
    const u = uidOf(2);
    const ttls = (password: string) => runEapolTest({
      dir: files.path, caCert: chain, port: authPort, secret: SECRET,
      network: ['eap=TTLS', `identity="${u}"`, `password="${password}"`, 'phase2="auth=PAP"', `phase1="${TLS12}"`],
    });
    expect(verdict(await ttls(passwordOf(u)))).toBe('SUCCESS');
    expect(verdict(await ttls('not-the-password'))).toBe('FAILURE');
  });

  it('PEAP/MS-CHAPv2 is refused for a synced user: the directory keeps no NT hash', async () => {
    const u = uidOf(3);
    const r = await runEapolTest({
      dir: files.path, caCert: chain, port: authPort, secret: SECRET,
      network: ['eap=PEAP', `identity="${u}"`, `password="${passwordOf(u)}"`, 'phase2="auth=MSCHAPV2"', `phase1="${TLS12}"`],
    });
    expect(verdict(r)).toBe('FAILURE');
    expect(await newestReason(u)).toBe('no NT hash kept for this user');
  });

  it('gives no answer while the directory is down (the NAS asks another server), and counts no failed attempt', async () => {
    await slapd.stop();
    const u = uidOf(1);
    for (let i = 0; i < 2; i++) expect(await auth(u, passwordOf(u))).toBeUndefined();
    const show = JSON.parse(authboxOk(['user', 'show', '--data', data.dir, '--username', u, '--json'])) as { lockedUntil: string | null };
    expect(show.lockedUntil).toBeNull();
    expect(daemon!.output()).toMatch(/does not answer/);
  });
});
