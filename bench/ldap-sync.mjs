#!/usr/bin/env node
// LDAP user sync against OpenLDAP slapd, started by this script on loopback and loaded
// offline with slapadd: USERS inetOrgPerson users (uid, cn, mail, userPassword) and GROUPS
// groupOfNames, each user in 1 to 3 groups.
//   (a) the floor: `ldapsearch -E pr=500/noprompt` of every user (uid mail cn), the same
//       paged search the sync makes (500 a page), its output discarded;
//   (b) `authbox ldap sync --full` into a fresh data folder: wall time of the command
//       (node start-up included; `authbox ldap list` on the same folder is shown as the
//       start-up cost) and the run's own duration from `ldap runs --json`; users and
//       groups counted in the database;
//   (c) CHANGES mail changes with ldapmodify, then an incremental `authbox ldap sync`; one
//       with nothing changed; CHANGES users each added to one more group, then another;
//   (d) RADIUS while syncing: `authbox serve` with a NAS and one local PAP user, a PAP
//       Access-Request every RATE_MS ms from this process (one UDP socket per 256
//       Identifiers, no retransmission, TIMEOUT_MS to answer), latency of each request:
//       (d1) during `authbox ldap sync --full` run by the CLI, in another process, on the
//       served folder (USERS already synced, nothing to change);
//       (d2) during the daemon's own scheduled sync of USERS new users (a source added
//       to a serving daemon with no users: its scheduler runs it within 30 s, in the
//       daemon's primary process, where RADIUS is answered; this script polls the run in the
//       database, starting no process). Each phase also shows the daemon's own stall counters
//       from /metrics: turns of its RADIUS thread more than 20 ms late, running (busy) or
//       waiting for a CPU (cpu wait);
//   (e) resident memory (VmRSS) of `authbox serve` (primary, and the whole process tree)
//       with MEM_USERS synced users (a second slapd with MEM_USERS users, one full sync).
//
//   node bench/ldap-sync.mjs
// Environment (defaults in brackets): USERS [10000]; GROUPS [200]; CHANGES [100];
//   MEM_USERS [100000] (0: no memory row beyond USERS); RATE_MS [2]; TIMEOUT_MS [3000];
//   BASELINE_S [1] seconds of RADIUS before and after each sync; STALL_MAX_S [300] longest
//   wait for RADIUS to answer again after the daemon's sync; BENCH_JSON=FILE.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUTHBOX_BIN, authboxCli, dist, fmt, machine, percentile, processTree, requireTools, scratch, sleep, table } from './lib/common.mjs';
import { rssMiB, startAuthboxRadius } from './lib/radius-setup.mjs';
import { BASE_DN, GROUPS as GROUPS_DN, ROOT_DN, ROOT_PASSWORD, startSlapd, uidOf, userDn, writeDirectoryLdif } from './lib/slapd.mjs';

requireTools('slapd', 'slapadd', 'slappasswd', 'ldapsearch', 'ldapmodify');

const { openDatabase } = await dist('store/db.js');
const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const USERS = Number(env('USERS', 10000));
const GROUPS = Number(env('GROUPS', 200));
const CHANGES = Math.min(Number(env('CHANGES', 100)), USERS);
const MEM_USERS = Number(env('MEM_USERS', 100000));
const RATE_MS = Number(env('RATE_MS', 2));
const TIMEOUT_MS = Number(env('TIMEOUT_MS', 3000));
const BASELINE_S = Number(env('BASELINE_S', 1));
const STALL_MAX_S = Number(env('STALL_MAX_S', 300));
const SECRET = 'bench-ldap-secret';
const PAP_USER = { username: 'radius-probe', password: 'probe-password-1' };
const base = 20000 + Math.floor(Math.random() * 20000);
const ports = { slapd: base, slapdMem: base + 1, http: base + 10, radius: base + 11, acct: base + 12 };

const log = (...a) => console.error('[ldap-sync]', ...a);
const work = scratch('ldap-sync');
log(`scratch ${work}`);
const secs = (t0) => (performance.now() - t0) / 1000;
const servers = [];
const stopAll = () => Promise.all(servers.splice(0).map((s) => s.stop()));

