// The console in headless Chromium as a helpdesk operator: find a user, reset the password
// (radclient PAP then succeeds with the temporary password), unlock a user locked by failed
// PAP attempts; the RADIUS clients page is neither in the menu nor opens, and its API refuses
// the page's own session. Then the Japanese pages, for an auditor whose browser asks for ja.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, radclient, sleep } from '../helpers/authbox.js';
import { addOperator, codeAfter, launchBrowser, login, newContext, screenshot, startConsoleDaemon, type ConsoleDaemon } from '../helpers/browser.js';

const SECRET = 'radius-e2e-S3cret';
const HELPDESK_PW = 'helpdesk-Console-pass-1';
const AUDITOR_PW = 'auditor-Console-pass-1';
let d: ConsoleDaemon;
let browser: Browser;

const pap = async (user: string, password: string): Promise<string | undefined> => {
  const r = await radclient(`127.0.0.1:${d.radiusPort}`, 'auth', SECRET, `User-Name = "${user}", User-Password = "${password}", Message-Authenticator = 0x00\n`);
  return /Received (Access-Accept|Access-Reject)/.exec(r.stdout + r.stderr)?.[1];
};
/** PAP until it gives `want` (a change reaches RADIUS through the change feed within a second). */
async function papUntil(user: string, password: string, want: string): Promise<void> {
  let got: string | undefined;
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await sleep(200)) if ((got = await pap(user, password)) === want) return;
  throw new Error(`PAP ${user}: ${got}, not ${want}`);
}

beforeAll(async () => {
  // Three wrong passwords lock a user for 15 minutes.
  d = await startConsoleDaemon({ lockout: { attempts: 3, windowMinutes: 15, durationMinutes: 15 } }, (dir) => {
    authboxOk(['nas', 'add', '--data', dir, '--name', 'lo', '--address', '127.0.0.1/32', '--secret', SECRET]);
    authboxOk(['user', 'add', '--data', dir, '--username', 'taro.yamada', '--password', 'Taro-pass-12345']);
    authboxOk(['user', 'add', '--data', dir, '--username', 'saburo', '--password', 'Saburo-pass-12345']);
    for (let i = 0; i < 12; i++) authboxOk(['user', 'add', '--data', dir, '--username', `user${String(i).padStart(3, '0')}`, '--password', 'Some-pass-12345']);
  });
  addOperator(d, 'helen', 'helpdesk', HELPDESK_PW);
  addOperator(d, 'kansa', 'auditor', AUDITOR_PW);
  browser = await launchBrowser(d.spki);
});

afterAll(async () => {
  await browser?.close();
  await d?.stop();
});

async function openUser(page: Page, prefix: string, username: string): Promise<void> {
  await page.getByTestId('nav-users').click();
  await page.getByTestId('users-search').fill(prefix);
  await page.getByTestId(`user-row-${username}`).getByRole('link', { name: username }).click();
  await expect.poll(() => page.getByTestId('user-name').textContent(), { timeout: 10_000 }).toBe(username);
}

