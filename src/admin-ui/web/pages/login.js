// @ts-check
// Log in: user name and password, then the one-time code when the server asks for it. An
// admin without an enrolled code is shown the QR code (otpauth:// URI) to scan and enters
// the first code to finish enrolling and log in at once.
export const route = '/login';
export const permission = null;
export const nav = null;

export const messages = {
  en: {
    'login.title': 'Log in to the admin console',
    'login.username': 'User name',
    'login.password': 'Password',
    'login.otp': 'One-time code (6 digits)',
    'login.submit': 'Log in',
    'login.otpRequired': 'Enter the 6-digit code from your authenticator app.',
    'login.enrol': 'Administrators use a one-time password. Scan this QR code with an authenticator app (or enter the key below), then enter the first 6-digit code to finish.',
    'login.uri': 'Setup key (otpauth URI)',
    'login.failed': 'The user name, password or code is wrong.',
    'login.locked': 'Too many failed attempts: this account is locked for a while. Try again later or ask an administrator.',
  },
  ja: {
    'login.title': '管理コンソールへのログイン',
    'login.username': 'ユーザー名',
    'login.password': 'パスワード',
    'login.otp': 'ワンタイムパスワード（6桁）',
    'login.submit': 'ログイン',
    'login.otpRequired': '認証アプリに表示されている6桁のコードを入力してください。',
    'login.enrol': 'システム管理者はワンタイムパスワードの登録が必要です。認証アプリでこの QR コードを読み取るか、下の設定キーを入力し、表示された最初の6桁のコードを入力して登録を完了してください。',
    'login.uri': '設定キー（otpauth URI）',
    'login.failed': 'ユーザー名、パスワード、またはコードが正しくありません。',
    'login.locked': 'ログインの失敗が続いたため、このアカウントは一時的にロックされています。しばらくしてから再度お試しいただくか、システム管理者に連絡してください。',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, field, qrCode, clear } = ctx.ui;
  const { t } = ctx;
  const username = /** @type {HTMLInputElement} */ (el('input', { name: 'username', autocomplete: 'username', required: true, 'data-testid': 'login-username' }));
  const password = /** @type {HTMLInputElement} */ (el('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' }));
  const otp = /** @type {HTMLInputElement} */ (el('input', {
    name: 'otp', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: 6, 'data-testid': 'login-otp',
  }));
  const otpField = field(t('login.otp'), otp);
  otpField.hidden = true;
  const info = el('div', { class: 'info', 'data-testid': 'login-info', hidden: true });
  const enrol = el('div', { class: 'enrol', 'data-testid': 'login-enrol', hidden: true });
  const error = el('p', { class: 'error', role: 'alert', 'data-testid': 'login-error', hidden: true });
  const submit = el('button', { type: 'submit', class: 'primary', 'data-testid': 'login-submit' }, t('login.submit'));

  const form = el('form', {
    class: 'card login-card', 'data-testid': 'login-form',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      error.hidden = true;
      submit.setAttribute('disabled', '');
      try {
        const body = { username: username.value.trim(), password: password.value, ...(otp.value.trim() ? { otp: otp.value.trim() } : {}) };
        await ctx.api.request('POST', '/session', body, { quiet401: true });
        password.value = '';
        await ctx.loggedIn();
      } catch (err) {
        const e2 = /** @type {any} */ (err);
        otp.value = '';
        if (e2.code === 'OTP_REQUIRED') {
          otpField.hidden = false;
          info.hidden = false;
          info.textContent = t('login.otpRequired');
          otp.focus();
        } else if (e2.code === 'OTP_ENROLMENT_REQUIRED') {
          const enrolment = e2.body?.enrolment ?? {};
          otpField.hidden = false;
          clear(enrol);
          enrol.hidden = false;
          enrol.appendChild(el('p', null, t('login.enrol')));
          const qr = qrCode(enrolment.qrSvg);
          if (qr) enrol.appendChild(el('div', { class: 'qr-box' }, qr));
          enrol.appendChild(el('p', { class: 'muted' }, t('login.uri')));
          enrol.appendChild(el('code', { class: 'uri', 'data-testid': 'login-otpauth-uri' }, String(enrolment.otpauthUri ?? '')));
          otp.focus();
        } else {
          error.hidden = false;
          error.textContent = e2.code === 'OPERATOR_LOCKED' ? t('login.locked') : e2.code === 'LOGIN_FAILED' ? t('login.failed') : ctx.ui.errorText(e2);
        }
      } finally {
        submit.removeAttribute('disabled');
      }
    },
  },
  el('p', { class: 'brand-line' }, el('strong', null, t('app.title')), ' ', el('span', { class: 'muted' }, t('app.subtitle'))),
  el('h1', null, t('login.title')),
  field(t('login.username'), username),
  field(t('login.password'), password),
  info, enrol, otpField, error,
  el('div', { class: 'actions' }, submit));
  root.appendChild(form);
  username.focus();
}
