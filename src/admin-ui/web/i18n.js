// @ts-check
// Shell strings in both languages, the language choice (remembered in localStorage, else the
// browser's languages, which follow Accept-Language), and time formatting in the operator's
// time zone. Pages add their own strings with addMessages().

export const LANGUAGES = ['ja', 'en'];
const STORAGE_KEY = 'authbox.lang';

/** @type {Record<string, Record<string, string>>} */
export const SHELL_MESSAGES = {
  en: {
    'app.title': 'authbox',
    'app.subtitle': 'Network authentication',
    'nav.dashboard': 'Dashboard',
    'nav.users': 'Users',
    'nav.certificates': 'Certificates',
    'nav.issue': 'Issue certificate',
    'nav.lostDevice': 'Lost device',
    'nav.nas': 'RADIUS clients',
    'nav.policies': 'Policies',
    'nav.directory': 'Directory',
    'nav.ca': 'Certificate authority',
    'nav.authLog': 'Authentication log',
    'nav.audit': 'Audit log',
    'nav.account': 'My account',
    'nav.operators': 'Operators',
    'header.language': 'Language',
    'header.logout': 'Log out',
    'header.signedInAs': '{user} ({role})',
    'role.admin': 'Administrator',
    'role.network': 'Network',
    'role.helpdesk': 'Helpdesk',
    'role.auditor': 'Auditor',
    'common.loading': 'Loading…',
    'common.none': 'None',
    'common.noResults': 'No results',
    'common.next': 'Next',
    'common.previous': 'Previous',
    'common.ok': 'OK',
    'common.cancel': 'Cancel',
    'common.close': 'Close',
    'common.save': 'Save',
    'common.search': 'Search',
    'common.yes': 'Yes',
    'common.no': 'No',
    'common.copy': 'Copy',
    'common.copied': 'Copied',
    'common.shownOnce': 'Shown only once: note it now. It cannot be displayed again.',
    'common.error': 'Error: {message}',
    'common.done': 'Done',
    'page.notPermitted': 'Not permitted',
    'page.notPermittedText': 'Your role ({role}) may not open this page. Ask an administrator if you need it.',
    'page.notFound': 'Page not found',
    'page.notFoundText': 'There is no page at this address.',
    'page.unavailable': 'This page is not available in this version.',
    'error.network': 'The appliance did not answer. Check the connection and try again.',
    'error.forbidden': 'Not permitted for your role.',
    'error.session': 'Your session has ended. Log in again.',
    'error.withDetail': '{summary} ({detail})',
    'error.code.BAD_INPUT': 'Check the input',
    'error.code.CONFLICT': 'Already exists, or not possible in the current state',
    'error.code.NOT_FOUND': 'Not found',
    'error.code.USER_NOT_FOUND': 'No such user',
    'error.code.CERT_NOT_FOUND': 'No such certificate',
    'error.code.CERT_ALREADY_REVOKED': 'The certificate is already revoked',
    'error.code.PASSWORD_POLICY': 'The password does not meet the rules',
    'error.code.CSRF_FAILED': 'The session check failed; reload the page',
    'error.code.GONE': 'Expired or already used',
    'error.code.UPSTREAM_FAILED': 'The directory server could not be reached',
    'error.code.OPERATOR_LOCKED': 'The account is locked',
    'error.code.INTERNAL': 'The appliance had an internal error',
  },
  ja: {
    'app.title': 'authbox',
    'app.subtitle': 'ネットワーク認証',
    'nav.dashboard': 'ダッシュボード',
    'nav.users': '利用者',
    'nav.certificates': '証明書',
    'nav.issue': '証明書の発行',
    'nav.lostDevice': '紛失端末',
    'nav.nas': 'RADIUS クライアント',
    'nav.policies': 'ポリシー',
    'nav.directory': 'ディレクトリ連携',
    'nav.ca': '認証局',
    'nav.authLog': '認証ログ',
    'nav.audit': '監査ログ',
    'nav.account': 'アカウント設定',
    'nav.operators': '管理者アカウント',
    'header.language': '表示言語',
    'header.logout': 'ログアウト',
    'header.signedInAs': '{user}（{role}）',
    'role.admin': 'システム管理者',
    'role.network': 'ネットワーク管理者',
    'role.helpdesk': 'ヘルプデスク',
    'role.auditor': '監査担当者',
    'common.loading': '読み込み中…',
    'common.none': 'なし',
    'common.noResults': '該当するデータはありません',
    'common.next': '次へ',
    'common.previous': '前へ',
    'common.ok': 'OK',
    'common.cancel': 'キャンセル',
    'common.close': '閉じる',
    'common.save': '保存',
    'common.search': '検索',
    'common.yes': 'はい',
    'common.no': 'いいえ',
    'common.copy': 'コピー',
    'common.copied': 'コピーしました',
    'common.shownOnce': 'この画面でのみ表示されます。再表示はできないため、必ず控えてください。',
    'common.error': 'エラー：{message}',
    'common.done': '完了しました',
    'page.notPermitted': '権限がありません',
    'page.notPermittedText': '現在のロール（{role}）ではこのページを開けません。必要な場合はシステム管理者に依頼してください。',
    'page.notFound': 'ページが見つかりません',
    'page.notFoundText': 'このアドレスのページはありません。',
    'page.unavailable': 'このページはこのバージョンでは利用できません。',
    'error.network': 'アプライアンスから応答がありません。接続を確認して再度お試しください。',
    'error.forbidden': '現在のロールでは実行できません。',
    'error.session': 'セッションが終了しました。再度ログインしてください。',
    'error.withDetail': '{summary}（{detail}）',
    'error.code.BAD_INPUT': '入力内容に誤りがあります',
    'error.code.CONFLICT': '既に存在するか、現在の状態では実行できません',
    'error.code.NOT_FOUND': '対象が見つかりません',
    'error.code.USER_NOT_FOUND': '利用者が見つかりません',
    'error.code.CERT_NOT_FOUND': '証明書が見つかりません',
    'error.code.CERT_ALREADY_REVOKED': 'この証明書は既に失効しています',
    'error.code.PASSWORD_POLICY': 'パスワードの条件を満たしていません',
    'error.code.CSRF_FAILED': 'セッションの確認に失敗しました。ページを再読み込みしてください',
    'error.code.GONE': '有効期限切れか、既に使用済みです',
    'error.code.UPSTREAM_FAILED': '連携先のサーバーに接続できません',
    'error.code.OPERATOR_LOCKED': 'アカウントがロックされています',
    'error.code.INTERNAL': 'アプライアンス内部でエラーが発生しました',
  },
};

