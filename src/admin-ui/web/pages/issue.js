// @ts-check
// Issue a certificate for a user: the CA makes the key, the API keeps the PKCS#12 behind a
// one-time download URL and returns its password once. This page shows both once and keeps
// neither: leaving the page forgets them.
import { api, errorBox, field, h, kitMessages, oneTimeResult, replace, select } from './_kit.js';

export const route = '/issue';
export const permission = 'certs.issue';
export const nav = { key: 'nav.issue', order: 31 };

const KEY_TYPES = ['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072'];

export const messages = {
  en: {
    ...kitMessages.en,
    'issue.title': 'Issue a certificate', 'issue.username': 'User name', 'issue.device': 'Device (registered MAC address)', 'issue.profile': 'Profile',
    'issue.profile.user': 'User (client authentication, e-mail/UPN)', 'issue.profile.device': 'Device (client authentication)',
    'issue.days': 'Validity (days)', 'issue.daysHint': 'Empty: the profile default', 'issue.keyType': 'Key type', 'issue.keyDefault': 'Same as the CA',
    'issue.submit': 'Issue', 'issue.intro': 'The private key is generated on the appliance and delivered as a password-protected PKCS#12 file, which can be downloaded only once.',
  },
  ja: {
    ...kitMessages.ja,
    'issue.title': '証明書の発行', 'issue.username': 'ユーザー名', 'issue.device': '端末 (登録済みの MAC アドレス)', 'issue.profile': 'プロファイル',
    'issue.profile.user': 'ユーザー (クライアント認証、メール/UPN)', 'issue.profile.device': '端末 (クライアント認証)',
    'issue.days': '有効日数', 'issue.daysHint': '空欄の場合はプロファイルの既定値', 'issue.keyType': '鍵の種類', 'issue.keyDefault': 'CA と同じ',
    'issue.submit': '発行する', 'issue.intro': '秘密鍵はアプライアンス上で生成され、パスワード付きの PKCS#12 ファイルとして渡されます。ダウンロードは 1 回限りです。',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const username = /** @type {HTMLInputElement} */ (h('input', { testid: 'issue-username', required: true, autocomplete: 'off', value: ctx.query?.user ?? ctx.query?.device ?? '' }));
  const profile = select('issue-profile', [['user', t('issue.profile.user')], ['device', t('issue.profile.device')]], ctx.query?.device ? 'device' : 'user');
  const whoLabel = h('span', { class: 'label' });
  // A user certificate names a user; a device certificate a registered device (its MAC).
  const relabel = () => replace(whoLabel, t(profile.value === 'device' ? 'issue.device' : 'issue.username'));
  profile.addEventListener('change', relabel);
  relabel();
  const days = /** @type {HTMLInputElement} */ (h('input', { type: 'number', min: '1', max: '1826', testid: 'issue-days', placeholder: t('issue.daysHint') }));
  const keyType = select('issue-key-type', [['', t('issue.keyDefault')], ...KEY_TYPES.map((k) => /** @type {[string, string]} */ ([k, k]))], '');
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary', testid: 'issue-submit' }, t('issue.submit')));
  const result = h('div', { testid: 'issue-result' });
  const form = h('form', { class: 'card', testid: 'issue-form' },
    h('div', { class: 'toolbar' }, field(t('issue.profile'), profile), h('label', { class: 'field' }, whoLabel, username), field(t('issue.days'), days),
      field(t('issue.keyType'), keyType)),
    h('div', { class: 'actions wrap' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(result);
    try {
      const who = username.value.trim();
      const r = await api(ctx).post('/certificates', {
        ...(profile.value === 'device' ? { device: who } : { username: who }), profile: profile.value, ...(keyType.value ? { keyType: keyType.value } : {}),
        ...(days.value ? { days: Number(days.value) } : {}),
      });
      form.remove();
      replace(result, oneTimeResult(ctx, r));
    } catch (err) {
      submit.disabled = false;
      replace(result, errorBox(ctx, err));
    }
  });
  root.append(h('h1', null, t('issue.title')), h('p', { class: 'muted' }, t('issue.intro')), form, result);
}
