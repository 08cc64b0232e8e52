#!/usr/bin/env node
// RADIUS against FreeRADIUS 3.2, side by side in one run on loopback: PAP with radclient
// and full EAP-TLS authentications (TLS 1.2 and 1.3, ECDSA P-256) with parallel
// eapol_test processes. Both servers get the same users, the same shared secret and
// certificates from the same authbox CA. radclient and eapol_test share the two cores
// with the servers, so rates are bounded by the load generators: compare the servers by
// CPU per request, read from /proc/PID/stat (utime+stime, all threads).
//
// authbox: RADIUS runs in the primary process of `authbox serve` (HTTP workers are
// separate processes and idle here): the CPU counted is the primary's, every thread
// (scrypt runs in libuv's pool). FreeRADIUS: the one radiusd process, every thread.
//
//   node bench/radius.mjs
// Environment (defaults in brackets):
//   USERS [100] users; RADCLIENTS [3] radclient processes side by side, each
//   `-p PARALLEL [64]`, sending the USERS requests COUNT [60] times each; ROUNDS [3]
//   interleaved PAP rounds; EAP_TOTAL [200] full authentications per server and TLS
//   version, EAP_PARALLEL [8] eapol_test processes at once, in EAP_ROUNDS [2] rounds;
//   TLS ["1.2 1.3"]; IDLE_S [3] seconds of idle CPU measured first; AUTHBOX_NODE_ARGS go to authbox's node, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACTOR, authboxCli, dist, fmt, machine, median, processTree, requireTools, run, scratch, sleep, startServer, table, AUTHBOX_BIN,
  CLK_TCK, warnIfBusy,
} from './lib/common.mjs';
import { configureFreeradius, freeradiusVersion, startFreeradius } from './lib/freeradius.mjs';

requireTools('freeradius', 'radclient', 'eapol_test', 'openssl');

const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const USERS = Number(env('USERS', 100));
const RADCLIENTS = Number(env('RADCLIENTS', 3));
const PARALLEL = Number(env('PARALLEL', 64));
const COUNT = Number(env('COUNT', 60));
const ROUNDS = Number(env('ROUNDS', 3));
const EAP_TOTAL = Number(env('EAP_TOTAL', 200));
const EAP_PARALLEL = Number(env('EAP_PARALLEL', 8));
const EAP_ROUNDS = Number(env('EAP_ROUNDS', 2));
const TLS = env('TLS', '1.2 1.3').split(/\s+/).filter(Boolean);
const SECRET = 'bench-radius-secret';
const base = 20000 + Math.floor(Math.random() * 20000);
const PORT = { http: base, authbox: base + 1, authboxAcct: base + 2, freeradius: base + 3 };

const log = (...a) => console.error('[radius]', ...a);
await warnIfBusy('RADIUS');
const work = scratch('radius');
log(`scratch ${work}`);

// ------------------------------------------------------------------ CPU of one process
/** utime+stime of a process, all its threads, in seconds (the process line of /proc/PID/stat). */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** Whole-box CPU ticks (busy, total) from /proc/stat, to tell whether the box was saturated. */
function boxTicks() {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - (v[4] ?? 0), total };
}

// ------------------------------------------------------------------ data
const dataDir = join(work, 'authbox');
authboxCli(['init', '--data', dataDir, '--admin-password', 'bench-admin-pw']);
authboxCli(['nas', 'add', '--data', dataDir, '--name', 'bench', '--address', '127.0.0.1/32', '--secret', SECRET]);
const users = Array.from({ length: USERS }, (_, i) => ({ username: `user${i}`, password: `pass-word-${i}-${(i * 7919).toString(36)}` }));
{
  // In-process (one scrypt each) rather than 100 CLI processes.
  const { openPkiAt } = await dist('main.js');
  const pki = openPkiAt(dataDir);
  try {
    for (const u of users) pki.users.add({ username: u.username, password: u.password, groups: [] }, ACTOR);
  } finally {
    pki.close();
  }
}
const certs = join(work, 'certs');
run('mkdir', ['-p', certs]);
writeFileSync(join(certs, 'ca.pem'), authboxCli(['ca', 'cert', '--data', dataDir]));
// The EAP-TLS client: one user certificate (P-256) for user0, used by every eapol_test.
const EAP_USER = users[0].username;
authboxCli(['cert', 'issue', '--data', dataDir, '--profile', 'user', '--cn', EAP_USER, '--user', EAP_USER,
  '--out-cert', join(certs, 'client.pem'), '--out-key', join(certs, 'client.key')]);