/** Runs authbox in a child process without blocking this event loop (the RADIUS client runs here). */
function authboxAsync(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [AUTHBOX_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`authbox ${args.join(' ')} exited ${code}: ${err}`));
      resolve({ out, wall: secs(t0) });
    });
  });
}
const timedCli = (args) => { const t0 = performance.now(); const out = authboxCli(args); return { out, wall: secs(t0) }; };

function newFolder(name) {
  const dir = join(work, name);
  authboxCli(['init', '--data', dir, '--admin-password', 'bench-admin-pw']);
  return dir;
}
const addSourceArgs = (dir, url, extra = []) => ['ldap', 'add', '--data', dir, '--name', 'corp', '--url', url, '--bind-dn', ROOT_DN,
  '--bind-password', ROOT_PASSWORD, '--base-dn', BASE_DN, '--group-base-dn', GROUPS_DN, '--preset', 'openldap', ...extra];
const addSource = (dir, url, extra) => authboxCli(addSourceArgs(dir, url, extra));
/** While RADIUS is measured: the command runs beside this event loop, not blocking it (a blocked loop would be counted as the daemon's gap). */
const addSourceAsync = (dir, url) => authboxAsync(addSourceArgs(dir, url));
/** The source's latest finished run, read from the database (no authbox process started: it would take a CPU from the daemon being measured). */
function lastFinishedRun(dir) {
  const db = openDatabase(join(dir, 'authbox.db'), { readonly: true });
  try {
    const r = db.prepare(`SELECT r.started_at, r.ended_at, r.added, r.error FROM ldap_sync_runs r JOIN ldap_sources s ON s.id = r.source_id
      WHERE s.name = 'corp' AND r.dry_run = 0 AND r.ended_at IS NOT NULL ORDER BY r.id DESC LIMIT 1`).get();
    return r && { started: new Date(r.started_at).toISOString(), ended: new Date(r.ended_at).toISOString(), added: r.added, error: r.error };
  } finally {
    db.close();
  }
}
/** The daemon's RADIUS-thread stalls so far, by cause, and its lag histogram (GET /metrics). */
async function loopCounters(httpPort) {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const stalls = {};
  for (const m of text.matchAll(/^authbox_radius_event_loop_stalls_total\{cause="(\w+)"\} (\d+)/gm)) stalls[m[1]] = Number(m[2]);
  const buckets = [...text.matchAll(/^authbox_radius_event_loop_lag_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]);
  return { stalls, buckets };
}
/** Stalls between two loopCounters readings, and the bucket bound of the latest turn seen in between. */
function loopDelta(a, b) {
  const stalls = Object.fromEntries(Object.keys(b.stalls).map((k) => [k, b.stalls[k] - (a.stalls[k] ?? 0)]));
  let worst = '-';
  for (let i = 0; i < b.buckets.length; i++) {
    const below = i === 0 ? 0 : b.buckets[i - 1][1] - a.buckets[i - 1][1];
    if (b.buckets[i][1] - a.buckets[i][1] > below) worst = b.buckets[i][0] === '+Inf' ? `> ${b.buckets[i - 1][0]} s` : `≤ ${b.buckets[i][0]} s`;
  }
  return { stalls, worst };
}
const runsOf = (dir) => JSON.parse(authboxCli(['ldap', 'runs', '--data', dir, '--name', 'corp', '--json']));
const runMs = (r) => new Date(r.ended).getTime() - new Date(r.started).getTime();

function counts(dir) {
  const db = openDatabase(join(dir, 'authbox.db'), { readonly: true });
  try {
    return {
      users: db.prepare("SELECT count(*) AS n FROM users WHERE source = 'ldap:corp'").get().n,
      groups: db.prepare('SELECT count(DISTINCT group_name) AS n FROM user_groups').get().n,
      memberships: db.prepare('SELECT count(*) AS n FROM user_groups').get().n,
    };
  } finally {
    db.close();
  }
}

