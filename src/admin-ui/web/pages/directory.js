// @ts-check
// Directory sources (LDAP / Active Directory): each with test connection, a dry-run preview of
// what a sync would change, run now, and the history of runs. Bind passwords are never shown.
import { api, can, errorBox, h, itemsOf, kitMessages, replace, table, time } from './_kit.js';

export const route = '/directory';
export const permission = 'directory.read';
export const nav = { key: 'nav.directory', order: 50 };
const PREVIEW_NAMES = 50;
const HISTORY_ROWS = 10;

export const messages = {
  en: {
    ...kitMessages.en,
    'dir.title': 'Directory sources', 'dir.empty': 'No directory source is configured (authbox ldap add).',
    'dir.url': 'Server', 'dir.baseDn': 'Base DN', 'dir.preset': 'Preset', 'dir.schedule': 'Schedule', 'dir.everyMinutes': 'every {n} min',
    'dir.lastRun': 'Last run', 'dir.never': 'Never run', 'dir.test': 'Test connection', 'dir.preview': 'Dry-run preview', 'dir.sync': 'Run now',
    'dir.history': 'History', 'dir.refresh': 'Refresh history', 'dir.testOk': 'Connected: {count} users found.', 'dir.testOkNoCount': 'Connected.', 'dir.testFail': 'Connection failed: {error}',
    'dir.previewTitle': 'What a sync would change (nothing was changed)', 'dir.add': 'To add', 'dir.update': 'To update', 'dir.disable': 'To disable',
    'dir.more': '… and {n} more', 'dir.syncDone': 'Sync finished.', 'dir.started': 'Started', 'dir.ended': 'Finished', 'dir.mode': 'Mode',
    'dir.added': 'Added', 'dir.updated': 'Updated', 'dir.disabled': 'Disabled', 'dir.groups': 'Group changes', 'dir.result': 'Result',
    'dir.ok': 'OK', 'dir.dryRun': 'dry run', 'dir.conflicts': 'Conflicts', 'dir.noRuns': 'No run yet.', 'dir.running': 'Working…',
  },
  ja: {
    ...kitMessages.ja,
    'dir.title': 'ディレクトリ連携', 'dir.empty': 'ディレクトリソースは設定されていません (authbox ldap add)。',
    'dir.url': 'サーバー', 'dir.baseDn': 'ベース DN', 'dir.preset': 'プリセット', 'dir.schedule': 'スケジュール', 'dir.everyMinutes': '{n} 分ごと',
    'dir.lastRun': '前回の実行', 'dir.never': '未実行', 'dir.test': '接続テスト', 'dir.preview': '変更内容の事前確認 (ドライラン)', 'dir.sync': '今すぐ同期',
    'dir.history': '実行履歴', 'dir.refresh': '履歴を更新', 'dir.testOk': '接続できました。ユーザー {count} 件が見つかりました。', 'dir.testOkNoCount': '接続できました。', 'dir.testFail': '接続できません: {error}',
    'dir.previewTitle': '同期した場合の変更内容 (まだ何も変更していません)', 'dir.add': '追加', 'dir.update': '更新', 'dir.disable': '無効化',
    'dir.more': '… ほか {n} 件', 'dir.syncDone': '同期が完了しました。', 'dir.started': '開始', 'dir.ended': '終了', 'dir.mode': 'モード',
    'dir.added': '追加', 'dir.updated': '更新', 'dir.disabled': '無効化', 'dir.groups': 'グループの変更', 'dir.result': '結果',
    'dir.ok': '成功', 'dir.dryRun': 'ドライラン', 'dir.conflicts': '競合', 'dir.noRuns': '実行履歴はありません。', 'dir.running': '実行中…',
  },
};

/** @param {HTMLElement} root @param {any} ctx */
export async function render(root, ctx) {
  const t = ctx.t;
  root.append(h('h1', null, t('dir.title')));
  let sources;
  try {
    sources = itemsOf(await api(ctx).get('/directory/sources'));
  } catch (e) {
    root.append(errorBox(ctx, e));
    return;
  }
  if (sources.length === 0) root.append(h('p', { class: 'muted', testid: 'dir-empty' }, t('dir.empty')));
  for (const s of sources) root.append(sourceCard(ctx, s));
}