describe('helpdesk operator in the browser', { timeout: 120_000 }, () => {
  it('resets a password (PAP then accepts the temporary one) and unlocks a locked user', async () => {
    expect(await pap('taro.yamada', 'Taro-pass-12345')).toBe('Access-Accept');
    for (let i = 0; i < 3; i++) expect(await pap('saburo', 'wrong-password')).toBe('Access-Reject');
    // Locked now (the lock is written in the background): even the right password is refused.
    for (const deadline = Date.now() + 5000; JSON.parse(authboxOk(['user', 'show', '--data', d.data.dir, '--username', 'saburo', '--json'])).lockedUntil === null; await sleep(200)) {
      if (Date.now() > deadline) throw new Error('saburo was not locked');
    }
    await papUntil('saburo', 'Saburo-pass-12345', 'Access-Reject');

    const context = await newContext(browser, d.console);
    const page = await context.newPage();
    await login(page, 'helen', HELPDESK_PW);
    // Pages come from the server (5 rows a page here): forward and back.
    await page.goto('/#/users?size=5');
    await page.getByTestId('user-row-saburo').waitFor();
    const names = () => page.getByTestId('users-table').locator('tbody tr td:first-child').allTextContents();
    expect(await names()).toEqual(['saburo', 'taro.yamada', 'user000', 'user001', 'user002']);
    await page.getByTestId('pager-next').click();
    await expect.poll(names, { timeout: 10_000 }).toEqual(['user003', 'user004', 'user005', 'user006', 'user007']);
    await page.getByTestId('pager-next').click();
    await expect.poll(names, { timeout: 10_000 }).toEqual(['user008', 'user009', 'user010', 'user011']);
    expect(await page.getByTestId('pager-next').isDisabled()).toBe(true);
    await page.getByTestId('pager-prev').click();
    await expect.poll(names, { timeout: 10_000 }).toEqual(['user003', 'user004', 'user005', 'user006', 'user007']);
    // A prefix narrows the list on the server.
    await page.getByTestId('nav-users').click();
    await page.getByTestId('user-row-user009').waitFor();
    await page.getByTestId('users-search').fill('user01');
    await expect.poll(() => page.getByTestId('users-table').locator('tbody tr').count(), { timeout: 10_000 }).toBe(2);
    await page.getByTestId('user-row-user011').waitFor();
    await screenshot(page, 'users-helpdesk-en');

    await openUser(page, 'taro', 'taro.yamada');
    await page.getByTestId('user-reset-password').click();
    await page.getByTestId('confirm-ok').click();
    const temporary = (await page.getByTestId('temp-password').textContent())!.trim();
    expect(temporary.length).toBeGreaterThanOrEqual(8);
    await papUntil('taro.yamada', temporary, 'Access-Accept');
    expect(await pap('taro.yamada', 'Taro-pass-12345')).toBe('Access-Reject');
    await screenshot(page, 'user-detail-en');
    // The helpdesk may revoke (the lost-device page) but not issue.
    expect(await page.getByRole('link', { name: 'Lost device: revoke all certificates' }).getAttribute('href')).toBe('#/lost-device?user=taro.yamada');
    expect(await page.getByRole('link', { name: 'Issue a certificate' }).count()).toBe(0);

    // A user's one-time password: the enrolment shows a QR code (an SVG rebuilt from the server's) and the URI.
    await page.getByTestId('user-otp-enrol').click();
    await page.getByTestId('otp-qr').locator('path').first().waitFor({ state: 'attached' });
    expect(await page.getByTestId('user-otpauth-uri').textContent()).toMatch(/^otpauth:\/\/totp\/.*secret=/);
    await page.getByTestId('user-otp-reset').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('action-done').waitFor();

    await openUser(page, 'sab', 'saburo');
    await page.getByTestId('user-locked').waitFor();
    await page.getByTestId('user-unlock').click();
    await page.getByTestId('action-done').waitFor();
    await expect.poll(() => page.getByTestId('user-locked').count(), { timeout: 10_000 }).toBe(0);
    await papUntil('saburo', 'Saburo-pass-12345', 'Access-Accept');
    await context.close();
  });

  it('cannot open the RADIUS clients page nor call its API', async () => {
    const context = await newContext(browser, d.console);
    const page = await context.newPage();
    await login(page, 'helen', HELPDESK_PW);
    await page.getByTestId('nav-users').waitFor();
    expect(await page.getByTestId('nav-nas').count()).toBe(0);
    expect(await page.getByTestId('nav-operators').count()).toBe(0);
    await page.goto('/#/nas');
    await page.getByTestId('not-permitted').waitFor();
    await page.goto('/#/operators');
    await page.getByTestId('not-permitted').waitFor();
    const statuses = await page.evaluate(async () => {
      const session = await (await fetch('/api/v1/session')).json() as { csrfToken: string };
      const list = await fetch('/api/v1/nas');
      const add = await fetch('/api/v1/nas', {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken },
        body: JSON.stringify({ name: 'rogue', address: '10.9.9.9/32', secret: 'rogue-secret-123' }),
      });
      return { list: list.status, add: add.status, code: ((await add.json()) as { error: { code: string } }).error.code };
    });
    expect(statuses).toEqual({ list: 403, add: 403, code: 'FORBIDDEN' });
    expect(authboxOk(['nas', 'list', '--data', d.data.dir])).not.toContain('rogue');

    // A session that ends (here: its cookie is gone) leads to the login page, and back after it.
    await context.clearCookies();
    await page.goto('/#/users/saburo');
    await page.getByTestId('login-form').waitFor();
    await page.getByTestId('login-username').fill('helen');
    await page.getByTestId('login-password').fill(HELPDESK_PW);
    await page.getByTestId('login-submit').click();
    await expect.poll(() => page.getByTestId('user-name').textContent(), { timeout: 10_000 }).toBe('saburo');
    await context.close();
  });
});

