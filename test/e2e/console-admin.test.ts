// The console in headless Chromium, as an administrator: the first login enrols a one-time
// password (QR code / otpauth URI, then a code), a later login needs a code; the strict CSP
// holds (no violation reported by the browser); screenshots of the main pages.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpStep } from '../../src/core/totp.js';
import { addOperator, codeAfter, launchBrowser, login, newContext, screenshot, startConsoleDaemon, totpCode, type ConsoleDaemon } from '../helpers/browser.js';

const PASSWORD = 'admin-Console-pass-1';
let d: ConsoleDaemon;
let browser: Browser;
let otpauthUri = '';
/** The last TOTP step the server accepted (it refuses a step again). */
let lastStep = 0;

beforeAll(async () => {
  d = await startConsoleDaemon();
  addOperator(d, 'akiko', 'admin', PASSWORD);
  browser = await launchBrowser(d.spki);
});

afterAll(async () => {
  await browser?.close();
  await d?.stop();
});

/** Collects what the browser reports about the CSP (any inline script or style would show here). */
function cspWatch(page: Page): string[] {
  const seen: string[] = [];
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) seen.push(m.text()); });
  page.on('pageerror', (e) => seen.push(`pageerror: ${e.message}`));
  return seen;
}

// A browser, a daemon and a TOTP step to wait for (up to 30 s) on two shared cores: generous time.
describe('administrator in the browser', { timeout: 120_000 }, () => {
  it('serves the console at / with the strict CSP and JavaScript modules', async () => {
    const context = await newContext(browser, d.console);
    const page = await context.newPage();
    const res = await page.goto('/');
    expect(res!.status()).toBe(200);
    expect(res!.headers()['content-type']).toMatch(/^text\/html/);
    expect(res!.headers()['content-security-policy']).toBe("default-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    const probe = (path: string) => page.evaluate(async (p) => {
      const r = await fetch(p);
      return { status: r.status, type: r.headers.get('content-type') };
    }, path);
    expect(await probe('/app.js')).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    expect(await probe('/style.css')).toEqual({ status: 200, type: 'text/css; charset=utf-8' });
    // Nothing outside the web folder, however the path is spelt.
    expect((await probe('/pages/%2e%2e/%2e%2e/static.ts')).status).toBe(404);
    expect((await probe('/%2e%2e/app.ts')).status).toBe(404);
    expect((await probe('/..%2fapp.js')).status).toBe(404);
    await context.close();
  });

  it('enrols a one-time password at the first login, then logs in with a code', async () => {
    const context = await newContext(browser, d.console);
    const page = await context.newPage();
    const csp = cspWatch(page);
    await page.goto('/');
    await page.getByTestId('login-form').waitFor();
    await screenshot(page, 'login-en');
    await page.getByTestId('login-username').fill('akiko');
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    // The server answers "enrolment required" with the otpauth:// URI to scan.
    await page.getByTestId('login-enrol').waitFor({ state: 'visible' });
    await page.getByTestId('otp-qr').waitFor();
    otpauthUri = (await page.getByTestId('login-otpauth-uri').textContent())!;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/.*akiko\?.*secret=[A-Z2-7]+/);
    await page.getByTestId('login-otp').fill('000000' === totpCode(otpauthUri) ? '111111' : '000000');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor({ state: 'visible' });
    await page.getByTestId('login-password').fill(PASSWORD);
    const first = await codeAfter(otpauthUri, totpStep(Date.now()) - 2);
    await page.getByTestId('login-otp').fill(first.code);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav').waitFor();
    lastStep = first.step;
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('akiko');
    // An admin sees every page, the operators page included.
    for (const id of ['nav-dashboard', 'nav-users', 'nav-nas', 'nav-operators', 'nav-account']) await page.getByTestId(id).waitFor();
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();

    // Later logins ask for a code; the one used above cannot be used again, the next step's can.
    await page.getByTestId('login-username').fill('akiko');
    await page.getByTestId('login-password').fill(PASSWORD);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-otp').waitFor({ state: 'visible' });
    expect(await page.getByTestId('login-enrol').isVisible()).toBe(false);
    // The code just used is refused (replay) ...
    await page.getByTestId('login-otp').fill(first.code);
    await page.getByTestId('login-submit').click();
    await page.getByTestId('login-error').waitFor({ state: 'visible' });
    // ... a later one is taken.
    await page.getByTestId('login-password').fill(PASSWORD);
    const next = await codeAfter(otpauthUri, lastStep);
    await page.getByTestId('login-otp').fill(next.code);
    lastStep = next.step;
    await page.getByTestId('login-submit').click();
    await page.getByTestId('nav').waitFor();
    const session = await page.evaluate(async () => (await fetch('/api/v1/session')).json() as Promise<{ operator: unknown }>);
    expect(session.operator).toMatchObject({ username: 'akiko', role: 'admin', otpEnrolled: true });
    expect(csp).toEqual([]);
    await context.close();
  });

  it('shows the dashboard, users, account and operators pages (screenshots)', async () => {
    const context = await newContext(browser, d.console);
    const page = await context.newPage();
    const csp = cspWatch(page);
    await login(page, 'akiko', PASSWORD, async () => {
      const c = await codeAfter(otpauthUri, lastStep);
      lastStep = c.step;
      return c.code;
    });
    await page.goto('/#/dashboard');
    await page.getByTestId('chart-result').waitFor();
    await page.getByTestId('dash-listeners').waitFor();
    await screenshot(page, 'dashboard-en');
    await page.goto('/#/users');
    await page.getByTestId('users-table').waitFor();
    await screenshot(page, 'users-en');
    await page.goto('/#/account');
    await page.getByTestId('tokens-table').waitFor();
    // A token is shown once, then listed by name only.
    await page.getByTestId('token-name').fill('nightly-export');
    await page.getByTestId('token-role').selectOption('auditor');
    await page.getByTestId('token-create').click();
    const token = await page.getByTestId('token-value').textContent();
    expect(token).toMatch(/^abx_/);
    await page.getByTestId('token-row-nightly-export').waitFor();
    await screenshot(page, 'account-en');
    const tokens = await page.evaluate(async () => (await fetch('/api/v1/tokens')).text());
    expect(tokens).toContain('nightly-export');
    expect(tokens).not.toContain(token!);
    expect(await page.getByTestId('token-row-nightly-export').textContent()).toContain('Auditor');
    // The token works for the API as an auditor (reads the audit log, may not add a RADIUS client), until revoked.
    const asToken = (t: string) => page.evaluate(async (bearer) => {
      const h = { Authorization: `Bearer ${bearer}` };
      const audit = await fetch('/api/v1/logs/audit?limit=1', { headers: h, credentials: 'omit' });
      const nas = await fetch('/api/v1/nas', {
        method: 'POST', headers: { ...h, 'Content-Type': 'application/json' }, credentials: 'omit', body: JSON.stringify({ name: 'x', address: '10.0.0.1/32' }),
      });
      return [audit.status, nas.status];
    }, t);
    expect(await asToken(token!)).toEqual([200, 403]);
    await page.getByTestId('token-revoke-nightly-export').click();
    await page.getByTestId('confirm-ok').click();
    await expect.poll(() => page.getByTestId('token-row-nightly-export').textContent(), { timeout: 10_000 }).toContain('Revoked');
    expect(await asToken(token!)).toEqual([401, 401]);
    await page.goto('/#/operators');
    await page.getByTestId('op-row-akiko').waitFor();
    await page.getByTestId('sessions-table').waitFor();
    await screenshot(page, 'operators-en');
    // Add an operator (the generated password is shown once), see the sessions, disable the operator.
    await page.getByTestId('op-username').fill('nori');
    await page.getByTestId('op-role').selectOption('helpdesk');
    await page.getByTestId('op-add').click();
    expect((await page.getByTestId('op-generated-password').textContent())!.length).toBeGreaterThanOrEqual(12);
    await page.getByTestId('op-row-nori').waitFor();
    expect(await page.getByTestId('sessions-table').textContent()).toContain('akiko');
    await page.getByTestId('op-remove-nori').click();
    await page.getByTestId('confirm-ok').click();
    // DELETE disables: the operator stays listed (the audit trail names it), disabled, without the button.
    await expect.poll(() => page.getByTestId('op-remove-nori').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.getByTestId('op-row-nori').textContent()).toContain('Disabled');
    expect(csp).toEqual([]);
    await context.close();
  });
});
