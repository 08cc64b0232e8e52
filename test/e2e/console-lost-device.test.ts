// The certificate pages of the console in headless Chromium against a running daemon, with an
// administrator logged in with TOTP: the lost-device page revokes every certificate of a user
// (and of one device) in one action and `openssl ocsp` then says revoked, and the Wi-Fi
// (eapol_test) refuses the certificate; a certificate issued in the console comes down once as
// a PKCS#12 that `openssl pkcs12` opens with the password shown once, and a second download is
// refused; reissue and revoke with a chosen reason from the certificate page.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, openssl, sleep } from '../helpers/authbox.js';
import { screenshot } from '../helpers/browser.js';
import { LAPTOP_MAC, startCertConsole, type CertConsole } from '../helpers/console-fixture.js';

let f: CertConsole;

beforeAll(async () => {
  f = await startCertConsole();
}, 180_000);

afterAll(async () => {
  await f?.stop();
});

describe('lost device', () => {
  it('revokes every certificate of the user in one action, and openssl ocsp then says revoked', async () => {
    for (const c of f.alice) expect(f.ocsp(c.cert).status).toBe('good');
    // Alice's laptop used its first certificate on the Wi-Fi: the page says where.
    expect(await f.eapTls('alice', f.alice[0]!)).toBe('SUCCESS');
    // And she is connected: the access point reported her session by accounting.
    await f.accountingStart('alice', 'AP-alice-1');

    await f.page.goto('/#/lost-device');
    await f.page.getByTestId('lost-target').fill('alice');
    await f.page.getByTestId('lost-preview').click();
    const preview = f.page.getByTestId('lost-preview-table-row');
    await expect.poll(() => preview.count()).toBe(2);
    for (const c of f.alice) await expect(f.page.locator(`[data-testid="lost-preview-table-row"][data-key="${c.serial}"]`).count()).resolves.toBe(1);
    // Where alice was last seen: the PAP accept above, from the client "lo".
    expect(await f.page.getByTestId('lost-last-auth').textContent()).toContain('lo');
    await screenshot(f.page, 'lost-device-preview-en');

    await f.page.getByTestId('lost-revoke-all').click();
    await f.page.getByTestId('confirm-ok').click();
    await f.page.getByTestId('lost-done').waitFor();
    expect(await f.page.getByTestId('lost-results-row').count()).toBe(2);
    for (const c of f.alice) expect(await f.page.locator(`[data-testid="lost-results-row"][data-key="${c.serial}"]`).count()).toBe(1);
    const used = await f.page.locator(`[data-testid="lost-results-row"][data-key="${f.alice[0]!.serial}"]`).textContent();
    expect(used).toMatch(/lo \(127\.0\.0\.1\)/);
    expect(used).toMatch(/eap-tls/);
    expect(await f.page.locator(`[data-testid="lost-results-row"][data-key="${f.alice[1]!.serial}"]`).textContent()).toContain('Not seen');
    // The access point got a Disconnect-Request (RFC 5176) for her session and acknowledged it; the page shows it.
    await f.page.getByTestId('lost-disconnects-table').waitFor({ timeout: 20_000 });
    await expect.poll(() => f.page.getByTestId('lost-disconnects-table').textContent(), { timeout: 20_000 }).toMatch(/AP-alice-1.*ack/);
    // One per session, though both revoked certificates name her.
    expect(await f.page.getByTestId('lost-disconnects-table').locator('tbody tr').count()).toBe(1);
    const sent = f.coa.forSession('AP-alice-1');
    expect(sent.length).toBeGreaterThanOrEqual(1);
    expect(sent[0]!.authenticatorOk && sent[0]!.messageAuthenticatorOk).toBe(true);
    await screenshot(f.page, 'lost-device-result-en');

    // Revocation reaches the OCSP responder through the change feed within about a second.
    for (const c of f.alice) {
      let last = f.ocsp(c.cert);
      for (let i = 0; i < 20 && last.status !== 'revoked'; i++) {
        await sleep(250);
        last = f.ocsp(c.cert);
      }
      expect(last.status, last.output).toBe('revoked');
      expect(last.output).toMatch(/Response verify OK/);
      expect(last.output).toMatch(/Reason: keyCompromise/);
    }
    // And the Wi-Fi refuses the laptop.
    expect(await f.eapTls('alice', f.alice[0]!)).toBe('FAILURE');
  });

  it('revokes the certificates of one device, found by its name', async () => {
    expect(f.ocsp(f.laptop.cert).status).toBe('good');
    await f.page.getByTestId('lost-again').click();
    await f.page.getByTestId('lost-mode').selectOption('device');
    await f.page.getByTestId('lost-target').fill('laptop-7');
    await f.page.getByTestId('lost-preview').click();
    await f.page.getByTestId('lost-device-info').waitFor();
    expect(await f.page.getByTestId('lost-device-info').textContent()).toContain(LAPTOP_MAC);
    expect(await f.page.getByTestId('lost-preview-table-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).toEqual([f.laptop.serial]);
    await f.page.getByTestId('lost-revoke-all').click();
    await f.page.getByTestId('confirm-ok').click();
    await f.page.getByTestId('lost-done').waitFor();
    expect(await f.page.getByTestId('lost-results-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-key')))).toEqual([f.laptop.serial]);
    let last = f.ocsp(f.laptop.cert);
    for (let i = 0; i < 20 && last.status !== 'revoked'; i++) {
      await sleep(250);
      last = f.ocsp(f.laptop.cert);
    }
    expect(last.status, last.output).toBe('revoked');
  });

  it('the certificate page shows the revocation and its reason', async () => {
    await f.page.goto(`/#/certificates/${f.alice[0]!.serial}`);
    await expect(f.page.getByTestId('cert-status').textContent()).resolves.toBe('Revoked');
    expect(await f.page.getByTestId('cert-fields').textContent()).toContain('Key compromise');
    expect(await f.page.getByTestId('cert-revoke').count()).toBe(0);
  });
});

