// @ts-check
// Users: search by the start of the user name, paged on the server (cursor), so 100,000 users
// cost one indexed query per page.
export const route = '/users';
export const permission = 'users.read';
export const nav = { key: 'nav.users', order: 20 };

export const messages = {
  en: {
    'users.title': 'Users',
    'users.search': 'User name starts with',
    'users.username': 'User name',
    'users.displayName': 'Name',
    'users.email': 'Email',
    'users.groups': 'Groups',
    'users.status': 'Status',
    'users.source': 'Source',
    'users.enabled': 'Enabled',
    'users.disabled': 'Disabled',
    'users.locked': 'Locked',
    'users.expired': 'Expired',
    'users.page': 'Page {n}',
    'source.local': 'Local',
    'source.directory': 'Directory ({name})',
  },
  ja: {
    'users.title': '利用者',
    'users.search': 'ユーザー名（前方一致）',
    'users.username': 'ユーザー名',
    'users.displayName': '氏名',
    'users.email': 'メールアドレス',
    'users.groups': 'グループ',
    'users.status': '状態',
    'users.source': '登録元',
    'users.enabled': '有効',
    'users.disabled': '無効',
    'users.locked': 'ロック中',
    'users.expired': '期限切れ',
    'users.page': '{n} ページ目',
    'source.local': 'ローカル',
    'source.directory': 'ディレクトリ（{name}）',
  },
};

const PAGE_SIZE = 50;

/** Where a user comes from, in words ("local", a directory). @param {string} source @param {any} ctx */
export function sourceText(source, ctx) {
  // A directory sync marks its users "ldap:<source name>".
  if (source.startsWith('ldap:')) return ctx.t('source.directory', { name: source.slice(5) });
  const key = `source.${source}`;
  const text = ctx.t(key);
  return text === key ? source : text;
}

/** @param {any} u @param {any} ctx */
export function userStatus(u, ctx) {
  const { badge } = ctx.ui;
  const now = Date.now();
  const out = [u.enabled ? badge(ctx.t('users.enabled'), 'ok') : badge(ctx.t('users.disabled'), 'muted')];
  if (u.lockedUntil && u.lockedUntil > now) out.push(' ', badge(ctx.t('users.locked'), 'bad', 'user-locked'));
  if (u.accountExpiresAt && u.accountExpiresAt <= now) out.push(' ', badge(ctx.t('users.expired'), 'warn'));
  return out;
}

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, table, pager, clear, link, debounce } = ctx.ui;
  const { t } = ctx;
  // "#/users?size=N" changes the page size (1 to 200, the API's limit).
  const size = Math.min(200, Math.max(1, Number.parseInt(ctx.query.size ?? '', 10) || PAGE_SIZE));
  const input = /** @type {HTMLInputElement} */ (el('input', {
    type: 'search', value: ctx.query.q ?? '', placeholder: 'tanaka', autocomplete: 'off', 'data-testid': 'users-search',
  }));
  const results = el('div', { 'data-testid': 'users-results' });
  /** @type {(string | undefined)[]} cursors of the pages seen, for "previous" */
  let cursors = [undefined];
  let index = 0;
  let seq = 0;

  const load = async () => {
    const q = input.value.trim();
    const mine = ++seq;
    const body = await ctx.api.get('/users', { q, cursor: cursors[index], limit: size });
    // An older search answering late must not replace a newer one.
    if (mine !== seq) return;
    if (body.nextCursor) cursors[index + 1] = body.nextCursor;
    else cursors = cursors.slice(0, index + 1);
    clear(results).appendChild(table([
      { label: t('users.username'), render: (/** @type {any} */ u) => link(`/users/${encodeURIComponent(u.username)}`, u.username) },
      { label: t('users.displayName'), render: (/** @type {any} */ u) => u.displayName ?? '' },
      { label: t('users.email'), render: (/** @type {any} */ u) => u.email ?? '' },
      { label: t('users.groups'), render: (/** @type {any} */ u) => (u.groups ?? []).join(', ') },
      { label: t('users.source'), render: (/** @type {any} */ u) => sourceText(u.source ?? '', ctx) },
      { label: t('users.status'), render: (/** @type {any} */ u) => userStatus(u, ctx) },
    ], body.items, { testid: 'users-table', rowTestid: (u) => `user-row-${u.username}` }));
    results.appendChild(pager({
      hasPrev: index > 0, hasNext: Boolean(body.nextCursor), info: t('users.page', { n: index + 1 }),
      onPrev: () => { index--; void load().catch(fail); }, onNext: () => { index++; void load().catch(fail); },
    }));
  };
  const fail = (/** @type {any} */ e) => ctx.ui.toast(ctx.ui.errorText(e), 'error');
  const search = debounce(() => {
    cursors = [undefined];
    index = 0;
    // Keep the search in the address, so "back" from a user returns to it (without re-rendering).
    const params = new URLSearchParams({ ...(input.value.trim() ? { q: input.value.trim() } : {}), ...(size !== PAGE_SIZE ? { size: String(size) } : {}) });
    history.replaceState(null, '', `#/users${params.size ? `?${params}` : ''}`);
    void load().catch(fail);
  }, 200);
  input.addEventListener('input', search);

  root.appendChild(el('h1', null, t('users.title')));
  root.appendChild(el('div', { class: 'toolbar' }, ctx.ui.field(t('users.search'), input)));
  root.appendChild(results);
  await load();
  setTimeout(() => input.focus(), 0);
}
