// @ts-check
// Dashboard: authentications of the last 24 hours by result and by method (stacked bars drawn
// as SVG elements), recent failures with their reasons, what expires within 30 days, the last
// directory sync of each source, and whether each listener is up.
export const route = '/dashboard';
export const permission = 'dashboard.read';
export const nav = { key: 'nav.dashboard', order: 10 };

export const messages = {
  en: {
    'dash.title': 'Dashboard',
    'dash.refresh': 'Refresh',
    'dash.asOf': 'As of {time}',
    'dash.auth24h': 'Authentications, last 24 hours',
    'dash.byResult': 'By result',
    'dash.byMethod': 'By method',
    'dash.total': 'Total',
    'dash.accepted': 'Accepted',
    'dash.rejected': 'Rejected',
    'dash.failures': 'Recent failures',
    'dash.at': 'Time',
    'dash.user': 'User',
    'dash.method': 'Method',
    'dash.client': 'Client',
    'dash.reason': 'Reason',
    'dash.expiring': 'Expiring within 30 days',
    'dash.expiringMore': 'The {shown} soonest of {count}.',
    'dash.kind': 'Kind',
    'dash.name': 'Name',
    'dash.notAfter': 'Expires',
    'dash.daysLeft': 'Days left',
    'dash.directory': 'Directory sync',
    'dash.source': 'Source',
    'dash.lastRun': 'Last run',
    'dash.result': 'Result',
    'dash.never': 'Never run',
    'dash.ok': 'OK',
    'dash.failed': 'Failed',
    'dash.listeners': 'Listeners',
    'dash.address': 'Address',
    'dash.up': 'Up',
    'dash.state': 'Status',
    'dash.down': 'Down',
    'dash.noData': 'No authentications in the last 24 hours.',
    'kind.certificate': 'Certificate',
    'kind.ca': 'CA',
    'kind.ocsp-signer': 'OCSP signer',
    'kind.ocsp': 'OCSP signer',
    'kind.server-tls': 'TLS server certificate (imported)',
    'dash.listener.admin': 'Console',
    'dash.listener.radius': 'EAP/RadSec',
    'dash.listenerSep': ', ',
    'dash.issuedBy': 'Issued by {issuer}',
  },
  ja: {
    'dash.title': 'ダッシュボード',
    'dash.refresh': '最新の情報に更新',
    'dash.asOf': '{time} 時点',
    'dash.auth24h': '過去24時間の認証',
    'dash.byResult': '結果別',
    'dash.byMethod': '認証方式別',
    'dash.total': '合計',
    'dash.accepted': '許可',
    'dash.rejected': '拒否',
    'dash.failures': '最近の認証失敗',
    'dash.at': '日時',
    'dash.user': '利用者',
    'dash.method': '方式',
    'dash.client': 'クライアント',
    'dash.reason': '理由',
    'dash.expiring': '30日以内に期限切れ',
    'dash.expiringMore': '全{count}件のうち、期限の近い{shown}件を表示しています。',
    'dash.kind': '種別',
    'dash.name': '名前',
    'dash.notAfter': '有効期限',
    'dash.daysLeft': '残り日数',
    'dash.directory': 'ディレクトリ同期',
    'dash.source': '連携先',
    'dash.lastRun': '最終実行',
    'dash.result': '結果',
    'dash.never': '未実行',
    'dash.ok': '成功',
    'dash.failed': '失敗',
    'dash.listeners': 'サービスの待ち受け状態',
    'dash.address': 'アドレス',
    'dash.up': '稼働中',
    'dash.state': '状態',
    'dash.down': '停止',
    'dash.noData': '過去24時間の認証はありません。',
    'kind.certificate': '証明書',
    'kind.ca': '認証局',
    'kind.ocsp-signer': 'OCSP 署名証明書',
    'kind.ocsp': 'OCSP 署名証明書',
    'kind.server-tls': 'TLS サーバー証明書（インポート）',
    'dash.listener.admin': '管理コンソール',
    'dash.listener.radius': 'EAP/RadSec',
    'dash.listenerSep': '、',
    'dash.issuedBy': '発行元: {issuer}',
  },
};

const RESULT_COLOURS = { accept: '#1d7a46', reject: '#b42318' };
const PALETTE = ['#1f5fbf', '#7a4fc2', '#0f8a8a', '#c26a1f', '#6b7685', '#b8446e', '#3f7d20', '#8c6d1f'];

/**
 * Stacked hourly bars. @param {any} ctx @param {any[]} buckets
 * @param {(b: any) => Record<string, number>} pick @param {string[]} keys @param {(k: string) => string} colour @param {string} testid
 */
