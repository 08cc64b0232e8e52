// @ts-check
// The console shell: session, header (operator, language, log out), the side navigation
// (only the pages the role may use) and a hash router ("#/users/alice?x=1") that renders
// one page module into <main>. Pages are described in pages/index.js.
import { api, ApiError, setCsrfToken, setUnauthenticatedHandler } from './api.js';
import { addMessages, fmtDate, fmtHour, fmtTime, language, LANGUAGES, reasonText, setLanguage, setTimeZone, t } from './i18n.js';
import { loadPages } from './pages/index.js';
import * as ui from './ui.js';

const { el, clear } = ui;

// Used when GET /session does not list the permissions (it should): the server's table in
// src/admin-ui/routes.ts. The API refuses anything else anyway.
/** @type {Record<string, string[]>} */
const ROLE_PERMISSIONS = {
  admin: ['users.read', 'users.write', 'certs.read', 'certs.revoke', 'certs.issue', 'nas.read', 'nas.write', 'policy.read', 'policy.write',
    'logs.auth', 'logs.audit', 'logs.export', 'dashboard.read', 'directory.read', 'directory.write', 'ca.read', 'operators.manage'],
  network: ['nas.read', 'nas.write', 'policy.read', 'policy.write', 'logs.auth', 'dashboard.read', 'ca.read'],
  helpdesk: ['users.read', 'users.write', 'certs.read', 'certs.revoke'],
  auditor: ['users.read', 'certs.read', 'nas.read', 'policy.read', 'logs.auth', 'logs.audit', 'logs.export', 'dashboard.read', 'directory.read', 'ca.read'],
};

// Routes of pages that may be missing from this build: a role without the permission still
// gets "not permitted" rather than "not found".
/** @type {Record<string, string>} */
const KNOWN_ROUTES = {
  '/nas': 'nas.read', '/policies': 'policy.read', '/directory': 'directory.read', '/ca': 'ca.read', '/logs/auth': 'logs.auth',
  '/audit': 'logs.audit', '/operators': 'operators.manage', '/certificates': 'certs.read', '/issue': 'certs.issue',
  '/lost-device': 'certs.revoke', '/dashboard': 'dashboard.read',
};

/** @type {any[]} */
let pages = [];
/** @type {any} */
let session = null;
/** @type {Set<string>} */
let permissions = new Set();
const root = /** @type {HTMLElement} */ (document.getElementById('app'));
let renderSeq = 0;
const RETURN_KEY = 'authbox.return';

/** @param {string} permission */
function can(permission) {
  return permission === null || permission === undefined || permissions.has(permission);
}

/** @param {string} path */
function navigate(path) {
  const target = `#${path}`;
  if (location.hash === target) void route();
  else location.hash = target;
}

/** "#/users/alice?q=1" -> { path: '/users/alice', query: {q: '1'} } */
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, search] = raw.split('?', 2);
  return { path: path || '/', query: Object.fromEntries(new URLSearchParams(search ?? '')) };
}

/** @param {string} pattern @param {string} path @returns {Record<string,string> | null} */
function match(pattern, path) {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  /** @type {Record<string,string>} */
  const params = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) {
      try { params[p[i].slice(1)] = decodeURIComponent(s[i]); } catch { return null; }
    } else if (p[i] !== s[i]) return null;
  }
  return params;
}

function navPages() {
  return pages.filter((p) => p.nav && can(p.permission)).sort((a, b) => (a.nav.order ?? 0) - (b.nav.order ?? 0));
}

/** The first page the role may use. */
function home() {
  return navPages()[0]?.route ?? '/account';
}

async function loadSession() {
  try {
    session = await api.request('GET', '/session', undefined, { quiet401: true });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) { session = null; return; }
    throw e;
  }
  setCsrfToken(session.csrfToken ?? null);
  const listed = session.operator?.permissions;
  permissions = new Set(Array.isArray(listed) ? listed : ROLE_PERMISSIONS[session.operator?.role] ?? []);
  try {
    const settings = await api.get('/settings/ui');
    if (settings?.timeZone) setTimeZone(settings.timeZone);
  } catch { /* the default zone stays */ }
}

function languageSwitch() {
  const select = /** @type {HTMLSelectElement} */ (el('select', {
    'data-testid': 'lang-select', 'aria-label': t('header.language'),
    onchange: () => { setLanguage(select.value); void route(); },
  }, LANGUAGES.map((l) => el('option', { value: l, selected: l === language() }, l === 'ja' ? '日本語' : 'English'))));
  return select;
}

async function logout() {
  try { await api.del('/session'); } catch { /* gone already */ }
  session = null;
  setCsrfToken(null);
  navigate('/login');
}

