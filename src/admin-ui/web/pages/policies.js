// @ts-check
// Policies: what each group gets on accept (VLAN as Tunnel-Private-Group-Id, Session-Timeout,
// Filter-Id, Class; RFC 2865 §5, RFC 3580 §3.31) and which authentication methods each kind of
// RADIUS client allows.
import { api, can, confirmStep, errorBox, field, h, kitMessages, notify, replace, table } from './_kit.js';

export const route = '/policies';
export const permission = 'policy.read';
export const nav = { key: 'nav.policies', order: 41 };

const KINDS = ['wlan', 'vpn', 'gateway', 'switch'];
const METHODS = ['pap', 'chap', 'mschapv2', 'eap-tls', 'peap', 'ttls', 'mab'];
const ATTRS = ['vlan', 'sessionTimeout', 'filterId', 'class'];

export const messages = {
  en: {
    ...kitMessages.en,
    'pol.title': 'Policies', 'pol.groups': 'Group policies (applied on accept)', 'pol.group': 'Group', 'pol.vlan': 'VLAN',
    'pol.sessionTimeout': 'Session timeout (s)', 'pol.filterId': 'Filter-Id', 'pol.class': 'Class', 'pol.priority': 'Priority (lower wins)',
    'pol.edit': 'Edit', 'pol.remove': 'Remove', 'pol.save': 'Save', 'pol.add': 'Add or change a group policy', 'pol.actions': 'Actions',
    'pol.saved': 'Policy for {group} saved.', 'pol.removed': 'Policy for {group} removed.', 'pol.emptyGroups': 'No group policy: accepted users get no extra attributes.',
    'pol.removeConfirm': 'Remove the policy of group {group}? Its members get no VLAN or attributes from it any more.',
    'pol.methods': 'Authentication methods per client kind', 'pol.kind': 'Client kind', 'pol.saveMethods': 'Save',
    'pol.methodsSaved': 'Methods for {kind} saved.', 'pol.all': 'all methods',
    'pol.kind.wlan': 'Wireless LAN', 'pol.kind.vpn': 'VPN', 'pol.kind.gateway': 'Gateway', 'pol.kind.switch': 'Switch',
    'pol.method.pap': 'PAP', 'pol.method.chap': 'CHAP', 'pol.method.mschapv2': 'MS-CHAPv2', 'pol.method.eap-tls': 'EAP-TLS',
    'pol.method.peap': 'PEAP', 'pol.method.ttls': 'EAP-TTLS', 'pol.method.mab': 'MAC authentication (MAB)',
    'pol.emptyHint': 'Leave a field empty to remove it.',
  },
  ja: {
    ...kitMessages.ja,
    'pol.title': 'ポリシー', 'pol.groups': 'グループごとのポリシー (認証成功時に適用)', 'pol.group': 'グループ', 'pol.vlan': 'VLAN',
    'pol.sessionTimeout': 'セッションタイムアウト (秒)', 'pol.filterId': 'Filter-Id', 'pol.class': 'Class', 'pol.priority': '優先度 (小さい方が優先)',
    'pol.edit': '編集', 'pol.remove': '削除', 'pol.save': '保存', 'pol.add': 'グループポリシーの追加・変更', 'pol.actions': '操作',
    'pol.saved': '{group} のポリシーを保存しました。', 'pol.removed': '{group} のポリシーを削除しました。', 'pol.emptyGroups': 'グループポリシーはありません。認証成功時に追加の属性は送られません。',
    'pol.removeConfirm': 'グループ {group} のポリシーを削除しますか？所属する利用者には VLAN や属性が割り当てられなくなります。',
    'pol.methods': 'クライアント種別ごとの認証方式', 'pol.kind': 'クライアント種別', 'pol.saveMethods': '保存',
    'pol.methodsSaved': '{kind} の認証方式を保存しました。', 'pol.all': 'すべての方式',
    'pol.kind.wlan': '無線 LAN', 'pol.kind.vpn': 'VPN', 'pol.kind.gateway': 'ゲートウェイ', 'pol.kind.switch': 'スイッチ',
    'pol.method.pap': 'PAP', 'pol.method.chap': 'CHAP', 'pol.method.mschapv2': 'MS-CHAPv2', 'pol.method.eap-tls': 'EAP-TLS',
    'pol.method.peap': 'PEAP', 'pol.method.ttls': 'EAP-TTLS', 'pol.method.mab': 'MAC アドレス認証 (MAB)',
    'pol.emptyHint': '空欄にした項目は削除されます。',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const notice = h('div', { testid: 'pol-notice' });
  root.append(h('h1', null, t('pol.title')), notice);
  let p;
  try {
    p = await api(ctx).get('/policies');
  } catch (e) {
    root.append(errorBox(ctx, e));
    return;
  }
  const writer = can(ctx, 'policy.write');
  const form = writer ? groupForm(ctx, notice) : null;
  const groups = Array.isArray(p?.groups) ? p.groups : [];
  root.append(
    h('h2', null, t('pol.groups')),
    table([
      { label: t('pol.group'), value: (g) => g.group },
      { label: t('pol.vlan'), value: (g) => g.vlan ?? '—' },
      { label: t('pol.sessionTimeout'), value: (g) => (g.sessionTimeout ?? '—') },
      { label: t('pol.filterId'), value: (g) => g.filterId ?? '—' },
      { label: t('pol.class'), value: (g) => g.class ?? '—' },
      { label: t('pol.priority'), value: (g) => String(g.priority ?? '') },
      ...(writer ? [{
        label: t('pol.actions'), value: (/** @type {any} */ g) => [
          h('button', { class: 'small', testid: `pol-edit-${g.group}`, onclick: () => form?.fill(g) }, t('pol.edit')),
          h('button', { class: 'danger small', testid: `pol-remove-${g.group}`, onclick: () => void removeGroup(ctx, g.group, notice) }, t('pol.remove')),
        ],
      }] : []),
    ], groups, { testid: 'pol-groups', key: (g) => g.group, empty: t('pol.emptyGroups') }),
    form ? form.node : null,
    h('h2', null, t('pol.methods')),
    methodsTable(ctx, p?.methods ?? {}, writer, notice));
}

/** @param {any} ctx @param {string} group @param {HTMLElement} notice */
async function removeGroup(ctx, group, notice) {
  if (!(await confirmStep(ctx, ctx.t('pol.removeConfirm', { group })))) return;
  try {
    await api(ctx).del(`/policies/groups/${encodeURIComponent(group)}`);
    notify(ctx, ctx.t('pol.removed', { group }));
    await ctx.refresh?.();
  } catch (e) {
    replace(notice, errorBox(ctx, e));
  }
}

/** @param {any} ctx @param {HTMLElement} notice */
function groupForm(ctx, notice) {
  const t = ctx.t;
  const input = (/** @type {string} */ id, /** @type {string} */ type = 'text') => /** @type {HTMLInputElement} */ (h('input', { type, testid: `pol-${id}`, autocomplete: 'off' }));
  const group = input('group');
  group.required = true;
  /** @type {Record<string, HTMLInputElement>} */
  const fields = { vlan: input('vlan'), sessionTimeout: input('sessionTimeout', 'number'), filterId: input('filterId'), class: input('class') };
  const priority = input('priority', 'number');
  const submit = h('button', { type: 'submit', class: 'primary', testid: 'pol-save' }, t('pol.save'));
  const node = h('form', { class: 'card', testid: 'pol-form' },
    h('h2', null, t('pol.add')), h('p', { class: 'muted' }, t('pol.emptyHint')),
    h('div', { class: 'toolbar' }, field(t('pol.group'), group), ATTRS.map((a) => field(t(`pol.${a}`), fields[a])), field(t('pol.priority'), priority)),
    h('div', { class: 'actions wrap' }, submit));
  node.addEventListener('submit', async (e) => {
    e.preventDefault();
    /** @type {Record<string, any>} */
    const body = {};
    const unset = [];
    for (const a of ATTRS) {
      const v = fields[a].value.trim();
      if (v === '') unset.push(a);
      else body[a] = a === 'sessionTimeout' ? Number(v) : v;
    }
    if (unset.length) body.unset = unset;
    if (priority.value !== '') body.priority = Number(priority.value);
    const name = group.value.trim();
    try {
      await api(ctx).put(`/policies/groups/${encodeURIComponent(name)}`, body);
      notify(ctx, t('pol.saved', { group: name }));
      await ctx.refresh?.();
    } catch (err) {
      replace(notice, errorBox(ctx, err));
    }
  });
  return {
    node,
    /** @param {any} g */
    fill(g) {
      group.value = g.group;
      for (const a of ATTRS) fields[a].value = g[a] === null || g[a] === undefined ? '' : String(g[a]);
      priority.value = g.priority === null || g.priority === undefined ? '' : String(g.priority);
      group.focus();
    },
  };
}

/** @param {any} ctx @param {Record<string, string[]>} methods @param {boolean} writer @param {HTMLElement} notice */
function methodsTable(ctx, methods, writer, notice) {
  const t = ctx.t;
  return h('table', { class: 'grid', testid: 'pol-methods' },
    h('thead', null, h('tr', null, h('th', null, t('pol.kind')), METHODS.map((m) => h('th', null, t(`pol.method.${m}`))), writer ? h('th', null, '') : null)),
    h('tbody', null, KINDS.map((kind) => {
      const allowed = new Set(methods[kind] ?? METHODS);
      const boxes = METHODS.map((m) => /** @type {HTMLInputElement} */ (h('input', {
        type: 'checkbox', checked: allowed.has(m), disabled: !writer, testid: `pol-method-${kind}-${m}`, 'aria-label': `${t(`pol.kind.${kind}`)} ${m}`,
      })));
      const save = writer ? h('button', {
        class: 'small', testid: `pol-methods-save-${kind}`,
        onclick: async () => {
          const chosen = METHODS.filter((_m, i) => boxes[i].checked);
          try {
            // Every method ticked is the default: null stores no row (a kind without a row allows all).
            await api(ctx).put(`/policies/methods/${kind}`, { methods: chosen.length === METHODS.length ? null : chosen });
            notify(ctx, t('pol.methodsSaved', { kind: t(`pol.kind.${kind}`) }));
            replace(notice, h('p', { class: 'ok', role: 'status' }, t('pol.methodsSaved', { kind: t(`pol.kind.${kind}`) })));
          } catch (e) {
            replace(notice, errorBox(ctx, e));
          }
        },
      }, t('pol.saveMethods')) : null;
      return h('tr', { testid: 'pol-methods-row', 'data-key': kind }, h('th', { scope: 'row' }, t(`pol.kind.${kind}`)), boxes.map((b) => h('td', null, b)), save ? h('td', null, save) : null);
    })));
}