describe('Japanese pages', { timeout: 120_000 }, () => {
  it('renders in Japanese for a browser that asks for ja, switches to English and remembers it', async () => {
    const context = await newContext(browser, d.console, 'ja-JP');
    const page = await context.newPage();
    await page.goto('/');
    await page.getByTestId('login-form').waitFor();
    expect(await page.getByTestId('login-submit').textContent()).toBe('ログイン');
    await screenshot(page, 'login-ja');
    await login(page, 'kansa', AUDITOR_PW);
    const nav = (await page.getByTestId('nav').textContent())!;
    for (const word of ['ダッシュボード', '利用者', '証明書', '認証ログ', '監査ログ']) expect(nav).toContain(word);
    expect(await page.getByTestId('signed-in-as').textContent()).toContain('監査担当者');
    expect(await page.locator('html').getAttribute('lang')).toBe('ja');
    await page.goto('/#/dashboard');
    await page.getByTestId('chart-result').waitFor();
    await page.getByText('過去24時間の認証').waitFor();
    // The PAP attempts of the helpdesk test are on the chart and among the failures.
    await expect.poll(async () => Number(await page.getByTestId('dash-total').textContent()), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.getByTestId('dash-failures').getByText('saburo').first().waitFor();
    await screenshot(page, 'dashboard-ja');
    // Times are shown in Asia/Tokyo: a failure's time carries today's Tokyo date.
    const tokyoDate = new Intl.DateTimeFormat('ja-JP', { timeZone: 'Asia/Tokyo', year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
    expect(await page.getByTestId('dash-failures').textContent()).toContain(tokyoDate);

    // A user's page in Japanese; the auditor reads it but has no helpdesk action.
    await page.goto('/#/users/saburo');
    await page.getByText('最近の認証').waitFor();
    expect(await page.getByTestId('user-decisions').textContent()).toContain('アカウントロック中');
    expect(await page.getByTestId('user-reset-password').count()).toBe(0);
    await screenshot(page, 'user-detail-ja');

    await page.getByTestId('lang-select').selectOption('en');
    await page.getByTestId('nav').getByText('Users').waitFor();
    await page.reload();
    await page.getByTestId('nav').getByText('Dashboard').waitFor();
    expect(await page.getByTestId('nav').textContent()).not.toContain('利用者');
    await screenshot(page, 'dashboard-en-auditor');

    // The auditor enrols a one-time password for themselves on the account page (in Japanese again).
    await page.getByTestId('lang-select').selectOption('ja');
    await page.getByTestId('nav-account').click();
    await page.getByText('ワンタイムパスワード（2段階認証）').waitFor();
    await page.getByTestId('account-otp-start').click();
    await page.getByTestId('otp-qr').waitFor();
    const uri = (await page.getByTestId('account-otpauth-uri').textContent())!;
    await page.getByTestId('account-otp-code').fill((await codeAfter(uri, 0)).code);
    await page.getByTestId('account-otp-confirm').click();
    await page.getByTestId('account-otp').getByText('登録済み').waitFor();
    await screenshot(page, 'account-ja');
    const me = await page.evaluate(async () => (await fetch('/api/v1/session')).json() as Promise<{ operator: { otpEnrolled: boolean } }>);
    expect(me.operator.otpEnrolled).toBe(true);
    await context.close();
  });
});
