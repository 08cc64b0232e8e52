// @ts-check
// Small DOM and API helpers shared by the certificate, network, directory, CA and log pages.
// Not a page (pages/index.js does not list it). The DOM is built with createElement and
// textContent only: the console runs under a strict CSP and nothing here parses HTML.
import { currentTimeZone } from '../i18n.js';
import { append, clear, el } from '../ui.js';

/**
 * The shell's el() (ui.js) with `testid` short for `data-testid`:
 * h('button', {testid: 'x', class: 'primary', onclick: fn, disabled: true}, 'text', child, [more])
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  if (attrs && 'testid' in attrs) {
    const { testid, ...rest } = attrs;
    attrs = { ...rest, 'data-testid': testid };
  }
  return el(tag, attrs, ...children);
}

/** Removes every child, then appends. @param {Node} node @param {...any} children */
export function replace(node, ...children) {
  append(clear(node), children);
}

/** The shell's API client (api.js: get, post, put, del). @param {any} ctx */
export function api(ctx) {
  return ctx.api;
}

export { qs } from '../api.js';

/** A list body's rows: every list route answers {items: [...]}. @param {any} x @returns {any[]} */
export function itemsOf(x) {
  return x?.items ?? [];
}

/** @param {any} err */
export function errorCode(err) {
  return err?.code ?? null;
}

/** @param {any} ctx @param {any} err */
export function errorText(ctx, err) {
  // The shell's wording for "no answer" and "not permitted", in the operator's language.
  if (err?.status === 0 || err?.status === 403) return ctx.ui.errorText(err);
  const code = errorCode(err);
  const msg = err?.message ?? String(err);
  return code ? `${ctx.t('kit.error')}: ${msg} (${code})` : `${ctx.t('kit.error')}: ${msg}`;
}

/** @param {any} ctx @param {any} err @param {string} [testid] */
export function errorBox(ctx, err, testid = 'error') {
  return h('p', { class: 'error', role: 'alert', testid }, errorText(ctx, err));
}

/** A time (ms or ISO string) in the operator's zone, or a dash. @param {any} ctx @param {any} v */
export function time(ctx, v) {
  if (v === null || v === undefined || v === '') return '—';
  const ms = typeof v === 'number' ? v : Date.parse(v);
  return Number.isFinite(ms) ? ctx.fmtTime(ms) : String(v);
}

/** The zone's offset from UTC at `ms`, in ms. @param {number} ms @param {string} tz */
function zoneOffset(ms, tz) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms));
  const n = (/** @type {string} */ type) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - Math.floor(ms / 1000) * 1000;
}

/**
 * A datetime-local value ("2026-01-05T09:00") read as a wall time in the operator's zone (not
 * the browser's), as ms since the epoch.
 * @param {string} s
 */
export function zonedInputMs(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(s ?? '');
  if (!m) return undefined;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]));
  const tz = currentTimeZone();
  // Twice: the first guess may sit on the other side of a daylight-saving change.
  const first = wall - zoneOffset(wall, tz);
  return wall - zoneOffset(first, tz);
}

/** ms as a datetime-local value in the operator's zone. @param {any} v */
export function zonedInputValue(v) {
  const ms = Number(v);
  if (v === undefined || v === null || v === '' || !Number.isFinite(ms)) return '';
  return new Date(ms + zoneOffset(ms, currentTimeZone())).toISOString().slice(0, 16);
}

/** @param {any} ctx @param {string} perm */
export function can(ctx, perm) {
  return ctx.can(perm);
}

/**
 * A table. columns: [{label, value(row) -> node|string, testid?}]; rows get data-testid
 * `${testid}-row` and data-key from key(row).
 * @param {{label: string, value: (r: any) => any}[]} columns
 * @param {any[]} rows
 * @param {{testid: string, key?: (r: any) => string, empty: string}} opts
 */
export function table(columns, rows, opts) {
  if (rows.length === 0) return h('p', { class: 'muted', testid: `${opts.testid}-empty` }, opts.empty);
  return h('table', { class: 'grid', testid: opts.testid },
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', null, rows.map((r) => h('tr', { testid: `${opts.testid}-row`, 'data-key': opts.key ? opts.key(r) : undefined },
      columns.map((c) => h('td', null, c.value(r)))))));
}

