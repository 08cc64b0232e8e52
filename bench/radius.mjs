#!/usr/bin/env node
// RADIUS against FreeRADIUS 3.2, side by side in one run on loopback: PAP with radclient,
// full EAP-TLS authentications (TLS 1.2 and 1.3; ECDSA P-256 and RSA-2048 keys) and full
// PEAP-MSCHAPv2 authentications (TLS 1.2 and 1.3, P-256 server certificate) with parallel
// eapol_test processes. Both servers get the same users, the same shared secret and
// certificates from the same authbox CA. radclient and eapol_test share the two cores
// with the servers, so rates are bounded by the load generators: compare the servers by
// CPU per request, read from /proc/PID/stat (utime+stime, all threads).
//
// One pair of servers per key type, all started at the start and idle outside their rows:
// for key type K, `authbox init --key-type K` (its CA hierarchy and its own TLS server
// certificate, which EAP serves, are of type K), a client certificate `authbox cert issue
// --key-type K`, and a FreeRADIUS instance serving a `--key-type K` server certificate from
// that CA. PAP and PEAP run on the ec-p256 pair. The key type each server really served is
// read from the chain eapol_test received (-o FILE) and printed under the table.
//
// authbox: RADIUS runs in the primary process of `authbox serve` (HTTP workers are
// separate processes and idle here): the CPU counted is the primary's, every thread
// (scrypt runs in libuv's pool). FreeRADIUS: the one radiusd process, every thread.
//
//   node bench/radius.mjs
//   (memory with 10,000 EAP sessions in flight: node bench/eap-sessions.mjs)
// Environment (defaults in brackets):
//   USERS [100] users; RADCLIENTS [3] radclient processes side by side, each
//   `-p PARALLEL [64]`, sending the USERS requests COUNT [60] times each; ROUNDS [3]
//   interleaved PAP rounds (0: no PAP row; the one warm-up pass still runs);
//   EAP_TOTAL [200] full authentications per server and EAP row, EAP_PARALLEL [8]
//   eapol_test processes at once, in EAP_ROUNDS [2] rounds, after EAP_WARMUP [40] uncounted ones;
//   TLS ["1.2 1.3"] TLS versions of the EAP-TLS rows; KEYS ["ec-p256 rsa-2048"] key types
//   of the EAP-TLS rows (authbox --key-type names: ec-p256, ec-p384, rsa-2048, rsa-3072);
//   PEAP ["1.2 1.3"] TLS versions of the PEAP-MSCHAPv2 rows ("" for none; identity user1);
//   IDLE_S [3] seconds of idle CPU measured first; AUTHBOX_NODE_ARGS go to authbox's
//   node, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'; BENCH_JSON=FILE writes the results.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, machine, median, requireTools, scratch, sleep, table, warnIfBusy } from './lib/common.mjs';
import { configureFreeradius, freeradiusVersion, startFreeradius } from './lib/freeradius.mjs';
import {
  KEY_LABEL, boxTicks, certKeyType, childCpu, cpuOf, eapol, eapolConf, prepareAuthbox, rssMiB, spawnCounted, startAuthboxRadius,
} from './lib/radius-setup.mjs';

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
const list = (k, d) => env(k, d).split(/\s+/).filter(Boolean);
const TLS = list('TLS', '1.2 1.3');
const KEYS = list('KEYS', 'ec-p256 rsa-2048');
const PEAP = list('PEAP', '1.2 1.3');
const SECRET = 'bench-radius-secret';
const base = 20000 + Math.floor(Math.random() * 20000);

const log = (...a) => console.error('[radius]', ...a);
await warnIfBusy('RADIUS');
const work = scratch('radius');
log(`scratch ${work}`);

