#!/usr/bin/env node
// OCSP responses per second: authbox (1 and 2 HTTP workers) against the OpenSSL 3.0
// responder and cfssl's ocspserve, on loopback, same certificates' serials, same
// request mix, one load generator (ab: 8 processes of -c 1, one request file each) for
// all; then latency at a fixed rate (bench/lib/loadgen.mjs).
//
//   node bench/ocsp.mjs            (re-runs itself in a private network namespace)
// Environment (defaults in brackets):
//   CERTS [1000] certificates, REVOKED_PCT [10] of them revoked; MIX [8] request files,
//   one `ab -c 1` each, side by side; N_CLOSE [30000] requests one per connection and
//   N_KEEPALIVE [60000] keep-alive per configuration, in ROUNDS [3] interleaved rounds;
//   WORKERS ["1 2"] values of `serve --http-workers` (a build that starts no worker
//   process for N > 1 is reported and skipped); RATE [2000] requests/s for RATE_SECONDS
//   [10] in the fixed-rate part; SINGLE=0 skips the one-`ab -c 8` table (N_SINGLE
//   [20000]); REFERENCE=0 skips the fixed-answer Node reference servers; BENCH_KEEP=1
//   keeps the scratch folder; BENCH_JSON=FILE writes the numbers as JSON;
//   AUTHBOX_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the daemons.
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACTOR, BENCH_DIR, ab, authboxCli, cpuSecondsBetween, cpuSnapshot, dist, fmt, machine, median, percentile,
  processTree, requireTools, warnIfBusy, rng, run, scratch, sleep, startAuthbox, startServer, table, waitListening,
} from './lib/common.mjs';

// The OpenSSL responder binds only the wildcard address: everything runs in a private
// network namespace with its own loopback, the load generator included.
if (process.env.BENCH_IN_NETNS !== '1') {
  requireTools('unshare', 'ip');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, BENCH_IN_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}

requireTools('ab', 'openssl', 'cfssl', 'pgrep');
const env = (k, d) => (process.env[k] !== undefined && process.env[k] !== '' ? Number(process.env[k]) : d);
const CERTS = env('CERTS', 1000);
const REVOKED_PCT = env('REVOKED_PCT', 10);
const MIX = env('MIX', 8);
const N_CLOSE = env('N_CLOSE', 30000);
const N_KEEPALIVE = env('N_KEEPALIVE', 60000);
const RATE = env('RATE', 2000);
const RATE_SECONDS = env('RATE_SECONDS', 10);
const SINGLE = process.env.SINGLE !== '0';
const N_SINGLE = env('N_SINGLE', 20000);
const ROUNDS = env('ROUNDS', 3);
const REFERENCE = process.env.REFERENCE !== '0';
const WORKERS = (process.env.WORKERS ?? '1 2').split(/[ ,]+/).map(Number).filter((n) => n > 0);
const PORT = { authbox: 18080, openssl: 18081, cfssl: 18082, opensslMulti: 18085, floorHttp: 18086, floorNet: 18087 }; // authbox with N workers: 18090+N

const work = scratch('ocsp');
const log = (msg) => process.stderr.write(`[ocsp] ${msg}\n`);
console.log(`OCSP benchmark on ${machine()}`);
await warnIfBusy('OCSP');

// ------------------------------------------------------------------ authbox data
const dataDir = join(work, 'authbox');
authboxCli(['init', '--data', dataDir, '--org', 'Bench', '--public-url', `http://127.0.0.1:${PORT.authbox}`]);
const { openPkiAt } = await dist('main.js');
const { PROFILES } = await dist('ca/profiles.js');
const { generateKey, spkiDer } = await dist('ca/keys.js');
const { toPem } = await dist('ca/pem.js');
const { ocspRequestBuilder } = await import('./lib/ocsp-req.mjs');
const { makeOpensslCa, indexLine } = await import('./lib/openssl-ca.mjs');

