// The network, directory, CA and log pages of the console in headless Chromium against a
// running daemon (and a real OpenLDAP): directory test / preview / sync / history, certificate
// search and server-side paging, policies edited, authentication log filters (times in the
// operator's zone while the browser runs in UTC), audit log and its CSV export, RADIUS clients
// added and removed without the secret ever coming back; every page of this group rendered in
// English and Japanese, with screenshots under test-results/screenshots/.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk } from '../helpers/authbox.js';
import { addOperator, login, screenshot } from '../helpers/browser.js';
import { ADMIN, errorsOnPage, NAS_SECRET, startCertConsole, type CertConsole } from '../helpers/console-fixture.js';
import { ROOT_PASSWORD, userDn } from '../helpers/slapd.js';

let f: CertConsole;

beforeAll(async () => {
  f = await startCertConsole({ directory: true });
}, 180_000);

afterAll(async () => {
  await f?.stop();
});

describe('directory sources', () => {
  it('tests the connection, previews a dry run, runs a sync now and shows the history', async () => {
    await f.page.goto('/#/directory');
    await f.page.getByTestId('dir-source-corp').waitFor();
    expect(await f.page.content()).not.toContain(ROOT_PASSWORD);

    await f.page.getByTestId('dir-test-corp').click();
    await expect.poll(() => f.page.getByTestId('dir-test-result-corp').textContent()).toMatch(/^Connected: \d+ users found\.$/);

    // Someone joins in the directory: the preview shows the addition and changes nothing.
    f.slapd!.tool('ldapadd', [], `dn: ${userDn('newbie')}\nobjectClass: inetOrgPerson\nuid: newbie\ncn: New Bie\nsn: Bie\nuserPassword: newbie-pass-1\n`);
    await f.page.getByTestId('dir-preview-corp').click();
    await f.page.getByTestId('dir-plan').waitFor();
    expect(await f.page.getByTestId('dir-plan-add').textContent()).toBe('newbie');
    expect(authboxOk(['user', 'list', '--data', f.d.data.dir])).not.toMatch(/\bnewbie\b/);

    await f.page.getByTestId('dir-sync-corp').click();
    await f.page.getByTestId('dir-sync-result-corp').waitFor();
    expect(await f.page.getByTestId('dir-sync-result-corp').textContent()).toBe('Sync finished.');
    expect(authboxOk(['user', 'list', '--data', f.d.data.dir])).toMatch(/\bnewbie\b/);
    const history = f.page.getByTestId('dir-history-corp').getByTestId('dir-runs-row');
    await expect.poll(() => history.count()).toBeGreaterThanOrEqual(1);
    const cells = await history.first().locator('td').allTextContents();
    expect(cells.slice(2)).toEqual([expect.stringMatching(/^(full|incremental)$/), '1', '0', '0', expect.any(String), 'OK']);
  });
});

