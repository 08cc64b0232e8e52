#!/usr/bin/env node
// The admin console's list pages over a large appliance: 100,000 users (in groups),
// 100,000 certificates, 200,000 decision-log rows and 100,000 audit rows (plus the
// 100,000 'cert.issue' audit rows the issuance writes). Every list call the console makes
// is timed through the real admin app (createAdminApp with the daemon's own dependencies,
// adminConsoleDeps, over the data folder) on 127.0.0.1, with an API token, by Node's fetch
// on a kept-alive connection: wall time from request to the last byte of the body.
// The goal (issue 5): each list page under 200 ms. There is no comparison peer.
//
//   node bench/console-lists.mjs
// Environment: USERS (100000), CERTS (100000), DECISIONS (200000), AUDIT (100000),
// RUNS (50 timed calls per row, after 3 warm-up calls), CSV_RUNS (5), LIMIT (50 per page),
// DEEP (50000: how many rows a "deep" page skips, reached by following the cursors).
//
// Data: users and groups, the console's audit rows and the decision log are inserted
// through SQL and the decision-log store in a few transactions (no password hashing). The
// certificates are real: issued by the data folder's own issuing CA (CertificateAuthority.
// issueMany, batches of 1,000, one P-256 subject key for all, each with its own serial and
// DER), with a stepped clock so they were issued over the last two years (one-year
// validity: about half have expired); then about 5% are marked revoked and 0.3% on hold in SQL
// (their DER does not change). 2,000 belong to one account (svc-wifi), a tenth are device
// certificates (CN device-NNN, no user), the rest belong to random users.
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTOR, authboxCli, dist, fmt, machine, percentile, rng, scratch, table, warnIfBusy } from './lib/common.mjs';

const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const USERS = env('USERS', 100_000);
const CERTS = env('CERTS', 100_000);
const DECISIONS = env('DECISIONS', 200_000);
const AUDIT = env('AUDIT', 100_000);
const RUNS = env('RUNS', 50);
const CSV_RUNS = env('CSV_RUNS', 5);
const LIMIT = env('LIMIT', 50);
const DEEP = env('DEEP', 50_000);
const GOAL_MS = 200;
const DAY = 86_400_000;
const log = (msg) => process.stderr.write(`[console] ${msg}\n`);
const work = scratch('console');
console.log(`Console list pages on ${machine()}`);
const idle = await warnIfBusy('console');

const { openPkiAt, adminConsoleDeps } = await dist('main.js');
const { createAdminApp } = await dist('admin-ui/app.js');
const { ROUTES } = await dist('admin-ui/routes.js');
const { CertificateAuthority, publicUrls } = await dist('ca/authority.js');
const { PROFILES } = await dist('ca/profiles.js');
const { SqliteAuthLogStore } = await dist('store/auth-log-store.js');

// ------------------------------------------------------------------ data
const dataDir = join(work, 'authbox');
authboxCli(['init', '--data', dataDir, '--org', 'Bench', '--public-url', 'http://127.0.0.1:18091']);
const pki = openPkiAt(dataDir);
const db = pki.db;
db.pragma('synchronous = OFF'); // loading only; set back to FULL before anything is timed
const rand = rng(5);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const NOW = Date.now();

const GIVEN = ['akira', 'yuki', 'haruto', 'sakura', 'ren', 'hina', 'sota', 'yui', 'kenji', 'aoi', 'daiki', 'mei', 'takumi', 'rin',
  'kaito', 'emi', 'shota', 'nana', 'riku', 'mio', 'john', 'mary', 'li', 'ana', 'omar'];
const FAMILY = ['sato', 'suzuki', 'takahashi', 'tanaka', 'watanabe', 'ito', 'yamamoto', 'nakamura', 'kobayashi', 'kato',
  'yoshida', 'yamada', 'sasaki', 'yamaguchi', 'matsumoto', 'inoue', 'kimura', 'hayashi', 'shimizu', 'mori'];
