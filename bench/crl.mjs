#!/usr/bin/env node
// A CRL of 100,000 revoked certificates: authbox's encoder and signer against
// `openssl ca -gencrl` on the same entries (same serials, revocation times and reasons,
// same issuer name and the same P-256 key), then the daemon's own path (status index,
// publication into SQLite) and OCSP latency while the running daemon re-issues it.
//
//   node bench/crl.mjs      (re-runs itself in a private network namespace, so its
//                            ports cannot clash with anything; NO_NETNS=1 runs it here)
// Environment: ENTRIES (100000), RUNS (5), RATE (2000), LIVE_SECONDS (12),
// WORKERS ("1 2": the daemon's --http-workers in the live part), BENCH_KEEP=1,
// BENCH_JSON=FILE, AUTHBOX_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the daemon.
import { spawnSync } from 'node:child_process';
import { createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ACTOR, AUTHBOX_BIN, BENCH_DIR, authboxCli, dist, fmt, machine, median, requireTools, run, warnIfBusy, scratch, startAuthbox, table,
} from './lib/common.mjs';

if (process.env.BENCH_IN_NETNS !== '1' && process.env.NO_NETNS !== '1') {
  requireTools('unshare', 'ip');
  const r = spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', process.execPath, ...process.argv.slice(1)], {
    stdio: 'inherit', env: { ...process.env, BENCH_IN_NETNS: '1' },
  });
  process.exit(r.status ?? 1);
}
requireTools('openssl');

const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const ENTRIES = env('ENTRIES', 100_000);
const RUNS = env('RUNS', 5);
const RATE = env('RATE', 2000);
const LIVE_SECONDS = env('LIVE_SECONDS', 12);
const WORKERS = (process.env.WORKERS ?? '1 2').split(/[ ,]+/).map(Number).filter((n) => n > 0);
const PORT = 18083;
const log = (msg) => process.stderr.write(`[crl] ${msg}\n`);
const work = scratch('crl');
console.log(`CRL benchmark on ${machine()}`);
await warnIfBusy('CRL');

const { encodeRevokedEntry, buildCrl } = await dist('ca/crl.js');
const { keySigner } = await dist('ca/keys.js');
const { readCertificate } = await dist('ca/x509.js');
const { fromPem } = await dist('ca/pem.js');
const { makeOpensslCa, indexLine } = await import('./lib/openssl-ca.mjs');

// ------------------------------------------------------------------ the entries
const REASONS = [1, 4, 3, 5, 0]; // keyCompromise, superseded, affiliationChanged, cessationOfOperation, unspecified
const now = Math.floor(Date.now() / 1000) * 1000;
const entries = Array.from({ length: ENTRIES }, (_, i) => {
  const b = randomBytes(16);
  b[0] = (b[0] & 0x7f) | 0x40; // authbox's serial shape: 16 octets, positive
  return {
    serialHex: b.toString('hex'), revokedAt: now - 30 * 86_400_000 + i * 1000, reason: REASONS[i % REASONS.length],
    notAfter: now + 365 * 86_400_000, cn: `revoked-${i}`,
  };
});

// ------------------------------------------------------------------ OpenSSL
// One CA for both sides: authbox signs with the very key and name `openssl ca` uses.
const oca = makeOpensslCa(join(work, 'openssl'));
writeFileSync(oca.index, entries.map((e) => indexLine(e)).join(''));
const chain = join(work, 'chain.pem');
writeFileSync(chain, readFileSync(oca.issuing, 'utf8') + readFileSync(oca.root, 'utf8'));
const opensslTimes = [];
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  run('openssl', ['ca', '-gencrl', '-config', oca.config, '-out', join(work, 'openssl-crl.pem')]);
  opensslTimes.push((performance.now() - t0) / 1000);
}
run('openssl', ['crl', '-in', join(work, 'openssl-crl.pem'), '-outform', 'DER', '-out', join(work, 'openssl-crl.der')]);
const opensslSize = statSync(join(work, 'openssl-crl.der')).size;
const opensslPemSize = statSync(join(work, 'openssl-crl.pem')).size;

// ------------------------------------------------------------------ authbox, the encoder
const signer = keySigner(createPrivateKey(readFileSync(oca.issuingKey)));
const issuer = readCertificate(fromPem(readFileSync(oca.issuing, 'utf8'), ['CERTIFICATE']));
const encodeTimes = [], buildTimes = [];
let der;
for (let i = 0; i < RUNS; i++) {
  const t0 = performance.now();
  const encoded = entries.map((e) => encodeRevokedEntry(e.serialHex, new Date(e.revokedAt), e.reason));
  const t1 = performance.now();
  der = buildCrl({
    issuerNameDer: issuer.subjectDer, issuerSpki: issuer.spki, signer, thisUpdate: new Date(now),
    nextUpdate: new Date(now + 86_400_000), crlNumber: i + 1, entries: encoded,
  });
  const t2 = performance.now();
  encodeTimes.push((t1 - t0) / 1000);
  buildTimes.push((t2 - t1) / 1000);
}
writeFileSync(join(work, 'authbox-crl.der'), der);
for (const [who, file] of [['authbox', 'authbox-crl.der'], ['openssl', 'openssl-crl.der']]) {
  const r = spawnSync('openssl', ['crl', '-inform', 'DER', '-in', join(work, file), '-CAfile', chain, '-noout'], { encoding: 'utf8' });
  if (!/verify OK/.test(r.stderr + r.stdout)) throw new Error(`${who} CRL does not verify: ${r.stderr}`);
}
const count = (file) => run('openssl', ['crl', '-inform', 'DER', '-in', join(work, file), '-noout', '-text']).split('Serial Number:').length - 1;
const nAuthbox = count('authbox-crl.der'), nOpenssl = count('openssl-crl.der');
if (nAuthbox !== ENTRIES || nOpenssl !== ENTRIES) throw new Error(`entry counts differ: authbox ${nAuthbox}, openssl ${nOpenssl}`);

