// @ts-check
// Lost device: one action revokes every valid certificate of a user or of a device. The page
// previews what will be revoked and where each was last used, asks once, then shows what the
// API revoked (the authoritative list, with last use) and the RADIUS Disconnect-Request
// outcomes (RFC 5176) for the user's open sessions as they come in.
import {
  api, confirmStep, errorBox, errorText, field, h, itemsOf, kitMessages, qs, replace, select, statusBadge, table, time,
} from './_kit.js';

export const route = '/lost-device';
export const permission = 'certs.revoke';
export const nav = { key: 'nav.lostDevice', order: 32 };

const DISCONNECT_POLLS = 5;
const DISCONNECT_INTERVAL_MS = 2000;

export const messages = {
  en: {
    ...kitMessages.en,
    'lost.title': 'Lost device', 'lost.intro': 'Revoke every valid certificate of a user or of one device in one step. Wi-Fi, VPN and the remote-desktop gateway refuse them within seconds (OCSP, CRL and EAP-TLS read the same status).',
    'lost.mode': 'Whose certificates', 'lost.mode.user': 'A user', 'lost.mode.device': 'A device (MAC address or name)',
    'lost.target': 'User name or device', 'lost.preview': 'Show certificates', 'lost.previewTitle': 'Certificates that will be revoked',
    'lost.lastUsed': 'Last used', 'lost.where': 'Where (RADIUS client)', 'lost.method': 'Method', 'lost.never': 'Not seen',
    'lost.nothing': 'No valid certificate: nothing to revoke.', 'lost.deviceInfo': 'Device {mac} ({name}), owner {owner}, {n} certificates bound',
    'lost.revokeAll': 'Revoke all ({n})', 'lost.confirm': 'Revoke all {n} valid certificates of {target}? This cannot be undone.',
    'lost.doneTitle': 'Revoked', 'lost.done': '{n} certificates revoked; {already} were already revoked.',
    'lost.disconnects': 'Disconnect requests to network devices', 'lost.disconnectsNone': 'No session to disconnect has been reported (yet).',
    'lost.nas': 'RADIUS client', 'lost.session': 'Session', 'lost.outcome': 'Outcome', 'lost.attempts': 'Attempts',
    'lost.lastAuth': 'Last successful authentication of {user}: {at} via {client} ({method})',
    'lost.deviceMore': '{n} certificates are bound to this device; all of them that are valid will be revoked.',
    'lost.again': 'Start over', 'lost.lastSeen': 'Last seen on the network: {at} via {client} ({method})',
  },
  ja: {
    ...kitMessages.ja,
    'lost.title': '紛失端末', 'lost.intro': '利用者または端末 1 台の有効な証明書をまとめて失効します。数秒以内に無線 LAN・VPN・リモートデスクトップゲートウェイで拒否されます (OCSP・CRL・EAP-TLS は同じ失効情報を参照します)。',
    'lost.mode': '対象', 'lost.mode.user': '利用者', 'lost.mode.device': '端末 (MAC アドレスまたは名前)',
    'lost.target': 'ユーザー名または端末', 'lost.preview': '証明書を表示', 'lost.previewTitle': '失効される証明書',
    'lost.lastUsed': '最終利用日時', 'lost.where': '利用場所 (RADIUS クライアント)', 'lost.method': '認証方式', 'lost.never': '利用記録なし',
    'lost.nothing': '有効な証明書はありません。失効するものはありません。', 'lost.deviceInfo': '端末 {mac}（{name}）、所有者 {owner}、紐付く証明書 {n} 件',
    'lost.revokeAll': 'すべて失効する ({n} 件)', 'lost.confirm': '{target} の有効な証明書 {n} 件をすべて失効しますか？この操作は取り消せません。',
    'lost.doneTitle': '失効結果', 'lost.done': '{n} 件の証明書を失効しました。{already} 件はすでに失効済みでした。',
    'lost.disconnects': 'ネットワーク機器への切断要求 (Disconnect-Request)', 'lost.disconnectsNone': '切断対象のセッションは (まだ) 報告されていません。',
    'lost.nas': 'RADIUS クライアント', 'lost.session': 'セッション', 'lost.outcome': '結果', 'lost.attempts': '試行回数',
    'lost.lastAuth': '{user} の最後の認証成功: {at}、{client} 経由 ({method})',
    'lost.deviceMore': 'この端末には証明書が {n} 件紐付いています。そのうち有効なものはすべて失効されます。',
    'lost.again': '最初からやり直す', 'lost.lastSeen': 'ネットワーク上で最後に確認された日時: {at}、{client} 経由 ({method})',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  const q = ctx.query ?? {};
  const mode = select('lost-mode', [['user', t('lost.mode.user')], ['device', t('lost.mode.device')]], q.device ? 'device' : 'user');
  const target = /** @type {HTMLInputElement} */ (h('input', { testid: 'lost-target', required: true, autocomplete: 'off', list: 'lost-suggestions', value: q.device ?? q.user ?? '' }));
  const suggestions = h('datalist', { id: 'lost-suggestions', testid: 'lost-suggestions' });
  // Suggestions as the operator types: users by name prefix, or devices by MAC/name prefix.
  let typed = 0;
  target.addEventListener('input', () => {
    const value = target.value.trim();
    const seq = ++typed;
    if (value.length < 2) return;
    setTimeout(async () => {
      if (seq !== typed) return;
      try {
        const rows = itemsOf(await api(ctx).get(mode.value === 'device' ? '/devices' + qs({ prefix: value, limit: 10 }) : '/users' + qs({ q: value, limit: 10 })));
        if (seq !== typed) return;
        replace(suggestions, rows.map((r) => (mode.value === 'device'
          ? h('option', { value: r.mac }, `${r.name ?? ''}${r.owner ? ` (${r.owner})` : ''}`)
          : h('option', { value: r.username }, r.displayName ?? ''))));
      } catch { /* suggestions are a convenience */ }
    }, 250);
  });
  const form = h('form', { class: 'toolbar', testid: 'lost-form' },
    field(t('lost.mode'), mode), field(t('lost.target'), target), suggestions,
    h('button', { type: 'submit', class: 'primary', testid: 'lost-preview' }, t('lost.preview')));
  const stage = h('div', { testid: 'lost-stage' });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const value = target.value.trim();
    if (value) void preview(ctx, stage, mode.value === 'device' ? { device: value } : { username: value });
  });
  root.append(h('h1', null, t('lost.title')), h('p', { class: 'muted' }, t('lost.intro')), form, stage);
  if (target.value) void preview(ctx, stage, mode.value === 'device' ? { device: target.value } : { username: target.value });
}