function stackedBars(ctx, buckets, pick, keys, colour, testid) {
  const { svg } = ctx.ui;
  const W = 720; const H = 200; const left = 36; const bottom = 22; const top = 8;
  const max = Math.max(1, ...buckets.map((b) => Object.values(pick(b) ?? {}).reduce((s, n) => s + Number(n), 0)));
  const slot = (W - left) / Math.max(1, buckets.length);
  const y = (/** @type {number} */ v) => top + (H - top - bottom) * (1 - v / max);
  const chart = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'data-testid': testid });
  for (const v of [0, Math.round(max / 2), max]) {
    chart.appendChild(svg('line', { x1: left, x2: W, y1: y(v), y2: y(v), stroke: '#e3e7ee' }));
    chart.appendChild(svg('text', { x: left - 4, y: y(v) + 3, 'text-anchor': 'end' }, String(v)));
  }
  buckets.forEach((b, i) => {
    let acc = 0;
    const counts = pick(b) ?? {};
    for (const k of keys) {
      const n = Number(counts[k] ?? 0);
      if (n <= 0) continue;
      const rect = svg('rect', { x: left + i * slot + 1, width: Math.max(1, slot - 2), y: y(acc + n), height: y(acc) - y(acc + n), fill: colour(k) });
      rect.appendChild(svg('title', null, `${ctx.fmtTime(b.at)} ${k}: ${n}`));
      chart.appendChild(rect);
      acc += n;
    }
    if (i % 3 === 0) chart.appendChild(svg('text', { x: left + i * slot + slot / 2, y: H - 6, 'text-anchor': 'middle' }, ctx.fmtHour(b.at)));
  });
  return chart;
}

/** @param {any} ctx @param {string[]} keys @param {(k: string) => string} colour @param {(k: string) => string} label @param {Record<string, number>} totals */
function legend(ctx, keys, colour, label, totals) {
  const { el } = ctx.ui;
  return el('div', { class: 'legend' }, keys.map((k) => {
    const sw = el('span', { class: 'swatch' });
    sw.style.background = colour(k);
    return el('span', null, sw, `${label(k)} ${totals[k] ?? 0}`);
  }));
}

/**
 * An expiring item's name. Only an issued certificate has a page; an imported TLS server certificate
 * (not in authbox's store) shows the listeners that present it and the external CA that issued it.
 * @param {any} ctx @param {any} x
 */
function expiringName(ctx, x) {
  const { el, link } = ctx.ui;
  if (x.kind === 'server-tls') {
    const uses = (x.listeners ?? []).map((/** @type {string} */ u) => ctx.t(`dash.listener.${u}`)).join(ctx.t('dash.listenerSep'));
    return el('span', null, uses || x.name, el('div', { class: 'muted' }, ctx.t('dash.issuedBy', { issuer: x.caName })));
  }
  return x.kind === 'certificate' && ctx.can('certs.read') ? link(`/certificates/${encodeURIComponent(x.serial)}`, x.name) : x.name;
}

