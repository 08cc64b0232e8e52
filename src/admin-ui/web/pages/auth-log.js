// @ts-check
// Authentication log: every RADIUS decision, newest first, filtered by user, RADIUS client,
// result, method and time range (in the operator's time zone), with the failure reason. Paged
// on the server by id ("before"): the next page starts below the last row shown.
import { api, errorBox, field, h, itemsOf, kitMessages, qs, replace, select, table, time, zonedInputMs, zonedInputValue } from './_kit.js';

export const route = '/logs/auth';
export const permission = 'logs.auth';
export const nav = { key: 'nav.authLog', order: 70 };
const PAGE = 100;
const METHODS = ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'];

/** The decision log's reasons (src/radius, src/core/users.ts) in Japanese; others are shown as logged. */
const REASONS_JA = {
  'unknown user': '存在しないユーザー', 'wrong password': 'パスワードが違います', 'no user name': 'ユーザー名がありません',
  'no password': 'パスワードがありません', 'method not supported yet': '未対応の認証方式です',
  'method not allowed for this client kind': 'このクライアント種別では許可されていない認証方式です',
  'account disabled': 'アカウントが無効です', 'account expired': 'アカウントの有効期限切れです', 'account locked': 'アカウントがロックされています',
  'password expired': 'パスワードの有効期限切れです', 'certificate revoked': '証明書が失効しています', 'certificate on hold': '証明書が一時停止中です',
  'certificate expired': '証明書の有効期限切れです', 'certificate not yet valid': '証明書の有効期間前です', 'unknown certificate': '不明な証明書です',
  'certificate not for client authentication': 'クライアント認証用の証明書ではありません', 'no client certificate': 'クライアント証明書がありません',
  'client certificate of another user': '別のユーザーのクライアント証明書です', 'identity does not match the certificate': 'ID が証明書と一致しません',
  'device disabled': '端末が無効です', 'EAP method refused by the peer': '端末が EAP 方式を拒否しました', 'EAP protocol error': 'EAP プロトコルエラー',
  'inner method failed': 'トンネル内の認証に失敗しました', 'no NT hash kept for this user': 'このユーザーには NT ハッシュが保存されていません',
  'one-time code required but not enrolled': 'ワンタイムコードが必要ですが未登録です', 'wrong or reused one-time code': 'ワンタイムコードが違うか再利用されています',
  'challenge unknown, expired or already answered': 'チャレンジが不明・期限切れ・回答済みです',
  'challenge answered by another client': '別のクライアントがチャレンジに回答しました', 'challenge answered for another user': '別のユーザーとしてチャレンジに回答しました',
};

