// @ts-check
// Certificates: search by user, serial prefix, common name and status, one server-side page
// at a time (the API's limit and cursor; nothing is filtered or paged in the browser).
import { api, can, errorBox, field, h, itemsOf, kitMessages, qs, replace, select, statusBadge, table, time } from './_kit.js';

export const route = '/certificates';
export const permission = 'certs.read';
export const nav = { key: 'nav.certificates', order: 30 };
const PAGE = 50;

export const messages = {
  en: {
    ...kitMessages.en,
    'certs.title': 'Certificates', 'certs.issue': 'Issue a certificate', 'certs.lost': 'Lost device…',
    'certs.empty': 'No certificate matches.', 'certs.serialHint': 'Serial (hex, a prefix is enough)',
    'certs.count': '{n} shown',
  },
  ja: {
    ...kitMessages.ja,
    'certs.title': '証明書', 'certs.issue': '証明書を発行', 'certs.lost': '紛失端末の対応…',
    'certs.empty': '該当する証明書はありません。', 'certs.serialHint': 'シリアル番号 (16 進、前方一致)',
    'certs.count': '{n} 件を表示',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const q = ctx.query ?? {};
  const user = /** @type {HTMLInputElement} */ (h('input', { type: 'search', testid: 'certs-user', value: q.user ?? '', autocomplete: 'off' }));
  const serial = /** @type {HTMLInputElement} */ (h('input', { type: 'search', testid: 'certs-serial', value: q.serial ?? '', placeholder: t('certs.serialHint'), autocomplete: 'off' }));
  const cn = /** @type {HTMLInputElement} */ (h('input', { type: 'search', testid: 'certs-cn', value: q.cn ?? '', autocomplete: 'off' }));
  const status = select('certs-status', [['', t('kit.any')], ...['valid', 'revoked', 'expired', 'hold'].map((s) => /** @type {[string, string]} */ ([s, t(`kit.status.${s}`)]))], q.status ?? '');
  const form = h('form', { class: 'toolbar', testid: 'certs-search-form' },
    field(t('kit.user'), user), field(t('kit.serial'), serial), field(t('kit.commonName'), cn), field(t('kit.status'), status),
    h('button', { type: 'submit', class: 'primary', testid: 'certs-search' }, t('kit.search')),
    h('button', { type: 'button', testid: 'certs-clear', onclick: () => ctx.navigate('/certificates') }, t('kit.clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/certificates' + qs({ user: user.value.trim(), serial: serial.value.trim(), cn: cn.value.trim(), status: status.value }));
  });
  const results = h('div', { testid: 'certs-results' }, t('kit.loading'));
  root.append(
    h('h1', null, t('certs.title')),
    h('div', { class: 'actions wrap', style: { marginBottom: '1rem' } },
      can(ctx, 'certs.issue')
        ? h('button', { type: 'button', class: 'primary', testid: 'certs-issue-link', onclick: () => ctx.navigate('/issue' + qs({ user: q.user })) }, t('certs.issue'))
        : null,
      can(ctx, 'certs.revoke')
        ? h('button', { type: 'button', class: 'danger', testid: 'certs-lost-link', onclick: () => ctx.navigate('/lost-device' + qs({ user: q.user })) }, t('certs.lost'))
        : null),
    form, results);

  // The page size may be given in the address (?limit=), within what the API allows.
  const size = /^\d+$/.test(q.limit ?? '') ? Math.min(200, Math.max(1, Number(q.limit))) : PAGE;
  const filter = { user: q.user, serial: q.serial, cn: q.cn, status: q.status, limit: q.limit ? size : undefined };
  let page;
  try {
    page = await api(ctx).get('/certificates' + qs({ ...filter, limit: size, cursor: q.cursor }));
  } catch (e) {
    replace(results, errorBox(ctx, e));
    return;
  }
  const rows = itemsOf(page);
  replace(results,
    h('p', { class: 'muted', testid: 'certs-count' }, t('certs.count', { n: rows.length })),
    table([
      { label: t('kit.serial'), value: (c) => h('a', { href: `#/certificates/${encodeURIComponent(c.serial)}`, testid: 'cert-link' }, h('code', null, c.serial)) },
      { label: t('kit.commonName'), value: (c) => c.commonName },
      { label: t('kit.user'), value: (c) => (c.username ? h('a', { href: `#/users/${encodeURIComponent(c.username)}` }, c.username) : '—') },
      { label: t('kit.profile'), value: (c) => c.profile },
      { label: t('kit.status'), value: (c) => statusBadge(ctx, c.status) },
      { label: t('kit.notAfter'), value: (c) => time(ctx, c.notAfter) },
    ], rows, { testid: 'certs-table', key: (c) => c.serial, empty: t('certs.empty') }),
    h('nav', { class: 'pager' },
      q.cursor ? h('button', { type: 'button', testid: 'certs-first', onclick: () => ctx.navigate('/certificates' + qs(filter)) }, t('kit.prev')) : null,
      page && page.nextCursor
        ? h('button', { type: 'button', testid: 'certs-next', onclick: () => ctx.navigate('/certificates' + qs({ ...filter, cursor: page.nextCursor })) }, t('kit.next'))
        : null));
}
