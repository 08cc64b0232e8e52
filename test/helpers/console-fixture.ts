// A daemon with its console, seeded for the certificate, network and log pages, and Chromium
// logged in as an administrator (TOTP enrolled at the first login). Shared by the e2e tests of
// those pages (test/e2e/console-lost-device.test.ts, test/e2e/console-pages.test.ts).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { authboxOk, freeUdpPort, radclient, tempDir } from './authbox.js';
import { CoaListener } from './coa-listener.js';
import { addOperator, launchBrowser, startConsoleDaemon, totpCode, type ConsoleDaemon } from './browser.js';
import { runEapolTest, TLS13, verdict } from './eap.js';
import { ocspQuery, statusOf, writeCaFiles, type CaFiles } from './pki.js';
import { BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, startSlapd, type Slapd } from './slapd.js';

export const ADMIN = 'root';
export const ADMIN_PASSWORD = 'root-console-password-1';
export const NAS_SECRET = 'e2e-nas-secret-never-shown';
export const ALICE_PASSWORD = 'alice-Passw0rd-1';
export const LAPTOP_MAC = '02:00:00:00:aa:07';

export interface IssuedPem { cert: string; key: string; serial: string }

export interface CertConsole {
  d: ConsoleDaemon;
  work: ReturnType<typeof tempDir>;
  ca: CaFiles;
  browser: Browser;
  page: Page;
  /** Two user certificates of alice, issued with the CLI. */
  alice: IssuedPem[];
  /** A device certificate of bob's laptop-7 (MAC LAPTOP_MAC). */
  laptop: IssuedPem;
  slapd?: Slapd;
  /** The RADIUS client "lo"'s Dynamic Authorization Server: it answers Disconnect-Requests with an ACK. */
  coa: CoaListener;
  /** radclient sends an Accounting-Request Start for a user's session from the client "lo". */
  accountingStart(user: string, sessionId: string): Promise<void>;
  /** Uncaught script errors and CSP refusals seen in the browser (failed requests, e.g. a 410, are not counted). */
  browserErrors: string[];
  /** What openssl ocsp says of a certificate file, asked of the daemon's responder. */
  ocsp(cert: string): { status: string | undefined; output: string };
  /** One EAP-TLS authentication with a certificate through the daemon (eapol_test): SUCCESS or FAILURE. */
  eapTls(identity: string, c: IssuedPem): Promise<string | undefined>;
  stop(): Promise<void>;
}

function issued(out: string, cert: string, key: string): IssuedPem {
  const m = /certificate ([0-9a-f]+) for/.exec(out);
  if (!m) throw new Error(`no serial in: ${out}`);
  return { cert, key, serial: m[1]! };
}

/**
 * Users alice (group staff, policy VLAN 42) and bob, RADIUS client "lo", alice's two
 * certificates, bob's laptop with a device certificate, one PAP accept and one reject for alice,
 * and, with `directory`, an OpenLDAP source "corp" (3 users). The browser runs in UTC so that
 * the operator's zone (Asia/Tokyo) is visibly the one used.
 */
