// @ts-check
// The operator's own account: who they are, their one-time password enrolment (QR code, then
// a first code to confirm), and their API tokens (a new token is shown once; revoke).
export const route = '/account';
export const permission = null;
export const nav = { key: 'nav.account', order: 90 };

export const messages = {
  en: {
    'account.title': 'My account',
    'account.username': 'User name',
    'account.role': 'Role',
    'account.sessionEnds': 'Session ends',
    'account.timeZone': 'Time zone',
    'account.otp': 'One-time password (two-step login)',
    'account.otpEnrolled': 'A one-time password is enrolled. To change it, ask an administrator to reset it.',
    'account.otpNotEnrolled': 'No one-time password is enrolled. Enrolling one protects your account with a second step at login.',
    'account.otpStart': 'Enrol a one-time password',
    'account.otpScan': 'Scan this QR code with an authenticator app (or enter the setup key), then enter the 6-digit code it shows.',
    'account.otpCode': 'Code (6 digits)',
    'account.otpConfirm': 'Confirm',
    'account.otpDone': 'The one-time password is enrolled. It will be asked at every login.',
    'account.tokens': 'API tokens',
    'account.tokensHelp': 'Tokens let scripts call the API (Authorization: Bearer) with your role.',
    'account.tokenName': 'Token name',
    'account.tokenCreate': 'Create token',
    'account.tokenCreated': 'New token "{name}":',
    'account.tokenRevoke': 'Revoke',
    'account.tokenRevokeConfirm': 'Revoke the token "{name}"? Scripts using it stop working at once.',
    'account.tokenRevoked': 'The token "{name}" was revoked.',
    'account.created': 'Created',
    'account.lastUsed': 'Last used',
    'account.status': 'Status',
    'account.active': 'Active',
    'account.revoked': 'Revoked',
  },
  ja: {
    'account.title': 'アカウント設定',
    'account.username': 'ユーザー名',
    'account.role': 'ロール',
    'account.sessionEnds': 'セッション有効期限',
    'account.timeZone': 'タイムゾーン',
    'account.otp': 'ワンタイムパスワード（2段階認証）',
    'account.otpEnrolled': 'ワンタイムパスワードは登録済みです。変更する場合はシステム管理者にリセットを依頼してください。',
    'account.otpNotEnrolled': 'ワンタイムパスワードは未登録です。登録すると、ログイン時に2段階目の確認でアカウントを保護できます。',
    'account.otpStart': 'ワンタイムパスワードを登録',
    'account.otpScan': '認証アプリでこの QR コードを読み取るか設定キーを入力し、表示された6桁のコードを入力してください。',
    'account.otpCode': 'コード（6桁）',
    'account.otpConfirm': '確認',
    'account.otpDone': 'ワンタイムパスワードを登録しました。次回以降のログインで入力が必要になります。',
    'account.tokens': 'API トークン',
    'account.tokensHelp': 'スクリプトからご自身のロールで API を呼び出すためのトークンです（Authorization: Bearer）。',
    'account.tokenName': 'トークン名',
    'account.tokenCreate': 'トークンを作成',
    'account.tokenCreated': '新しいトークン「{name}」：',
    'account.tokenRevoke': '失効',
    'account.tokenRevokeConfirm': 'トークン「{name}」を失効させますか？このトークンを使うスクリプトはすぐに使えなくなります。',
    'account.tokenRevoked': 'トークン「{name}」を失効させました。',
    'account.created': '作成日時',
    'account.lastUsed': '最終利用',
    'account.status': '状態',
    'account.active': '有効',
    'account.revoked': '失効済み',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, clear, section, table, badge, confirmDialog, secretBox, toast, errorText, qrCode, field } = ctx.ui;
  const { t, fmtTime } = ctx;
  const session = await ctx.api.get('/session');
  const op = session.operator;
  const { currentTimeZone } = await import('../i18n.js');

  root.appendChild(el('h1', null, t('account.title')));
  root.appendChild(section(op.username, el('dl', { class: 'props' },
    el('dt', null, t('account.username')), el('dd', { 'data-testid': 'account-username' }, op.username),
    el('dt', null, t('account.role')), el('dd', null, t(`role.${op.role}`)),
    el('dt', null, t('account.sessionEnds')), el('dd', null, session.expiresAt ? fmtTime(session.expiresAt) : '—'),
    el('dt', null, t('account.timeZone')), el('dd', null, currentTimeZone()))));

  // One-time password.
  const otpBox = el('div', { 'data-testid': 'account-otp' });
  const showOtp = (/** @type {boolean} */ enrolled) => {
    clear(otpBox);
    if (enrolled) return otpBox.appendChild(el('p', null, badge(t('user.otpEnrolled'), 'ok'), ' ', t('account.otpEnrolled')));
    otpBox.append(el('p', null, t('account.otpNotEnrolled')), el('button', {
      type: 'button', class: 'primary', 'data-testid': 'account-otp-start',
      onclick: async () => {
        try {
          const r = await ctx.api.post('/session/otp');
          const code = /** @type {HTMLInputElement} */ (el('input', { inputmode: 'numeric', maxlength: 6, pattern: '[0-9]{6}', 'data-testid': 'account-otp-code', autocomplete: 'one-time-code' }));
          const qr = qrCode(r.qrSvg);
          clear(otpBox).append(el('p', null, t('account.otpScan')), qr ? el('div', { class: 'qr-box' }, qr) : '',
            el('code', { class: 'uri', 'data-testid': 'account-otpauth-uri' }, String(r.otpauthUri ?? r.uri ?? '')),
            el('form', {
              class: 'inline',
              onsubmit: async (/** @type {Event} */ e) => {
                e.preventDefault();
                try {
                  await ctx.api.post('/session/otp/confirm', { otp: code.value.trim() });
                  showOtp(true);
                  toast(t('account.otpDone'));
                } catch (err) { toast(errorText(err), 'error'); }
              },
            }, field(t('account.otpCode'), code), el('button', { type: 'submit', class: 'primary', 'data-testid': 'account-otp-confirm' }, t('account.otpConfirm'))));
          code.focus();
        } catch (err) { toast(errorText(err), 'error'); }
      },
    }, t('account.otpStart')));
  };
  showOtp(Boolean(op.otpEnrolled));
  root.appendChild(section(t('account.otp'), otpBox));

  // API tokens.
  const created = el('div', { class: 'result', 'data-testid': 'token-result' });
  const list = el('div');
  const loadTokens = async () => {
    const r = await ctx.api.get('/tokens');
    const items = Array.isArray(r) ? r : r?.items ?? [];
    clear(list).appendChild(table([
      { label: t('account.tokenName'), render: (/** @type {any} */ x) => x.name },
      { label: t('account.role'), render: (/** @type {any} */ x) => x.role ? t(`role.${x.role}`) : '' },
      { label: t('account.created'), render: (/** @type {any} */ x) => fmtTime(x.createdAt) },
      { label: t('account.lastUsed'), render: (/** @type {any} */ x) => fmtTime(x.lastUsedAt) },
      { label: t('account.status'), render: (/** @type {any} */ x) => x.revokedAt ? badge(t('account.revoked'), 'muted') : badge(t('account.active'), 'ok') },
      {
        label: '', render: (/** @type {any} */ x) => x.revokedAt ? '' : el('button', {
          type: 'button', class: 'danger small', 'data-testid': `token-revoke-${x.name}`,
          onclick: async () => {
            if (!(await confirmDialog(t('account.tokenRevokeConfirm', { name: x.name }), { ok: t('account.tokenRevoke'), danger: true }))) return;
            try {
              await ctx.api.del(`/tokens/${encodeURIComponent(x.id)}`);
              toast(t('account.tokenRevoked', { name: x.name }));
              clear(created);
              await loadTokens();
            } catch (err) { toast(errorText(err), 'error'); }
          },
        }, t('account.tokenRevoke')),
      },
    ], items, { testid: 'tokens-table', rowTestid: (x) => `token-row-${x.name}` }));
  };
  const name = /** @type {HTMLInputElement} */ (el('input', { required: true, maxlength: 64, pattern: '[A-Za-z0-9._\\-]+', 'data-testid': 'token-name' }));
  // A token acts with a role no wider than its maker's: an admin may narrow it to any role.
  const roles = op.role === 'admin' ? ['admin', 'network', 'helpdesk', 'auditor'] : [op.role];
  const tokenRole = /** @type {HTMLSelectElement} */ (el('select', { 'data-testid': 'token-role' }, roles.map((r) => el('option', { value: r }, t(`role.${r}`)))));
  const form = el('form', {
    class: 'inline',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      try {
        const r = await ctx.api.post('/tokens', { name: name.value.trim(), role: tokenRole.value });
        clear(created).append(el('p', null, t('account.tokenCreated', { name: r.name ?? name.value.trim() })), secretBox(r.token, 'token-value'));
        name.value = '';
        await loadTokens();
      } catch (err) { toast(errorText(err), 'error'); }
    },
  }, field(t('account.tokenName'), name), field(t('account.role'), tokenRole), el('button', { type: 'submit', class: 'primary', 'data-testid': 'token-create' }, t('account.tokenCreate')));
  root.appendChild(section(t('account.tokens'), el('p', { class: 'muted' }, t('account.tokensHelp')), form, created, list));
  try { await loadTokens(); } catch (err) { list.appendChild(el('p', { class: 'error' }, errorText(err))); }
}
