// @ts-check
// Operators (admin only): list, add (a generated password is shown once), disable (the API's
// DELETE keeps the record for the audit trail); and the
// console sessions of every operator, each revocable.
export const route = '/operators';
export const permission = 'operators.manage';
export const nav = { key: 'nav.operators', order: 95 };

export const messages = {
  en: {
    'ops.title': 'Operators',
    'ops.username': 'User name',
    'ops.role': 'Role',
    'ops.status': 'Status',
    'ops.otp': 'One-time password',
    'ops.created': 'Created',
    'ops.enabled': 'Enabled',
    'ops.disabled': 'Disabled',
    'ops.locked': 'Locked',
    'ops.enrolled': 'Enrolled',
    'ops.notEnrolled': 'Not enrolled',
    'ops.add': 'Add operator',
    'ops.password': 'Password (empty: generate one)',
    'ops.added': 'Operator "{user}" added.',
    'ops.generated': 'Password for "{user}":',
    'ops.remove': 'Disable',
    'ops.removeConfirm': 'Disable the operator "{user}"? Their sessions end and their API tokens stop working at once.',
    'ops.removed': 'Operator "{user}" disabled.',
    'ops.sessions': 'Console sessions',
    'ops.operator': 'Operator',
    'ops.client': 'From',
    'ops.started': 'Logged in',
    'ops.lastSeen': 'Last activity',
    'ops.revoke': 'End session',
    'ops.revokeConfirm': 'End this session of "{user}"? They must log in again.',
    'ops.revoked': 'The session was ended.',
    'ops.you': '(this session)',
  },
  ja: {
    'ops.title': '管理者アカウント',
    'ops.username': 'ユーザー名',
    'ops.role': 'ロール',
    'ops.status': '状態',
    'ops.otp': 'ワンタイムパスワード',
    'ops.created': '作成日時',
    'ops.enabled': '有効',
    'ops.disabled': '無効',
    'ops.locked': 'ロック中',
    'ops.enrolled': '登録済み',
    'ops.notEnrolled': '未登録',
    'ops.add': '管理者アカウントを追加',
    'ops.password': 'パスワード（空欄の場合は自動生成）',
    'ops.added': '管理者アカウント「{user}」を追加しました。',
    'ops.generated': '「{user}」のパスワード：',
    'ops.remove': '無効化',
    'ops.removeConfirm': '管理者アカウント「{user}」を無効にしますか？セッションは終了し、API トークンもすぐに使えなくなります。',
    'ops.removed': '管理者アカウント「{user}」を無効にしました。',
    'ops.sessions': 'コンソールのセッション',
    'ops.operator': '管理者',
    'ops.client': '接続元',
    'ops.started': 'ログイン日時',
    'ops.lastSeen': '最終操作',
    'ops.revoke': 'セッションを終了',
    'ops.revokeConfirm': '「{user}」のこのセッションを終了しますか？再度ログインが必要になります。',
    'ops.revoked': 'セッションを終了しました。',
    'ops.you': '（このセッション）',
  },
};