/** @param {string} current */
function shell(current) {
  const nav = el('nav', { class: 'side', 'data-testid': 'nav' },
    el('ul', null, navPages().map((p) => el('li', null, el('a', {
      href: `#${p.route}`, class: current === p.route || current.startsWith(`${p.route}/`) ? 'active' : undefined,
      'aria-current': current === p.route ? 'page' : undefined, 'data-testid': `nav-${p.route.replace(/^\//, '').replace(/\//g, '-') || 'home'}`,
    }, t(p.nav.key))))));
  const role = session.operator.role;
  const header = el('header', { class: 'top' },
    el('div', { class: 'brand' }, el('strong', null, t('app.title')), el('span', { class: 'muted' }, t('app.subtitle'))),
    el('div', { class: 'who' },
      el('span', { 'data-testid': 'signed-in-as' }, t('header.signedInAs', { user: session.operator.username, role: t(`role.${role}`) })),
      languageSwitch(),
      el('button', { type: 'button', class: 'link', onclick: logout, 'data-testid': 'logout' }, t('header.logout'))));
  const main = el('main', { 'data-testid': 'page' });
  clear(root);
  root.className = '';
  ui.append(root, [header, el('div', { class: 'body' }, nav, main)]);
  return main;
}

/** @param {HTMLElement} main @param {string} title @param {string} text @param {string} testid */
function message(main, title, text, testid) {
  ui.append(clear(main), [el('div', { class: 'card notice', 'data-testid': testid }, el('h1', null, title), el('p', null, text))]);
}

async function route() {
  const seq = ++renderSeq;
  const { path, query } = parseHash();
  document.documentElement.lang = language();
  const loginPage = pages.find((p) => p.route === '/login');
  if (!session || path === '/login') {
    if (session && path === '/login') return navigate(home());
    const main = el('main', { class: 'login-main', 'data-testid': 'page' });
    clear(root);
    root.className = 'login';
    ui.append(root, [el('div', { class: 'login-lang' }, languageSwitch()), main]);
    if (loginPage) await loginPage.render(main, context({}, query));
    return;
  }
  if (path === '/') return navigate(home());
  let page = null;
  /** @type {Record<string,string>} */
  let params = {};
  for (const p of pages) {
    if (p.route === '/login') continue;
    const m = match(p.route, path);
    if (m) { page = p; params = m; break; }
  }
  const main = shell(path);
  if (!page) {
    const needed = KNOWN_ROUTES[path];
    if (needed && !can(needed)) return message(main, t('page.notPermitted'), t('page.notPermittedText', { role: t(`role.${session.operator.role}`) }), 'not-permitted');
    return message(main, t('page.notFound'), needed ? t('page.unavailable') : t('page.notFoundText'), 'not-found');
  }
  if (!can(page.permission)) {
    return message(main, t('page.notPermitted'), t('page.notPermittedText', { role: t(`role.${session.operator.role}`) }), 'not-permitted');
  }
  document.title = page.nav ? `${t(page.nav.key)} — ${t('app.title')}` : t('app.title');
  main.appendChild(el('p', { class: 'muted' }, t('common.loading')));
  try {
    const target = el('div', { class: 'page' });
    await page.render(target, context(params, query));
    if (seq !== renderSeq) return;
    ui.append(clear(main), [target]);
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e instanceof ApiError && e.status === 401) return;
    if (e instanceof ApiError && e.status === 403) {
      return message(main, t('page.notPermitted'), t('page.notPermittedText', { role: t(`role.${session.operator.role}`) }), 'not-permitted');
    }
    message(main, t('page.notFound'), ui.errorText(e), 'page-error');
  }
}

/** @param {Record<string,string>} params @param {Record<string,string>} query */
function context(params, query) {
  return {
    api, t, fmtTime, fmtDate, fmtHour, reasonText, params, query, navigate, session, ui, can, language: language(),
    /** After a login: reload the session and go to the first page. */
    async loggedIn() {
      await loadSession();
      const { path } = parseHash();
      // Back to where the session ended, if it did (see the unauthenticated handler).
      const back = sessionStorage.getItem(RETURN_KEY);
      sessionStorage.removeItem(RETURN_KEY);
      if (path === '/login' || path === '/') navigate(back && back !== '/login' ? back : home()); else await route();
    },
    /** Reload the current page (after an action). */
    refresh: () => route(),
  };
}

async function start() {
  pages = await loadPages();
  for (const p of pages) addMessages(p.messages);
  setUnauthenticatedHandler(() => {
    if (session) ui.toast(t('error.session'), 'error');
    session = null;
    setCsrfToken(null);
    const here = location.hash.replace(/^#/, '');
    if (parseHash().path !== '/login') {
      try { sessionStorage.setItem(RETURN_KEY, here); } catch { /* not remembered */ }
      navigate('/login');
    }
  });
  await loadSession();
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
