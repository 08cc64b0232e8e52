#!/usr/bin/env node
// Certificates issued per second from PKCS#10 requests, ECDSA P-256: authbox's
// CertificateAuthority.issue() (CSR verified, certificate built and signed, stored with a
// durable SQLite commit) against `openssl ca -batch` and `openssl x509 -req` run once
// per CSR, on the same CSRs.
//
//   node bench/issue.mjs
// Environment: CSRS (200 distinct requests, reused round-robin), SECONDS (8: how long
// authbox issues, in all), OPENSSL_N (200 openssl runs each), CLI_N (20 `authbox cert sign`),
// ROUNDS (4: the contenders take turns; each figure is the median of the rounds),
// BATCH (100 certificates per issueMany() call, where the build has issueMany).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import {
  ACTOR, ROOT, authboxCli, dist, fmt, machine, median, requireTools, run, warnIfBusy, runMany, scratch, table,
} from './lib/common.mjs';

requireTools('openssl');
const env = (k, d) => (process.env[k] ? Number(process.env[k]) : d);
const CSRS = env('CSRS', 200);
const SECONDS = env('SECONDS', 8);
const OPENSSL_N = env('OPENSSL_N', 200);
const CLI_N = env('CLI_N', 20);
const ROUNDS = env('ROUNDS', 4);
const BATCH = env('BATCH', 100);
const log = (msg) => process.stderr.write(`[issue] ${msg}\n`);
const work = scratch('issue');
console.log(`Issuance benchmark on ${machine()}`);
await warnIfBusy('issuance');

const { openPkiAt } = await dist('main.js');
const { PROFILES } = await dist('ca/profiles.js');
const { verifyCsr } = await dist('ca/csr.js');
const { fromPem } = await dist('ca/pem.js');
const { makeOpensslCa } = await import('./lib/openssl-ca.mjs');

// ------------------------------------------------------------------ the CSRs
mkdirSync(join(work, 'csrs'));
const csrFiles = Array.from({ length: CSRS }, (_, i) => join(work, 'csrs', `bench-${String(i).padStart(4, '0')}.csr`));
await runMany(csrFiles.map((f, i) => ['openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
  '-keyout', '/dev/null', '-subj', `/CN=bench-${i}`, '-out', f]]));
const csrDer = csrFiles.map((f) => fromPem(readFileSync(f, 'utf8'), ['CERTIFICATE REQUEST']));
log(`${CSRS} CSRs ready`);

// ------------------------------------------------------------------ authbox in-process
const dataDir = join(work, 'authbox');
authboxCli(['init', '--data', dataDir, '--org', 'Bench', '--public-url', 'http://127.0.0.1:18090']);
const pki = openPkiAt(dataDir);

function issueLoop(seconds, label) {
  let n = 0;
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end) {
    const v = verifyCsr(csrDer[n % CSRS]);
    pki.authority.issue({ profile: PROFILES.user, commonName: v.commonName ?? `bench-${n}`, sans: [], subjectSpki: v.spki }, ACTOR);
    n++;
  }
  const s = (performance.now() - t0) / 1000;
  log(`${label}: ${n} certificates in ${s.toFixed(2)} s`);
  return { n, seconds: s, perSecond: n / s };
}

// issueMany() (where the build has it): a batch checked, signed and committed at once.
const hasBatch = typeof pki.authority.issueMany === 'function';
function batchLoop(seconds, label) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const reqs = [];
    for (let k = 0; k < BATCH; k++, n++) {
      const v = verifyCsr(csrDer[n % CSRS]);
      reqs.push({ profile: PROFILES.user, commonName: v.commonName ?? `bench-${n}`, sans: [], subjectSpki: v.spki });
    }
    pki.authority.issueMany(reqs, ACTOR);
  }
  const s = (performance.now() - t0) / 1000;
  log(`${label}: ${n} certificates in ${s.toFixed(2)} s`);
  return n / s;
}

