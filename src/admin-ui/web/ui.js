// @ts-check
// DOM building without innerHTML: el(), svg(), tables, a pager, a confirm dialog, toasts,
// one-time secret boxes, a download helper, and the QR code the server draws (parsed as SVG
// and copied element by element, so nothing from the response runs).
import { t } from './i18n.js';
import { api } from './api.js';

/**
 * el('button', {class: 'primary', 'data-testid': 'x', onclick: fn}, 'text', child...)
 * Attributes: class, text, style (object), on<event> (functions), hidden/disabled/checked (booleans),
 * value; everything else is set with setAttribute.
 * @param {string} tag @param {Record<string, any> | null} [attrs] @param {...any} children
 * @returns {HTMLElement}
 */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  applyAttrs(node, attrs);
  append(node, children);
  return node;
}

/** @param {Element} node @param {Record<string, any> | null | undefined} attrs */
function applyAttrs(node, attrs) {
  if (!attrs) return;
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'style' && typeof v === 'object') Object.assign(/** @type {HTMLElement} */ (node).style, v);
    else if (k === 'text') node.textContent = String(v);
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else if (k === 'value' && 'value' in node) /** @type {HTMLInputElement} */ (node).value = String(v);
    else if (v === true) node.setAttribute(k, '');
    else node.setAttribute(k, String(v));
  }
}

/** @param {Node} node @param {any[]} children */
export function append(node, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

/** @param {Node} node */
export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
/** An SVG element. @param {string} tag @param {Record<string, any>} [attrs] @param {...any} children */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  applyAttrs(node, attrs);
  append(node, children);
  return node;
}

/** An internal link to a hash route. @param {string} path @param {...any} children */
export function link(path, ...children) {
  return el('a', { href: `#${path}` }, ...children);
}

/**
 * @param {{ label: string, render: (row: any) => any, class?: string }[]} columns
 * @param {any[]} rows @param {{ testid?: string, rowTestid?: (row: any) => string, empty?: string }} [options]
 */
export function table(columns, rows, options = {}) {
  const head = el('thead', null, el('tr', null, columns.map((c) => el('th', { class: c.class }, c.label))));
  const body = el('tbody');
  if (rows.length === 0) body.appendChild(el('tr', null, el('td', { colspan: columns.length, class: 'empty' }, options.empty ?? t('common.noResults'))));
  for (const row of rows) {
    body.appendChild(el('tr', { 'data-testid': options.rowTestid?.(row) }, columns.map((c) => el('td', { class: c.class }, c.render(row)))));
  }
  return el('table', { class: 'grid', 'data-testid': options.testid }, head, body);
}

/**
 * Previous / next buttons.
 * @param {{ hasPrev: boolean, hasNext: boolean, onPrev: () => void, onNext: () => void, info?: string }} p
 */
export function pager(p) {
  return el('div', { class: 'pager' },
    el('button', { type: 'button', disabled: !p.hasPrev, onclick: p.onPrev, 'data-testid': 'pager-prev' }, t('common.previous')),
    p.info ? el('span', { class: 'muted' }, p.info) : null,
    el('button', { type: 'button', disabled: !p.hasNext, onclick: p.onNext, 'data-testid': 'pager-next' }, t('common.next')));
}

/**
 * A modal question; resolves true for OK.
 * @param {string} message @param {{ ok?: string, danger?: boolean, title?: string }} [options]
 * @returns {Promise<boolean>}
 */