describe('the pages of this group, in English and Japanese', () => {
  const PAGES: { name: string; path: () => string; ready: string; ja: RegExp }[] = [
    { name: 'certificates', path: () => '/certificates', ready: 'certs-table', ja: /証明書/ },
    { name: 'certificate-detail', path: () => `/certificates/${f.alice[1]!.serial}`, ready: 'cert-fields', ja: /シリアル番号/ },
    { name: 'issue', path: () => '/issue', ready: 'issue-form', ja: /証明書の発行/ },
    { name: 'lost-device', path: () => '/lost-device?user=bob', ready: 'lost-preview-table', ja: /紛失端末/ },
    { name: 'nas', path: () => '/nas', ready: 'nas-table', ja: /RADIUS クライアント/ },
    { name: 'policies', path: () => '/policies', ready: 'pol-methods', ja: /ポリシー/ },
    { name: 'directory', path: () => '/directory', ready: 'dir-source-corp', ja: /ディレクトリ連携/ },
    { name: 'ca', path: () => '/ca', ready: 'ca-chain-', ja: /認証局/ },
    { name: 'auth-log', path: () => '/logs/auth', ready: 'alog-table', ja: /認証ログ/ },
    { name: 'audit', path: () => '/audit', ready: 'audit-table', ja: /監査ログ/ },
  ];

  async function visit(p: (typeof PAGES)[number]): Promise<void> {
    await f.page.goto(`/#${p.path()}`);
    await f.page.locator(`[data-testid^="${p.ready}"]`).first().waitFor();
    expect(await errorsOnPage(f.page), p.name).toEqual([]);
  }

  it('render in English with their data, and no secret on the RADIUS client page', async () => {
    for (const p of PAGES) {
      await visit(p);
      await screenshot(f.page, `${p.name}-en`);
    }
    await f.page.goto('/#/nas');
    await f.page.getByTestId('nas-table').waitFor();
    expect(await f.page.locator('[data-testid="nas-table-row"][data-key="lo"]').count()).toBe(1);
    expect(await f.page.content()).not.toContain(NAS_SECRET);
    await f.page.goto('/#/logs/auth?outcome=reject');
    await f.page.getByTestId('alog-table').waitFor();
    expect(await f.page.getByTestId('alog-reason').count()).toBeGreaterThanOrEqual(1);
    expect(await f.page.getByTestId('alog-outcome').allTextContents()).toEqual(expect.arrayContaining(['Rejected']));
    // Certificates: a search by user and status, then every certificate page by page (two a page, server-side cursor).
    await f.page.goto('/#/certificates');
    await f.page.getByTestId('certs-user').fill('alice');
    await f.page.getByTestId('certs-status').selectOption('valid');
    await f.page.getByTestId('certs-search').click();
    await expect.poll(async () => (await f.page.getByTestId('certs-table-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).sort())
      .toEqual(f.alice.map((c) => c.serial).sort());
    const all = (JSON.parse(authboxOk(['cert', 'list', '--data', f.d.data.dir, '--json'])) as { serial: string }[]).map((c) => c.serial);
    await f.page.goto('/#/certificates?limit=2');
    const seen: string[] = [];
    for (let pageNo = 0; pageNo < 20; pageNo++) {
      await f.page.getByTestId('certs-table-row').first().waitFor();
      const keys = await f.page.getByTestId('certs-table-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')!));
      expect(keys.length).toBeLessThanOrEqual(2);
      seen.push(...keys);
      if (await f.page.getByTestId('certs-next').count() === 0) break;
      await f.page.getByTestId('certs-next').click();
      await expect.poll(() => f.page.getByTestId('certs-table-row').first().getAttribute('data-key')).not.toBe(keys[0]);
    }
    expect(seen.sort()).toEqual([...all].sort());

    // Method and time range, the range read in the operator's zone (Asia/Tokyo, UTC+9).
    const tokyo = (ms: number) => new Date(ms + 9 * 3600_000).toISOString().slice(0, 16);
    await f.page.goto('/#/logs/auth');
    await f.page.getByTestId('alog-method').selectOption('pap');
    await f.page.getByTestId('alog-since').fill(tokyo(Date.now() - 3600_000));
    await f.page.getByTestId('alog-search').click();
    await expect.poll(() => f.page.getByTestId('alog-table-row').count()).toBe(2);
    expect(await f.page.locator('[data-testid="alog-table-row"] td:nth-child(5)').allTextContents()).toEqual(['pap', 'pap']);
    await f.page.getByTestId('alog-since').fill(tokyo(Date.now() + 3600_000));
    await f.page.getByTestId('alog-search').click();
    await f.page.getByTestId('alog-table-empty').waitFor();

    // The directory actions above were the operator's, from the browser's address.
    await f.page.goto('/#/audit?action=ldap.');
    await f.page.getByTestId('audit-table').waitFor();
    const audit = await f.page.getByTestId('audit-table').textContent();
    // Shown in Tokyo time although the browser runs in UTC.
    const first = await f.page.locator('[data-testid="audit-table-row"] td').first().textContent();
    const tokyoNow = new Date(Date.now() + 9 * 3600_000);
    expect(first).toContain(`${String(tokyoNow.getUTCDate()).padStart(2, '0')}/${String(tokyoNow.getUTCMonth() + 1).padStart(2, '0')}/${tokyoNow.getUTCFullYear()}`);
    expect(audit).toContain(`operator:${ADMIN}`);
    expect(audit).toContain('127.0.0.1');
    // The issuing CA's chain (the CA, then the root) is the one `authbox ca cert` prints.
    await f.page.goto('/#/ca');
    const chainLink = f.page.locator('[data-testid^="ca-chain-"]').last();
    const chain = f.page.waitForEvent('download');
    await chainLink.click();
    expect(readFileSync((await (await chain).path())!, 'utf8').trim()).toBe(f.ca.chainPem.trim());
    expect(await f.page.locator('[data-testid^="ca-ocsp-url-"]').last().textContent()).toBe(`${f.d.daemon.base}/ocsp`);
    await f.page.goto('/#/audit?action=ldap.');
    await f.page.getByTestId('audit-table').waitFor();

    expect(await f.page.getByTestId('audit-csv').getAttribute('href')).toBe('/api/v1/logs/audit.csv?action=ldap.');
    const csv = f.page.waitForEvent('download');
    await f.page.getByTestId('audit-csv').click();
    const lines = readFileSync((await (await csv).path())!, 'utf8').split('\r\n');
    expect(lines[0]).toBe('id,at,actor,source,action,target,detail');
    expect(lines.some((l) => l.includes('ldap.preview') && l.includes(`operator:${ADMIN}`))).toBe(true);
    expect(lines.slice(1).filter(Boolean).every((l) => l.includes(',ldap.'))).toBe(true);
  });

  it('render in Japanese', async () => {
    await f.page.goto('/#/certificates');
    await f.page.getByTestId('lang-select').selectOption('ja');
    for (const p of PAGES) {
      await visit(p);
      expect(await f.page.getByTestId('page').textContent(), p.name).toMatch(p.ja);
      await screenshot(f.page, `${p.name}-ja`);
    }
    await f.page.goto(`/#/certificates/${f.alice[1]!.serial}`);
    await f.page.getByTestId('cert-fields').waitFor();
    expect(await f.page.getByTestId('cert-status').textContent()).toBe('有効');
    await f.page.goto('/#/logs/auth?outcome=reject&method=pap');
    await f.page.getByTestId('alog-table').waitFor();
    expect(await f.page.getByTestId('alog-reason').allTextContents()).toEqual(['パスワードが違います']);
  });
  it('policies: a group\'s VLAN and attributes, a new group removed again, and the methods of a client kind', async () => {
    type Shown = { groups: { group: string; vlan: string | null; sessionTimeout: number | null }[]; methods: { kind: string; methods: string[] }[] };
    const policy = () => JSON.parse(authboxOk(['policy', 'show', '--data', f.d.data.dir, '--json'])) as Shown;
    await f.page.goto('/#/policies');
    await f.page.getByTestId('pol-edit-staff').click();
    expect(await f.page.getByTestId('pol-vlan').inputValue()).toBe('42');
    await f.page.getByTestId('pol-vlan').fill('50');
    await f.page.getByTestId('pol-sessionTimeout').fill('3600');
    await f.page.getByTestId('pol-save').click();
    await expect.poll(() => policy().groups.find((g) => g.group === 'staff')).toMatchObject({ vlan: '50', sessionTimeout: 3600 });
    await expect.poll(() => f.page.locator('[data-testid="pol-groups-row"][data-key="staff"]').textContent()).toContain('3600');

    await f.page.getByTestId('pol-group').fill('guests');
    await f.page.getByTestId('pol-vlan').fill('99');
    await f.page.getByTestId('pol-save').click();
    await f.page.getByTestId('pol-remove-guests').click();
    await f.page.getByTestId('confirm-ok').click();
    await f.page.getByTestId('pol-remove-guests').waitFor({ state: 'detached' });
    expect(policy().groups.map((g) => g.group)).toEqual(['staff']);

    for (const m of ['pap', 'chap', 'mschapv2', 'ttls', 'mab']) await f.page.getByTestId(`pol-method-vpn-${m}`).uncheck();
    await f.page.getByTestId('pol-methods-save-vpn').click();
    await expect.poll(() => policy().methods.find((k) => k.kind === 'vpn')?.methods).toEqual(['eap-tls', 'peap']);
  });

  it('add and remove a RADIUS client (the secret is sent, never shown back)', async () => {
    await f.page.goto('/#/nas');
    await f.page.getByTestId('nas-name').fill('ap-e2e');
    await f.page.getByTestId('nas-address').fill('192.0.2.77');
    await f.page.getByTestId('nas-secret').fill('another-secret-never-shown');
    await f.page.getByTestId('nas-add').click();
    await f.page.locator('[data-testid="nas-table-row"][data-key="ap-e2e"]').waitFor();
    expect(await f.page.getByTestId('nas-secret').inputValue()).toBe('');
    expect(await f.page.content()).not.toContain('another-secret-never-shown');
    await f.page.getByTestId('nas-remove-ap-e2e').click();
    await f.page.getByTestId('confirm-ok').click();
    await f.page.locator('[data-testid="nas-table-row"][data-key="ap-e2e"]').waitFor({ state: 'detached' });
  });
});

describe('roles', () => {
  it('an auditor reads these pages without any control that changes something; a network operator has no certificate pages', async () => {
    addOperator(f.d, 'audrey', 'auditor', 'auditor-password-1');
    addOperator(f.d, 'neta', 'network', 'network-password-1');
    const context = await f.browser.newContext({ baseURL: f.d.console, locale: 'en-US', timezoneId: 'UTC' });
    context.setDefaultTimeout(15_000);
    try {
      const page = await context.newPage();
      await login(page, 'audrey', 'auditor-password-1');
      await page.goto('/#/nas');
      await page.getByTestId('nas-table').waitFor();
      expect(await page.locator('[data-testid="nas-add-form"], [data-testid^="nas-remove-"]').count()).toBe(0);
      await page.goto('/#/policies');
      await page.getByTestId('pol-methods').waitFor();
      expect(await page.locator('[data-testid="pol-form"], [data-testid^="pol-remove-"], [data-testid^="pol-methods-save-"]').count()).toBe(0);
      expect(await page.getByTestId('pol-method-vpn-pap').isDisabled()).toBe(true);
      await page.goto('/#/directory');
      await page.getByTestId('dir-source-corp').waitFor();
      expect(await page.locator('[data-testid="dir-test-corp"], [data-testid="dir-preview-corp"], [data-testid="dir-sync-corp"]').count()).toBe(0);
      await page.getByTestId('dir-history-corp').getByTestId('dir-runs').waitFor();
      await page.goto(`/#/certificates/${f.alice[1]!.serial}`);
      await page.getByTestId('cert-fields').waitFor();
      expect(await page.locator('[data-testid="cert-revoke"], [data-testid="cert-reissue"]').count()).toBe(0);
      await page.goto('/#/audit');
      await page.getByTestId('audit-csv').waitFor();
      await page.goto('/#/lost-device');
      await page.getByTestId('not-permitted').waitFor();
      await page.getByTestId('logout').click();

      await login(page, 'neta', 'network-password-1');
      expect(await page.locator('[data-testid="nav-certificates"], [data-testid="nav-lost-device"], [data-testid="nav-audit"]').count()).toBe(0);
      await page.goto('/#/certificates');
      await page.getByTestId('not-permitted').waitFor();
      await page.goto('/#/nas');
      await page.getByTestId('nas-add-form').waitFor();
    } finally {
      await context.close();
    }
  });
});

describe('the browser', () => {
  it('saw no script error and no Content-Security-Policy refusal', () => {
    expect(f.browserErrors).toEqual([]);
  });
});