// FreeRADIUS's server certificate: authbox's own TLS key is sealed in its database, so a
// separate P-256 server certificate from the same issuing CA.
authboxCli(['cert', 'issue', '--data', dataDir, '--profile', 'server', '--cn', 'radius.bench', '--dns', 'radius.bench',
  '--out-cert', join(certs, 'server.pem'), '--out-key', join(certs, 'server.key')]);
{
  const chain = readFileSync(join(certs, 'ca.pem'), 'utf8');
  const issuing = chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26);
  writeFileSync(join(certs, 'server-chain.pem'), readFileSync(join(certs, 'server.pem'), 'utf8') + issuing);
}

// ------------------------------------------------------------------ servers
const raddb = configureFreeradius(join(work, 'freeradius'), {
  port: PORT.freeradius, secret: SECRET, users,
  tls: { certChain: join(certs, 'server-chain.pem'), key: join(certs, 'server.key'), caFile: join(certs, 'ca.pem') },
});
const fr = await startFreeradius(raddb, join(work, 'freeradius.log'));
log(`freeradius ${freeradiusVersion()} pid ${fr.pid} on 127.0.0.1:${PORT.freeradius}`);

const nodeArgs = (process.env.AUTHBOX_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
const authbox = startServer(process.execPath, [...nodeArgs, AUTHBOX_BIN, 'serve', '--data', dataDir, '--http', `127.0.0.1:${PORT.http}`,
  '--radius', `127.0.0.1:${PORT.authbox}`, '--radius-acct', `127.0.0.1:${PORT.authboxAcct}`],
{ log: join(work, 'authbox.log'), env: { NODE_ENV: 'production' } });
{
  const deadline = Date.now() + 30_000;
  for (;;) {
    try { const r = await fetch(`http://127.0.0.1:${PORT.http}/healthz`); if (r.ok) { await r.arrayBuffer(); break; } } catch { /* not yet */ }
    if (authbox.proc.exitCode !== null || Date.now() > deadline) throw new Error(`authbox did not start: ${authbox.output()}`);
    await sleep(100);
  }
  await sleep(1000); // HTTP workers
}
log(`authbox pid ${authbox.pid} (${processTree(authbox.pid).length} processes) RADIUS on 127.0.0.1:${PORT.authbox}`);

const servers = [
  { name: 'authbox', pid: authbox.pid, port: PORT.authbox },
  { name: `FreeRADIUS ${freeradiusVersion()}`, pid: fr.pid, port: PORT.freeradius },
];

// ------------------------------------------------------------------ PAP
const papFile = join(work, 'pap.txt');
writeFileSync(papFile, users.map((u) => `User-Name = "${u.username}"\nUser-Password = "${u.password}"\nMessage-Authenticator = 0x00\n`).join('\n'));

/** Spawns cmd under sh, which prints its own /proc stat after cmd exits: cutime+cstime is cmd's CPU. */
function spawnCounted(cmd, args) {
  return spawn('sh', ['-c', '"$@"; rc=$?; echo "@@stat $(cat /proc/$$/stat)" >&2; exit $rc', 'sh', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
function childCpu(text) {
  const m = /@@stat (.*)/.exec(text);
  if (!m) return NaN;
  const f = m[1].slice(m[1].lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK; // fields 16, 17: cutime, cstime
}

function radclient(port, count) {
  const args = ['-q', '-s', '-c', String(count), '-p', String(PARALLEL), '-r', '3', '-t', '10', '-f', papFile, `127.0.0.1:${port}`, 'auth', SECRET];
  return new Promise((resolve, reject) => {
    const p = spawnCounted('radclient', args);
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const n = (re) => Number((re.exec(out) ?? [])[1] ?? NaN);
      const r = { code, genCpu: childCpu(err), approved: n(/Accepted\s*:\s*(\d+)/), denied: n(/Rejected\s*:\s*(\d+)/), lost: n(/Lost\s*:\s*(\d+)/) };
      if (!Number.isFinite(r.approved)) return reject(new Error(`radclient ${args.join(' ')} exited ${code}: ${err}\n${out.slice(-2000)}`));
      resolve(r);
    });
  });
}

async function papOnce(s, count) {
  const c0 = cpuOf(s.pid), b0 = boxTicks(), t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: RADCLIENTS }, () => radclient(s.port, count)));
  const wall = (performance.now() - t0) / 1000, cpu = cpuOf(s.pid) - c0, b1 = boxTicks();
  const approved = rs.reduce((a, r) => a + r.approved, 0), denied = rs.reduce((a, r) => a + r.denied, 0), lost = rs.reduce((a, r) => a + r.lost, 0);
  const genUs = (rs.reduce((a, r) => a + r.genCpu, 0) / approved) * 1e6;
  return { approved, denied, lost, wall, cpu, rps: approved / wall, usPer: (cpu / approved) * 1e6, genUs, box: (b1.busy - b0.busy) / (b1.total - b0.total) };
}