export function confirmDialog(message, options = {}) {
  return new Promise((resolve) => {
    const dialog = /** @type {HTMLDialogElement} */ (el('dialog', { class: 'confirm', 'data-testid': 'confirm-dialog' }));
    const done = (/** @type {boolean} */ v) => { dialog.close(); dialog.remove(); resolve(v); };
    append(dialog, [
      options.title ? el('h3', null, options.title) : null,
      el('p', null, message),
      el('div', { class: 'actions' },
        el('button', { type: 'button', onclick: () => done(false), 'data-testid': 'confirm-cancel' }, t('common.cancel')),
        el('button', { type: 'button', class: options.danger ? 'danger' : 'primary', onclick: () => done(true), 'data-testid': 'confirm-ok' }, options.ok ?? t('common.ok'))),
    ]);
    dialog.addEventListener('cancel', (e) => { e.preventDefault(); done(false); });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

/** A short message at the bottom of the window. @param {string} message @param {'info'|'error'} [kind] */
export function toast(message, kind = 'info') {
  let box = document.getElementById('toasts');
  if (!box) { box = el('div', { id: 'toasts', 'aria-live': 'polite' }); document.body.appendChild(box); }
  const item = el('div', { class: `toast ${kind}`, role: kind === 'error' ? 'alert' : 'status', 'data-testid': `toast-${kind}` }, message);
  box.appendChild(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** The message for a failed call, in the operator's language where we know the code. @param {any} e */
export function errorText(e) {
  if (e?.status === 0) return t('error.network');
  if (e?.status === 403 && e?.code === 'FORBIDDEN') return t('error.forbidden');
  // The server's message is English; a known code gets a summary in the operator's language first.
  const detail = e?.message || e?.code || String(e);
  const key = `error.code.${e?.code}`;
  const summary = t(key);
  return t('common.error', { message: summary === key ? detail : t('error.withDetail', { summary, detail }) });
}

/** A value shown once (temporary password, token), with a copy button. @param {string} value @param {string} testid */
export function secretBox(value, testid) {
  const code = el('code', { class: 'secret', 'data-testid': testid }, value);
  const copy = el('button', {
    type: 'button', class: 'small',
    onclick: async () => { try { await navigator.clipboard.writeText(value); toast(t('common.copied')); } catch { /* no clipboard */ } },
  }, t('common.copy'));
  return el('div', { class: 'once' }, el('p', { class: 'warn' }, t('common.shownOnce')), el('div', { class: 'secret-row' }, code, copy));
}

/** Downloads a file from the API (with the session cookie) under a file name. @param {string} path @param {string} filename */
export async function download(path, filename) {
  const res = /** @type {Response} */ (await api.raw(path));
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: filename });
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const SVG_ALLOWED = new Set(['svg', 'path', 'rect', 'g']);
const SVG_ATTRS = new Set(['viewBox', 'width', 'height', 'd', 'fill', 'stroke', 'x', 'y', 'shape-rendering', 'xmlns', 'stroke-width', 'transform']);
/**
 * The server's QR code <svg> string as a DOM node: parsed as XML and rebuilt with only the
 * shapes and attributes a QR code needs (no scripts, styles or handlers can come through).
 * @param {string | undefined | null} text
 */
export function qrCode(text) {
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const root = doc.documentElement;
  if (!root || root.nodeName !== 'svg') return null;
  /** @param {Element} src @returns {Element | null} */
  const copy = (src) => {
    if (!SVG_ALLOWED.has(src.nodeName)) return null;
    const out = document.createElementNS(SVG_NS, src.nodeName);
    for (const a of Array.from(src.attributes)) if (SVG_ATTRS.has(a.name) && a.name !== 'xmlns') out.setAttribute(a.name, a.value);
    for (const c of Array.from(src.children)) { const n = copy(c); if (n) out.appendChild(n); }
    return out;
  };
  const node = copy(root);
  if (!node) return null;
  node.setAttribute('class', 'qr');
  node.setAttribute('data-testid', 'otp-qr');
  return node;
}

/** A label with a control under it. @param {string} label @param {HTMLElement} control */
export function field(label, control) {
  return el('label', { class: 'field' }, el('span', null, label), control);
}

/** A titled section. @param {string} title @param {...any} children */
export function section(title, ...children) {
  return el('section', { class: 'card' }, el('h2', null, title), ...children);
}

/** A status pill. @param {string} text @param {'ok'|'bad'|'warn'|'muted'} kind @param {string} [testid] */
export function badge(text, kind, testid) {
  return el('span', { class: `badge ${kind}`, 'data-testid': testid }, text);
}

/** Debounced function. @param {(...a: any[]) => void} fn @param {number} ms */
export function debounce(fn, ms) {
  /** @type {any} */
  let timer;
  return (/** @type {any[]} */ ...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}