// ------------------------------------------------------------------ OpenSSL, one process per certificate
const oca = makeOpensslCa(join(work, 'openssl'));
let opensslN = 0;
const opensslLoop = (n, argsFor) => {
  const t0 = performance.now();
  for (let i = 0; i < n; i++, opensslN++) run('openssl', argsFor(opensslN));
  return n / ((performance.now() - t0) / 1000);
};
const opensslCa = (n) => opensslLoop(n, (i) => ['ca', '-batch', '-config', oca.config, '-notext', '-in', csrFiles[i % CSRS],
  '-out', join(work, `ca-${i}.pem`)]);
const opensslX509 = (n) => opensslLoop(n, (i) => ['x509', '-req', '-in', csrFiles[i % CSRS], '-CA', oca.issuing, '-CAkey', oca.issuingKey,
  '-set_serial', '0x4' + Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('hex'), '-days', '365', '-sha256',
  '-extfile', oca.config, '-extensions', 'user_cert', '-out', join(work, `x509-${i}.pem`)]);

// ------------------------------------------------------------------ interleaved rounds, medians
// Each round runs every contender briefly, so a noisy moment on the box hits them all.
issueLoop(0.5, 'warm-up');
opensslCa(2);
const rounds = { durable: [], noFsync: [], batch: [], verify: [], ca: [], x509: [], cpuMs: [] };
let durableN = 0, durableSeconds = 0;
for (let round = 0; round < ROUNDS; round++) {
  const cpu0 = process.cpuUsage();
  const d = issueLoop(SECONDS / ROUNDS, `round ${round + 1}: authbox issue(), synchronous=FULL`);
  const cpu = process.cpuUsage(cpu0);
  rounds.durable.push(d.perSecond);
  rounds.cpuMs.push((cpu.user + cpu.system) / 1000 / d.n);
  durableN += d.n; durableSeconds += d.seconds;
  // Where the time goes: issuance without the fsync, and the CSR check alone.
  pki.db.pragma('synchronous = NORMAL');
  rounds.noFsync.push(issueLoop(Math.max(0.5, SECONDS / ROUNDS / 4), `round ${round + 1}: synchronous=NORMAL (not durable, for comparison)`).perSecond);
  pki.db.pragma('synchronous = FULL');
  if (hasBatch) rounds.batch.push(batchLoop(Math.max(0.5, SECONDS / ROUNDS / 4), `round ${round + 1}: issueMany(), batches of ${BATCH}`));
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 250) { verifyCsr(csrDer[n % CSRS]); n++; }
  rounds.verify.push(n / ((performance.now() - t0) / 1000));
  rounds.ca.push(opensslCa(Math.ceil(OPENSSL_N / ROUNDS)));
  rounds.x509.push(opensslX509(Math.ceil(OPENSSL_N / ROUNDS)));
  log(`round ${round + 1}: openssl ca ${rounds.ca.at(-1).toFixed(0)}/s, openssl x509 ${rounds.x509.at(-1).toFixed(0)}/s`);
}
pki.close();
const durable = { n: durableN, seconds: durableSeconds, perSecond: median(rounds.durable), cpuMsPerCert: median(rounds.cpuMs) };
const noFsync = { perSecond: median(rounds.noFsync) };
const batchPerSecond = hasBatch ? median(rounds.batch) : NaN;
const verifyPerSecond = median(rounds.verify);
const caPerSecond = median(rounds.ca);
const x509PerSecond = median(rounds.x509);