// ------------------------------------------------------------------ the directory
let t0 = performance.now();
const ldif = join(work, 'users.ldif');
writeDirectoryLdif(ldif, USERS, GROUPS);
const slapd = await startSlapd(join(work, 'slapd'), { port: ports.slapd, ldif });
servers.push(slapd);
log(`slapd pid ${slapd.pid} on ${slapd.url}: ${USERS} users, ${GROUPS} groups, slapadd ${slapd.slapaddS.toFixed(2)} s (LDIF and load ${secs(t0).toFixed(1)} s)`);

// ------------------------------------------------------------------ (a) floor
const floor = [];
for (let i = 0; i < 3; i++) {
  t0 = performance.now();
  const out = slapd.tool('ldapsearch', ['-LLL', '-b', BASE_DN, '-E', 'pr=500/noprompt', '(objectClass=inetOrgPerson)', 'uid', 'mail', 'cn']);
  floor.push(secs(t0));
  const n = (out.match(/^dn: /gm) ?? []).length;
  if (n !== USERS) throw new Error(`ldapsearch returned ${n} entries, not ${USERS}`);
}
const floorS = Math.min(...floor);
log(`ldapsearch floor: ${floor.map((s) => s.toFixed(3)).join(', ')} s (best ${floorS.toFixed(3)})`);

// ------------------------------------------------------------------ (b) full sync
const D = newFolder('authbox');
addSource(D, slapd.url);
const startup = Math.min(...[0, 1, 2].map(() => timedCli(['ldap', 'list', '--data', D]).wall));
const full = timedCli(['ldap', 'sync', '--data', D, '--name', 'corp', '--full', '--json']);
const fullJson = JSON.parse(full.out);
const fullRun = runsOf(D)[0];
const c1 = counts(D);
log(`full sync: ${full.wall.toFixed(2)} s wall, run ${runMs(fullRun)} ms, counts ${JSON.stringify(fullJson.counts)}, database ${JSON.stringify(c1)}`);
if (fullJson.counts.added !== USERS || c1.users !== USERS || c1.groups !== GROUPS) throw new Error(`full sync: expected ${USERS} users in ${GROUPS} groups`);

// ------------------------------------------------------------------ (c) incremental
// modifyTimestamp has a one-second resolution: the watermark is the second of the last
// change, so the changes are made in the following second.
await sleep(1100);
const mods = Array.from({ length: CHANGES }, (_, k) => {
  const uid = uidOf(1 + Math.floor((k * USERS) / CHANGES));
  return `dn: ${userDn(uid)}\nchangetype: modify\nreplace: mail\nmail: changed-${uid}@example.org\n`;
}).join('\n');
t0 = performance.now();
slapd.tool('ldapmodify', [], mods);
const modifyS = secs(t0);
const incr = timedCli(['ldap', 'sync', '--data', D, '--name', 'corp', '--json']);
const incrJson = JSON.parse(incr.out);
const incrRun = runsOf(D)[0];
log(`${CHANGES} ldapmodify changes in ${modifyS.toFixed(2)} s; incremental sync: ${incr.wall.toFixed(2)} s wall, run ${runMs(incrRun)} ms, mode ${incrJson.mode}, counts ${JSON.stringify(incrJson.counts)}`);
if (incrJson.mode !== 'incremental' || incrRun.error) throw new Error(`incremental sync: ${incr.out}`);
// Nothing but mail changed: each changed user's e-mail is updated, nothing else.
if (incrJson.counts.added + incrJson.counts.disabled + incrJson.counts.groups !== 0 || incrJson.counts.updated !== CHANGES) {
  throw new Error(`incremental sync: expected ${CHANGES} users updated, nothing else: ${JSON.stringify(incrJson.counts)}`);
}
const incrUnchanged = timedCli(['ldap', 'sync', '--data', D, '--name', 'corp', '--json']);
const incrUnchangedRun = runsOf(D)[0];
log(`incremental sync with no change: ${incrUnchanged.wall.toFixed(2)} s wall, run ${runMs(incrUnchangedRun)} ms`);
// (c2) CHANGES users each added to a group they were not in (a change to the group entry,
// not to the user's): the run reads the changed groups only.
const groupsOfUser = (i) => new Set([i % GROUPS, ...(i % 3 >= 1 ? [(i * 7 + 1) % GROUPS] : []), ...(i % 3 === 2 ? [(i * 13 + 2) % GROUPS] : [])]);
const groupMods = Array.from({ length: GROUPS > 3 ? CHANGES : 0 }, (_, k) => {
  const i = 2 + Math.floor((k * USERS) / CHANGES);
  let g = (i + 17) % GROUPS;
  while (groupsOfUser(i).has(g)) g = (g + 1) % GROUPS;
  return `dn: cn=group${g},${GROUPS_DN}\nchangetype: modify\nadd: member\nmember: ${userDn(uidOf(i))}\n`;
});
let incrGroups;
if (groupMods.length) {
  slapd.tool('ldapmodify', [], groupMods.join('\n'));
  const r = timedCli(['ldap', 'sync', '--data', D, '--name', 'corp', '--json']);
  const json = JSON.parse(r.out);
  incrGroups = { wall: r.wall, run: runsOf(D)[0], counts: json.counts };
  log(`${CHANGES} group member additions; incremental sync: ${r.wall.toFixed(2)} s wall, run ${runMs(incrGroups.run)} ms, counts ${JSON.stringify(json.counts)}`);
  if (json.mode !== 'incremental' || json.counts.updated !== CHANGES || json.counts.groups !== CHANGES) throw new Error(`incremental sync after group changes: ${r.out}`);
}

