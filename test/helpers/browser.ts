// End-to-end helpers: a daemon with its HTTPS console, headless Chromium (Debian's, driven by
// playwright-core) that trusts exactly that console's certificate, operators made with the
// CLI, TOTP codes, and screenshots saved under test-results/screenshots/.
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { base32Decode, totp, TOTP_STEP_SECONDS, totpStep } from '../../src/core/totp.js';
import { authboxOk, freePort, freeUdpPort, initDataDir, ROOT, startServe, tempDir, type RunningDaemon } from './authbox.js';

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

/**
 * base64 SHA-256 of the console certificate's SubjectPublicKeyInfo, read over a TLS connection
 * that verifies the certificate against authbox's own chain (nothing is trusted blindly).
 */
export function consoleSpki(port: number, chainPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca: chainPem, servername: 'localhost' }, () => {
      const cert = new X509Certificate(socket.getPeerCertificate().raw);
      socket.end();
      resolve(createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    socket.once('error', reject);
  });
}

/**
 * Chromium in a fresh profile (playwright gives each launch a new --user-data-dir) that accepts
 * only the pinned console certificate: --ignore-certificate-errors-spki-list names its key.
 */
export async function launchBrowser(spki: string): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', `--ignore-certificate-errors-spki-list=${spki}`],
  });
}

/** A browser context speaking `locale` (navigator.languages and Accept-Language). */
export async function newContext(browser: Browser, base: string, locale = 'en-US'): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: base, locale, timezoneId: 'Asia/Tokyo', viewport: { width: 1280, height: 860 } });
  context.setDefaultTimeout(15_000);
  return context;
}

export interface ConsoleDaemon {
  data: Awaited<ReturnType<typeof initDataDir>>;
  daemon: RunningDaemon;
  /** https://127.0.0.1:PORT */
  console: string;
  adminPort: number;
  radiusPort: number;
  spki: string;
  files: ReturnType<typeof tempDir>;
  stop(): Promise<void>;
}

/** `authbox init`, settings merged into authbox.json, then `authbox serve` with the console on a free port. */
export async function startConsoleDaemon(settings: Record<string, unknown> = {}, prepare?: (dir: string) => void, serveArgs: string[] = []): Promise<ConsoleDaemon> {
  const data = await initDataDir();
  const files = tempDir('authbox-e2e-');
  const file = join(data.dir, 'authbox.json');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')) as object, ...settings }, null, 2));
  prepare?.(data.dir);
  const adminPort = await freePort();
  const radiusPort = await freeUdpPort();
  const daemon = await startServe(data.dir, data.port, ['--admin', `127.0.0.1:${adminPort}`, '--radius', `127.0.0.1:${radiusPort}`, ...serveArgs]);
  const chain = authboxOk(['ca', 'cert', '--data', data.dir]);
  const spki = await consoleSpki(adminPort, chain);
  return {
    data, daemon, console: `https://127.0.0.1:${adminPort}`, adminPort, radiusPort, spki, files,
    stop: async () => {
      await daemon.stop();
      data.cleanup();
      files.cleanup();
    },
  };
}

/** Adds a console operator with the CLI and a known password. */
export function addOperator(d: ConsoleDaemon, username: string, role: string, password: string): void {
  const pw = join(d.files.path, `${username}.pw`);
  writeFileSync(pw, `${password}\n`, { mode: 0o600 });
  authboxOk(['admin', 'add', '--data', d.data.dir, '--username', username, '--role', role, '--password-file', pw]);
}

/** The code an authenticator app shows for this otpauth:// URI, `stepsAhead` 30-second steps from now. */
export function totpCode(otpauthUri: string, stepsAhead = 0): string {
  const secret = new URL(otpauthUri).searchParams.get('secret');
  if (!secret) throw new Error(`no secret in ${otpauthUri}`);
  return totp(base32Decode(secret), Date.now() + stepsAhead * TOTP_STEP_SECONDS * 1000);
}

/**
 * A code for a step later than `after` (the server refuses a step already used, RFC 6238 §5.2),
 * waiting until that step is within the accepted window (now ± 1).
 */
export async function codeAfter(otpauthUri: string, after: number): Promise<{ code: string; step: number }> {
  const step = Math.max(after + 1, totpStep(Date.now()));
  while (step > totpStep(Date.now()) + 1) await new Promise((r) => setTimeout(r, 250));
  const secret = new URL(otpauthUri).searchParams.get('secret')!;
  return { code: totp(base32Decode(secret), step * TOTP_STEP_SECONDS * 1000), step };
}

/** Logs in on the console's login page; `otp` is typed when the page asks for a code. */
export async function login(page: Page, username: string, password: string, otp?: () => string | Promise<string>): Promise<void> {
  await page.goto('/#/login');
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  if (otp) {
    await page.getByTestId('login-otp').waitFor({ state: 'visible' });
    await page.getByTestId('login-otp').fill(await otp());
    await page.getByTestId('login-submit').click();
  }
  await page.getByTestId('nav').waitFor();
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
