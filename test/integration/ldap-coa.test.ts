// A user who leaves the directory loses access everywhere, at once (issue 4: "active sessions
// are ended once CoA exists"). OpenLDAP slapd holds the users; a source with --cert-policy revoke
// syncs them into a running `authbox serve`; radclient opens accounting sessions for two of them;
// one is deleted with ldapdelete and `authbox ldap sync`, another process, disables them: their
// certificate is revoked (affiliationChanged, as `openssl ocsp` sees it) and their open session
// gets exactly one Disconnect-Request (two triggers: the disable and the revocation) at the test
// NAS, which checks its authenticators; the other user's session is left alone.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authboxAsync, authboxOk, freeUdpPort, initDataDir, radclient, sleep, startServe, type RunningDaemon,
} from '../helpers/authbox.js';
import { ocspQuery, statusOf, writeCaFiles } from '../helpers/pki.js';
import { CoaListener } from '../helpers/coa-listener.js';
import { BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, startSlapd, userDn, type Slapd } from '../helpers/slapd.js';

const SECRET = 'ldap-coa-radius-S3cret';
const COA_SECRET = 'ldap-coa-only-S3cret';
let slapd: Slapd;
let data: Awaited<ReturnType<typeof initDataDir>>;
let daemon: RunningDaemon | undefined;
let listener: CoaListener;
let acctPort: number;

async function startSession(user: string, sessionId: string): Promise<void> {
  const r = await radclient(`127.0.0.1:${acctPort}`, 'acct', SECRET,
    `User-Name = "${user}", NAS-IP-Address = 127.0.0.1, Acct-Status-Type = Start, Acct-Session-Id = "${sessionId}"\n`);
  expect(r.stdout + r.stderr).toMatch(/Received Accounting-Response/);
}

beforeAll(async () => {
  slapd = await startSlapd({ users: 20 });
  data = await initDataDir();
  listener = await CoaListener.start(COA_SECRET);
  acctPort = await freeUdpPort();
  authboxOk(['nas', 'add', '--data', data.dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET,
    '--coa-port', String(listener.port), '--coa-secret', COA_SECRET]);
  authboxOk(['ldap', 'add', '--data', data.dir, '--name', 'corp', '--url', slapd.url, '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD,
    '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap', '--cert-policy', 'revoke']);
  const first = JSON.parse(authboxOk(['ldap', 'sync', '--data', data.dir, '--name', 'corp', '--full', '--json'])) as { counts: { added: number } };
  expect(first.counts.added).toBe(21); // user01..user20 and the helper's tricky uid
  daemon = await startServe(data.dir, data.port, ['--radius-acct', `127.0.0.1:${acctPort}`]);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await listener?.close();
  await slapd?.cleanup();
  data?.cleanup();
});

describe('a user deleted from the directory', () => {
  it('is disabled by the next sync, their certificate revoked and their open session disconnected once', async () => {
    const certFile = join(data.dir, 'user05.pem');
    const issued = await authboxAsync(['cert', 'issue', '--data', data.dir, '--profile', 'user', '--cn', 'user05', '--user', 'user05',
      '--out-cert', certFile, '--out-key', join(data.dir, 'user05.key')]);
    expect(issued.status, issued.stderr).toBe(0);
    await startSession('user05', 'L-user05-1');
    await startSession('user06', 'L-user06-1');

    slapd.tool('ldapdelete', [userDn('user05')]);
    const run = await authboxAsync(['ldap', 'sync', '--data', data.dir, '--name', 'corp', '--full', '--json']);
    expect(run.status, run.stderr).toBe(0);
    expect((JSON.parse(run.stdout) as { counts: { disabled: number } }).counts.disabled).toBe(1);

    const deadline = Date.now() + 8000;
    while (listener.forSession('L-user05-1').length === 0 && Date.now() < deadline) await sleep(100);
    // Retransmissions of one request carry the same Identifier; a second request would have another.
    await sleep(1500);
    const got = listener.forSession('L-user05-1');
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got.map((s) => s.id)).size).toBe(1);
    expect(got.every((s) => s.authenticatorOk && s.messageAuthenticatorOk)).toBe(true);
    expect(listener.forSession('L-user06-1')).toEqual([]);

    const log = JSON.parse((await authboxAsync(['nas', 'coa-log', '--data', data.dir, '--json'])).stdout) as { user: string; acctSessionId: string; outcome: string }[];
    expect(log.map((r) => [r.user, r.acctSessionId, r.outcome])).toEqual([['user05', 'L-user05-1', 'ack']]);

    // The certificate: revoked for affiliationChanged, as an OCSP client sees it.
    const ca = writeCaFiles(data.dir, data.dir);
    const r = ocspQuery(ca, daemon!.base, ['-cert', certFile]);
    expect(r.output).toMatch(/^Response verify OK$/m);
    expect(statusOf(r.output, certFile)).toBe('revoked');
    expect(r.output).toMatch(/Reason: affiliationChanged/);
  }, 60_000);
});