// ------------------------------------------------------------------ (d) RADIUS during a sync
/** PAP Access-Request with Message-Authenticator (RFC 2865 §5.2 password hiding, RFC 3579 §3.2). */
function papRequest(id) {
  const auth = randomBytes(16);
  const pw = Buffer.alloc(16);
  Buffer.from(PAP_USER.password).copy(pw);
  const b = createHash('md5').update(SECRET).update(auth).digest();
  for (let i = 0; i < 16; i++) pw[i] ^= b[i];
  const name = Buffer.from(PAP_USER.username);
  const attrs = Buffer.concat([Buffer.from([1, name.length + 2]), name, Buffer.from([2, 18]), pw,
    Buffer.from([4, 6, 127, 0, 0, 1]), Buffer.from([80, 18]), Buffer.alloc(16)]);
  const packet = Buffer.concat([Buffer.from([1, id, 0, 0]), auth, attrs]);
  packet.writeUInt16BE(packet.length, 2);
  createHmac('md5', SECRET).update(packet).digest().copy(packet, packet.length - 16);
  return packet;
}

/** A request every RATE_MS ms until stop(); each marked with the phase it was sent in. */
async function papLoad(port) {
  const socks = [];
  const sent = [];
  let phase = 'before';
  for (let i = 0; i < 16; i++) {
    const sock = dgram.createSocket('udp4');
    const s = { sock, pending: new Map(), next: 0 };
    sock.on('message', (msg) => {
      const r = s.pending.get(msg[1]);
      if (!r) return;
      s.pending.delete(msg[1]);
      clearTimeout(r.timer);
      r.latency = performance.now() - r.at;
      r.code = msg[0];
    });
    await new Promise((res) => sock.bind(0, '127.0.0.1', res));
    socks.push(s);
  }
  // Warm-up: one request at a time until one is accepted (the first PAP check of the
  // password is an scrypt; many in flight before it is cached would all pay for one).
  for (let i = 0, ok = false; !ok; i++) {
    if (i === 20) throw new Error('RADIUS warm-up: no Access-Accept');
    const s = socks[0];
    ok = await new Promise((res) => {
      const timer = setTimeout(() => { s.pending.delete(i); res(false); }, 1000);
      s.pending.set(i, { at: performance.now(), set timer(_) {}, get timer() { return timer; }, set code(c) { res(c === 2); } });
      s.sock.send(papRequest(i), port, '127.0.0.1');
    });
  }
  let turn = 0, running = true, skipped = 0;
  const tick = () => {
    if (!running) return;
    let s, id;
    for (let k = 0; k < socks.length && id === undefined; k++) {
      s = socks[turn++ % socks.length];
      for (let j = 0; j < 256; j++) { const c = (s.next + j) & 0xff; if (!s.pending.has(c)) { id = c; s.next = (c + 1) & 0xff; break; } }
    }
    if (id === undefined) skipped++;
    else {
      const r = { at: performance.now(), phase, latency: undefined, code: undefined, timer: undefined };
      r.timer = setTimeout(() => { s.pending.delete(id); r.timedOut = true; }, TIMEOUT_MS);
      s.pending.set(id, r);
      sent.push(r);
      s.sock.send(papRequest(id), port, '127.0.0.1');
    }
    setTimeout(tick, RATE_MS);
  };
  tick();
  return {
    setPhase: (p) => { phase = p; },
    sent: () => sent,
    async stop() {
      running = false;
      await sleep(TIMEOUT_MS + 100);
      for (const s of socks) s.sock.close();
      return { sent, skipped };
    },
  };
}