describe('issue in the console', () => {
  it('downloads the PKCS#12 once; openssl opens it with the password shown once; a second download is refused', async () => {
    await f.page.goto('/#/issue');
    await f.page.getByTestId('issue-username').fill('bob');
    await f.page.getByTestId('issue-submit').click();
    await f.page.getByTestId('one-time-result').waitFor();
    const password = (await f.page.getByTestId('p12-password').textContent())!.trim();
    expect(password.length).toBeGreaterThanOrEqual(12);
    expect(await f.page.getByTestId('one-time-warning').textContent()).toMatch(/not be shown again/);
    const serial = (await f.page.getByTestId('issued-serial').textContent())!.trim();
    await screenshot(f.page, 'issue-result-en');

    const response = f.page.waitForResponse((r) => r.url().includes('/api/v1/downloads/'));
    const download = f.page.waitForEvent('download');
    await f.page.getByTestId('p12-download').click();
    const first = await response;
    expect(first.status()).toBe(200);
    const file = join(f.work.path, 'bob.p12');
    await (await download).saveAs(file);
    await expect(f.page.getByTestId('p12-download-status').textContent()).resolves.toMatch(/cannot be downloaded again/);
    expect(await f.page.getByTestId('p12-download').isDisabled()).toBe(true);

    const info = openssl(['pkcs12', '-info', '-noout', '-in', file, '-passin', `pass:${password}`]);
    expect(info.status, info.stderr).toBe(0);
    const wrong = openssl(['pkcs12', '-info', '-noout', '-in', file, '-passin', 'pass:not-the-password']);
    expect(wrong.status).not.toBe(0);
    const cert = openssl(['pkcs12', '-in', file, '-passin', `pass:${password}`, '-clcerts', '-nokeys']);
    const subject = openssl(['x509', '-noout', '-subject', '-serial'], { input: cert.stdout });
    expect(subject.stdout).toMatch(/CN ?= ?bob/);
    expect(subject.stdout.toLowerCase()).toContain(serial.toLowerCase().replace(/^0+/, ''));

    // Again, with the same session: the file is gone.
    const again = await f.page.evaluate(async (url) => (await fetch(url, { credentials: 'same-origin' })).status, first.url());
    expect(again).toBe(410);

    // Leaving the page forgets the password: it is not shown anywhere after a reload.
    await f.page.goto(`/#/certificates/${serial}`);
    await f.page.getByTestId('cert-detail').locator('h1').waitFor();
    expect(await f.page.content()).not.toContain(password);
  });

  it('reissues from the certificate page (the old one superseded), then revokes the new one with a chosen reason', async () => {
    const [old] = JSON.parse(authboxOk(['cert', 'list', '--data', f.d.data.dir, '--user', 'bob', '--status', 'valid', '--json'])) as { serial: string }[];
    await f.page.goto(`/#/certificates/${old!.serial}`);
    await f.page.getByTestId('cert-reissue').waitFor();
    await screenshot(f.page, 'certificate-actions-en');
    await f.page.getByTestId('cert-reissue').click();
    await f.page.getByTestId('confirm-ok').click();
    await f.page.getByTestId('one-time-result').waitFor();
    const fresh = (await f.page.getByTestId('issued-serial').textContent())!.trim();
    expect(fresh).not.toBe(old!.serial);
    expect((await f.page.getByTestId('p12-password').textContent())!.trim().length).toBeGreaterThanOrEqual(12);

    // The same address again would not re-render: reload it.
    await f.page.reload();
    await expect.poll(() => f.page.getByTestId('cert-fields').textContent()).toContain('Superseded');

    await f.page.goto(`/#/certificates/${fresh}`);
    await f.page.getByTestId('revoke-reason').selectOption('affiliationChanged');
    await f.page.getByTestId('cert-revoke').click();
    await f.page.getByTestId('confirm-ok').click();
    await expect.poll(() => f.page.getByTestId('cert-status').getAttribute('data-status')).toBe('revoked');
    expect(await f.page.getByTestId('cert-fields').textContent()).toContain('Affiliation changed');
    const shown = JSON.parse(authboxOk(['cert', 'show', '--data', f.d.data.dir, '--serial', fresh, '--json'])) as { status: string; reason: string };
    expect(shown).toMatchObject({ status: 'revoked', reason: 'affiliationChanged' });
  });
});

describe('the browser', () => {
  it('saw no script error and no Content-Security-Policy refusal', () => {
    expect(f.browserErrors).toEqual([]);
  });
});