// Idle cost: CPU each server burns with no requests (timers, supervision), over IDLE_S seconds.
const IDLE_S = Number(env('IDLE_S', 3));
{
  const c0 = servers.map((s) => cpuOf(s.pid));
  await sleep(IDLE_S * 1000);
  servers.forEach((s, i) => { s.idleMsPerS = ((cpuOf(s.pid) - c0[i]) * 1000) / IDLE_S; log(`${s.name} idle: ${s.idleMsPerS.toFixed(1)} ms CPU per second`); });
}
// Warm-up: one pass of every user (authbox: the first scrypt check of each password fills the verified-password cache).
for (const s of servers) {
  const c0 = cpuOf(s.pid), t0 = performance.now();
  const r = await radclient(s.port, 1);
  log(`warm-up ${s.name}: ${r.approved} approved, ${r.denied} denied, ${r.lost} lost, ${((performance.now() - t0) / 1000).toFixed(2)} s, ` +
    `${((cpuOf(s.pid) - c0) * 1000).toFixed(0)} ms CPU`);
  if (r.approved !== USERS) throw new Error(`${s.name}: warm-up pass approved ${r.approved}/${USERS}: ${s.name === 'authbox' ? authbox.output() : fr.output()}`);
  s.pap = [];
  s.warmCpuMs = (cpuOf(s.pid) - c0) * 1000;
}
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < servers.length; i++) {
    const s = servers[(i + round) % servers.length];
    const r = await papOnce(s, COUNT);
    s.pap.push(r);
    log(`PAP round ${round + 1} ${s.name}: ${r.approved} approved, ${r.denied} denied, ${r.lost} lost, ${fmt(r.rps)} req/s, ` +
      `${r.usPer.toFixed(1)} µs CPU/req (radclient ${r.genUs.toFixed(1)} µs/req), box ${(r.box * 100).toFixed(0)}% busy`);
  }
}

// ------------------------------------------------------------------ EAP-TLS
function eapConf(version) {
  const phase1 = version === '1.3'
    ? 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0'
    : 'tls_disable_tlsv1_3=1';
  const file = join(work, `eap-tls-${version}.conf`);
  writeFileSync(file, `network={
\tkey_mgmt=WPA-EAP
\teap=TLS
\tidentity="${EAP_USER}"
\tca_cert="${join(certs, 'ca.pem')}"
\tclient_cert="${join(certs, 'client.pem')}"
\tprivate_key="${join(certs, 'client.key')}"
\tphase1="${phase1}"
}
`);
  return file;
}
const eapFiles = Object.fromEntries(TLS.map((v) => [v, eapConf(v)]));