// ------------------------------------------------------------------ data and servers
// One data folder (CA, authbox's TLS certificate, client and FreeRADIUS certificates) and
// one pair of servers per key type: ec-p256 always (PAP and PEAP run there, with every
// user), plus each other type in KEYS (EAP-TLS only, with the EAP user).
const users = Array.from({ length: USERS }, (_, i) => ({ username: `user${i}`, password: `pass-word-${i}-${(i * 7919).toString(36)}` }));
const EAP_USER = users[0].username;
const PEAP_USER = users[1 % USERS];
const keyTypes = [...new Set(['ec-p256', ...KEYS])];
for (const k of keyTypes) if (!KEY_LABEL[k]) throw new Error(`KEYS: unknown key type ${k} (${Object.keys(KEY_LABEL).join(', ')})`);
const sets = {};
for (const [i, keyType] of keyTypes.entries()) {
  const dir = join(work, keyType);
  const ports = { http: base + 10 * i, radius: base + 10 * i + 1, acct: base + 10 * i + 2, freeradius: base + 10 * i + 3 };
  const prepared = await prepareAuthbox(dir, { keyType, secret: SECRET, users: keyType === 'ec-p256' ? users : [users[0]], eapUser: EAP_USER });
  const raddb = configureFreeradius(join(dir, 'freeradius'), {
    port: ports.freeradius, secret: SECRET, users,
    tls: { certChain: prepared.certs.serverChain, key: prepared.certs.serverKey, caFile: prepared.certs.ca },
  });
  const fr = await startFreeradius(raddb, join(dir, 'freeradius.log'));
  log(`[${keyType}] freeradius ${freeradiusVersion()} pid ${fr.pid} on 127.0.0.1:${ports.freeradius}`);
  const authbox = await startAuthboxRadius(prepared.dataDir, ports, join(dir, 'authbox.log'));
  log(`[${keyType}] authbox pid ${authbox.pid} (${authbox.processes} processes) RADIUS on 127.0.0.1:${ports.radius}`);
  sets[keyType] = {
    keyType, label: KEY_LABEL[keyType], certs: prepared.certs, clientKey: certKeyType(prepared.certs.client),
    servers: [
      { name: 'authbox', pid: authbox.pid, port: ports.radius, handle: authbox },
      { name: `FreeRADIUS ${freeradiusVersion()}`, pid: fr.pid, port: ports.freeradius, handle: fr },
    ],
  };
}
const allServers = Object.values(sets).flatMap((k) => k.servers);
const servers = sets['ec-p256'].servers;
const stopAll = () => Promise.all(allServers.map((s) => s.handle.stop()));