function latencyStats(sent, phase) {
  const rs = sent.filter((r) => r.phase === phase);
  const answered = rs.filter((r) => r.latency !== undefined).map((r) => r.latency).sort((a, b) => a - b);
  const accepted = rs.filter((r) => r.code === 2).length;
  // The longest stretch in which no request sent got an answer (a pause of the server).
  let gap = 0, gapFrom, lastOk;
  for (const r of rs) {
    if (r.latency === undefined) continue;
    const done = r.at + r.latency;
    if (lastOk !== undefined && done - lastOk > gap) { gap = done - lastOk; gapFrom = performance.timeOrigin + lastOk; }
    lastOk = Math.max(lastOk ?? 0, done);
  }
  // Answers that never came back up within the phase: the gap runs to its last request.
  const last = rs[rs.length - 1];
  if (last && lastOk !== undefined && last.at > lastOk && last.at - lastOk > gap) { gap = last.at - lastOk; gapFrom = performance.timeOrigin + lastOk; }
  return {
    phase, requests: rs.length, accepted, timeouts: rs.filter((r) => r.latency === undefined).length,
    p50: percentile(answered, 50), p99: percentile(answered, 99), max: answered.length ? answered[answered.length - 1] : NaN, gap, gapFrom,
  };
}

authboxCli(['nas', 'add', '--data', D, '--name', 'bench', '--address', '127.0.0.1/32', '--secret', SECRET]);
authboxCli(['user', 'add', '--data', D, '--username', PAP_USER.username, '--password', PAP_USER.password]);
const treeRss = (pid) => processTree(pid).reduce((a, p) => { try { return a + rssMiB(p); } catch { return a; } }, 0);
const rss = [];

// (d1) the CLI's full sync, another process, on the folder the daemon serves.
let daemon = await startAuthboxRadius(D, ports, join(work, 'serve-d1.log'));
servers.push(daemon);
// The daemon's scheduler runs every source once at start: let that run finish first.
{
  const n0 = runsOf(D).length;
  for (let i = 0; i < 60 && runsOf(D).length === n0; i++) await sleep(250);
}
await sleep(500);
rss.push({ what: `${USERS} users (after a scheduled sync)`, users: USERS, primary: rssMiB(daemon.pid), tree: treeRss(daemon.pid) });
// The daemon's own stall counters at each phase's start (the HTTP workers get them every 250 ms).
const phaseLoop = async (list) => { await sleep(300); list.push(await loopCounters(ports.http)); };
let loop = [];
let load = await papLoad(ports.radius);
await phaseLoop(loop);
await sleep(BASELINE_S * 1000);
load.setPhase('d1');
await phaseLoop(loop);
const d1Window = [Date.now()];
const d1 = await authboxAsync(['ldap', 'sync', '--data', D, '--name', 'corp', '--full', '--json']);
d1Window.push(Date.now());
load.setPhase('after');
await phaseLoop(loop);
await sleep(BASELINE_S * 1000);
await phaseLoop(loop);
let res = await load.stop();
const withLoop = (stats, readings) => stats.map((st, i) => ({ ...st, loop: loopDelta(readings[i], readings[i + 1]) }));
const d1Stats = withLoop([latencyStats(res.sent, 'before'), latencyStats(res.sent, 'd1'), latencyStats(res.sent, 'after')], loop);
log(`d1: CLI full sync ${d1.wall.toFixed(2)} s; ${JSON.stringify(JSON.parse(d1.out).counts)}; skipped ${res.skipped}`);
await daemon.stop();
servers.splice(servers.indexOf(daemon), 1);