function eapol(port, conf) {
  return new Promise((resolve) => {
    const p = spawnCounted('eapol_test', ['-c', conf, '-a', '127.0.0.1', '-p', String(port), '-s', SECRET, '-t', '10']);
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => {
      const ok = code === 0 && /\nSUCCESS/.test(out) && /MPPE keys OK: 1\s+mismatch: 0/.test(out);
      const version = (/(TLSv1\.[23])/.exec(out) ?? [])[1];
      resolve({ ok, out: ok ? '' : (out + err).slice(-3000), version, genCpu: childCpu(err) });
    });
  });
}

async function eapOnce(s, version, total) {
  const conf = eapFiles[version];
  let next = 0, ok = 0, failed = 0, firstFailure = '', gen = 0;
  const versions = new Set();
  const c0 = cpuOf(s.pid), b0 = boxTicks(), t0 = performance.now();
  await Promise.all(Array.from({ length: EAP_PARALLEL }, async () => {
    while (next < total) {
      next++;
      const r = await eapol(s.port, conf);
      if (r.ok) ok++; else { failed++; firstFailure ||= r.out; }
      gen += r.genCpu;
      if (r.version) versions.add(r.version);
    }
  }));
  const wall = (performance.now() - t0) / 1000, cpu = cpuOf(s.pid) - c0, b1 = boxTicks();
  if (failed) log(`${s.name} TLS ${version}: ${failed} failed; first:\n${firstFailure}`);
  return { ok, failed, wall, cpu, gen, rate: ok / wall, msPer: (cpu / Math.max(ok, 1)) * 1000, genMs: (gen / Math.max(ok, 1)) * 1000, box: (b1.busy - b0.busy) / (b1.total - b0.total), versions: [...versions] };
}

for (const s of servers) s.eap = Object.fromEntries(TLS.map((v) => [v, []]));
// Warm-up and check: one authentication per server and version.
for (const v of TLS) for (const s of servers) {
  const r = await eapol(s.port, eapFiles[v]);
  if (!r.ok) throw new Error(`${s.name} EAP-TLS ${v} failed:\n${r.out}\n${s.name === 'authbox' ? authbox.output() : fr.output()}`);
}
for (let round = 0; round < EAP_ROUNDS; round++) {
  for (const v of TLS) {
    for (let i = 0; i < servers.length; i++) {
      const s = servers[(i + round) % servers.length];
      const r = await eapOnce(s, v, Math.round(EAP_TOTAL / EAP_ROUNDS));
      s.eap[v].push(r);
      log(`EAP-TLS ${v} round ${round + 1} ${s.name}: ${r.ok} ok, ${r.failed} failed, ${r.rate.toFixed(1)} auth/s, ${r.msPer.toFixed(2)} ms CPU/auth (eapol_test ${r.genMs.toFixed(1)} ms/auth), ` +
        `box ${(r.box * 100).toFixed(0)}% busy (${r.versions.join(',') || 'version not printed'})`);
    }
  }
}
for (const s of servers) s.rss = rssMiB(s.pid);
await authbox.stop();
await fr.stop();