const REASONS = [1, 4, 3, 5, 0]; // keyCompromise, superseded, affiliationChanged, cessationOfOperation, unspecified
const certs = [];
let issuingPem;
{
  const pki = openPkiAt(dataDir);
  // OCSP looks at serials only: one subject key for all keeps set-up short.
  const spki = spkiDer(generateKey('ec-p256'));
  const t0 = performance.now();
  for (let i = 0; i < CERTS; i++) {
    const c = pki.authority.issue({ profile: PROFILES.user, commonName: `bench-user-${i}`, sans: [], subjectSpki: spki }, ACTOR);
    certs.push({ serialHex: c.serial, notAfter: c.notAfter, revokedAt: null, reason: null, cn: `bench-user-${i}` });
  }
  const t1 = performance.now();
  const every = Math.round(100 / REVOKED_PCT);
  for (let i = 0; i < CERTS; i += every) {
    const reason = REASONS[(i / every) % REASONS.length];
    const r = pki.authority.revoke(certs[i].serialHex, reason, ACTOR);
    Object.assign(certs[i], { revokedAt: r.revokedAt, reason });
  }
  log(`issued ${CERTS} certificates in ${((t1 - t0) / 1000).toFixed(1)} s, revoked ${certs.filter((c) => c.revokedAt).length}`);
  issuingPem = toPem('CERTIFICATE', pki.authority.chain()[0]);
  writeFileSync(join(work, 'authbox-chain.pem'), pki.authority.chain().map((d) => toPem('CERTIFICATE', d)).join(''));
  pki.close();
}
writeFileSync(join(work, 'authbox-issuing.pem'), issuingPem);

// ------------------------------------------------------------------ OpenSSL side
// authbox's CA keys are sealed in its database, so the peers get their own CA made by
// openssl (same key type) with the same serials, statuses, revocation times and reasons.
const oca = makeOpensslCa(join(work, 'openssl'));
writeFileSync(oca.index, certs.map((c) => indexLine(c)).join(''));
writeFileSync(join(work, 'openssl-chain.pem'), readFileSync(oca.issuing, 'utf8') + readFileSync(oca.root, 'utf8'));

// The request mix: the same MIX serials on both sides, one in ten revoked.
const pick = rng(7);
const revokedIdx = certs.map((c, i) => (c.revokedAt ? i : -1)).filter((i) => i >= 0);
const goodIdx = certs.map((c, i) => (c.revokedAt ? -1 : i)).filter((i) => i >= 0);
const nRevoked = Math.max(1, Math.round((MIX * REVOKED_PCT) / 100));
const mixIdx = [
  ...Array.from({ length: nRevoked }, () => revokedIdx[Math.floor(pick() * revokedIdx.length)]),
  ...Array.from({ length: MIX - nRevoked }, () => goodIdx[Math.floor(pick() * goodIdx.length)]),
];
const sides = {
  authbox: { issuer: join(work, 'authbox-issuing.pem'), chain: join(work, 'authbox-chain.pem') },
  peer: { issuer: oca.issuing, chain: join(work, 'openssl-chain.pem') },
};
for (const [name, side] of Object.entries(sides)) {
  const build = ocspRequestBuilder(readFileSync(side.issuer, 'utf8'));
  side.build = build;
  side.mix = mixIdx.map((idx, k) => {
    const file = join(work, `req-${name}-${k}.der`);
    run('openssl', ['ocsp', '-issuer', side.issuer, '-serial', '0x' + certs[idx].serialHex, '-no_nonce', '-reqout', file]);
    if (!readFileSync(file).equals(build(certs[idx].serialHex))) throw new Error('request builder disagrees with openssl -reqout');
    return file;
  });
}

// ------------------------------------------------------------------ servers
const opensslArgs = (multi, port) => ['ocsp', '-index', oca.index, '-port', String(port), '-rsigner', oca.ocspCert, '-rkey', oca.ocspKey,
  '-CA', oca.issuing, '-nmin', '60', '-ignore_err', ...(multi > 1 ? ['-multi', String(multi)] : [])];

async function startOpenssl(multi, port) {
  const s = startServer('openssl', opensslArgs(multi, port), { log: join(work, `openssl-${multi}.log`) });
  await waitListening(port, 10_000, s.proc);
  await sleep(multi > 1 ? 500 : 100);
  return s;
}

// cfssl serves pre-signed responses: one per certificate, made by the OpenSSL responder
// (what `openssl ocsp -index ... -reqin -respout` writes, a thousand times faster over HTTP).
{
  const s = await startOpenssl(1, PORT.openssl);
  const lines = [];
  for (const c of certs) {
    const body = sides.peer.build(c.serialHex);
    const res = await fetch(`http://127.0.0.1:${PORT.openssl}/`, { method: 'POST', body, headers: { 'content-type': 'application/ocsp-request' } });
    if (!res.ok) throw new Error(`openssl responder answered ${res.status}`);
    lines.push(Buffer.from(await res.arrayBuffer()).toString('base64'));
  }
  await s.stop();
  writeFileSync(join(work, 'cfssl-responses.b64'), lines.join('\n') + '\n');
}