// ------------------------------------------------------------------ PAP
const papFile = join(work, 'pap.txt');
writeFileSync(papFile, users.map((u) => `User-Name = "${u.username}"\nUser-Password = "${u.password}"\nMessage-Authenticator = 0x00\n`).join('\n'));

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
  const c0 = allServers.map((s) => cpuOf(s.pid));
  await sleep(IDLE_S * 1000);
  allServers.forEach((s, i) => { s.idleMsPerS = ((cpuOf(s.pid) - c0[i]) * 1000) / IDLE_S; });
  for (const k of Object.values(sets)) log(`[${k.keyType}] idle: ${k.servers.map((s) => `${s.name} ${s.idleMsPerS.toFixed(1)}`).join(', ')} ms CPU per second`);
}
// Warm-up: one pass of every user (authbox: the first scrypt check of each password fills the verified-password cache).
for (const s of servers) {
  const c0 = cpuOf(s.pid), t0 = performance.now();
  const r = await radclient(s.port, 1);
  log(`warm-up ${s.name}: ${r.approved} approved, ${r.denied} denied, ${r.lost} lost, ${((performance.now() - t0) / 1000).toFixed(2)} s, ` +
    `${((cpuOf(s.pid) - c0) * 1000).toFixed(0)} ms CPU`);
  if (r.approved !== USERS) throw new Error(`${s.name}: warm-up pass approved ${r.approved}/${USERS}: ${s.handle.output()}`);
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

// ------------------------------------------------------------------ EAP-TLS and PEAP
// Each test: a pair of servers (one key type) and one eapol_test configuration.
const tests = [];
for (const keyType of KEYS) {
  for (const v of TLS) {
    const k = sets[keyType];
    tests.push({
      id: `tls-${keyType}-${v}`, method: 'EAP-TLS', version: v, set: k, label: `EAP-TLS ${v} ${k.label}`,
      conf: eapolConf(join(work, `eap-tls-${keyType}-${v}.conf`), { method: 'TLS', version: v, identity: EAP_USER, certs: k.certs }),
    });
  }
}
for (const v of PEAP) {
  const k = sets['ec-p256'];
  tests.push({
    id: `peap-${v}`, method: 'PEAP-MSCHAPv2', version: v, set: k, label: `PEAP-MSCHAPv2 ${v} ${k.label}`,
    conf: eapolConf(join(work, `peap-${v}.conf`), { method: 'PEAP', version: v, identity: PEAP_USER.username, password: PEAP_USER.password, certs: k.certs }),
  });
}

async function eapOnce(s, conf, total, label) {
  let next = 0, ok = 0, failed = 0, firstFailure = '', gen = 0;
  const versions = new Set();
  const c0 = cpuOf(s.pid), b0 = boxTicks(), t0 = performance.now();
  await Promise.all(Array.from({ length: EAP_PARALLEL }, async () => {
    while (next < total) {
      next++;
      const r = await eapol(s.port, conf, SECRET);
      if (r.ok) ok++; else { failed++; firstFailure ||= r.out; }
      gen += r.genCpu;
      if (r.version) versions.add(r.version);
    }
  }));
  const wall = (performance.now() - t0) / 1000, cpu = cpuOf(s.pid) - c0, b1 = boxTicks();
  if (failed) log(`${label} ${s.name}: ${failed} failed; first:\n${firstFailure}`);
  return { ok, failed, wall, cpu, gen, rate: ok / wall, msPer: (cpu / Math.max(ok, 1)) * 1000, genMs: (gen / Math.max(ok, 1)) * 1000, box: (b1.busy - b0.busy) / (b1.total - b0.total), versions: [...versions] };
}

// Warm-up and check: one authentication per server and test, saving the server certificate
// chain the supplicant received (eapol_test -o) to read the key type each server really used.
for (const t of tests) {
  t.runs = {};
  t.served = {};
  for (const s of t.set.servers) {
    const certOut = join(work, `served-${t.id}-${s.port}.pem`);
    const r = await eapol(s.port, t.conf, SECRET, certOut);
    if (!r.ok) throw new Error(`${s.name} ${t.label} failed:\n${r.out}\n${s.handle.output()}`);
    t.served[s.name] = certKeyType(certOut);
    t.runs[s.name] = [];
    log(`${t.label} check ${s.name}: ok, ${r.version ?? 'version not printed'}, server certificate ${t.served[s.name]}` +
      `${t.method === 'EAP-TLS' ? `, client certificate ${t.set.clientKey}` : ''}`);
  }
}
// Uncounted warm-up rounds, the same for both servers: a daemon that has run for a while
// has its JavaScript compiled (V8's optimizing compiler runs on first use); FreeRADIUS has
// nothing to warm. EAP_WARMUP [40] authentications per server and row.
const EAP_WARMUP = Number(process.env.EAP_WARMUP ?? 40);
if (EAP_WARMUP > 0) {
  for (const t of tests) for (const s of t.set.servers) {
    const r = await eapOnce(s, t.conf, EAP_WARMUP, `${t.label} warm-up`);
    if (r.failed) throw new Error(`${s.name} ${t.label}: ${r.failed} warm-up authentications failed`);
  }
  log(`warm-up: ${EAP_WARMUP} uncounted authentications per server and row`);
}
for (let round = 0; round < EAP_ROUNDS; round++) {
  for (const t of tests) {
    for (let i = 0; i < t.set.servers.length; i++) {
      const s = t.set.servers[(i + round) % t.set.servers.length];
      const r = await eapOnce(s, t.conf, Math.round(EAP_TOTAL / EAP_ROUNDS), t.label);
      t.runs[s.name].push(r);
      log(`${t.label} round ${round + 1} ${s.name}: ${r.ok} ok, ${r.failed} failed, ${r.rate.toFixed(1)} auth/s, ${r.msPer.toFixed(2)} ms CPU/auth (eapol_test ${r.genMs.toFixed(1)} ms/auth), ` +
        `box ${(r.box * 100).toFixed(0)}% busy (${r.versions.join(',') || 'version not printed'})`);
    }
  }
}
for (const s of allServers) s.rss = rssMiB(s.pid);
await stopAll();

// ------------------------------------------------------------------ report
const sum = (xs, k) => xs.reduce((a, x) => a + x[k], 0);
// n/a when FreeRADIUS's CPU rounded to zero ticks (tiny runs: /proc counts 10 ms ticks).
const ratio = (a, f) => (f > 0 && Number.isFinite(a / f) ? `${(a / f).toFixed(2)}x` : 'n/a');
const [ab, frs] = servers;
const rows = [['test', 'server', 'done', 'failed', 'rate/s', 'server CPU / req', 'client CPU / req', 'box busy', 'CPU vs FreeRADIUS']];
const results = { pap: {}, eap: {} };
if (ROUNDS > 0) {
  const m = (s) => ({ rps: median(s.pap.map((r) => r.rps)), us: median(s.pap.map((r) => r.usPer)), done: sum(s.pap, 'approved'),
    failed: sum(s.pap, 'denied') + sum(s.pap, 'lost'), box: median(s.pap.map((r) => r.box)), gen: median(s.pap.map((r) => r.genUs)) });
  const a = m(ab), f = m(frs);
  results.pap = { authbox: a, freeradius: f, ratio: a.us / f.us };
  rows.push([`PAP (${RADCLIENTS} radclient -p ${PARALLEL})`, ab.name, fmt(a.done), String(a.failed), fmt(a.rps), `${a.us.toFixed(1)} µs`, `${a.gen.toFixed(1)} µs`, `${(a.box * 100).toFixed(0)}%`, ratio(a.us, f.us)]);
  rows.push(['', frs.name, fmt(f.done), String(f.failed), fmt(f.rps), `${f.us.toFixed(1)} µs`, `${f.gen.toFixed(1)} µs`, `${(f.box * 100).toFixed(0)}%`, '']);
}
const keyNotes = [];
for (const t of tests) {
  const m = (s) => {
    const rs = t.runs[s.name];
    const ok = sum(rs, 'ok');
    return { rate: ok / sum(rs, 'wall'), ms: (sum(rs, 'cpu') / Math.max(ok, 1)) * 1000, gen: (sum(rs, 'gen') / Math.max(ok, 1)) * 1000, done: ok, failed: sum(rs, 'failed'),
      box: sum(rs, 'box') / Math.max(rs.length, 1), served: t.served[s.name] };
  };
  const [sa, sf] = t.set.servers;
  const a = m(sa), f = m(sf);
  results.eap[t.id] = { label: t.label, authbox: a, freeradius: f, ratio: a.ms / f.ms, clientKey: t.method === 'EAP-TLS' ? t.set.clientKey : undefined };
  rows.push([`${t.label} (${EAP_PARALLEL} eapol_test)`, sa.name, fmt(a.done), String(a.failed), a.rate.toFixed(1), `${a.ms.toFixed(2)} ms`, `${a.gen.toFixed(1)} ms`, `${(a.box * 100).toFixed(0)}%`, ratio(a.ms, f.ms)]);
  rows.push(['', sf.name, fmt(f.done), String(f.failed), f.rate.toFixed(1), `${f.ms.toFixed(2)} ms`, `${f.gen.toFixed(1)} ms`, `${(f.box * 100).toFixed(0)}%`, '']);
  keyNotes.push(`${t.label}: authbox served ${a.served}, FreeRADIUS served ${f.served}` + (t.method === 'EAP-TLS' ? `, client ${t.set.clientKey}` : ', no client certificate'));
}
console.log(`\nRADIUS on loopback, ${USERS} users, same secret and CA on both sides (${machine()}).`);
console.log(`PAP: ${RADCLIENTS} radclient processes side by side, each sending the ${USERS} requests ${COUNT} times, ${ROUNDS} interleaved rounds ` +
  `(median of rounds; authbox's cache warmed by one pass). EAP-TLS and PEAP-MSCHAPv2: ${EAP_TOTAL} full authentications per server and row, ` +
  `${EAP_PARALLEL} eapol_test processes at once (fresh process each, no resumption), ${EAP_ROUNDS} rounds (CPU summed). ` +
  `Server CPU: utime+stime of the authbox primary process (RADIUS; all threads) and of radiusd (all threads). ` +
  `Client CPU: radclient / eapol_test processes' own CPU per request. Box busy: both cores, load generators and anything else on the box included. Below 1.00x authbox uses less CPU per request.\n`);
console.log(table(rows));
console.log(`\nKey types (server certificate as received by eapol_test -o, client certificate read with openssl x509):\n  ${keyNotes.join('\n  ')}`);
const rss = (k) => k.servers.map((s) => `${s.name === 'authbox' ? 'authbox primary' : 'radiusd'} ${s.rss.toFixed(0)} MiB`).join(', ');
console.log(`\nResident memory at the end: ${Object.values(sets).map((k) => `[${k.label} pair] ${rss(k)}`).join('; ')}. ` +
  (ROUNDS > 0 || ab.warmCpuMs !== undefined ? `Warm-up pass of ${USERS} users (first password check): authbox ${ab.warmCpuMs.toFixed(0)} ms CPU, FreeRADIUS ${frs.warmCpuMs.toFixed(0)} ms CPU. ` : '') +
  `Idle (no requests, ${IDLE_S} s): authbox ${ab.idleMsPerS.toFixed(1)} ms CPU/s, FreeRADIUS ${frs.idleMsPerS.toFixed(1)} ms CPU/s (included in the rows above, not subtracted).`);
if (process.env.BENCH_JSON) {
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({
    results,
    servers: allServers.map(({ name, pid, pap, rss: r, warmCpuMs, idleMsPerS }) => ({ name, pid, pap, rss: r, warmCpuMs, idleMsPerS })),
    machine: machine(),
  }, null, 2));
}