// ------------------------------------------------------------------ authbox CLI, one process per certificate
let cliPerSecond;
{
  const t0 = performance.now();
  for (let i = 0; i < CLI_N; i++) {
    authboxCli(['cert', 'sign', '--data', dataDir, '--csr', csrFiles[i % CSRS], '--profile', 'user', '--out', join(work, `cli-${i}.pem`)]);
  }
  cliPerSecond = CLI_N / ((performance.now() - t0) / 1000);
}
// `authbox cert sign-batch` (where the build has it): one process for all the CSRs.
let signBatchPerSecond = NaN;
if (spawnSync(process.execPath, [join(ROOT, 'bin', 'authbox'), 'cert', 'sign-batch', '--help'], { stdio: 'ignore' }).status === 0) {
  mkdirSync(join(work, 'batch-out'));
  const t0 = performance.now();
  authboxCli(['cert', 'sign-batch', '--data', dataDir, '--csr-dir', join(work, 'csrs'), '--profile', 'user', '--out-dir', join(work, 'batch-out')]);
  signBatchPerSecond = CSRS / ((performance.now() - t0) / 1000);
}

// Sanity: both sides produced certificates that chain.
run('openssl', ['verify', '-CAfile', oca.root, '-untrusted', oca.issuing, '-purpose', 'sslclient', join(work, 'ca-0.pem')]);
const chain = join(work, 'authbox-chain.pem');
writeFileSync(chain, authboxCli(['ca', 'cert', '--data', dataDir]));
run('openssl', ['verify', '-CAfile', chain, '-purpose', 'sslclient', join(work, 'cli-0.pem')]);

// ------------------------------------------------------------------ report
const best = Math.max(caPerSecond, x509PerSecond);
console.log(`\nCertificates issued per second from ${CSRS} distinct P-256 CSRs (reused round-robin), issuing CA ECDSA P-256, user profile; ` +
  `median of ${ROUNDS} interleaved rounds\n`);
console.log(table([
  ['issuer', 'certs/s', 'ms/cert', 'vs best openssl'],
  ['authbox issue() in-process (verify CSR, sign, durable SQLite commit)', fmt(durable.perSecond), (1000 / durable.perSecond).toFixed(2),
    `${(durable.perSecond / best).toFixed(2)}x`],
  ['authbox issue(), synchronous=NORMAL (no fsync; not what authbox runs)', fmt(noFsync.perSecond), (1000 / noFsync.perSecond).toFixed(2),
    `${(noFsync.perSecond / best).toFixed(2)}x`],
  ...(hasBatch ? [[`authbox issueMany(), batches of ${BATCH} (verify CSRs, sign, one durable commit per batch)`, fmt(batchPerSecond),
    (1000 / batchPerSecond).toFixed(2), `${(batchPerSecond / best).toFixed(2)}x`]] : []),
  ['authbox verifyCsr() alone', fmt(verifyPerSecond), (1000 / verifyPerSecond).toFixed(3), ''],
  ['authbox cert sign (CLI, one process per certificate)', fmt(cliPerSecond, 1), (1000 / cliPerSecond).toFixed(1), `${(cliPerSecond / best).toFixed(2)}x`],
  ...(Number.isFinite(signBatchPerSecond) ? [[`authbox cert sign-batch (CLI, one process for ${CSRS} CSRs)`, fmt(signBatchPerSecond),
    (1000 / signBatchPerSecond).toFixed(2), `${(signBatchPerSecond / best).toFixed(2)}x`]] : []),
  ['openssl ca -batch (one process per certificate)', fmt(caPerSecond), (1000 / caPerSecond).toFixed(2), ''],
  ['openssl x509 -req (one process per certificate)', fmt(x509PerSecond), (1000 / x509PerSecond).toFixed(2), ''],
]));
console.log(`\nauthbox in-process: ${durable.n} certificates in ${durable.seconds.toFixed(1)} s; per certificate ${(1000 / durable.perSecond).toFixed(2)} ms ` +
  `of wall time and ${durable.cpuMsPerCert.toFixed(2)} ms of process CPU (all threads); without the fsync ${(1000 / noFsync.perSecond).toFixed(2)} ms. ` +
  `Goal 1,000/s: ${durable.perSecond >= 1000 ? 'met' : 'not met'}.`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ durable, noFsync, batchPerSecond, signBatchPerSecond, verifyPerSecond, cliPerSecond, caPerSecond, x509PerSecond }, null, 2));