const ROLES = ['admin', 'network', 'helpdesk', 'auditor'];

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, clear, section, table, badge, confirmDialog, secretBox, toast, errorText, field } = ctx.ui;
  const { t, fmtTime } = ctx;
  const result = el('div', { class: 'result', 'data-testid': 'ops-result' });
  const opsList = el('div');
  const sessionsList = el('div');
  const items = (/** @type {any} */ r) => (Array.isArray(r) ? r : r?.items ?? []);

  const loadOperators = async () => {
    const ops = items(await ctx.api.get('/operators'));
    clear(opsList).appendChild(table([
      { label: t('ops.username'), render: (/** @type {any} */ o) => o.username },
      { label: t('ops.role'), render: (/** @type {any} */ o) => t(`role.${o.role}`) },
      {
        label: t('ops.status'), render: (/** @type {any} */ o) => [o.enabled ? badge(t('ops.enabled'), 'ok') : badge(t('ops.disabled'), 'muted'),
          o.lockedUntil && o.lockedUntil > Date.now() ? badge(t('ops.locked'), 'bad') : null],
      },
      { label: t('ops.otp'), render: (/** @type {any} */ o) => o.otpEnrolled ? badge(t('ops.enrolled'), 'ok') : badge(t('ops.notEnrolled'), 'muted') },
      { label: t('ops.created'), render: (/** @type {any} */ o) => fmtTime(o.createdAt) },
      {
        label: '', render: (/** @type {any} */ o) => o.username === ctx.session.operator.username || !o.enabled ? '' : el('button', {
          type: 'button', class: 'danger small', 'data-testid': `op-remove-${o.username}`,
          onclick: async () => {
            if (!(await confirmDialog(t('ops.removeConfirm', { user: o.username }), { ok: t('ops.remove'), danger: true }))) return;
            try {
              await ctx.api.del(`/operators/${encodeURIComponent(o.username)}`);
              toast(t('ops.removed', { user: o.username }));
              await Promise.all([loadOperators(), loadSessions()]);
            } catch (e) { toast(errorText(e), 'error'); }
          },
        }, t('ops.remove')),
      },
    ], ops, { testid: 'operators-table', rowTestid: (o) => `op-row-${o.username}` }));
  };

  const loadSessions = async () => {
    const sessions = items(await ctx.api.get('/operators/sessions'));
    clear(sessionsList).appendChild(table([
      { label: t('ops.operator'), render: (/** @type {any} */ s) => [s.username ?? s.operator ?? '', s.current ? ` ${t('ops.you')}` : ''] },
      { label: t('ops.client'), render: (/** @type {any} */ s) => s.client ?? '' },
      { label: t('ops.started'), render: (/** @type {any} */ s) => fmtTime(s.createdAt) },
      { label: t('ops.lastSeen'), render: (/** @type {any} */ s) => fmtTime(s.lastSeenAt) },
      {
        label: '', render: (/** @type {any} */ s) => el('button', {
          type: 'button', class: 'danger small', 'data-testid': `session-revoke-${s.id}`,
          onclick: async () => {
            if (!(await confirmDialog(t('ops.revokeConfirm', { user: s.username ?? s.operator ?? '' }), { ok: t('ops.revoke'), danger: true }))) return;
            try {
              await ctx.api.del(`/operators/sessions/${encodeURIComponent(s.id)}`);
              toast(t('ops.revoked'));
              await loadSessions();
            } catch (e) { toast(errorText(e), 'error'); }
          },
        }, t('ops.revoke')),
      },
    ], sessions, { testid: 'sessions-table' }));
  };

  const username = /** @type {HTMLInputElement} */ (el('input', { required: true, maxlength: 64, 'data-testid': 'op-username', autocomplete: 'off' }));
  const role = /** @type {HTMLSelectElement} */ (el('select', { 'data-testid': 'op-role' }, ROLES.map((r) => el('option', { value: r }, t(`role.${r}`)))));
  const password = /** @type {HTMLInputElement} */ (el('input', { type: 'password', minlength: 12, maxlength: 128, 'data-testid': 'op-password', autocomplete: 'new-password' }));
  const form = el('form', {
    class: 'inline',
    onsubmit: async (/** @type {Event} */ e) => {
      e.preventDefault();
      try {
        const r = await ctx.api.post('/operators', { username: username.value.trim(), role: role.value, ...(password.value ? { password: password.value } : {}) });
        const user = r.operator?.username ?? username.value.trim();
        clear(result).append(el('p', { class: 'ok' }, t('ops.added', { user })),
          ...(r.password ? [el('p', null, t('ops.generated', { user })), secretBox(r.password, 'op-generated-password')] : []));
        username.value = ''; password.value = '';
        await loadOperators();
      } catch (err) { toast(errorText(err), 'error'); }
    },
  }, field(t('ops.username'), username), field(t('ops.role'), role), field(t('ops.password'), password),
  el('button', { type: 'submit', class: 'primary', 'data-testid': 'op-add' }, t('ops.add')));

  root.append(el('h1', null, t('ops.title')), section(t('ops.add'), form, result), section(t('ops.title'), opsList), section(t('ops.sessions'), sessionsList));
  await Promise.all([loadOperators(), loadSessions()]);
}