/** Checks one revoked and one good answer with the real openssl client before measuring. */
function check(name, port, side) {
  for (const k of [0, MIX - 1]) {
    const idx = mixIdx[k];
    const r = spawnSync('openssl', ['ocsp', '-issuer', side.issuer, '-CAfile', side.chain, '-serial', '0x' + certs[idx].serialHex,
      '-url', `http://127.0.0.1:${port}/ocsp`, '-no_nonce'], { encoding: 'utf8' });
    const expected = certs[idx].revokedAt ? 'revoked' : 'good';
    if (!r.stdout.includes(`: ${expected}`) || !/Response verify OK/.test(r.stderr + r.stdout)) {
      throw new Error(`${name} gave a wrong answer for ${certs[idx].serialHex} (want ${expected}): ${r.stdout}${r.stderr}`);
    }
  }
}

/**
 * The whole mix through ab, n requests in all: one ab -c 1 per request file, all side by
 * side (concurrency MIX = 8), so the mix is interleaved. A single `ab -c 8` cannot be
 * used: near its end it opens connections it then closes unused, and the OpenSSL 3.0
 * responder spins forever on such a connection. CPU is the server's whole process tree.
 */
async function measureOnce(t, keepAlive, n) {
  const url = `http://127.0.0.1:${t.port}/ocsp`;
  const each = Math.round(n / t.side.mix.length);
  const before = cpuSnapshot(t.server.pid);
  const t0 = performance.now();
  const runs = await Promise.all(t.side.mix.map((file, k) => ab({ url, file, n: each, c: 1, keepAlive, gnuplot: join(work, `ab-${k}.tsv`) })));
  const wall = (performance.now() - t0) / 1000;
  const cpu = cpuSecondsBetween(before, cpuSnapshot(t.server.pid));
  let complete = 0, failures = 0;
  const times = [];
  for (const r of runs) {
    if (!Number.isFinite(r.complete)) throw new Error(`${t.name}: cannot read ab's output (exit ${r.code}):\n${r.raw}\n${r.stderr}`);
    complete += r.complete; failures += r.failures;
    for (const x of r.ttimes) times.push(x);
  }
  return { complete, wall, cpu, failures, times };
}

/** As the issue measured it: one `ab -c 8` process, one request file (a good certificate). */
async function measureSingle(t, keepAlive, n) {
  const url = `http://127.0.0.1:${t.port}/ocsp`;
  const file = t.side.mix[1];
  if (!t.name.startsWith('openssl')) await ab({ url, file, n: 2000, c: 8, keepAlive }); // warm-up (OpenSSL cannot take two ab -c 8 runs)
  const before = cpuSnapshot(t.server.pid);
  const r = await ab({ url, file, n, c: 8, keepAlive });
  const cpu = cpuSecondsBetween(before, cpuSnapshot(t.server.pid));
  const result = { name: t.name, mode: keepAlive ? 'keep-alive' : 'close', processes: processTree(t.server.pid).length, rps: r.rps, p50: r.p50, p99: r.p99,
    cpuPer1000: (cpu / r.complete) * 1000, failures: r.failures };
  log(`single ab -c 8, ${t.name} ${result.mode}: ${fmt(result.rps)} req/s, ${result.cpuPer1000.toFixed(3)} CPU s/1000`);
  return result;
}

async function fixedRate(t, keepAlive) {
  const cfgFile = join(work, `loadgen-${t.name.replace(/\W+/g, '_')}-${keepAlive}.json`);
  writeFileSync(cfgFile, JSON.stringify({
    port: t.port, path: '/ocsp', bodies: t.side.mix, rate: RATE, durationS: RATE_SECONDS, warmupS: Math.min(2, RATE_SECONDS / 4), keepAlive,
    connections: keepAlive ? 32 : 64,
  }));
  const r = JSON.parse(run(process.execPath, [join(BENCH_DIR, 'lib', 'loadgen.mjs'), cfgFile]));
  log(`${t.name} ${keepAlive ? 'keep-alive' : 'close'} @${RATE}/s: p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, max ${r.max.toFixed(1)} ms, errors ${r.errors}, non-200 ${r.non200}`);
  return { name: t.name, mode: keepAlive ? 'keep-alive' : 'close', ...r };
}

