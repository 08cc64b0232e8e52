// @ts-check
// RADIUS clients: the list (secrets are never sent back by the API, so never shown), add with
// a shared secret, remove after a confirmation.
import { api, can, confirmStep, errorBox, field, h, itemsOf, kitMessages, notify, replace, select, table, time } from './_kit.js';

export const route = '/nas';
export const permission = 'nas.read';
export const nav = { key: 'nav.nas', order: 40 };

const KINDS = ['wlan', 'vpn', 'gateway', 'switch'];

export const messages = {
  en: {
    ...kitMessages.en,
    'nas.title': 'RADIUS clients', 'nas.name': 'Name', 'nas.address': 'Address (IP or CIDR)', 'nas.kind': 'Kind',
    'nas.kind.wlan': 'Wireless LAN', 'nas.kind.vpn': 'VPN', 'nas.kind.gateway': 'Gateway', 'nas.kind.switch': 'Switch',
    'nas.secret': 'Shared secret', 'nas.secretHint': 'Stored encrypted; it cannot be displayed after saving',
    'nas.rma': 'Require Message-Authenticator', 'nas.radsec': 'RadSec (RADIUS over TLS)', 'nas.created': 'Added',
    'nas.add': 'Add RADIUS client', 'nas.addSubmit': 'Add', 'nas.remove': 'Remove', 'nas.added': 'RADIUS client {name} added.',
    'nas.removeConfirm': 'Remove RADIUS client {name} ({address})? Its requests will be ignored from now on.',
    'nas.removed': 'RADIUS client {name} removed.', 'nas.empty': 'No RADIUS client is registered.', 'nas.actions': 'Actions',
    'nas.rmaOff': 'Off (legacy equipment; exposed to BlastRADIUS)',
  },
  ja: {
    ...kitMessages.ja,
    'nas.title': 'RADIUS クライアント', 'nas.name': '名前', 'nas.address': 'アドレス (IP または CIDR)', 'nas.kind': '種別',
    'nas.kind.wlan': '無線 LAN', 'nas.kind.vpn': 'VPN', 'nas.kind.gateway': 'ゲートウェイ', 'nas.kind.switch': 'スイッチ',
    'nas.secret': '共有シークレット', 'nas.secretHint': '暗号化して保存され、保存後は表示できません',
    'nas.rma': 'Message-Authenticator を必須にする', 'nas.radsec': 'RadSec (RADIUS over TLS)', 'nas.created': '登録日時',
    'nas.add': 'RADIUS クライアントの追加', 'nas.addSubmit': '追加する', 'nas.remove': '削除', 'nas.added': 'RADIUS クライアント {name} を追加しました。',
    'nas.removeConfirm': 'RADIUS クライアント {name}（{address}）を削除しますか？以後、この機器からの要求は無視されます。',
    'nas.removed': 'RADIUS クライアント {name} を削除しました。', 'nas.empty': '登録されている RADIUS クライアントはありません。', 'nas.actions': '操作',
    'nas.rmaOff': '無効 (旧機種向け。BlastRADIUS の影響を受けます)',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const list = h('div', { testid: 'nas-list' }, t('kit.loading'));
  const notice = h('div', { testid: 'nas-notice' });
  root.append(h('h1', null, t('nas.title')), notice, list);
  if (can(ctx, 'nas.write')) root.append(addForm(ctx, list, notice));
  await load(ctx, list, notice);
}

/** @param {any} ctx @param {HTMLElement} list @param {HTMLElement} notice */
async function load(ctx, list, notice) {
  const t = ctx.t;
  let rows;
  try {
    rows = itemsOf(await api(ctx).get('/nas'));
  } catch (e) {
    replace(list, errorBox(ctx, e));
    return;
  }
  const writer = can(ctx, 'nas.write');
  replace(list, table([
    { label: t('nas.name'), value: (n) => n.name },
    { label: t('nas.address'), value: (n) => h('code', null, n.address) },
    { label: t('nas.kind'), value: (n) => t(`nas.kind.${n.kind}`) },
    { label: t('nas.rma'), value: (n) => (n.requireMessageAuthenticator ? t('kit.yes') : t('nas.rmaOff')) },
    { label: t('nas.radsec'), value: (n) => (n.radsec ? t('kit.yes') : t('kit.no')) },
    { label: t('nas.created'), value: (n) => time(ctx, n.createdAt) },
    ...(writer ? [{ label: t('nas.actions'), value: (/** @type {any} */ n) => removeButton(ctx, n, list, notice) }] : []),
  ], rows, { testid: 'nas-table', key: (n) => n.name, empty: t('nas.empty') }));
}

/** @param {any} ctx @param {any} n @param {HTMLElement} list @param {HTMLElement} notice */
function removeButton(ctx, n, list, notice) {
  const t = ctx.t;
  const b = /** @type {HTMLButtonElement} */ (h('button', { class: 'danger small', testid: `nas-remove-${n.name}` }, t('nas.remove')));
  b.addEventListener('click', async () => {
    if (!(await confirmStep(ctx, t('nas.removeConfirm', { name: n.name, address: n.address })))) return;
    b.disabled = true;
    try {
      await api(ctx).del(`/nas/${encodeURIComponent(n.name)}`);
      notify(ctx, t('nas.removed', { name: n.name }));
      replace(notice);
      await load(ctx, list, notice);
    } catch (e) {
      b.disabled = false;
      replace(notice, errorBox(ctx, e));
    }
  });
  return b;
}

/** @param {any} ctx @param {HTMLElement} list @param {HTMLElement} notice */
function addForm(ctx, list, notice) {
  const t = ctx.t;
  const name = /** @type {HTMLInputElement} */ (h('input', { testid: 'nas-name', required: true, autocomplete: 'off' }));
  const address = /** @type {HTMLInputElement} */ (h('input', { testid: 'nas-address', required: true, autocomplete: 'off', placeholder: '192.0.2.10' }));
  const secret = /** @type {HTMLInputElement} */ (h('input', { type: 'password', testid: 'nas-secret', required: true, autocomplete: 'new-password', title: t('nas.secretHint') }));
  const kind = select('nas-kind', KINDS.map((k) => /** @type {[string, string]} */ ([k, t(`nas.kind.${k}`)])), 'wlan');
  const rma = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', testid: 'nas-rma', checked: true }));
  const radsec = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', testid: 'nas-radsec' }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'primary', testid: 'nas-add' }, t('nas.addSubmit')));
  const form = h('form', { class: 'card', testid: 'nas-add-form' },
    h('h2', null, t('nas.add')),
    h('div', { class: 'toolbar' }, field(t('nas.name'), name), field(t('nas.address'), address), field(t('nas.secret'), secret), field(t('nas.kind'), kind)),
    h('p', { class: 'muted' }, t('nas.secretHint')),
    h('div', { class: 'actions wrap' }, h('label', null, rma, ' ', t('nas.rma')), h('label', null, radsec, ' ', t('nas.radsec'))),
    h('div', { class: 'actions wrap' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const added = await api(ctx).post('/nas', {
        name: name.value.trim(), address: address.value.trim(), secret: secret.value, kind: kind.value,
        requireMessageAuthenticator: rma.checked, radsec: radsec.checked,
      });
      // The secret leaves the page as soon as it is sent.
      secret.value = '';
      name.value = '';
      address.value = '';
      replace(notice, h('p', { class: 'ok', role: 'status', testid: 'nas-added' }, t('nas.added', { name: added?.name ?? '' })));
      await load(ctx, list, notice);
    } catch (err) {
      replace(notice, errorBox(ctx, err));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}