// (d2) the daemon's own sync of USERS new users, in the process that answers RADIUS.
const D2 = newFolder('authbox-d2');
authboxCli(['nas', 'add', '--data', D2, '--name', 'bench', '--address', '127.0.0.1/32', '--secret', SECRET]);
authboxCli(['user', 'add', '--data', D2, '--username', PAP_USER.username, '--password', PAP_USER.password]);
daemon = await startAuthboxRadius(D2, ports, join(work, 'serve-d2.log'));
servers.push(daemon);
await sleep(500);
rss.push({ what: '1 local user, no source', users: 0, primary: rssMiB(daemon.pid), tree: treeRss(daemon.pid) });
loop = [];
load = await papLoad(ports.radius);
await phaseLoop(loop);
await sleep(BASELINE_S * 1000);
// The source is added at the end of 'before': starting that CLI process (a fork of this one) is a
// pause of this script, not of the daemon; the daemon's sync cannot start before the source exists.
const d2t0 = performance.now();
await addSourceAsync(D2, slapd.url);
load.setPhase('d2');
await phaseLoop(loop);
let d2Run;
for (let i = 0; i < 200 && !d2Run; i++) {
  await sleep(250);
  d2Run = lastFinishedRun(D2);
}
const d2Wait = secs(d2t0);
// The daemon applies the users to its memory after the commit (the change feed): the
// phase lasts until it answers again, every request of the last second answered, or
// STALL_MAX_S seconds.
const stallT0 = performance.now();
for (;;) {
  await sleep(250);
  const now = performance.now();
  const recent = load.sent().filter((r) => r.at > now - 1250 && r.at < now - 250);
  if (recent.length > 0 && recent.every((r) => r.latency !== undefined)) break;
  if (secs(stallT0) > STALL_MAX_S) { log(`d2: RADIUS still not answering ${STALL_MAX_S} s after the sync`); break; }
}
const d2Recovered = secs(stallT0);
load.setPhase('after');
await phaseLoop(loop);
await sleep(BASELINE_S * 1000);
await phaseLoop(loop);
res = await load.stop();
const d2Stats = withLoop([latencyStats(res.sent, 'before'), latencyStats(res.sent, 'd2'), latencyStats(res.sent, 'after')], loop);
const c2 = counts(D2);
log(`d2: daemon's sync seen after ${d2Wait.toFixed(1)} s; run ${d2Run ? `${runMs(d2Run)} ms, added ${d2Run.added}, error ${d2Run.error}` : 'NOT SEEN'}; database ${JSON.stringify(c2)}; skipped ${res.skipped}`);
rss.push({ what: `${c2.users} users (synced by the daemon)`, users: c2.users, primary: rssMiB(daemon.pid), tree: treeRss(daemon.pid) });
await daemon.stop();
servers.splice(servers.indexOf(daemon), 1);