/** Shell and page strings together (pages add theirs with addMessages). */
const MESSAGES = { en: { ...SHELL_MESSAGES.en }, ja: { ...SHELL_MESSAGES.ja } };

let lang = pickLanguage();
let timeZone = 'Asia/Tokyo';

/** Remembered choice, else the first of the browser's languages we have, else English. */
function pickLanguage() {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && LANGUAGES.includes(saved)) return saved;
  } catch { /* storage refused: fall through */ }
  const nav = globalThis.navigator;
  for (const l of nav?.languages ?? (nav?.language ? [nav.language] : [])) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base && LANGUAGES.includes(base)) return base;
  }
  return 'en';
}

export function language() {
  return lang;
}

/** @param {string} next */
export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  lang = next;
  try { localStorage.setItem(STORAGE_KEY, next); } catch { /* not remembered */ }
  document.documentElement.lang = next;
}

/** @param {string} tz */
export function setTimeZone(tz) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    timeZone = tz;
  } catch { /* unknown zone: keep the default */ }
}

export function currentTimeZone() {
  return timeZone;
}

/** @param {{en?: Record<string,string>, ja?: Record<string,string>} | undefined} messages */
export function addMessages(messages) {
  if (!messages) return;
  for (const l of LANGUAGES) Object.assign(MESSAGES[l], /** @type {any} */ (messages)[l] ?? {});
}

/**
 * The text for key in the current language ({name} placeholders filled from vars); the English
 * text when the Japanese one is missing, the key itself when both are.
 * @param {string} key @param {Record<string, unknown>} [vars]
 */
export function t(key, vars) {
  const text = MESSAGES[lang]?.[key] ?? MESSAGES.en[key] ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

function locale() {
  return lang === 'ja' ? 'ja-JP' : 'en-GB';
}

/** @param {number | string | null | undefined} at milliseconds or an ISO string */
function toDate(at) {
  if (at === null || at === undefined || at === '') return undefined;
  const d = new Date(typeof at === 'string' && /^\d+$/.test(at) ? Number(at) : at);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Date and time in the operator's time zone; '—' for none. @param {number | string | null | undefined} at */
export function fmtTime(at) {
  const d = toDate(at);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locale(), {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
  }).format(d);
}

/** The date alone. @param {number | string | null | undefined} at */
export function fmtDate(at) {
  const d = toDate(at);
  if (!d) return '—';
  return new Intl.DateTimeFormat(locale(), { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(d);
}

/** The hour of day ("14:00"), for chart labels. @param {number | string} at */
export function fmtHour(at) {
  const d = toDate(at);
  if (!d) return '';
  return new Intl.DateTimeFormat(locale(), { timeZone, hour: '2-digit', minute: '2-digit', hour12: false }).format(d);
}

/** @param {number} n */
export function fmtNumber(n) {
  return new Intl.NumberFormat(locale()).format(n);
}

// Why an authentication failed, as the RADIUS engine records it (English, stable); shown in
// Japanese where known, else as recorded.
/** @type {Record<string, string>} */
const REASONS_JA = {
  'wrong password': 'パスワード誤り',
  'unknown user': '未登録の利用者',
  'account locked': 'アカウントロック中',
  'account disabled': 'アカウント無効',
  'account expired': 'アカウント期限切れ',
  'password expired': 'パスワード期限切れ',
  'no password': 'パスワード未設定',
  'no user name': 'ユーザー名なし',
  'unknown device': '未登録の端末',
  'device disabled': '端末無効',
  'unknown certificate': '不明な証明書',
  'certificate revoked': '証明書失効済み',
  'certificate on hold': '証明書保留中',
  'certificate expired': '証明書期限切れ',
  'certificate not yet valid': '証明書有効期間前',
  'certificate not for client authentication': 'クライアント認証用でない証明書',
  'no client certificate': 'クライアント証明書なし',
  'identity does not match the certificate': 'ID と証明書が一致しない',
  'inner method failed': '内部認証失敗',
  'EAP protocol error': 'EAP プロトコルエラー',
  'method not allowed': '許可されていない認証方式',
  'wrong one-time code': 'ワンタイムパスワード誤り',
};

/** A failure reason in the operator's language. @param {string | null | undefined} reason */
export function reasonText(reason) {
  if (!reason) return '';
  return lang === 'ja' ? REASONS_JA[reason] ?? reason : reason;
}
