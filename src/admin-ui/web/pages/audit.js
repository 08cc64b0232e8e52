// @ts-check
// Audit log: who did what, when, from which address (the API records the client address in
// each row's detail), filtered and paged on the server; the CSV export uses the same filters.
import { api, can, errorBox, field, h, itemsOf, kitMessages, qs, replace, table, time, zonedInputMs, zonedInputValue } from './_kit.js';

export const route = '/audit';
export const permission = 'logs.audit';
export const nav = { key: 'nav.audit', order: 71 };
const PAGE = 100;

export const messages = {
  en: {
    ...kitMessages.en,
    'audit.title': 'Audit log', 'audit.actor': 'Who', 'audit.source': 'Via', 'audit.action': 'What (action)', 'audit.target': 'Target',
    'audit.client': 'From address', 'audit.detail': 'Details', 'audit.since': 'From', 'audit.until': 'Until', 'audit.csv': 'Export CSV',
    'audit.empty': 'No audit record matches.', 'audit.older': 'Older entries', 'audit.newest': 'Newest entries',
    'audit.actionHint': 'Prefix, e.g. cert.', 'audit.readonly': 'Audit records cannot be changed or deleted.',
  },
  ja: {
    ...kitMessages.ja,
    'audit.title': '監査ログ', 'audit.actor': '実行者', 'audit.source': '経路', 'audit.action': '操作', 'audit.target': '対象',
    'audit.client': '接続元アドレス', 'audit.detail': '詳細', 'audit.since': '開始日時', 'audit.until': '終了日時', 'audit.csv': 'CSV でエクスポート',
    'audit.empty': '該当する監査記録はありません。', 'audit.older': 'さらに古い記録', 'audit.newest': '最新の記録',
    'audit.actionHint': '前方一致 (例: cert.)', 'audit.readonly': '監査記録は変更・削除できません。',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const q = ctx.query ?? {};
  const input = (/** @type {string} */ id, /** @type {string} */ value, type = 'search', placeholder = '') => /** @type {HTMLInputElement} */ (h('input', { type, testid: `audit-${id}`, value: value ?? '', autocomplete: 'off', placeholder: placeholder || undefined }));
  const actor = input('actor', q.actor, 'search', 'operator:admin');
  const action = input('action', q.action, 'search', t('audit.actionHint'));
  const target = input('target', q.target);
  const since = input('since', zonedInputValue(q.since), 'datetime-local');
  const until = input('until', zonedInputValue(q.until), 'datetime-local');
  const form = h('form', { class: 'toolbar', testid: 'audit-filters' },
    field(t('audit.actor'), actor), field(t('audit.action'), action), field(t('audit.target'), target),
    field(t('audit.since'), since), field(t('audit.until'), until),
    h('button', { type: 'submit', class: 'primary', testid: 'audit-search' }, t('kit.search')),
    h('button', { type: 'button', testid: 'audit-clear', onclick: () => ctx.navigate('/audit') }, t('kit.clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/audit' + qs({
      actor: actor.value.trim(), action: action.value.trim(), target: target.value.trim(), since: zonedInputMs(since.value), until: zonedInputMs(until.value),
    }));
  });
  const filter = { actor: q.actor, action: q.action, target: q.target, since: q.since, until: q.until };
  const results = h('div', { testid: 'audit-results' }, t('kit.loading'));
  root.append(h('h1', null, t('audit.title')), h('p', { class: 'muted' }, t('audit.readonly')), form,
    can(ctx, 'logs.export')
      ? h('p', null, h('a', { class: 'button', href: `/api/v1/logs/audit.csv${qs(filter)}`, download: 'authbox-audit.csv', testid: 'audit-csv' }, t('audit.csv')))
      : null,
    results);

  let page;
  try {
    page = await api(ctx).get('/logs/audit' + qs({ ...filter, before: q.before, limit: PAGE }));
  } catch (e) {
    replace(results, errorBox(ctx, e));
    return;
  }
  const rows = itemsOf(page);
  replace(results,
    table([
      { label: t('kit.time'), value: (r) => time(ctx, r.at) },
      { label: t('audit.actor'), value: (r) => r.actor },
      { label: t('audit.source'), value: (r) => r.source },
      { label: t('audit.action'), value: (r) => h('code', null, r.action) },
      { label: t('audit.target'), value: (r) => r.target ?? '—' },
      { label: t('audit.client'), value: (r) => clientOf(r.detail) ?? '—' },
      { label: t('audit.detail'), value: (r) => wrapping(h('span', null, detailText(r.detail))) },
    ], rows, { testid: 'audit-table', key: (r) => String(r.id), empty: t('audit.empty') }),
    h('nav', { class: 'pager' },
      q.before ? h('button', { type: 'button', testid: 'audit-newest', onclick: () => ctx.navigate('/audit' + qs(filter)) }, t('audit.newest')) : null,
      page?.nextBefore && rows.length >= PAGE
        ? h('button', { type: 'button', testid: 'audit-older', onclick: () => ctx.navigate('/audit' + qs({ ...filter, before: page.nextBefore })) }, t('audit.older'))
        : null));
}

/** @param {any} d */
function clientOf(d) {
  return d && typeof d === 'object' && typeof d.client === 'string' ? d.client : null;
}

/** The detail without the address (it has its own column), as key=value text. @param {any} d */
function detailText(d) {
  if (d === null || d === undefined) return '';
  if (typeof d !== 'object') return String(d);
  return Object.entries(d).filter(([k]) => k !== 'client')
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
}

/** Long values (lists of serials) wrap instead of widening the table. @param {HTMLElement} node */
function wrapping(node) {
  node.style.wordBreak = 'break-word';
  return node;
}