/** @param {any} ctx @param {any} s */
function sourceCard(ctx, s) {
  const t = ctx.t;
  const out = h('div', { testid: `dir-output-${s.name}` });
  const history = h('div', { testid: `dir-history-${s.name}` });
  const writer = can(ctx, 'directory.write');
  const base = `/directory/sources/${encodeURIComponent(s.name)}`;
  /** @param {string} label @param {string} testid @param {() => Promise<void>} fn */
  const action = (label, testid, fn) => {
    const b = /** @type {HTMLButtonElement} */ (h('button', { testid }, label));
    b.addEventListener('click', async () => {
      b.disabled = true;
      replace(out, h('p', { class: 'muted' }, t('dir.running')));
      try { await fn(); } catch (e) { replace(out, errorBox(ctx, e)); } finally { b.disabled = false; }
    });
    return b;
  };
  const schedule = typeof s.schedule === 'number' ? t('dir.everyMinutes', { n: s.schedule }) : (s.schedule ?? s.scheduleMinutes ?? '—');
  const card = h('section', { class: 'card', testid: `dir-source-${s.name}` },
    h('h2', null, s.name),
    h('dl', { class: 'props' },
      h('dt', null, t('dir.url')), h('dd', null, h('code', null, s.url ?? '—')),
      h('dt', null, t('dir.baseDn')), h('dd', null, s.baseDn ?? '—'),
      h('dt', null, t('dir.preset')), h('dd', null, s.preset ?? '—'),
      h('dt', null, t('dir.schedule')), h('dd', null, String(schedule)),
      h('dt', null, t('dir.lastRun')), h('dd', { testid: `dir-last-${s.name}` }, s.lastRun ? runText(ctx, s.lastRun) : t('dir.never'))),
    h('div', { class: 'actions wrap', style: { marginTop: '.8rem' } },
      writer ? action(t('dir.test'), `dir-test-${s.name}`, async () => {
        const r = await api(ctx).post(`${base}/test`, {});
        replace(out, h('p', { class: r?.ok ? 'ok' : 'error', testid: `dir-test-result-${s.name}` },
          r?.ok ? (r.count !== undefined ? t('dir.testOk', { count: r.count }) : t('dir.testOkNoCount')) : t('dir.testFail', { error: r?.error ?? '?' })));
      }) : null,
      writer ? action(t('dir.preview'), `dir-preview-${s.name}`, async () => {
        replace(out, planView(ctx, await api(ctx).post(`${base}/preview`, {})));
      }) : null,
      writer ? action(t('dir.sync'), `dir-sync-${s.name}`, async () => {
        const run = await api(ctx).post(`${base}/sync`, {});
        replace(out, h('p', { class: run?.error ? 'error' : 'ok', testid: `dir-sync-result-${s.name}` }, run?.error ? run.error : t('dir.syncDone')),
          run && typeof run === 'object' ? runsTable(ctx, [run]) : null);
        await loadHistory(ctx, base, history);
      }) : null,
      action(t('dir.refresh'), `dir-history-load-${s.name}`, async () => { replace(out); await loadHistory(ctx, base, history); })),
    out, history);
  // The recent runs are part of the page; the button refreshes them.
  void loadHistory(ctx, base, history);
  return card;
}

/** @param {any} ctx @param {any} run */
function runText(ctx, run) {
  const t = ctx.t;
  const at = run.finishedAt ?? run.endedAt ?? run.startedAt;
  const ok = run.ok ?? (run.error === null || run.error === undefined);
  return `${time(ctx, at)} — ${ok ? t('dir.ok') : `${t('kit.error')}: ${run.error ?? ''}`}`;
}

/** @param {any} ctx @param {string} base @param {HTMLElement} box */
async function loadHistory(ctx, base, box) {
  try {
    replace(box, h('h3', null, ctx.t('dir.history')), runsTable(ctx, itemsOf(await api(ctx).get(`${base}/runs?limit=${HISTORY_ROWS}`))));
  } catch (e) {
    replace(box, errorBox(ctx, e));
  }
}

/** @param {any} ctx @param {any[]} runs */
function runsTable(ctx, runs) {
  const t = ctx.t;
  const n = (/** @type {any} */ r, /** @type {string} */ k) => String(r[k] ?? r.counts?.[k] ?? '—');
  return table([
    { label: t('dir.started'), value: (r) => time(ctx, r.startedAt) },
    { label: t('dir.ended'), value: (r) => time(ctx, r.finishedAt ?? r.endedAt) },
    { label: t('dir.mode'), value: (r) => `${r.mode ?? ''}${r.dryRun ? ` (${t('dir.dryRun')})` : ''}` },
    { label: t('dir.added'), value: (r) => n(r, 'added') },
    { label: t('dir.updated'), value: (r) => n(r, 'updated') },
    { label: t('dir.disabled'), value: (r) => n(r, 'disabled') },
    { label: t('dir.groups'), value: (r) => n(r, 'groups') },
    { label: t('dir.result'), value: (r) => ((r.ok ?? !r.error) ? t('dir.ok') : h('span', { class: 'error' }, r.error ?? t('kit.error'))) },
  ], runs, { testid: 'dir-runs', empty: t('dir.noRuns') });
}

/** @param {any} ctx @param {any} plan */
function planView(ctx, plan) {
  const t = ctx.t;
  const names = (/** @type {any} */ list) => {
    const all = (Array.isArray(list) ? list : []).map((x) => (typeof x === 'string' ? x : x?.username ?? JSON.stringify(x)));
    return [all.slice(0, PREVIEW_NAMES).join(', ') || t('kit.none'), all.length > PREVIEW_NAMES ? ` ${t('dir.more', { n: all.length - PREVIEW_NAMES })}` : ''];
  };
  const counts = plan?.counts ?? {};
  const count = (/** @type {string} */ k, /** @type {any} */ list) => String(counts[k] ?? (Array.isArray(list) ? list.length : 0));
  return h('div', { class: 'plan', testid: 'dir-plan' },
    h('h3', null, t('dir.previewTitle')),
    h('dl', { class: 'props' },
      h('dt', null, `${t('dir.add')} (${count('added', plan?.add)})`), h('dd', { testid: 'dir-plan-add' }, names(plan?.add)),
      h('dt', null, `${t('dir.update')} (${count('updated', plan?.update)})`), h('dd', { testid: 'dir-plan-update' }, names(plan?.update)),
      h('dt', null, `${t('dir.disable')} (${count('disabled', plan?.disable)})`), h('dd', { testid: 'dir-plan-disable' }, names(plan?.disable)),
      counts.conflicts ? [h('dt', null, t('dir.conflicts')), h('dd', null, String(counts.conflicts))] : null));
}
