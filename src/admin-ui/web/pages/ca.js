// @ts-check
// Certificate authority: each CA with its chain download, the CRL's number and next update
// (RFC 5280 §5.1.2.5, §5.2.3), and the OCSP responder's URL and signer certificate expiry.
import { api, errorBox, h, itemsOf, kitMessages, time } from './_kit.js';

export const route = '/ca';
export const permission = 'ca.read';
export const nav = { key: 'nav.ca', order: 60 };
const SOON_MS = 30 * 86_400_000;

export const messages = {
  en: {
    ...kitMessages.en,
    'ca.title': 'Certificate authority', 'ca.empty': 'No CA.', 'ca.subject': 'Subject', 'ca.chain': 'Download chain (PEM)',
    'ca.crl': 'Certificate revocation list (CRL)', 'ca.crlNumber': 'CRL number', 'ca.thisUpdate': 'Issued', 'ca.nextUpdate': 'Next update',
    'ca.url': 'URL', 'ca.ocsp': 'OCSP responder', 'ca.signerNotAfter': 'Signer certificate valid until', 'ca.soon': 'expires soon',
    'ca.expired': 'expired',
  },
  ja: {
    ...kitMessages.ja,
    'ca.title': '認証局 (CA)', 'ca.empty': 'CA がありません。', 'ca.subject': 'サブジェクト', 'ca.chain': '証明書チェーンをダウンロード (PEM)',
    'ca.crl': '証明書失効リスト (CRL)', 'ca.crlNumber': 'CRL 番号', 'ca.thisUpdate': '発行日時', 'ca.nextUpdate': '次回更新予定',
    'ca.url': 'URL', 'ca.ocsp': 'OCSP レスポンダー', 'ca.signerNotAfter': '署名用証明書の有効期限', 'ca.soon': 'まもなく期限切れ',
    'ca.expired': '期限切れ',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  root.append(h('h1', null, t('ca.title')));
  let cas;
  try {
    cas = itemsOf(await api(ctx).get('/ca'));
  } catch (e) {
    root.append(errorBox(ctx, e));
    return;
  }
  if (cas.length === 0) root.append(h('p', { class: 'muted' }, t('ca.empty')));
  const now = Date.now();
  const expiry = (/** @type {any} */ v) => {
    const ms = typeof v === 'number' ? v : Date.parse(v);
    const flag = !Number.isFinite(ms) ? null : ms <= now ? t('ca.expired') : ms - now < SOON_MS ? t('ca.soon') : null;
    return [time(ctx, v), flag ? h('span', { class: 'badge warn' }, ` ${flag}`) : null];
  };
  for (const ca of cas) {
    const id = ca.id;
    root.append(h('section', { class: 'card', testid: `ca-${id}` },
      h('h2', null, ca.name ?? ca.subject),
      h('dl', { class: 'props' },
        h('dt', null, t('ca.subject')), h('dd', null, ca.subject ?? '—'),
        h('dt', null, t('kit.notAfter')), h('dd', null, expiry(ca.notAfter))),
      h('p', null, h('a', {
        class: 'button', href: `/api/v1/ca/${encodeURIComponent(id)}/chain.pem`, download: `authbox-ca-${id}-chain.pem`, testid: `ca-chain-${id}`,
      }, t('ca.chain'))),
      h('h3', null, t('ca.crl')),
      h('dl', { class: 'props', testid: `ca-crl-${id}` },
        h('dt', null, t('ca.crlNumber')), h('dd', { testid: `ca-crl-number-${id}` }, ca.crl?.number ?? '—'),
        h('dt', null, t('ca.thisUpdate')), h('dd', null, time(ctx, ca.crl?.thisUpdate)),
        h('dt', null, t('ca.nextUpdate')), h('dd', { testid: `ca-crl-next-${id}` }, expiry(ca.crl?.nextUpdate)),
        h('dt', null, t('ca.url')), h('dd', null, ca.crl?.url ? h('code', null, ca.crl.url) : '—')),
      h('h3', null, t('ca.ocsp')),
      h('dl', { class: 'props', testid: `ca-ocsp-${id}` },
        h('dt', null, t('ca.url')), h('dd', { testid: `ca-ocsp-url-${id}` }, ca.ocsp?.url ? h('code', null, ca.ocsp.url) : '—'),
        h('dt', null, t('ca.signerNotAfter')), h('dd', null, ca.ocsp?.signerNotAfter ? expiry(ca.ocsp.signerNotAfter) : '—'))));
  }
}