const GROUPS = Array.from({ length: 50 }, (_, i) => `grp-${['staff', 'faculty', 'student', 'guest', 'it'][i % 5]}-${String(i).padStart(2, '0')}`);
// Names in no particular order of id (like real accounts), e.g. "sakura.tanaka04211".
const usernames = Array.from({ length: USERS }, (_, i) => `${GIVEN[(i * 7) % GIVEN.length]}.${FAMILY[(i * 13) % FAMILY.length]}${String((i * 7919) % USERS).padStart(5, '0')}`);
const HEAVY_USER = 'svc-wifi'; // a shared account holding many certificates (a deep page by user)
let t0 = performance.now();
db.transaction(() => {
  const ins = db.prepare(`INSERT INTO users (username, display_name, email, enabled, source, created_at, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const grp = db.prepare('INSERT OR IGNORE INTO user_groups (user_id, group_name) VALUES (?, ?)');
  for (const [i, u] of [...usernames, HEAVY_USER].entries()) {
    const id = Number(ins.run(u, u.replace('.', ' '), `${u}@example.jp`, rand() < 0.97 ? 1 : 0, i % 3 === 0 ? 'ldap' : 'local', NOW - DAY * 400, NOW - DAY).lastInsertRowid);
    const n = 1 + Math.floor(rand() * 3);
    for (let k = 0; k < n; k++) grp.run(id, pick(GROUPS));
  }
})();
log(`${USERS + 1} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// The console's own audit trail first (older rows, ascending time), then the issuance adds its rows.
t0 = performance.now();
const OPERATORS = Array.from({ length: 20 }, (_, i) => `operator:op${String(i).padStart(2, '0')}`);
const ACTIONS = ['user.reset-password', 'user.unlock', 'user.enable', 'user.disable', 'cert.revoke', 'nas.add', 'policy.set', 'operator.login'];
db.transaction(() => {
  const ins = db.prepare('INSERT INTO audit (at, actor, source, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)');
  for (let i = 0; i < AUDIT; i++) {
    const at = NOW - 800 * DAY + Math.floor((i / AUDIT) * 30 * DAY);
    ins.run(at, pick(OPERATORS), pick(['console', 'api', 'cli']), pick(ACTIONS), pick(usernames), JSON.stringify({ client: `10.0.${i % 250}.${i % 200}` }));
  }
})();
log(`${AUDIT} audit rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// Certificates: real DER from the data folder's issuing CA, on a clock stepped over two years.
t0 = performance.now();
let clockAt = NOW - 730 * DAY;
const ca = new CertificateAuthority({
  storage: pki.store, vault: pki.vault, urls: publicUrls(pki.config.publicUrl), organization: pki.config.organization, clock: () => new Date(clockAt),
});
const spki = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
const HEAVY_CERTS = Math.min(2000, Math.floor(CERTS / 10));
const BATCH = 1000;
const certUsers = new Map();
for (let done = 0; done < CERTS; done += BATCH) {
  const reqs = [];
  for (let k = done; k < Math.min(CERTS, done + BATCH); k++) {
    if (k % Math.ceil(CERTS / HEAVY_CERTS) === 0) {
      reqs.push({ profile: PROFILES.user, commonName: HEAVY_USER, username: HEAVY_USER, sans: [], days: 365, subjectSpki: spki });
    } else if (k % 10 === 1) {
      reqs.push({ profile: PROFILES.device, commonName: `device-${String(k % 500).padStart(3, '0')}`, sans: [], days: 365, subjectSpki: spki });
    } else {
      const u = usernames[Math.floor(rand() * USERS)];
      certUsers.set(u, (certUsers.get(u) ?? 0) + 1);
      reqs.push({ profile: PROFILES.user, commonName: u, username: u, sans: [], days: 365, subjectSpki: spki });
    }
  }
  ca.issueMany(reqs, ACTOR);
  clockAt += (730 * DAY) / (CERTS / BATCH);
  if ((done / BATCH) % 20 === 19) log(`  ${done + BATCH} certificates`);
}
db.exec(`UPDATE certificates SET status = 'revoked', revoked_at = issued_at + 86400000, reason = 1 WHERE ca_id > 0 AND profile != 'issuing-ca'
    AND username IS NOT NULL AND (abs(unicode(substr(serial, -1)) * 7 + unicode(substr(serial, -2, 1))) % 20) = 0`);
db.exec(`UPDATE certificates SET status = 'hold', revoked_at = issued_at + 86400000, reason = 6 WHERE status = 'valid' AND username IS NOT NULL
    AND (abs(unicode(substr(serial, -3, 1)) * 11 + unicode(substr(serial, -1))) % 200) = 7`);
const counts = Object.fromEntries((db.prepare(`SELECT CASE WHEN status = 'valid' AND not_after <= ? THEN 'expired' ELSE status END AS s, count(*) AS n
  FROM certificates GROUP BY s`).all(NOW)).map((r) => [r.s, r.n]));
log(`${CERTS} certificates in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}`);

// Decision log through its store, in batches; times spread over the last 30 days.
t0 = performance.now();
const NAS = Array.from({ length: 20 }, (_, i) => `ap-${String(i + 1).padStart(2, '0')}`);
const METHODS = ['eap-tls', 'eap-tls', 'eap-tls', 'peap', 'ttls', 'pap', 'mschapv2'];
const REASONS = ['wrong password', 'unknown user', 'certificate revoked', 'account disabled', 'certificate expired', 'method not allowed'];
const authLog = new SqliteAuthLogStore(db);
for (let done = 0; done < DECISIONS; done += 10_000) {
  const rows = [];
  for (let i = done; i < Math.min(DECISIONS, done + 10_000); i++) {
    const reject = rand() < 0.12;
    const nas = NAS[Math.floor(Math.pow(rand(), 2) * NAS.length)]; // ap-01 busiest, ap-20 quietest
    rows.push({
      at: NOW - 30 * DAY + Math.floor((i / DECISIONS) * 30 * DAY), username: rand() < 0.95 ? pick(usernames) : `unknown${i}`,
      nas, nasAddress: `10.1.0.${NAS.indexOf(nas) + 1}`, callingStationId: `02-00-00-${(i % 256).toString(16).padStart(2, '0')}-00-01`,
      method: pick(METHODS), outcome: reject ? 'reject' : 'accept', ...(reject ? { reason: pick(REASONS) } : {}), details: { group: pick(GROUPS) },
    });
  }
  authLog.appendDecisions(rows);
}
log(`${DECISIONS} decisions in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
db.pragma('synchronous = FULL');
db.pragma('wal_checkpoint(TRUNCATE)');
const totals = db.prepare(`SELECT (SELECT count(*) FROM users) u, (SELECT count(*) FROM user_groups) g, (SELECT count(*) FROM certificates) c,
  (SELECT count(*) FROM auth_log) d, (SELECT count(*) FROM audit) a`).get();
const dbBytes = db.prepare('SELECT page_count * page_size AS b FROM pragma_page_count, pragma_page_size').get().b;
log(`database: ${JSON.stringify(totals)}, ${(dbBytes / 1048576).toFixed(0)} MiB`);

// ------------------------------------------------------------------ the admin app
const deps = adminConsoleDeps(pki);
deps.operators.add({ username: 'bench', role: 'admin', password: 'bench-password-123456' }, ACTOR);
const token = deps.operators.createToken('bench', 'console-bench', ACTOR);
const server = createAdminApp(deps).listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const base = `http://127.0.0.1:${server.address().port}/api/v1`;
const headers = { authorization: `Bearer ${token}` };

async function call(path) {
  const s = performance.now();
  const res = await fetch(base + path, { headers });
  const text = await res.text();
  const ms = performance.now() - s;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  return { ms, text, json: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined };
}

/** Follows a list's cursor (users, certificates: cursor/nextCursor; logs: before/nextBefore) past `depth` rows. */
async function deepCursor(path, depth) {
  const sep = path.includes('?') ? '&' : '?';
  let seen = 0; let param = '';
  while (seen < depth) {
    const { json } = await call(`${path}${sep}limit=200${param}`);
    seen += json.items.length;
    if (json.nextCursor !== undefined) param = `&cursor=${encodeURIComponent(json.nextCursor)}`;
    else if (json.nextBefore !== undefined && json.items.length === 200) param = `&before=${json.nextBefore}`;
    else return undefined; // the list ended first
  }
  return param;
}

const rows = [];
const results = [];
async function time(label, path, { runs = RUNS, list = true } = {}) {
  if (path === undefined) { rows.push([label, '-', '-', '-', '-', '-', 'n/a']); results.push({ label, skipped: true }); return; }
  try {
    for (let i = 0; i < 3; i++) await call(path);
  } catch (e) {
    // A route another change is still wiring up: say so and go on.
    rows.push([label, '-', '-', '-', '-', '-', 'error']); results.push({ label, path, error: String(e.message) });
    log(`${label}: ${e.message}`);
    return;
  }
  const ms = [];
  let items = 0; let bytes = 0;
  for (let i = 0; i < runs; i++) {
    const r = await call(path);
    ms.push(r.ms);
    items = r.json ? (r.json.items?.length ?? '-') : r.text.split('\r\n').length - 2;
    bytes = r.text.length;
  }
  ms.sort((a, b) => a - b);
  const p50 = percentile(ms, 50); const p95 = percentile(ms, 95); const max = ms[ms.length - 1];
  rows.push([label, fmt(items), fmt(bytes / 1024, 0), fmt(p50, 1), fmt(p95, 1), fmt(max, 1), list ? (p95 < GOAL_MS ? (max < GOAL_MS ? 'yes' : 'p95') : 'NO') : '']);
  results.push({ label, path, items, bytes, runs, p50, p95, max });
  log(`${label}: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms (${items} items)`);
}

const L = `limit=${LIMIT}`;
const someUser = [...certUsers.entries()].find(([, n]) => n >= 2)?.[0] ?? usernames[0];
const serialPrefix = db.prepare("SELECT substr(serial, 1, 3) AS p FROM certificates WHERE username IS NOT NULL LIMIT 1 OFFSET ?").get(Math.floor(CERTS / 2)).p;
const since = (ms) => new Date(NOW - ms).toISOString();
const dayAgo = (d) => NOW - d * DAY;
log('following cursors to the deep pages');
const deep = {
  users: await deepCursor('/users?q=', DEEP),
  usersPrefix: await deepCursor('/users?q=a', Math.min(DEEP, 5000)),
  certs: await deepCursor('/certificates?', DEEP),
  certsValid: await deepCursor('/certificates?status=valid', Math.min(DEEP, 20_000)),
  certsExpired: await deepCursor('/certificates?status=expired', Math.min(DEEP, 20_000)),
  certsUser: await deepCursor(`/certificates?user=${HEAVY_USER}`, Math.floor(HEAVY_CERTS / 2)),
  certsCn: await deepCursor(`/certificates?cn=${HEAVY_USER}`, Math.floor(HEAVY_CERTS / 2)),
  certsSerial: await deepCursor(`/certificates?serial=${serialPrefix.slice(0, 1)}`, 2000),
  auth: await deepCursor('/logs/auth?', DEEP * 2),
  authUser: await deepCursor('/logs/auth?outcome=reject', Math.min(DEEP, 10_000)),
  audit: await deepCursor('/logs/audit?', DEEP),
};
const at = (key, path) => (deep[key] === undefined ? undefined : `${path}${deep[key]}`);
const sample = JSON.parse((await call('/certificates?limit=1')).text).items[0].serial;

await time('users: first page, no prefix', `/users?q=&${L}`);
await time('users: prefix "sakura.t"', `/users?q=sakura.t&${L}`);
await time('users: prefix "SAKURA.TANAKA0" (case)', `/users?q=SAKURA.TANAKA0&${L}`);
await time(`users: deep page (after ${fmt(DEEP)})`, at('users', `/users?q=&${L}`));
await time('users: prefix "a", deep page (after 5,000)', at('usersPrefix', `/users?q=a&${L}`));
await time('users: prefix matching nothing', `/users?q=zz-nobody&${L}`);
await time('user detail page', `/users/${encodeURIComponent(someUser)}`, { list: false });
await time('certs: first page, unfiltered', `/certificates?${L}`);
await time(`certs: unfiltered, deep page (after ${fmt(DEEP)})`, at('certs', `/certificates?${L}`));
await time('certs: by user (a few)', `/certificates?user=${encodeURIComponent(someUser)}&${L}`);
await time(`certs: by user (${fmt(HEAVY_CERTS)}), deep page`, at('certsUser', `/certificates?user=${HEAVY_USER}&${L}`));
await time(`certs: serial prefix "${serialPrefix}"`, `/certificates?serial=${serialPrefix}&${L}`);
await time(`certs: serial prefix "${serialPrefix.slice(0, 1)}", deep page (after 2,000)`, at('certsSerial', `/certificates?serial=${serialPrefix.slice(0, 1)}&${L}`));
await time('certs: serial matching nothing', `/certificates?serial=ffffffffffffff&${L}`);
await time('certs: CN "device-041"', `/certificates?cn=device-041&${L}`);
await time(`certs: CN "${HEAVY_USER}", deep page`, at('certsCn', `/certificates?cn=${HEAVY_USER}&${L}`));
await time('certs: status valid', `/certificates?status=valid&${L}`);
await time('certs: status valid, deep page (after 20,000)', at('certsValid', `/certificates?status=valid&${L}`));
await time('certs: status expired', `/certificates?status=expired&${L}`);
await time('certs: status expired, deep page (after 20,000)', at('certsExpired', `/certificates?status=expired&${L}`));
await time('certs: status revoked', `/certificates?status=revoked&${L}`);
await time('certs: status hold', `/certificates?status=hold&${L}`);
await time('certs: user + status revoked', `/certificates?user=${HEAVY_USER}&status=revoked&${L}`);
await time('certs: expiring within 30 days', '/certificates/expiring?days=30', { list: false });
await time('certificate detail page (decoded DER)', `/certificates/${sample}`, { list: false });
await time('auth log: first page', `/logs/auth?${L}`);
await time(`auth log: deep page (after ${fmt(DEEP * 2)})`, at('auth', `/logs/auth?${L}`));
await time('auth log: by user', `/logs/auth?user=${encodeURIComponent(someUser)}&${L}`);
await time('auth log: by client (busy, ap-01)', `/logs/auth?nas=ap-01&${L}`);
await time('auth log: by client (quiet, ap-20)', `/logs/auth?nas=ap-20&${L}`);
await time('auth log: by client matching nothing', `/logs/auth?nas=no-such-ap&${L}`);
await time('auth log: result reject', `/logs/auth?outcome=reject&${L}`);
await time('auth log: result reject, deep page (after 10,000)', at('authUser', `/logs/auth?outcome=reject&${L}`));
await time('auth log: last hour', `/logs/auth?since=${since(3_600_000)}&${L}`);
await time('auth log: one day, a week ago', `/logs/auth?since=${dayAgo(7)}&until=${dayAgo(6)}&${L}`);
await time('auth log: 29 days ago to 1 day ago', `/logs/auth?since=${dayAgo(29)}&until=${dayAgo(1)}&${L}`);
await time('auth log: one day, 29 days ago', `/logs/auth?since=${dayAgo(29)}&until=${dayAgo(28)}&${L}`);
await time('auth log: one day, 29 days ago, accept', `/logs/auth?since=${dayAgo(29)}&until=${dayAgo(28)}&outcome=accept&${L}`);
await time('auth log: 29 days ago, reject, ap-20', `/logs/auth?since=${dayAgo(29)}&until=${dayAgo(28)}&outcome=reject&nas=ap-20&${L}`);
await time('auth log: since 30 days (everything)', `/logs/auth?since=${dayAgo(31)}&${L}`);
await time('audit: first page', `/logs/audit?${L}`);
await time(`audit: deep page (after ${fmt(DEEP)})`, at('audit', `/logs/audit?${L}`));
await time('audit: by actor', `/logs/audit?actor=operator:op07&${L}`);
await time('audit: by target', `/logs/audit?target=${encodeURIComponent(usernames[123])}&${L}`);
await time('audit: by action prefix "user."', `/logs/audit?action=user.&${L}`);
await time('audit: one day, 795 days ago', `/logs/audit?since=${dayAgo(795)}&until=${dayAgo(794)}&${L}`);
await time('audit: actor + one day, 790 days ago', `/logs/audit?actor=operator:op07&since=${dayAgo(790)}&until=${dayAgo(789)}&${L}`);
const hasDashboard = ROUTES.some((r) => r.method === 'get' && r.path === '/dashboard');
await time('dashboard summary', hasDashboard ? '/dashboard' : undefined, { list: false });
await time('audit CSV, 100,000 rows', `/logs/audit.csv?limit=${Math.min(100_000, AUDIT + CERTS)}`, { runs: CSV_RUNS, list: false });

server.close();
pki.close();
console.log(`\nauthbox ${fmt(USERS)} users (${fmt(totals.g)} group memberships), ${fmt(totals.c)} certificates ${JSON.stringify(counts)}, ` +
  `${fmt(totals.d)} decisions, ${fmt(totals.a)} audit rows; database ${(dbBytes / 1048576).toFixed(0)} MiB. ` +
  `${RUNS} timed calls per row (CSV ${CSV_RUNS}) after 3 warm-up calls, ${LIMIT} per page, in-process admin app on loopback, API token. ` +
  `Peer: none. Goal: each list page < ${GOAL_MS} ms ("met": yes = max under it, p95 = only p95 under it).` +
  (idle < 0.9 ? ` The box was ${(idle * 100).toFixed(0)}% idle at the start.` : ''));
if (!hasDashboard) console.log('GET /dashboard is not in this build: skipped.');
for (const r of results) if (r.error) console.log(`${r.label}: ${r.error}`);
console.log(table([['call (ms)', 'items', 'KiB', 'p50', 'p95', 'max', 'met'], ...rows]));
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ machine: machine(), totals, counts, results }, null, 2));