export async function startCertConsole(options: { directory?: boolean } = {}): Promise<CertConsole> {
  const work = tempDir('authbox-e2e-certs-');
  const slapd = options.directory ? await startSlapd({ users: 3 }) : undefined;
  let ca: CaFiles | undefined;
  const alice: IssuedPem[] = [];
  let laptop: IssuedPem | undefined;
  const coa = await CoaListener.start(NAS_SECRET);
  const acctPort = await freeUdpPort();
  const d = await startConsoleDaemon({}, (dir) => {
    if (slapd) {
      authboxOk(['ldap', 'add', '--data', dir, '--name', 'corp', '--url', slapd.url, '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD,
        '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap']);
    }
    ca = writeCaFiles(dir, work.path);
    authboxOk(['user', 'add', '--data', dir, '--username', 'alice', '--password', ALICE_PASSWORD, '--group', 'staff']);
    authboxOk(['user', 'add', '--data', dir, '--username', 'bob', '--password', 'bob-Passw0rd-12']);
    // CoA to the test's own Dynamic Authorization Server, with the RADIUS secret.
    authboxOk(['nas', 'add', '--data', dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', NAS_SECRET, '--coa-port', String(coa.port)]);
    authboxOk(['policy', 'set', '--data', dir, '--group', 'staff', '--vlan', '42']);
    for (const n of [1, 2]) {
      const cert = join(work.path, `alice-${n}.pem`);
      const key = join(work.path, `alice-${n}.key`);
      alice.push(issued(authboxOk(['cert', 'issue', '--data', dir, '--profile', 'user', '--cn', 'alice', '--user', 'alice',
        '--out-cert', cert, '--out-key', key]), cert, key));
    }
    authboxOk(['device', 'add', '--data', dir, '--mac', LAPTOP_MAC, '--name', 'laptop-7', '--owner', 'bob']);
    const cert = join(work.path, 'laptop.pem');
    const key = join(work.path, 'laptop.key');
    laptop = issued(authboxOk(['cert', 'issue', '--data', dir, '--profile', 'device', '--device', LAPTOP_MAC, '--out-cert', cert, '--out-key', key]), cert, key);
  }, ['--radius-acct', `127.0.0.1:${acctPort}`]);
  addOperator(d, ADMIN, 'admin', ADMIN_PASSWORD);
  const pap = (pw: string) => radclient(`127.0.0.1:${d.radiusPort}`, 'auth', NAS_SECRET,
    `User-Name = "alice", User-Password = "${pw}", Message-Authenticator = 0x00\n`);
  for (const [pw, answer] of [[ALICE_PASSWORD, 'Access-Accept'], ['wrong-password-1', 'Access-Reject']] as const) {
    const r = await pap(pw);
    if (!r.stdout.includes(answer)) throw new Error(`PAP for alice: expected ${answer}: ${r.stdout}${r.stderr}`);
  }

  const browser = await launchBrowser(d.spki);
  const context = await browser.newContext({ baseURL: d.console, locale: 'en-US', timezoneId: 'UTC', viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(15_000);
  const page = await context.newPage();
  const browserErrors: string[] = [];
  page.on('pageerror', (e) => browserErrors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Refused to|Content Security Policy|Uncaught/.test(m.text())) browserErrors.push(`console: ${m.text()}`);
  });
  // An admin's first login shows the otpauth URI; its first code enrols and logs in.
  await page.goto('/#/login');
  await page.getByTestId('login-username').fill(ADMIN);
  await page.getByTestId('login-password').fill(ADMIN_PASSWORD);
  await page.getByTestId('login-submit').click();
  const uri = await page.getByTestId('login-otpauth-uri').textContent();
  if (!uri?.startsWith('otpauth://totp/')) throw new Error(`no otpauth URI on the login page: ${uri}`);
  await page.getByTestId('login-otp').fill(totpCode(uri));
  await page.getByTestId('login-submit').click();
  await page.getByTestId('nav').waitFor();

  const files = ca!;
  return {
    d, work, ca: files, browser, page, browserErrors, alice, laptop: laptop!, coa, ...(slapd ? { slapd } : {}),
    async accountingStart(user, sessionId) {
      const r = await radclient(`127.0.0.1:${acctPort}`, 'acct', NAS_SECRET,
        `User-Name = "${user}", NAS-IP-Address = 127.0.0.1, Acct-Status-Type = Start, Acct-Session-Id = "${sessionId}"\n`);
      if (!/Received Accounting-Response/.test(r.stdout + r.stderr)) throw new Error(`accounting Start for ${user}: ${r.stdout}${r.stderr}`);
    },
    ocsp(cert) {
      const r = ocspQuery(files, d.daemon.base, ['-cert', cert]);
      return { status: statusOf(r.output, cert), output: r.output };
    },
    async eapTls(identity, c) {
      return verdict(await runEapolTest({
        dir: work.path, caCert: files.chain, port: d.radiusPort, secret: NAS_SECRET,
        network: ['eap=TLS', `identity="${identity}"`, `client_cert="${c.cert}"`, `private_key="${c.key}"`, `phase1="${TLS13}"`],
      }));
    },
    async stop() {
      await browser.close();
      await d.stop();
      await coa.close();
      await slapd?.cleanup();
      work.cleanup();
    },
  };
}

/** Every element marked as an error on the page: none is expected on a page that rendered. */
export function errorsOnPage(page: Page): Promise<string[]> {
  return page.locator('[data-testid="error"], [data-testid="page-error"], [data-testid="not-found"], [data-testid="not-permitted"]').allTextContents();
}