// Every server runs at once, idle but for the one being measured, and the rounds go
// round-robin over them, so a noisy moment on the box is spread over all of them.
const targets = [];
let clusterNote = '';
for (const [k, workers] of WORKERS.entries()) {
  // Each authbox instance gets its own copy of the same data folder (same CA, same certificates).
  const dir = k === 0 ? dataDir : `${dataDir}-${workers}`;
  if (dir !== dataDir) cpSync(dataDir, dir, { recursive: true });
  const port = PORT.authbox + 10 + workers;
  const s = await startAuthbox(dir, port, workers, { log: join(work, `authbox-${workers}.log`) });
  if (workers > 1 && processTree(s.pid).length < 2) {
    clusterNote = `--http-workers ${workers} started no worker processes in this build: skipped`;
    log(clusterNote);
    await s.stop();
    continue;
  }
  targets.push({ name: `authbox ${workers} worker${workers > 1 ? 's' : ''}`, server: s, port, side: sides.authbox, modes: [false, true] });
}
for (const multi of [1, 2]) {
  const port = multi > 1 ? PORT.opensslMulti : PORT.openssl;
  targets.push({ name: multi > 1 ? `openssl ocsp -multi ${multi}` : 'openssl ocsp', multi, server: await startOpenssl(multi, port), port, side: sides.peer, modes: [false] });
}
{
  const s = startServer('cfssl', ['ocspserve', '-address', '127.0.0.1', '-port', String(PORT.cfssl), '-responses', join(work, 'cfssl-responses.b64')],
    { log: join(work, 'cfssl.log') });
  await waitListening(PORT.cfssl, 10_000, s.proc);
  targets.push({ name: 'cfssl ocspserve', server: s, port: PORT.cfssl, side: sides.peer, modes: [false, true] });
}

// Reference rows (not peers): what Node itself costs per response, serving one fixed answer.
if (REFERENCE && targets[0]?.name.startsWith('authbox')) {
  const res = await fetch(`http://127.0.0.1:${targets[0].port}/ocsp`, { method: 'POST', body: readFileSync(sides.authbox.mix[1]),
    headers: { 'content-type': 'application/ocsp-request' } });
  const file = join(work, 'fixed-response.der');
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  for (const [kind, port] of [['http', PORT.floorHttp], ['net', PORT.floorNet]]) {
    const s = startServer(process.execPath, [join(BENCH_DIR, 'lib', 'floor-server.mjs'), kind, String(port), file], { log: join(work, `floor-${kind}.log`) });
    await waitListening(port, 10_000, s.proc);
    targets.push({ name: `ref: node:${kind}, fixed answer`, reference: true, server: s, port, side: sides.authbox, modes: [false, true] });
  }
}

const configs = targets.flatMap((t) => t.modes.map((keepAlive) => ({ t, keepAlive, rounds: [] })));
for (const t of targets) if (!t.reference) check(t.name, t.port, t.side);
for (const c of configs) {
  const url = `http://127.0.0.1:${c.t.port}/ocsp`;
  await Promise.all(c.t.side.mix.map((file) => ab({ url, file, n: 300, c: 1, keepAlive: c.keepAlive }))); // warm-up: every answer cached
}
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < configs.length; i++) {
    const c = configs[(i + round) % configs.length];
    c.rounds.push(await measureOnce(c.t, c.keepAlive, (c.keepAlive ? N_KEEPALIVE : N_CLOSE) / ROUNDS));
  }
  log(`round ${round + 1}/${ROUNDS} done`);
}
const results = configs.map((c) => {
  const times = c.rounds.flatMap((r) => r.times).sort((a, b) => a - b);
  const r = {
    name: c.t.name, mode: c.keepAlive ? 'keep-alive' : 'close', processes: processTree(c.t.server.pid).length,
    rps: median(c.rounds.map((x) => x.complete / x.wall)), rpsRounds: c.rounds.map((x) => Math.round(x.complete / x.wall)),
    cpuPer1000: median(c.rounds.map((x) => (x.cpu / x.complete) * 1000)),
    p50: percentile(times, 50), p99: percentile(times, 99), failures: c.rounds.reduce((a, x) => a + x.failures, 0),
    complete: c.rounds.reduce((a, x) => a + x.complete, 0),
  };
  log(`${r.name} ${r.mode}: ${fmt(r.rps)} req/s (rounds ${r.rpsRounds.join(', ')}), p50 ${r.p50} ms, p99 ${r.p99} ms, ${r.cpuPer1000.toFixed(3)} CPU s/1000`);
  return r;
});