/**
 * @param {any} ctx @param {HTMLElement} stage @param {{username?: string, device?: string}} who
 */
async function preview(ctx, stage, who) {
  const t = ctx.t;
  const a = api(ctx);
  replace(stage, t('kit.loading'));
  /** @type {any[]} */
  let certs = [];
  /** @type {any} */
  let device = null;
  let owner = who.username;
  try {
    if (who.device) {
      device = itemsOf(await a.get('/devices' + qs({ prefix: who.device }))).find((d) => sameDevice(d, who.device ?? '')) ?? null;
      owner = device?.owner ?? undefined;
      const seen = new Map();
      if (Array.isArray(device?.certificates)) for (const c of device.certificates) seen.set(c.serial, c);
      for (const cn of new Set([who.device, device?.mac, device?.name].filter(Boolean))) {
        for (const c of itemsOf(await a.get('/certificates' + qs({ cn, status: 'valid', limit: 200 })))) seen.set(c.serial, c);
      }
      certs = [...seen.values()].filter((c) => c.status === undefined || c.status === 'valid');
    } else {
      certs = itemsOf(await a.get('/certificates' + qs({ user: who.username, status: 'valid', limit: 200 })));
    }
  } catch (e) {
    replace(stage, errorBox(ctx, e));
    return;
  }
  // Where each was last used: an accept that names the certificate's serial, else the owner's last accept.
  /** @type {any[]} */
  let accepts = [];
  if (owner) {
    try { accepts = itemsOf(await a.get('/logs/auth' + qs({ user: owner, outcome: 'accept', limit: 100 }))); } catch { /* the role may not read the log */ }
  }
  const lastOf = (/** @type {any} */ c) => accepts.find((r) => r.details && Object.values(r.details).some((v) => sameSerial(String(v), c.serial))) ?? null;
  const targetText = who.device ?? who.username ?? '';
  const revokeAll = /** @type {HTMLButtonElement} */ (h('button', { class: 'danger', testid: 'lost-revoke-all' }, t('lost.revokeAll', { n: certs.length })));
  const latest = accepts[0];
  replace(stage,
    h('h2', null, t('lost.previewTitle')),
    device ? h('p', { testid: 'lost-device-info' }, t('lost.deviceInfo', { mac: device.mac, name: device.name ?? '—', owner: device.owner ?? '—', n: typeof device.certificates === 'number' ? device.certificates : '?' })) : null,
    latest ? h('p', { class: 'muted', testid: 'lost-last-auth' },
      t('lost.lastAuth', { user: owner, at: time(ctx, latest.at), client: latest.nas, method: latest.method ?? '—' })) : null,
    // The preview finds a device's certificates by its name or MAC as the CN; the API revokes every bound one.
    device && typeof device.certificates === 'number' && device.certificates > certs.length
      ? h('p', { class: 'warn', testid: 'lost-device-more' }, t('lost.deviceMore', { n: device.certificates })) : null,
    table([
      { label: t('kit.serial'), value: (c) => h('a', { href: `#/certificates/${encodeURIComponent(c.serial)}` }, h('code', null, c.serial)) },
      { label: t('kit.commonName'), value: (c) => c.commonName },
      { label: t('kit.profile'), value: (c) => c.profile ?? '—' },
      { label: t('kit.notAfter'), value: (c) => time(ctx, c.notAfter) },
      { label: t('lost.lastUsed'), value: (c) => { const l = lastOf(c); return l ? time(ctx, l.at) : t('lost.never'); } },
      { label: t('lost.where'), value: (c) => { const l = lastOf(c); return l ? `${l.nas}${l.nasAddress ? ` (${l.nasAddress})` : ''}` : '—'; } },
      { label: t('lost.method'), value: (c) => lastOf(c)?.method ?? '—' },
    ], certs, { testid: 'lost-preview-table', key: (c) => c.serial, empty: t('lost.nothing') }),
    certs.length > 0 || (device && device.certificates > 0) ? h('div', { class: 'actions wrap' }, revokeAll) : null);

  revokeAll.addEventListener('click', async () => {
    if (!(await confirmStep(ctx, t('lost.confirm', { n: certs.length, target: targetText })))) return;
    revokeAll.disabled = true;
    let r;
    try {
      // The API takes a device by its MAC: the one found for the name typed, else what was typed.
      r = await a.post('/lost-device', who.device ? { device: device?.mac ?? who.device } : { username: who.username });
    } catch (e) {
      revokeAll.disabled = false;
      stage.append(errorBox(ctx, e));
      return;
    }
    showResult(ctx, stage, r, owner);
  });
}

