// @ts-check
// One certificate, decoded by the API (subject, issuer, SANs, key, fingerprint, PEM), with
// revoke (a reason chosen from RFC 5280 §5.3.1's list the API accepts) and reissue (the old
// one is revoked as superseded; the new PKCS#12 is offered once).
import {
  api, can, confirmStep, errorBox, field, h, kitMessages, notify, oneTimeResult, REASONS, replace, select, statusBadge, time,
} from './_kit.js';

export const route = '/certificates/:serial';
export const permission = 'certs.read';
export const nav = null;

/** Extended key usages by OID (RFC 5280 §4.2.1.12), named as OpenSSL names them. */
const EKU = /** @type {Record<string, string>} */ ({
  '1.3.6.1.5.5.7.3.1': 'serverAuth (1.3.6.1.5.5.7.3.1)', '1.3.6.1.5.5.7.3.2': 'clientAuth (1.3.6.1.5.5.7.3.2)',
  '1.3.6.1.5.5.7.3.4': 'emailProtection (1.3.6.1.5.5.7.3.4)', '1.3.6.1.5.5.7.3.9': 'OCSPSigning (1.3.6.1.5.5.7.3.9)',
  '1.3.6.1.4.1.311.20.2.2': 'smartcardLogon (1.3.6.1.4.1.311.20.2.2)',
});