// ------------------------------------------------------------------ authbox, the daemon's path
// A real data folder with ENTRIES revoked certificates stored through dist/store (one
// outer transaction, so loading takes seconds, not one fsync per row).
const dataDir = join(work, 'authbox');
authboxCli(['init', '--data', dataDir, '--org', 'Bench', '--public-url', `http://127.0.0.1:${PORT}`]);
const { openPkiAt } = await dist('main.js');
const { PROFILES } = await dist('ca/profiles.js');
const { generateKey, spkiDer } = await dist('ca/keys.js');
const { CertStatusIndex } = await dist('ca/cert-status.js');
const { CrlPublisher } = await dist('ca/crl-publisher.js');
const { toPem } = await dist('ca/pem.js');
const { ocspRequestBuilder } = await import('./lib/ocsp-req.mjs');
const good = [];
let indexSeconds, publishTimes = [], daemonCrlBytes;
{
  const pki = openPkiAt(dataDir);
  const spki = spkiDer(generateKey('ec-p256'));
  for (let i = 0; i < 8 + 3 * WORKERS.length + 1; i++) {
    good.push(pki.authority.issue({ profile: PROFILES.user, commonName: `live-${i}`, sans: [], subjectSpki: spki }, ACTOR));
  }
  const ca = pki.authority.issuingCa();
  const t0 = performance.now();
  pki.db.transaction(() => {
    for (const e of entries) {
      pki.store.insertCertificate({
        caId: ca.record.id, serial: e.serialHex, profile: 'user', subject: `CN=${e.cn}`, commonName: e.cn, username: null, sans: [],
        notBefore: now - 86_400_000, notAfter: e.notAfter, issuedAt: now - 86_400_000, der: good[0].der,
        status: 'revoked', revokedAt: e.revokedAt, reason: e.reason,
      }, ACTOR);
    }
  })();
  log(`stored ${ENTRIES} revoked certificates in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const t1 = performance.now();
  const status = new CertStatusIndex(pki.store);
  indexSeconds = (performance.now() - t1) / 1000;
  const quiet = { info() {}, warn() {}, error() {}, debug() {}, child() { return quiet; } };
  const publisher = new CrlPublisher(pki.authority, status, pki.store, { validitySeconds: 86_400, debounceMs: 300 }, () => new Date(), quiet);
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    daemonCrlBytes = publisher.publish(ca).der.length;
    publishTimes.push((performance.now() - t) / 1000);
  }
  writeFileSync(join(work, 'authbox-issuing.pem'), toPem('CERTIFICATE', pki.authority.chain()[0]));
  pki.close();
}

// ------------------------------------------------------------------ OCSP while the daemon re-issues it
async function liveRun(workers, round) {
  const t0 = performance.now();
  const logFile = join(work, `serve-${workers}.log`);
  const server = await startAuthbox(dataDir, PORT, workers, { log: logFile });
  const startup = (performance.now() - t0) / 1000;
  const build = ocspRequestBuilder(readFileSync(join(work, 'authbox-issuing.pem'), 'utf8'));
  const bodies = [...good.slice(0, 7).map((c) => c.serial), entries[12345 % ENTRIES].serialHex].map((s, k) => {
    const f = join(work, `req-${k}.der`);
    writeFileSync(f, build(s));
    return f;
  });
  // Three revocations, each followed (after the 300 ms debounce) by a 100k-entry CRL.
  const eventsAt = [LIVE_SECONDS * 0.35, LIVE_SECONDS * 0.6, LIVE_SECONDS * 0.85];
  const cfg = join(work, 'loadgen.json');
  const timeline = join(work, `timeline-${workers}.tsv`);
  writeFileSync(cfg, JSON.stringify({
    port: PORT, bodies, rate: RATE, durationS: LIVE_SECONDS, warmupS: 1, keepAlive: true, connections: 32, timelineFile: timeline,
    events: eventsAt.map((atS, k) => ({
      atS, cmd: process.execPath,
      args: [AUTHBOX_BIN, 'cert', 'revoke', '--data', dataDir, '--serial', good[8 + round * 3 + k].serial, '--reason', 'superseded'],
    })),
  }));
  const r = JSON.parse(run(process.execPath, [join(BENCH_DIR, 'lib', 'loadgen.mjs'), cfg]));
  await new Promise((res) => setTimeout(res, 1500));
  const crl = Buffer.from(await (await fetch(`http://127.0.0.1:${PORT}/crl/issuing.crl`)).arrayBuffer());
  await server.stop();
  const published = readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes('CRL published') && l.includes('"issuing"'));
  // Latency from each revocation command's start to 1 s after it returned (the CRL is
  // re-issued inside that window) against the rest of the run.
  const rows = readFileSync(timeline, 'utf8').trim().split('\n').map((l) => l.split('\t').map(Number));
  const inWindow = (t) => r.events.some((e) => t >= e.atMs && t < e.atMs + e.tookMs + 1000);
  const during = [], outside = [];
  for (const [t, l] of rows) if (t >= 1000 && l >= 0) (inWindow(t) ? during : outside).push(l);
  const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]; };
  const res = {
    workers, startup, crlBytes: crl.length, crlsPublished: published.length, total: r, processes: server.processes,
    during: { n: during.length, p50: pct(during, 50), p99: pct(during, 99), max: Math.max(...during) },
    outside: { n: outside.length, p50: pct(outside, 50), p99: pct(outside, 99), max: Math.max(...outside) },
  };
  log(`live, ${workers} worker(s): p99 ${res.during.p99.toFixed(2)} ms around revocations, ${res.outside.p99.toFixed(2)} ms otherwise`);
  return res;
}
const live = [];
for (const [round, workers] of WORKERS.entries()) live.push(await liveRun(workers, round));