/** @param {any} ctx @param {HTMLElement} stage @param {any} r @param {string | undefined} owner */
function showResult(ctx, stage, r, owner) {
  const t = ctx.t;
  const revoked = r?.revoked ?? [];
  const disconnects = h('div', { testid: 'lost-disconnects' });
  replace(stage,
    h('h2', null, t('lost.doneTitle')),
    h('p', { class: 'ok', role: 'status', testid: 'lost-done' }, t('lost.done', { n: revoked.length, already: r?.alreadyRevoked ?? 0 })),
    r?.lastSeen ? h('p', { class: 'muted', testid: 'lost-last-seen' },
      t('lost.lastSeen', { at: time(ctx, r.lastSeen.at), client: r.lastSeen.client, method: r.lastSeen.method ?? '—' })) : null,
    table([
      { label: t('kit.serial'), value: (c) => h('a', { href: `#/certificates/${encodeURIComponent(c.serial)}` }, h('code', null, c.serial)) },
      { label: t('kit.commonName'), value: (c) => c.commonName },
      { label: t('kit.status'), value: () => statusBadge(ctx, 'revoked') },
      { label: t('lost.lastUsed'), value: (c) => (c.lastUsed ? time(ctx, c.lastUsed.at) : t('lost.never')) },
      { label: t('lost.where'), value: (c) => (c.lastUsed ? `${c.lastUsed.client}${c.lastUsed.nasAddress ? ` (${c.lastUsed.nasAddress})` : ''}` : '—') },
      { label: t('lost.method'), value: (c) => c.lastUsed?.method ?? '—' },
    ], revoked, { testid: 'lost-results', key: (c) => c.serial, empty: t('lost.nothing') }),
    h('h3', null, t('lost.disconnects')), disconnects,
    // A button, not a link: the same address again would not render the page afresh.
    h('div', { class: 'actions wrap' }, h('button', { type: 'button', testid: 'lost-again', onclick: () => ctx.navigate('/lost-device') }, t('lost.again'))));
  if (owner) void pollDisconnects(ctx, disconnects, owner, DISCONNECT_POLLS);
  else replace(disconnects, h('p', { class: 'muted' }, t('lost.disconnectsNone')));
}

/** CoA outcomes arrive after the revocation: ask a few times, stop when the page is left. */
async function pollDisconnects(/** @type {any} */ ctx, /** @type {HTMLElement} */ box, /** @type {string} */ user, /** @type {number} */ left) {
  const t = ctx.t;
  if (!box.isConnected && left < DISCONNECT_POLLS) return;
  try {
    const rows = itemsOf(await api(ctx).get('/disconnects' + qs({ user })));
    replace(box, rows.length === 0 ? h('p', { class: 'muted', testid: 'lost-disconnects-none' }, t('lost.disconnectsNone')) : table([
      { label: t('kit.time'), value: (d) => time(ctx, d.at) },
      { label: t('lost.nas'), value: (d) => d.nas },
      { label: t('lost.session'), value: (d) => d.sessionId ?? '—' },
      { label: t('lost.outcome'), value: (d) => d.outcome },
      { label: t('lost.attempts'), value: (d) => String(d.attempts ?? '—') },
    ], rows, { testid: 'lost-disconnects-table', empty: '' }));
  } catch (e) {
    replace(box, h('p', { class: 'muted' }, errorText(ctx, e)));
    return;
  }
  if (left > 1) setTimeout(() => { if (box.isConnected) void pollDisconnects(ctx, box, user, left - 1); }, DISCONNECT_INTERVAL_MS);
}

/** @param {any} d @param {string} wanted */
function sameDevice(d, wanted) {
  const norm = (/** @type {string} */ s) => String(s ?? '').toLowerCase().replace(/[^0-9a-z]/g, '');
  return norm(d.mac) === norm(wanted) || (d.name && String(d.name).toLowerCase() === wanted.toLowerCase());
}

/** @param {string} a @param {string} b */
function sameSerial(a, b) {
  const norm = (/** @type {string} */ s) => s.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+/, '');
  return norm(a) !== '' && norm(a) === norm(b);
}