export const messages = {
  en: {
    ...kitMessages.en,
    'cert.title': 'Certificate {serial}', 'cert.back': 'All certificates',
    'cert.subject': 'Subject', 'cert.issuer': 'Issuer', 'cert.sans': 'Subject alternative names', 'cert.keyUsage': 'Extended key usage',
    'cert.fingerprint': 'SHA-256 fingerprint', 'cert.publicKey': 'Public key', 'cert.issuedAt': 'Issued at', 'cert.pem': 'PEM',
    'cert.revoke': 'Revoke', 'cert.revokeTitle': 'Revoke this certificate',
    'cert.revokeConfirm': 'Revoke certificate {serial} ({cn}) with reason “{reason}”? Wi-Fi, VPN and the gateways will refuse it within seconds.',
    'cert.revoked': 'Certificate revoked.', 'cert.reissue': 'Reissue',
    'cert.reissueConfirm': 'Reissue certificate {serial} ({cn})? The current one is revoked (superseded) and a new PKCS#12 is made.',
    'cert.reissueTitle': 'Reissue (revoke this one and issue a replacement)',
  },
  ja: {
    ...kitMessages.ja,
    'cert.title': '証明書 {serial}', 'cert.back': '証明書の一覧へ',
    'cert.subject': 'サブジェクト', 'cert.issuer': '発行者', 'cert.sans': 'サブジェクト代替名 (SAN)', 'cert.keyUsage': '拡張キー使用法',
    'cert.fingerprint': 'SHA-256 フィンガープリント', 'cert.publicKey': '公開鍵', 'cert.issuedAt': '発行日時', 'cert.pem': 'PEM',
    'cert.revoke': '失効する', 'cert.revokeTitle': 'この証明書を失効する',
    'cert.revokeConfirm': '証明書 {serial}（{cn}）を理由「{reason}」で失効しますか？数秒以内に無線 LAN・VPN・ゲートウェイで拒否されます。',
    'cert.revoked': '証明書を失効しました。', 'cert.reissue': '再発行する',
    'cert.reissueConfirm': '証明書 {serial}（{cn}）を再発行しますか？現在の証明書は「置き換え」として失効し、新しい PKCS#12 を作成します。',
    'cert.reissueTitle': '再発行 (この証明書を失効し、代わりを発行)',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const serial = String(ctx.params.serial);
  root.append(h('p', null, h('a', { href: '#/certificates', testid: 'cert-back' }, `← ${t('cert.back')}`)));
  const body = h('div', { testid: 'cert-detail' }, t('kit.loading'));
  root.append(body);
  let c;
  try {
    c = await api(ctx).get(`/certificates/${encodeURIComponent(serial)}`);
  } catch (e) {
    replace(body, errorBox(ctx, e));
    return;
  }
  /** @type {[string, any][]} */
  const rows = [
    [t('kit.serial'), h('code', { testid: 'cert-serial' }, c.serial)],
    [t('kit.status'), statusBadge(ctx, c.status)],
    [t('kit.commonName'), c.commonName],
    [t('kit.user'), c.username ? h('a', { href: `#/users/${encodeURIComponent(c.username)}` }, c.username) : '—'],
    [t('kit.profile'), c.profile],
    [t('cert.subject'), c.subject],
    [t('cert.issuer'), c.issuer ? String(c.issuer).split('\n').join(', ') : '—'],
    [t('cert.sans'), c.subjectAltName ?? '—'],
    [t('cert.keyUsage'), Array.isArray(c.keyUsage) && c.keyUsage.length ? c.keyUsage.map((/** @type {string} */ o) => EKU[o] ?? o).join(', ') : '—'],
    [t('cert.publicKey'), keyText(c.publicKey)],
    [t('cert.fingerprint'), h('code', { style: { wordBreak: 'break-all' } }, c.fingerprint256 ?? '—')],
    [t('kit.notBefore'), time(ctx, c.notBefore)],
    [t('kit.notAfter'), time(ctx, c.notAfter)],
    [t('cert.issuedAt'), time(ctx, c.issuedAt)],
  ];
  if (c.status === 'revoked' || c.status === 'hold') {
    rows.push([t('kit.revokedAt'), time(ctx, c.revokedAt)], [t('kit.reason'), c.reason ? t(`kit.reason.${c.reason}`) : '—']);
  }
  const actions = h('div', { class: 'actions wrap' });
  const result = h('div', { testid: 'cert-action-result' });
  replace(body,
    h('h1', null, t('cert.title', { serial: c.serial })),
    h('section', { class: 'card' }, h('dl', { class: 'props', testid: 'cert-fields' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]))),
    actions, result,
    h('details', null, h('summary', null, t('cert.pem')), h('pre', { class: 'pem', testid: 'cert-pem' }, c.pem ?? '')));

  if (!can(ctx, 'certs.revoke') || c.status !== 'valid') return;
  const reason = select('revoke-reason', REASONS.map((r) => /** @type {[string, string]} */ ([r, t(`kit.reason.${r}`)])), 'keyCompromise');
  const revoke = /** @type {HTMLButtonElement} */ (h('button', { class: 'danger', testid: 'cert-revoke' }, t('cert.revoke')));
  const reissue = /** @type {HTMLButtonElement} */ (h('button', { testid: 'cert-reissue' }, t('cert.reissue')));
  actions.append(
    h('fieldset', { class: 'card' }, h('legend', null, t('cert.revokeTitle')), field(t('kit.reason'), reason), revoke),
    c.profile === 'user' || c.profile === 'device' ? h('fieldset', { class: 'card' }, h('legend', null, t('cert.reissueTitle')), reissue) : null);

  revoke.addEventListener('click', async () => {
    const text = t('cert.revokeConfirm', { serial: c.serial, cn: c.commonName, reason: t(`kit.reason.${reason.value}`) });
    if (!(await confirmStep(ctx, text))) return;
    revoke.disabled = true;
    try {
      await api(ctx).post(`/certificates/${encodeURIComponent(c.serial)}/revoke`, { reason: reason.value });
      notify(ctx, t('cert.revoked'));
      if (typeof ctx.refresh === 'function') await ctx.refresh();
      else { replace(root); await render(root, ctx); }
    } catch (e) {
      revoke.disabled = false;
      replace(result, errorBox(ctx, e));
    }
  });
  reissue.addEventListener('click', async () => {
    if (!(await confirmStep(ctx, t('cert.reissueConfirm', { serial: c.serial, cn: c.commonName })))) return;
    reissue.disabled = true;
    revoke.disabled = true;
    try {
      const r = await api(ctx).post(`/certificates/${encodeURIComponent(c.serial)}/reissue`, {});
      replace(result, oneTimeResult(ctx, r));
    } catch (e) {
      reissue.disabled = false;
      revoke.disabled = false;
      replace(result, errorBox(ctx, e));
    }
  });
}

/** @param {any} k */
function keyText(k) {
  if (!k) return '—';
  const parts = [k.type ?? '?'];
  if (k.namedCurve) parts.push(k.namedCurve);
  if (k.modulusLength) parts.push(`${k.modulusLength} bit`);
  return parts.join(' ');
}