// ------------------------------------------------------------------ report
const oS = median(opensslTimes), eS = median(encodeTimes), bS = median(buildTimes), pS = median(publishTimes);
console.log(`\nCRL of ${fmt(ENTRIES)} revoked certificates (reasons: keyCompromise, superseded, affiliationChanged, cessationOfOperation, none), ` +
  `ECDSA P-256, median of ${RUNS} runs\n`);
console.log(table([
  ['generator', 'seconds', 'DER bytes', 'speed vs openssl'],
  ['openssl ca -gencrl (process: config, index.txt, sign, PEM out)', oS.toFixed(3), fmt(opensslSize), '1.00x'],
  [`authbox encode ${fmt(ENTRIES)} entries (encodeRevokedEntry)`, eS.toFixed(3), '', ''],
  ['authbox buildCrl from encoded entries (concat + sign)', bS.toFixed(3), fmt(der.length), `${(oS / bS).toFixed(2)}x`],
  ['authbox encode + build + sign (cold)', (eS + bS).toFixed(3), fmt(der.length), `${(oS / (eS + bS)).toFixed(2)}x`],
  ['authbox daemon publish (entries kept encoded; + SQLite commit)', pS.toFixed(3), fmt(daemonCrlBytes), `${(oS / pS).toFixed(2)}x`],
]));
console.log(`\nopenssl wrote ${fmt(opensslPemSize)} bytes of PEM; both CRLs verify with openssl crl -CAfile and list ${fmt(ENTRIES)} entries.`);
console.log(`authbox status index load (${fmt(ENTRIES)} rows read and encoded, done once at daemon start): ${indexSeconds.toFixed(3)} s`);
console.log(`\nOCSP at ${RATE}/s keep-alive while the daemon (with ${fmt(ENTRIES)} revoked certificates) re-issued its ` +
  `${fmt(live[0].crlBytes)}-byte CRL after each of 3 CLI revocations, ${LIVE_SECONDS} s per run; window "around" = from the ` +
  `revocation command's start to 1 s after it returned\n`);
const lrows = [['daemon', 'start-up s', 'CRLs published', 'window', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'errors']];
for (const l of live) {
  const d = `--http-workers ${l.workers} (${l.processes} proc)`;
  const errs = String(l.total.errors + l.total.non200 + l.total.lost);
  lrows.push([d, l.startup.toFixed(1), String(l.crlsPublished), 'around a revocation', fmt(l.during.n), l.during.p50.toFixed(2), l.during.p99.toFixed(2), l.during.max.toFixed(1), errs]);
  lrows.push(['', '', '', 'rest of the run', fmt(l.outside.n), l.outside.p50.toFixed(2), l.outside.p99.toFixed(2), l.outside.max.toFixed(1), '']);
  lrows.push(['', '', '', 'whole run', fmt(l.total.measured), l.total.p50.toFixed(2), l.total.p99.toFixed(2), l.total.max.toFixed(1), '']);
}
console.log(table(lrows));
console.log(`(CRLs published counts the issuing CA's, start-up included; the revocation CLI took ` +
  live.flatMap((l) => l.total.events.map((e) => `${(e.tookMs / 1000).toFixed(2)}`)).join(', ') + ' s)');
if (process.env.BENCH_JSON) {
  writeFileSync(process.env.BENCH_JSON, JSON.stringify({ opensslTimes, encodeTimes, buildTimes, publishTimes, opensslSize, authboxSize: der.length, indexSeconds, live }, null, 2));
}