// ------------------------------------------------------------------ report
const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
const [ab, frs] = servers;
const rows = [['test', 'server', 'done', 'failed', 'rate/s', 'server CPU / req', 'client CPU / req', 'box busy', 'CPU vs FreeRADIUS']];
const results = { pap: {}, eap: {} };
{
  const m = (s) => ({ rps: median(s.pap.map((r) => r.rps)), us: median(s.pap.map((r) => r.usPer)), done: sum(s.pap, 'approved'),
    failed: sum(s.pap, 'denied') + sum(s.pap, 'lost'), box: median(s.pap.map((r) => r.box)), gen: median(s.pap.map((r) => r.genUs)) });
  const a = m(ab), f = m(frs);
  results.pap = { authbox: a, freeradius: f, ratio: a.us / f.us };
  rows.push([`PAP (${RADCLIENTS} radclient -p ${PARALLEL})`, ab.name, fmt(a.done), String(a.failed), fmt(a.rps), `${a.us.toFixed(1)} µs`, `${a.gen.toFixed(1)} µs`, `${(a.box * 100).toFixed(0)}%`, `${(a.us / f.us).toFixed(2)}x`]);
  rows.push(['', frs.name, fmt(f.done), String(f.failed), fmt(f.rps), `${f.us.toFixed(1)} µs`, `${f.gen.toFixed(1)} µs`, `${(f.box * 100).toFixed(0)}%`, '']);
}
for (const v of TLS) {
  const m = (s) => {
    const rs = s.eap[v];
    const ok = sum(rs, 'ok');
    return { rate: ok / sum(rs, 'wall'), ms: (sum(rs, 'cpu') / Math.max(ok, 1)) * 1000, gen: (sum(rs, 'gen') / Math.max(ok, 1)) * 1000, done: ok, failed: sum(rs, 'failed'), box: sum(rs, 'box') / rs.length };
  };
  const a = m(ab), f = m(frs);
  results.eap[v] = { authbox: a, freeradius: f, ratio: a.ms / f.ms };
  rows.push([`EAP-TLS ${v} P-256 (${EAP_PARALLEL} eapol_test)`, ab.name, fmt(a.done), String(a.failed), a.rate.toFixed(1), `${a.ms.toFixed(2)} ms`, `${a.gen.toFixed(1)} ms`, `${(a.box * 100).toFixed(0)}%`, `${(a.ms / f.ms).toFixed(2)}x`]);
  rows.push(['', frs.name, fmt(f.done), String(f.failed), f.rate.toFixed(1), `${f.ms.toFixed(2)} ms`, `${f.gen.toFixed(1)} ms`, `${(f.box * 100).toFixed(0)}%`, '']);
}
console.log(`\nRADIUS on loopback, ${USERS} users, same secret and CA on both sides (${machine()}).`);
console.log(`PAP: ${RADCLIENTS} radclient processes side by side, each sending the ${USERS} requests ${COUNT} times, ${ROUNDS} interleaved rounds ` +
  `(median of rounds; authbox's cache warmed by one pass). EAP-TLS: ${EAP_TOTAL} full authentications per server and version, ` +
  `${EAP_PARALLEL} eapol_test processes at once (fresh process each, no resumption), ${EAP_ROUNDS} rounds (CPU summed). ` +
  `Server CPU: utime+stime of the authbox primary process (RADIUS; all threads) and of radiusd (all threads). ` +
  `Client CPU: radclient / eapol_test processes' own CPU per request. Box busy: both cores, load generators and anything else on the box included. Below 1.00x authbox uses less CPU per request.\n`);
console.log(table(rows));
console.log(`\nResident memory at the end: authbox primary ${ab.rss.toFixed(0)} MiB, radiusd ${frs.rss.toFixed(0)} MiB. ` +
  `Warm-up pass of ${USERS} users (first password check): authbox ${ab.warmCpuMs.toFixed(0)} ms CPU, FreeRADIUS ${frs.warmCpuMs.toFixed(0)} ms CPU. ` +
  `Idle (no requests, ${IDLE_S} s): authbox ${ab.idleMsPerS.toFixed(1)} ms CPU/s, FreeRADIUS ${frs.idleMsPerS.toFixed(1)} ms CPU/s (included in the rows above, not subtracted).`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ results, servers: servers.map(({ name, pap, eap, rss, warmCpuMs, idleMsPerS }) => ({ name, pap, eap, rss, warmCpuMs, idleMsPerS })), machine: machine() }, null, 2));