export const messages = {
  en: {
    ...kitMessages.en,
    'alog.title': 'Authentication log', 'alog.user': 'User', 'alog.client': 'RADIUS client', 'alog.result': 'Result',
    'alog.method': 'Method', 'alog.since': 'From', 'alog.until': 'Until', 'alog.accept': 'Accepted', 'alog.reject': 'Rejected',
    'alog.reason': 'Reason for failure', 'alog.station': 'Calling-Station-Id', 'alog.details': 'Details', 'alog.empty': 'No authentication matches.',
    'alog.older': 'Older entries', 'alog.newest': 'Newest entries', 'alog.zone': 'Times are in {tz}.',
  },
  ja: {
    ...kitMessages.ja,
    'alog.title': '認証ログ', 'alog.user': '利用者', 'alog.client': 'RADIUS クライアント', 'alog.result': '結果',
    'alog.method': '認証方式', 'alog.since': '開始日時', 'alog.until': '終了日時', 'alog.accept': '成功', 'alog.reject': '拒否',
    'alog.reason': '失敗の理由', 'alog.station': '接続元 (Calling-Station-Id)', 'alog.details': '詳細', 'alog.empty': '該当する認証記録はありません。',
    'alog.older': 'さらに古い記録', 'alog.newest': '最新の記録', 'alog.zone': '日時は {tz} で表示しています。',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const q = ctx.query ?? {};
  const input = (/** @type {string} */ id, /** @type {string} */ value, type = 'search') => /** @type {HTMLInputElement} */ (h('input', { type, testid: `alog-${id}`, value: value ?? '', autocomplete: 'off' }));
  const user = input('user', q.user);
  const nas = input('client', q.nas);
  const outcome = select('alog-result', [['', t('kit.any')], ['accept', t('alog.accept')], ['reject', t('alog.reject')]], q.outcome ?? '');
  const method = select('alog-method', [['', t('kit.any')], ...METHODS.map((m) => /** @type {[string, string]} */ ([m, m]))], q.method ?? '');
  const since = input('since', zonedInputValue(q.since), 'datetime-local');
  const until = input('until', zonedInputValue(q.until), 'datetime-local');
  const form = h('form', { class: 'toolbar', testid: 'alog-filters' },
    field(t('alog.user'), user), field(t('alog.client'), nas), field(t('alog.result'), outcome), field(t('alog.method'), method),
    field(t('alog.since'), since), field(t('alog.until'), until),
    h('button', { type: 'submit', class: 'primary', testid: 'alog-search' }, t('kit.search')),
    h('button', { type: 'button', testid: 'alog-clear', onclick: () => ctx.navigate('/logs/auth') }, t('kit.clear')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    ctx.navigate('/logs/auth' + qs({
      user: user.value.trim(), nas: nas.value.trim(), outcome: outcome.value, method: method.value,
      since: zonedInputMs(since.value), until: zonedInputMs(until.value),
    }));
  });
  const results = h('div', { testid: 'alog-results' }, t('kit.loading'));
  root.append(h('h1', null, t('alog.title')), form, results);

  const filter = { user: q.user, nas: q.nas, outcome: q.outcome, method: q.method, since: q.since, until: q.until };
  let page;
  try {
    page = await api(ctx).get('/logs/auth' + qs({ ...filter, before: q.before, limit: PAGE }));
  } catch (e) {
    replace(results, errorBox(ctx, e));
    return;
  }
  const rows = itemsOf(page);
  replace(results,
    table([
      { label: t('kit.time'), value: (r) => time(ctx, r.at) },
      { label: t('alog.user'), value: (r) => (r.username ? h('a', { href: `#/users/${encodeURIComponent(r.username)}` }, r.username) : '—') },
      { label: t('alog.client'), value: (r) => `${r.nas}${r.nasAddress ? ` (${r.nasAddress})` : ''}` },
      { label: t('alog.station'), value: (r) => r.callingStationId ?? '—' },
      { label: t('alog.method'), value: (r) => r.method ?? '—' },
      { label: t('alog.result'), value: (r) => h('span', { class: `badge ${r.outcome === 'accept' ? 'ok' : 'bad'}`, testid: 'alog-outcome' }, r.outcome === 'accept' ? t('alog.accept') : r.outcome === 'reject' ? t('alog.reject') : r.outcome) },
      { label: t('alog.reason'), value: (r) => (r.reason ? h('span', { testid: 'alog-reason', title: r.reason }, reasonText(ctx, r.reason)) : '—') },
      { label: t('alog.details'), value: (r) => (r.details ? Object.entries(r.details).map(([k, v]) => `${k}=${v}`).join(' ') : '') },
    ], rows, { testid: 'alog-table', key: (r) => String(r.id), empty: t('alog.empty') }),
    h('nav', { class: 'pager' },
      q.before ? h('button', { type: 'button', testid: 'alog-newest', onclick: () => ctx.navigate('/logs/auth' + qs(filter)) }, t('alog.newest')) : null,
      page?.nextBefore && itemsOf(page).length >= PAGE
        ? h('button', { type: 'button', testid: 'alog-older', onclick: () => ctx.navigate('/logs/auth' + qs({ ...filter, before: page.nextBefore })) }, t('alog.older'))
        : null));
}

/** @param {any} ctx @param {string} reason */
function reasonText(ctx, reason) {
  const ja = /** @type {Record<string, string>} */ (REASONS_JA)[reason];
  return ctx.language === 'ja' && ja ? ja : reason;
}