/** A labelled form field. @param {string} label @param {HTMLElement} control */
export function field(label, control) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control);
}

/**
 * A <select>. options: [[value, label]].
 * @param {string} testid @param {[string, string][]} options @param {string} [value]
 * @returns {HTMLSelectElement}
 */
export function select(testid, options, value) {
  const s = /** @type {HTMLSelectElement} */ (h('select', { testid }, options.map(([v, l]) => h('option', { value: v }, l))));
  if (value !== undefined) s.value = value;
  return s;
}

/** Asks before a destructive step (the shell's dialog). @param {any} ctx @param {string} message @returns {Promise<boolean>} */
export function confirmStep(ctx, message) {
  return ctx.ui.confirmDialog(message, { danger: true, ok: ctx.t('kit.confirm') });
}

/** A transient notice: the shell's toast when it has one. @param {any} ctx @param {string} text */
export function notify(ctx, text) {
  ctx.ui.toast(text);
}

/** A status badge. @param {any} ctx @param {string} status */
export function statusBadge(ctx, status) {
  const kind = status === 'valid' ? 'ok' : status === 'revoked' ? 'bad' : 'warn';
  return h('span', { class: `badge ${kind}`, testid: 'cert-status', 'data-status': status }, ctx.t(`kit.status.${status}`));
}

/**
 * The one-time result of issuing or reissuing: a button that fetches the PKCS#12 once, and the
 * password, shown once with a warning. Neither is kept anywhere after this page is left.
 * @param {any} ctx @param {{serial: string, commonName: string, notAfter: any, download: string, password: string}} r
 */
export function oneTimeResult(ctx, r) {
  const status = h('p', { testid: 'p12-download-status', class: 'muted' });
  const button = /** @type {HTMLButtonElement} */ (h('button', { class: 'primary', testid: 'p12-download' }, ctx.t('kit.p12.download')));
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      // Same origin: the session cookie goes along; no CSRF token is needed for a GET.
      const res = await fetch(r.download, { credentials: 'same-origin', headers: { accept: 'application/x-pkcs12' } });
      if (!res.ok) {
        replace(status, res.status === 410 ? ctx.t('kit.p12.gone') : `${ctx.t('kit.error')}: HTTP ${res.status}`);
        status.className = 'error';
        return;
      }
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `${safeFileName(r.commonName)}-${r.serial}.p12` });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      replace(status, ctx.t('kit.p12.downloaded'));
    } catch (e) {
      button.disabled = false;
      replace(status, errorText(ctx, e));
    }
  });
  return h('section', { class: 'once', testid: 'one-time-result' },
    h('h3', null, ctx.t('kit.p12.issued')),
    h('dl', { class: 'props' },
      h('dt', null, ctx.t('kit.serial')), h('dd', { testid: 'issued-serial' }, r.serial),
      h('dt', null, ctx.t('kit.commonName')), h('dd', null, r.commonName),
      h('dt', null, ctx.t('kit.notAfter')), h('dd', null, time(ctx, r.notAfter))),
    h('p', { class: 'warn', role: 'alert', testid: 'one-time-warning' }, ctx.t('kit.p12.warning')),
    h('dl', { class: 'props' }, h('dt', null, ctx.t('kit.p12.password')),
      h('dd', null, h('code', { class: 'secret', testid: 'p12-password' }, r.password))),
    button, status);
}

/** @param {string} s */
function safeFileName(s) {
  return (s || 'certificate').replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 64);
}

/** The revocation reasons the API accepts (src/ca/crl.ts REVOCATION_REASONS). */
export const REASONS = ['unspecified', 'keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold'];