const fixed = [];
for (const c of configs) if (!c.t.reference) fixed.push(await fixedRate(c.t, c.keepAlive));

const single = [];
if (SINGLE) {
  for (const c of configs) {
    if (c.t.reference) continue;
    if (c.t.multi) {
      // A fresh responder: one ab -c 8 run leaves it spinning on an unused connection.
      await c.t.server.stop();
      c.t.server = await startOpenssl(c.t.multi, c.t.port);
    }
    single.push(await measureSingle(c.t, c.keepAlive, c.keepAlive ? N_SINGLE * 2 : N_SINGLE));
    if (c.t.multi) await c.t.server.stop(); // now spinning: stop it before the next one is measured
  }
}
for (const t of targets) await t.server.stop();

// ------------------------------------------------------------------ report
const isAuthbox = (r) => r.name.startsWith('authbox');
const isReference = (r) => r.name.startsWith('ref:');
function report(list) {
  const rows = [['server', 'mode', 'procs', 'req/s', 'p50 ms', 'p99 ms', 'CPU s/1000', 'failed', 'req/s vs best peer', 'CPU/resp vs best peer']];
  for (const mode of ['close', 'keep-alive']) {
    const peers = list.filter((r) => r.mode === mode && !isAuthbox(r) && !isReference(r));
    const fastest = peers.reduce((a, b) => (!a || b.rps > a.rps ? b : a), undefined);
    const leanest = peers.reduce((a, b) => (!a || b.cpuPer1000 < a.cpuPer1000 ? b : a), undefined);
    for (const r of list.filter((x) => x.mode === mode)) {
      rows.push([r.name, mode === 'close' ? 'one per conn' : 'keep-alive', String(r.processes), fmt(r.rps), String(r.p50), String(r.p99),
        r.cpuPer1000.toFixed(3), String(r.failures),
        isAuthbox(r) && fastest ? `${(r.rps / fastest.rps).toFixed(2)}x (${fastest.name})` : '',
        isAuthbox(r) && leanest ? `${(r.cpuPer1000 / leanest.cpuPer1000).toFixed(2)}x (${leanest.name})` : '']);
    }
  }
  return table(rows);
}
console.log(`\nOCSP, ${CERTS} certificates (${REVOKED_PCT}% revoked), a mix of ${MIX} requests without nonce (SHA-1 CertID): ${MIX} ab -c 1 side by side, ` +
  `${N_CLOSE} requests one per connection and ${N_KEEPALIVE} keep-alive per server in ${ROUNDS} interleaved rounds (req/s and CPU: median of the rounds; ` +
  `latency: all requests pooled). CPU s/1000: server CPU seconds (all its processes) per 1,000 responses; ` +
  `CPU/resp below 1.00x means authbox spends less CPU per response than the leanest peer.\n`);
console.log(report(results));
if (results.some(isReference)) {
  console.log('ref: rows are not peers: a Node process answering every POST with one fixed, pre-made response (bench/lib/floor-server.mjs), ' +
    'through node:http or a bare net server: the floor of what a Node responder costs per response on this box.');
}
if (clusterNote) console.log(`\nnote: ${clusterNote}`);
if (single.length) {
  console.log(`\nThe same with one ab -c 8 process and one request file (a good certificate), ${N_SINGLE} requests (${N_SINGLE * 2} keep-alive), as the issue measured it\n`);
  console.log(report(single));
}
console.log(`\nFixed rate ${RATE} requests/s for ${RATE_SECONDS} s (first 2 s not counted), latency from the scheduled send time (bench/lib/loadgen.mjs)\n`);
const frows = [['server', 'mode', 'achieved/s', 'p50 ms', 'p90 ms', 'p99 ms', 'p99.9 ms', 'max ms', 'errors']];
for (const r of fixed) {
  frows.push([r.name, r.mode === 'close' ? 'one per conn' : 'keep-alive', fmt(r.achievedRps), r.p50.toFixed(2), r.p90.toFixed(2),
    r.p99.toFixed(2), r.p999.toFixed(2), r.max.toFixed(1), String(r.errors + r.non200 + r.lost)]);
}
console.log(table(frows));
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ results, single, fixed, machine: machine() }, null, 2));