// ------------------------------------------------------------------ (e) memory with MEM_USERS
let memSync;
if (MEM_USERS > 0) {
  await slapd.stop();
  servers.splice(servers.indexOf(slapd), 1);
  t0 = performance.now();
  const ldifMem = join(work, 'users-mem.ldif');
  writeDirectoryLdif(ldifMem, MEM_USERS, GROUPS);
  const slapdMem = await startSlapd(join(work, 'slapd-mem'), { port: ports.slapdMem, ldif: ldifMem });
  servers.push(slapdMem);
  log(`slapd (memory) pid ${slapdMem.pid}: ${MEM_USERS} users, slapadd ${slapdMem.slapaddS.toFixed(1)} s (with LDIF ${secs(t0).toFixed(1)} s)`);
  const D3 = newFolder('authbox-mem');
  authboxCli(['nas', 'add', '--data', D3, '--name', 'bench', '--address', '127.0.0.1/32', '--secret', SECRET]);
  authboxCli(['user', 'add', '--data', D3, '--username', PAP_USER.username, '--password', PAP_USER.password]);
  addSource(D3, slapdMem.url);
  // GNU time for the CLI's peak memory.
  const timeFile = join(work, 'time-mem.txt');
  t0 = performance.now();
  const out = spawnSync('/usr/bin/time', ['-f', '%M', '-o', timeFile, process.execPath, AUTHBOX_BIN,
    'ldap', 'sync', '--data', D3, '--name', 'corp', '--full', '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = secs(t0);
  if (out.status !== 0) throw new Error(`${MEM_USERS}-user sync failed: ${out.stderr}`);
  const memRun = runsOf(D3)[0];
  const c3 = counts(D3);
  memSync = { users: c3.users, wall, runMs: runMs(memRun), cliPeakMiB: Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) / 1024 };
  log(`${MEM_USERS}-user full sync: ${wall.toFixed(1)} s wall, run ${memSync.runMs} ms, CLI peak RSS ${memSync.cliPeakMiB.toFixed(0)} MiB, database ${JSON.stringify(c3)}`);
  await slapdMem.stop();
  servers.splice(servers.indexOf(slapdMem), 1);
  // No directory now: the scheduled sync at start fails fast (recorded), the users stay.
  daemon = await startAuthboxRadius(D3, ports, join(work, 'serve-mem.log'));
  servers.push(daemon);
  await sleep(2000);
  load = await papLoad(ports.radius);
  await sleep(1000);
  res = await load.stop();
  const probe = latencyStats(res.sent, 'before');
  rss.push({ what: `${c3.users} users (probe: ${probe.accepted}/${probe.requests} accepted)`, users: c3.users, primary: rssMiB(daemon.pid), tree: treeRss(daemon.pid) });
  await daemon.stop();
  servers.splice(servers.indexOf(daemon), 1);
}
await stopAll();

// ------------------------------------------------------------------ report
const ms = (v) => (Number.isFinite(v) ? fmt(v, 1) : '-');
const goal = (ok) => (ok ? 'yes' : 'NO');
console.log(`\nLDAP sync, ${USERS} users in ${GROUPS} groups (OpenLDAP slapd, mdb, loopback); ${machine()}`);
console.log(table([
  ['', 'seconds', 'vs floor', 'goal', 'met'],
  ['ldapsearch, paged 500 (floor)', fmt(floorS, 3), '1.0', '', ''],
  ['authbox ldap sync --full (command)', fmt(full.wall, 3), `${fmt(full.wall / floorS, 1)}x`, '< 1 s', goal(full.wall < 1)],
  ['  the run itself (ldap runs)', fmt(runMs(fullRun) / 1000, 3), `${fmt(runMs(fullRun) / 1000 / floorS, 1)}x`, '', ''],
  ['  CLI start-up (ldap list)', fmt(startup, 3), '', '', ''],
  [`incremental after ${CHANGES} mail changes (command)`, fmt(incr.wall, 3), '', '< 0.2 s', goal(incr.wall < 0.2)],
  ['  the run itself (ldap runs)', fmt(runMs(incrRun) / 1000, 3), '', '< 0.2 s', goal(runMs(incrRun) < 200)],
  ['incremental, nothing changed (command)', fmt(incrUnchanged.wall, 3), '', '', ''],
  ['  the run itself (ldap runs)', fmt(runMs(incrUnchangedRun) / 1000, 3), '', '', ''],
  ...(incrGroups ? [[`incremental after ${CHANGES} group member additions (command)`, fmt(incrGroups.wall, 3), '', '', ''],
    ['  the run itself (ldap runs)', fmt(runMs(incrGroups.run) / 1000, 3), '', '< 0.2 s', goal(runMs(incrGroups.run) < 200)]] : []),
  ...(memSync ? [[`authbox ldap sync --full, ${memSync.users} users (command)`, fmt(memSync.wall, 2), '', '', ''],
    ['  the run itself (ldap runs)', fmt(memSync.runMs / 1000, 2), '', '', '']] : []),
]));
console.log(`full sync: ${JSON.stringify(fullJson.counts)}; database: ${c1.users} users, ${c1.groups} groups, ${c1.memberships} memberships`);
console.log(`incremental: mode ${incrJson.mode}, ${JSON.stringify(incrJson.counts)} (each mail change updates that user's e-mail)`);
console.log(`\nRADIUS PAP, one request every ${RATE_MS} ms, during a sync (latency in ms; timeout ${TIMEOUT_MS} ms; gap: longest time without an answer)`);
console.log(table([
  ['phase', 'requests', 'accepted', 'timeouts', 'p50', 'p99', 'max', 'gap', 'stalls: busy', 'cpu wait', 'slowest turn'],
  ...[...d1Stats.map((s) => ({ ...s, label: `d1 ${s.phase === 'd1' ? `CLI --full sync (${fmt(d1.wall, 2)} s)` : s.phase}` })),
    ...d2Stats.map((s) => ({ ...s, label: `d2 ${s.phase === 'd2' ? `daemon's sync of ${USERS} new users` : s.phase}` }))]
    .map((s) => [s.label, s.requests, s.accepted, s.timeouts, ms(s.p50), ms(s.p99), ms(s.max), ms(s.gap), s.loop.stalls.busy ?? '-', s.loop.stalls.cpu_wait ?? '-', s.loop.worst]),
]));
if (d2Run) console.log(`d2: the daemon's run took ${runMs(d2Run)} ms (added ${d2Run.added}); it started within ${d2Wait.toFixed(1)} s of \`ldap add\` (scheduler tick 30 s); ${d2Recovered > STALL_MAX_S ? `RADIUS did NOT answer again within ${STALL_MAX_S} s (STALL_MAX_S) after the run was seen recorded` : `RADIUS answered every request again ${d2Recovered.toFixed(1)} s after the run was seen recorded`}`);
const at = (t) => (t === undefined ? '-' : new Date(t).toISOString().slice(11, 23));
if (d2Run) console.log(`d2: run ${at(new Date(d2Run.started).getTime())} to ${at(new Date(d2Run.ended).getTime())}; longest gap in d2 from ${at(d2Stats[1].gapFrom)} for ${ms(d2Stats[1].gap)} ms`);
console.log('stalls: turns of the daemon\'s RADIUS thread late by more than 20 ms (its /metrics), busy: the thread was running; cpu wait: it was ready '
  + 'but the 2 CPUs ran other processes (this script, slapd, the sync\'s child process); slowest turn: the lag-histogram bucket of the phase\'s latest timer turn');
console.log(`d1: longest gap from ${at(d1Stats[1].gapFrom)} for ${ms(d1Stats[1].gap)} ms (CLI sync ${at(d1Window[0])} to ${at(d1Window[1])})`);
console.log(`\nResident memory of authbox serve (goal < 300 MiB with ${MEM_USERS || USERS} users)`);
console.log(table([
  ['data', 'primary MiB', 'all processes MiB', 'goal met'],
  ...rss.map((r) => [r.what, fmt(r.primary, 0), fmt(r.tree, 0), r.users >= 100000 || r === rss[rss.length - 1] ? goal(r.primary < 300) : '']),
]));
if (memSync) console.log(`the ${memSync.users}-user full sync (CLI) peaked at ${fmt(memSync.cliPeakMiB, 0)} MiB resident`);
if (process.env.BENCH_JSON) {
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ USERS, GROUPS, CHANGES, MEM_USERS, floorS, full, fullRun, incr: incr.wall, incrRun, incrUnchangedRun, incrGroups, d1Stats, d2Stats, d2Run, rss, memSync }, null, 2));
}