/** Strings every page of this group uses; each page spreads them into its own messages. */
export const kitMessages = {
  en: {
    'kit.error': 'Error', 'kit.confirm': 'Confirm', 'kit.cancel': 'Cancel', 'kit.loading': 'Loading…', 'kit.none': 'None',
    'kit.search': 'Search', 'kit.clear': 'Clear', 'kit.next': 'Next page', 'kit.prev': 'First page', 'kit.any': 'Any',
    'kit.serial': 'Serial number', 'kit.commonName': 'Common name (CN)', 'kit.user': 'User', 'kit.status': 'Status',
    'kit.notBefore': 'Valid from', 'kit.notAfter': 'Valid until', 'kit.profile': 'Profile', 'kit.reason': 'Reason',
    'kit.revokedAt': 'Revoked at', 'kit.yes': 'Yes', 'kit.no': 'No', 'kit.back': 'Back', 'kit.time': 'Time',
    'kit.status.valid': 'Valid', 'kit.status.revoked': 'Revoked', 'kit.status.expired': 'Expired', 'kit.status.hold': 'On hold',
    'kit.reason.unspecified': 'Unspecified', 'kit.reason.keyCompromise': 'Key compromise (lost or stolen)',
    'kit.reason.cACompromise': 'CA compromise', 'kit.reason.affiliationChanged': 'Affiliation changed',
    'kit.reason.superseded': 'Superseded', 'kit.reason.cessationOfOperation': 'Cessation of operation',
    'kit.reason.certificateHold': 'Certificate hold (temporary)', 'kit.reason.removeFromCRL': 'Removed from CRL',
    'kit.reason.privilegeWithdrawn': 'Privilege withdrawn', 'kit.reason.aACompromise': 'AA compromise',
    'kit.p12.issued': 'Certificate issued', 'kit.p12.download': 'Download PKCS#12 (once)',
    'kit.p12.downloaded': 'Downloaded. The file cannot be downloaded again.',
    'kit.p12.gone': 'This file was already downloaded and is no longer available.',
    'kit.p12.password': 'PKCS#12 password',
    'kit.p12.warning': 'Write down or hand over this password now. It is shown only once and will not be shown again; the file can be downloaded only once.',
  },
  ja: {
    'kit.error': 'エラー', 'kit.confirm': '実行する', 'kit.cancel': 'キャンセル', 'kit.loading': '読み込み中…', 'kit.none': 'なし',
    'kit.search': '検索', 'kit.clear': 'クリア', 'kit.next': '次のページ', 'kit.prev': '最初のページ', 'kit.any': 'すべて',
    'kit.serial': 'シリアル番号', 'kit.commonName': 'コモンネーム (CN)', 'kit.user': '利用者', 'kit.status': '状態',
    'kit.notBefore': '有効期間の開始', 'kit.notAfter': '有効期限', 'kit.profile': 'プロファイル', 'kit.reason': '理由',
    'kit.revokedAt': '失効日時', 'kit.yes': 'はい', 'kit.no': 'いいえ', 'kit.back': '戻る', 'kit.time': '日時',
    'kit.status.valid': '有効', 'kit.status.revoked': '失効', 'kit.status.expired': '期限切れ', 'kit.status.hold': '一時停止中',
    'kit.reason.unspecified': '理由を指定しない', 'kit.reason.keyCompromise': '鍵の危殆化 (紛失・盗難)',
    'kit.reason.cACompromise': 'CA の危殆化', 'kit.reason.affiliationChanged': '所属の変更',
    'kit.reason.superseded': '新しい証明書への置き換え', 'kit.reason.cessationOfOperation': '利用の終了',
    'kit.reason.certificateHold': '一時停止 (保留)', 'kit.reason.removeFromCRL': 'CRL から削除',
    'kit.reason.privilegeWithdrawn': '権限の取り消し', 'kit.reason.aACompromise': 'AA の危殆化',
    'kit.p12.issued': '証明書を発行しました', 'kit.p12.download': 'PKCS#12 をダウンロード (1 回のみ)',
    'kit.p12.downloaded': 'ダウンロードしました。このファイルは再ダウンロードできません。',
    'kit.p12.gone': 'このファイルはすでにダウンロード済みのため、取得できません。',
    'kit.p12.password': 'PKCS#12 のパスワード',
    'kit.p12.warning': 'このパスワードは今回限りの表示で、二度と表示されません。今すぐ控えるか利用者に伝えてください。ファイルのダウンロードも 1 回限りです。',
  },
};
