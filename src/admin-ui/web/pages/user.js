// @ts-check
// One user: groups, certificates, devices, recent authentications and sessions, and the
// helpdesk actions (reset password, unlock, enable/disable, reset or enrol the one-time
// password). Revoking and reissuing a certificate happen on the certificate's page.
import { sourceText, userStatus } from './users.js';

export const route = '/users/:name';
export const permission = 'users.read';
export const nav = null;

export const messages = {
  en: {
    'user.back': '← Users',
    'user.profile': 'Profile',
    'user.displayName': 'Name',
    'user.email': 'Email',
    'user.source': 'Source',
    'user.groups': 'Groups',
    'user.lockedUntil': 'Locked until',
    'user.accountExpires': 'Account expires',
    'user.passwordChanged': 'Password changed',
    'user.created': 'Created',
    'user.otp': 'One-time password',
    'user.otpEnrolled': 'Enrolled',
    'user.otpNotEnrolled': 'Not enrolled',
    'user.otpPending': 'Enrolment started, not confirmed',
    'user.actions': 'Helpdesk actions',
    'user.resetPassword': 'Reset password',
    'user.resetPasswordConfirm': 'Set a new temporary password for {user}? The current password stops working at once.',
    'user.temporaryPassword': 'Temporary password for {user}:',
    'user.unlock': 'Unlock',
    'user.unlocked': '{user} is unlocked.',
    'user.enable': 'Enable',
    'user.disable': 'Disable',
    'user.disableConfirm': 'Disable {user}? Every authentication of this user will be refused.',
    'user.enabledDone': '{user} is enabled.',
    'user.disabledDone': '{user} is disabled.',
    'user.otpReset': 'Reset one-time password',
    'user.otpResetConfirm': 'Forget the one-time password enrolment of {user}? The user must enrol again.',
    'user.otpResetDone': 'The one-time password of {user} was reset.',
    'user.otpEnrol': 'Enrol one-time password',
    'user.otpEnrolText': 'Have the user scan this QR code with an authenticator app (or enter the setup key).',
    'user.certificates': 'Certificates',
    'user.serial': 'Serial',
    'user.commonName': 'Common name',
    'user.profileName': 'Profile',
    'user.status': 'Status',
    'user.notAfter': 'Valid until',
    'user.certActions': 'Actions',
    'user.revoke': 'Revoke',
    'user.reissue': 'Reissue',
    'user.devices': 'Devices',
    'user.mac': 'MAC address',
    'user.deviceName': 'Name',
    'user.recent': 'Recent authentications',
    'user.at': 'Time',
    'user.nas': 'Client',
    'user.method': 'Method',
    'user.result': 'Result',
    'user.reason': 'Reason',
    'user.sessions': 'Sessions',
    'user.sessionId': 'Session',
    'user.started': 'Started',
    'user.stopped': 'Ended',
    'user.address': 'Address',
    'user.open': 'open',
    'user.lostDevice': 'Lost device: revoke all certificates',
    'user.issue': 'Issue a certificate',
    'user.deviceLost': 'Lost',
    'user.disconnects': 'Disconnect requests (CoA)',
    'user.outcome': 'Outcome',
    'user.attempts': 'Attempts',
    'status.valid': 'Valid',
    'status.revoked': 'Revoked',
    'status.expired': 'Expired',
    'status.hold': 'On hold',
    'result.accept': 'Accepted',
    'result.reject': 'Rejected',
  },
  ja: {
    'user.back': '← 利用者一覧',
    'user.profile': '基本情報',
    'user.displayName': '氏名',
    'user.email': 'メールアドレス',
    'user.source': '登録元',
    'user.groups': 'グループ',
    'user.lockedUntil': 'ロック解除予定',
    'user.accountExpires': 'アカウント有効期限',
    'user.passwordChanged': 'パスワード変更日時',
    'user.created': '登録日時',
    'user.otp': 'ワンタイムパスワード',
    'user.otpEnrolled': '登録済み',
    'user.otpNotEnrolled': '未登録',
    'user.otpPending': '登録手続き中（未確認）',
    'user.actions': 'ヘルプデスク操作',
    'user.resetPassword': 'パスワードの再設定',
    'user.resetPasswordConfirm': '{user} に新しい仮パスワードを設定しますか？現在のパスワードはすぐに使えなくなります。',
    'user.temporaryPassword': '{user} の仮パスワード：',
    'user.unlock': 'ロック解除',
    'user.unlocked': '{user} のロックを解除しました。',
    'user.enable': '有効化',
    'user.disable': '無効化',
    'user.disableConfirm': '{user} を無効にしますか？この利用者の認証はすべて拒否されます。',
    'user.enabledDone': '{user} を有効にしました。',
    'user.disabledDone': '{user} を無効にしました。',
    'user.otpReset': 'ワンタイムパスワードのリセット',
    'user.otpResetConfirm': '{user} のワンタイムパスワード登録を削除しますか？利用者は再登録が必要になります。',
    'user.otpResetDone': '{user} のワンタイムパスワードをリセットしました。',
    'user.otpEnrol': 'ワンタイムパスワードの登録',
    'user.otpEnrolText': '利用者の認証アプリでこの QR コードを読み取ってもらってください（または設定キーを入力）。',
    'user.certificates': '証明書',
    'user.serial': 'シリアル番号',
    'user.commonName': 'コモンネーム',
    'user.profileName': 'プロファイル',
    'user.status': '状態',
    'user.notAfter': '有効期限',
    'user.certActions': '操作',
    'user.revoke': '失効',
    'user.reissue': '再発行',
    'user.devices': '端末',
    'user.mac': 'MAC アドレス',
    'user.deviceName': '名前',
    'user.recent': '最近の認証',
    'user.at': '日時',
    'user.nas': 'クライアント',
    'user.method': '方式',
    'user.result': '結果',
    'user.reason': '理由',
    'user.sessions': 'セッション',
    'user.sessionId': 'セッション',
    'user.started': '開始',
    'user.stopped': '終了',
    'user.address': 'アドレス',
    'user.open': '接続中',
    'user.lostDevice': '紛失端末：すべての証明書を失効',
    'user.issue': '証明書の発行',
    'user.deviceLost': '紛失',
    'user.disconnects': '切断要求（CoA）',
    'user.outcome': '結果',
    'user.attempts': '試行回数',
    'status.valid': '有効',
    'status.revoked': '失効',
    'status.expired': '期限切れ',
    'status.hold': '保留',
    'result.accept': '許可',
    'result.reject': '拒否',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, clear, link, section, table, badge, confirmDialog, secretBox, toast, errorText, qrCode } = ctx.ui;
  const { t, fmtTime } = ctx;
  const name = ctx.params.name;
  const path = `/users/${encodeURIComponent(name)}`;
  const result = el('div', { class: 'result', 'data-testid': 'action-result' });
  const body = el('div');

  /** Runs an action, shows its outcome, and reloads the user. @param {() => Promise<void>} fn */
  const act = async (fn) => {
    try {
      await fn();
      await load();
    } catch (e) {
      toast(errorText(e), 'error');
    }
  };
  const done = (/** @type {string} */ text) => {
    clear(result).appendChild(el('p', { class: 'ok', 'data-testid': 'action-done' }, text));
    toast(text);
  };

  const actions = (/** @type {any} */ u) => {
    if (!ctx.can('users.write')) return null;
    const locked = u.lockedUntil !== null && u.lockedUntil > Date.now();
    return section(t('user.actions'), el('div', { class: 'actions wrap' },
      el('button', {
        type: 'button', 'data-testid': 'user-reset-password',
        onclick: () => act(async () => {
          if (!(await confirmDialog(t('user.resetPasswordConfirm', { user: u.username }), { ok: t('user.resetPassword') }))) return;
          const r = await ctx.api.post(`${path}/reset-password`);
          clear(result).append(el('p', null, t('user.temporaryPassword', { user: u.username })), secretBox(r.temporaryPassword, 'temp-password'));
        }),
      }, t('user.resetPassword')),
      locked ? el('button', {
        type: 'button', class: 'primary', 'data-testid': 'user-unlock',
        onclick: () => act(async () => { await ctx.api.post(`${path}/unlock`); done(t('user.unlocked', { user: u.username })); }),
      }, t('user.unlock')) : null,
      u.enabled ? el('button', {
        type: 'button', class: 'danger', 'data-testid': 'user-disable',
        onclick: () => act(async () => {
          if (!(await confirmDialog(t('user.disableConfirm', { user: u.username }), { ok: t('user.disable'), danger: true }))) return;
          await ctx.api.post(`${path}/disable`);
          done(t('user.disabledDone', { user: u.username }));
        }),
      }, t('user.disable')) : el('button', {
        type: 'button', 'data-testid': 'user-enable',
        onclick: () => act(async () => { await ctx.api.post(`${path}/enable`); done(t('user.enabledDone', { user: u.username })); }),
      }, t('user.enable')),
      el('button', {
        type: 'button', 'data-testid': 'user-otp-reset',
        onclick: () => act(async () => {
          if (!(await confirmDialog(t('user.otpResetConfirm', { user: u.username }), { ok: t('user.otpReset'), danger: true }))) return;
          await ctx.api.del(`${path}/otp`);
          done(t('user.otpResetDone', { user: u.username }));
        }),
      }, t('user.otpReset')),
      el('button', {
        type: 'button', 'data-testid': 'user-otp-enrol',
        onclick: () => act(async () => {
          const r = await ctx.api.post(`${path}/otp`);
          const qr = qrCode(r.qrSvg);
          clear(result).append(el('p', null, t('user.otpEnrolText')), qr ? el('div', { class: 'qr-box' }, qr) : '',
            el('code', { class: 'uri', 'data-testid': 'user-otpauth-uri' }, String(r.uri ?? r.otpauthUri ?? '')));
        }),
      }, t('user.otpEnrol'))));
  };

  const dl = (/** @type {[string, any][]} */ rows) => el('dl', { class: 'props' }, rows.map(([k, v]) => [el('dt', null, k), el('dd', null, v ?? '—')]));

  const load = async () => {
    const u = await ctx.api.get(path);
    let sessions = [];
    try {
      const s = await ctx.api.get(`${path}/sessions`);
      sessions = Array.isArray(s) ? s : s?.items ?? [];
    } catch { /* older server: no sessions route */ }
    let disconnects = [];
    try {
      const r = await ctx.api.get('/disconnects', { user: u.username });
      disconnects = Array.isArray(r) ? r : r?.items ?? [];
    } catch { /* not recorded here */ }
    const otp = u.otp?.state ?? (u.otpEnrolled === undefined ? undefined : u.otpEnrolled ? 'enrolled' : 'none');
    const otpState = otp === undefined ? null : otp === 'enrolled' ? t('user.otpEnrolled') : otp === 'pending' ? t('user.otpPending') : t('user.otpNotEnrolled');
    clear(body).append(
      el('div', { class: 'title-row' }, el('h1', { 'data-testid': 'user-name' }, u.username), el('span', { 'data-testid': 'user-status' }, userStatus(u, ctx))),
      actions(u) ?? '',
      section(t('user.profile'), dl([
        [t('user.displayName'), u.displayName], [t('user.email'), u.email], [t('user.source'), sourceText(u.source, ctx)],
        [t('user.groups'), (u.groups ?? []).length ? u.groups.map((/** @type {string} */ g) => badge(g, 'muted')) : t('common.none')],
        [t('user.lockedUntil'), u.lockedUntil ? fmtTime(u.lockedUntil) : null], [t('user.accountExpires'), u.accountExpiresAt ? fmtTime(u.accountExpiresAt) : null],
        [t('user.passwordChanged'), u.passwordChangedAt ? fmtTime(u.passwordChangedAt) : null], [t('user.created'), fmtTime(u.createdAt)],
        ...(otpState ? [[t('user.otp'), otpState]] : []),
      ])),
      section(t('user.certificates'), el('div', { class: 'actions wrap' },
        ctx.can('certs.issue') ? link(`/issue?user=${encodeURIComponent(u.username)}`, t('user.issue')) : null,
        ctx.can('certs.revoke') ? link(`/lost-device?user=${encodeURIComponent(u.username)}`, t('user.lostDevice')) : null), table([
        { label: t('user.serial'), render: (/** @type {any} */ c) => link(`/certificates/${encodeURIComponent(c.serial)}`, c.serial) },
        { label: t('user.commonName'), render: (/** @type {any} */ c) => c.commonName },
        { label: t('user.profileName'), render: (/** @type {any} */ c) => c.profile },
        { label: t('user.status'), render: (/** @type {any} */ c) => badge(t(`status.${c.status}`), c.status === 'valid' ? 'ok' : c.status === 'revoked' ? 'bad' : 'warn') },
        { label: t('user.notAfter'), render: (/** @type {any} */ c) => fmtTime(c.notAfter) },
        {
          label: t('user.certActions'), render: (/** @type {any} */ c) => c.status === 'valid' && ctx.can('certs.revoke') ? [
            link(`/certificates/${encodeURIComponent(c.serial)}?action=revoke`, t('user.revoke')), ' ',
            link(`/certificates/${encodeURIComponent(c.serial)}?action=reissue`, t('user.reissue'))] : '',
        },
      ], u.certificates ?? [], { testid: 'user-certificates' })),
      section(t('user.devices'), table([
        { label: t('user.mac'), render: (/** @type {any} */ d) => d.mac },
        { label: t('user.deviceName'), render: (/** @type {any} */ d) => d.name ?? '' },
        { label: t('user.status'), render: (/** @type {any} */ d) => d.enabled ? badge(t('users.enabled'), 'ok') : badge(t('users.disabled'), 'muted') },
        { label: '', render: (/** @type {any} */ d) => ctx.can('certs.revoke') ? link(`/lost-device?device=${encodeURIComponent(d.mac)}`, t('user.deviceLost')) : '' },
      ], u.devices ?? [], { testid: 'user-devices' })),
      section(t('user.recent'), table([
        { label: t('user.at'), render: (/** @type {any} */ d) => fmtTime(d.at) },
        { label: t('user.nas'), render: (/** @type {any} */ d) => d.nas },
        { label: t('user.method'), render: (/** @type {any} */ d) => d.method ?? '' },
        { label: t('user.result'), render: (/** @type {any} */ d) => badge(t(`result.${d.outcome}`), d.outcome === 'accept' ? 'ok' : 'bad') },
        { label: t('user.reason'), render: (/** @type {any} */ d) => ctx.reasonText(d.reason) },
      ], u.recentDecisions ?? [], { testid: 'user-decisions' })),
      section(t('user.sessions'), table([
        { label: t('user.sessionId'), render: (/** @type {any} */ s) => s.sessionId ?? s.acctSessionId ?? s.id ?? '' },
        { label: t('user.nas'), render: (/** @type {any} */ s) => s.nas ?? s.nasName ?? '' },
        { label: t('user.address'), render: (/** @type {any} */ s) => s.framedIp ?? s.framedIpAddress ?? s.callingStationId ?? '' },
        { label: t('user.started'), render: (/** @type {any} */ s) => fmtTime(s.startedAt ?? s.start) },
        { label: t('user.stopped'), render: (/** @type {any} */ s) => (s.stoppedAt ?? s.endedAt ?? s.stop) ? fmtTime(s.stoppedAt ?? s.endedAt ?? s.stop) : badge(t('user.open'), 'ok') },
      ], sessions, { testid: 'user-sessions' })),
      disconnects.length === 0 ? '' : section(t('user.disconnects'), table([
        { label: t('user.at'), render: (/** @type {any} */ x) => fmtTime(x.at) },
        { label: t('user.nas'), render: (/** @type {any} */ x) => x.nas ?? '' },
        { label: t('user.sessionId'), render: (/** @type {any} */ x) => x.sessionId ?? '' },
        { label: t('user.outcome'), render: (/** @type {any} */ x) => badge(String(x.outcome ?? ''), x.outcome === 'ack' ? 'ok' : 'bad') },
        { label: t('user.attempts'), render: (/** @type {any} */ x) => String(x.attempts ?? '') },
      ], disconnects, { testid: 'user-disconnects' })),
    );
  };

  root.append(el('p', null, link('/users', t('user.back'))), result, body);
  await load();
}