// Not refreshed on a timer: background calls would keep an unattended session alive past
// its idle expiry. The operator reloads it (the refresh button) when needed.
/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const { el, section, table, badge, link } = ctx.ui;
  const { t, fmtTime } = ctx;
  const c = ctx;
  const d = await ctx.api.get('/dashboard');
  const buckets = d.auth?.buckets ?? [];
  const totals = d.auth?.totals ?? { byResult: {}, byMethod: {} };
  const resultKeys = Object.keys(totals.byResult ?? {}).sort((a, b) => (a === 'accept' ? -1 : b === 'accept' ? 1 : a.localeCompare(b)));
  const methodKeys = Object.keys(totals.byMethod ?? {}).sort();
  const resultColour = (/** @type {string} */ k) => /** @type {any} */ (RESULT_COLOURS)[k] ?? '#6b7685';
  const methodColour = (/** @type {string} */ k) => PALETTE[methodKeys.indexOf(k) % PALETTE.length];
  const resultLabel = (/** @type {string} */ k) => k === 'accept' ? t('dash.accepted') : k === 'reject' ? t('dash.rejected') : k;
  const sum = (/** @type {Record<string, number>} */ o) => Object.values(o ?? {}).reduce((s, n) => s + Number(n), 0);

  root.appendChild(el('div', { class: 'title-row' }, el('h1', null, t('dash.title')),
    el('button', { type: 'button', class: 'small', onclick: () => ctx.refresh(), 'data-testid': 'dash-refresh' }, t('dash.refresh')),
    el('span', { class: 'muted' }, t('dash.asOf', { time: fmtTime(d.now ?? Date.now()) }))));
  root.appendChild(el('div', { class: 'stat-row' },
    el('div', { class: 'stat' }, el('div', { class: 'muted' }, t('dash.total')), el('div', { class: 'n', 'data-testid': 'dash-total' }, String(sum(totals.byResult)))),
    el('div', { class: 'stat' }, el('div', { class: 'muted' }, t('dash.accepted')), el('div', { class: 'n' }, String(totals.byResult?.accept ?? 0))),
    el('div', { class: 'stat' }, el('div', { class: 'muted' }, t('dash.rejected')), el('div', { class: 'n' }, String(totals.byResult?.reject ?? 0)))));

  const noData = sum(totals.byResult) === 0 ? el('p', { class: 'muted' }, t('dash.noData')) : null;
  root.appendChild(section(t('dash.auth24h'), el('div', { class: 'grid-2' },
    el('div', null, el('h3', null, t('dash.byResult')), stackedBars(c, buckets, (b) => b.byResult, resultKeys, resultColour, 'chart-result'),
      legend(ctx, resultKeys, resultColour, resultLabel, totals.byResult ?? {})),
    el('div', null, el('h3', null, t('dash.byMethod')), stackedBars(c, buckets, (b) => b.byMethod, methodKeys, methodColour, 'chart-method'),
      legend(ctx, methodKeys, methodColour, (k) => k, totals.byMethod ?? {}))), noData));

  root.appendChild(section(t('dash.failures'), table([
    { label: t('dash.at'), render: (/** @type {any} */ f) => fmtTime(f.at) },
    { label: t('dash.user'), render: (/** @type {any} */ f) => f.username ? (ctx.can('users.read') ? link(`/users/${encodeURIComponent(f.username)}`, f.username) : f.username) : '—' },
    { label: t('dash.method'), render: (/** @type {any} */ f) => f.method ?? '' },
    { label: t('dash.client'), render: (/** @type {any} */ f) => f.client ?? f.nas ?? '' },
    { label: t('dash.reason'), render: (/** @type {any} */ f) => ctx.reasonText(f.reason) },
  ], d.failures ?? [], { testid: 'dash-failures' })));

  const now = Date.now();
  root.appendChild(el('div', { class: 'grid-2' },
    section(t('dash.expiring'), table([
      { label: t('dash.kind'), render: (/** @type {any} */ x) => t(`kind.${x.kind}`) },
      { label: t('dash.name'), render: (/** @type {any} */ x) => expiringName(ctx, x) },
      { label: t('dash.notAfter'), render: (/** @type {any} */ x) => fmtTime(x.notAfter) },
      {
        label: t('dash.daysLeft'), render: (/** @type {any} */ x) => {
          const days = x.daysLeft ?? Math.floor((new Date(x.notAfter).getTime() - now) / 86_400_000);
          return badge(String(days), days < 7 ? 'bad' : 'warn');
        },
      },
    ], d.expiring ?? [], { testid: 'dash-expiring', rowTestid: (/** @type {any} */ x) => `dash-expiring-${x.kind}` }),
    (d.expiringCount ?? 0) > (d.expiring ?? []).length
      ? el('p', { class: 'muted', 'data-testid': 'dash-expiring-more' }, t('dash.expiringMore', { shown: (d.expiring ?? []).length, count: d.expiringCount }))
      : null),
    el('div', null,
      section(t('dash.directory'), table([
        { label: t('dash.source'), render: (/** @type {any} */ s) => s.source ?? s.name },
        { label: t('dash.lastRun'), render: (/** @type {any} */ s) => s.lastRun ? fmtTime(s.lastRun.finishedAt ?? s.lastRun.startedAt) : t('dash.never') },
        {
          label: t('dash.result'), render: (/** @type {any} */ s) => !s.lastRun ? '' : s.lastRun.ok
            ? badge(t('dash.ok'), 'ok') : [badge(t('dash.failed'), 'bad'), ' ', s.lastRun.error ?? ''],
        },
      ], d.directory ?? [], { testid: 'dash-directory' })),
      section(t('dash.listeners'), table([
        { label: t('dash.name'), render: (/** @type {any} */ l) => l.name },
        { label: t('dash.address'), render: (/** @type {any} */ l) => el('code', null, l.address ?? '') },
        { label: t('dash.state'), render: (/** @type {any} */ l) => l.up ? badge(t('dash.up'), 'ok') : badge(t('dash.down'), 'bad') },
      ], d.listeners ?? [], { testid: 'dash-listeners' })))));
}
