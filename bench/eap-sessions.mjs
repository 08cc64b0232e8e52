#!/usr/bin/env node
// Resident memory with many EAP conversations in flight, authbox against FreeRADIUS 3.2,
// side by side in one run on loopback (same users, secret and CA; see bench/radius.mjs).
//
// Each session is an EAP-TLS handshake left pending after the server's first flight:
//   1. Access-Request with EAP-Response/Identity  -> Access-Challenge, EAP-TLS Start, State
//   2. Access-Request with the State and an EAP-TLS response carrying a TLS ClientHello
//                                                 -> Access-Challenge with the server's first
//                                                    flight (its first EAP fragment)
// and nothing more, so each server holds a TLS connection mid-handshake per session until
// its session timer drops it (authbox: 60 s and at most 10,000 sessions,
// src/radius/eap/sessions.ts; FreeRADIUS: timer_expire = 60, max_sessions = FR_MAX_SESSIONS,
// raised from ${max_requests} for this run). The ClientHello is made once by node:tls
// (tls.connect over an in-memory Duplex; the first bytes it writes) and sent in every
// session: its random and key share repeat, which no server checks and which does not
// change what a pending handshake costs in memory. Access-Requests are signed here with
// Message-Authenticator (bench/lib/radius-client.mjs, independent of authbox's codec);
// replies are checked by their Response Authenticator. At most WINDOW sessions are in
// progress at once; a request not answered within RETRY_S is sent again (same bytes, as a
// NAS retransmits; the servers' duplicate detection answers a retransmission of a request
// they did see), up to RETRIES times, and both retransmissions and the kernel's UDP
// receive-buffer drops (RcvbufErrors in /proc/net/snmp, whole box) are reported. Every
// session that got its second challenge is counted; anything else (timeouts, rejects) too.
//
// Memory: VmRSS of the authbox primary process (which holds the RADIUS socket, the EAP
// engine and its TLS connections; HTTP workers are separate and idle) and of radiusd, read
// after a warm-up authentication (before) and right after the last session got its challenge
// (with sessions), each server loaded in turn; the peak is the highest VmRSS sampled every
// 100 ms during the run. CPU: utime+stime of the same processes over the run.
//
//   node bench/eap-sessions.mjs
// Environment (defaults in brackets):
//   SESSIONS [10000] sessions per server; WINDOW [200] sessions in progress at once;
//   SOCKETS [8] UDP sockets (256 RADIUS Identifiers each); KEY [ec-p256] key type of the CA,
//   the server certificates and the client certificate (authbox --key-type names);
//   SESSION_TLS [1.3] TLS version the ClientHello offers (1.2 or 1.3); FR_MAX_SESSIONS
//   [16384]; RETRY_S [2] seconds before a retransmission, RETRIES [4]; SERVERS ["authbox freeradius"] which servers and in
//   what order; BENCH_JSON=FILE writes the results.
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, machine, requireTools, scratch, sleep, table, warnIfBusy } from './lib/common.mjs';
import { configureFreeradius, freeradiusVersion, startFreeradius } from './lib/freeradius.mjs';
import { KEY_LABEL, certKeyType, cpuOf, eapol, eapolConf, prepareAuthbox, rssMiB, startAuthboxRadius } from './lib/radius-setup.mjs';
import { ATTR, CODE, EAP, RadiusClient, attribute, eapAttributes, eapOf } from './lib/radius-client.mjs';

requireTools('freeradius', 'eapol_test', 'openssl');

const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const SESSIONS = Number(env('SESSIONS', 10000));
const WINDOW = Number(env('WINDOW', 200));
const SOCKETS = Number(env('SOCKETS', 8));
const KEY = env('KEY', 'ec-p256');
const SESSION_TLS = env('SESSION_TLS', '1.3');
const FR_MAX_SESSIONS = Number(env('FR_MAX_SESSIONS', 16384));
const RETRY_S = Number(env('RETRY_S', 2));
const RETRIES = Number(env('RETRIES', 4));
const ORDER = env('SERVERS', 'authbox freeradius').split(/\s+/).filter(Boolean);
const SESSION_MAX_AGE_S = 60; // authbox's EAP session table default and FreeRADIUS's timer_expire here
if (!KEY_LABEL[KEY]) throw new Error(`KEY: unknown key type ${KEY}`);
if (!['1.2', '1.3'].includes(SESSION_TLS)) throw new Error('SESSION_TLS: 1.2 or 1.3');
if (WINDOW > SOCKETS * 250) throw new Error('WINDOW: at most 250 per socket (RADIUS Identifiers)');
const SECRET = 'bench-radius-secret';
const base = 20000 + Math.floor(Math.random() * 20000);
const PORT = { http: base, radius: base + 1, acct: base + 2, freeradius: base + 3 };

const log = (...a) => console.error('[eap-sessions]', ...a);
await warnIfBusy('EAP sessions');
const work = scratch('eap-sessions');
log(`scratch ${work}`);

// ------------------------------------------------------------------ data and servers
const users = Array.from({ length: 4 }, (_, i) => ({ username: `user${i}`, password: `pass-word-${i}-${(i * 7919).toString(36)}` }));
const EAP_USER = users[0].username;
const prepared = await prepareAuthbox(work, { keyType: KEY, secret: SECRET, users: [users[0]], eapUser: EAP_USER });
const raddb = configureFreeradius(join(work, 'freeradius'), {
  port: PORT.freeradius, secret: SECRET, users, maxSessions: FR_MAX_SESSIONS,
  tls: { certChain: prepared.certs.serverChain, key: prepared.certs.serverKey, caFile: prepared.certs.ca },
});
const fr = await startFreeradius(raddb, join(work, 'freeradius.log'));
log(`freeradius ${freeradiusVersion()} pid ${fr.pid} on 127.0.0.1:${PORT.freeradius} (eap max_sessions = ${FR_MAX_SESSIONS})`);
const authbox = await startAuthboxRadius(prepared.dataDir, PORT, join(work, 'authbox.log'));
log(`authbox pid ${authbox.pid} (${authbox.processes} processes) RADIUS on 127.0.0.1:${PORT.radius}`);
const all = {
  authbox: { name: 'authbox', pid: authbox.pid, port: PORT.radius, handle: authbox },
  freeradius: { name: `FreeRADIUS ${freeradiusVersion()}`, pid: fr.pid, port: PORT.freeradius, handle: fr },
};
const servers = ORDER.map((k) => all[k] ?? (() => { throw new Error(`SERVERS: unknown ${k}`); })());

// ------------------------------------------------------------------ the ClientHello
/** The first TLS record a node:tls client writes: its ClientHello. */
function captureClientHello(version) {
  return new Promise((resolve, reject) => {
    let socket;
    const duplex = new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        resolve(Buffer.from(chunk));
        cb();
        setImmediate(() => socket.destroy());
      },
    });
    const v = `TLSv${version}`;
    socket = tls.connect({ socket: duplex, minVersion: v, maxVersion: v, ca: readFileSync(prepared.certs.ca), servername: 'radius.bench' });
    socket.on('error', (e) => { if (!/destroyed|ECONNRESET|socket hang up/i.test(String(e.message))) reject(e); });
  });
}
const clientHello = await captureClientHello(SESSION_TLS);
if (clientHello[0] !== 22 || clientHello[5] !== 1) throw new Error(`not a ClientHello record: ${clientHello.subarray(0, 8).toString('hex')}`);
log(`ClientHello: ${clientHello.length} bytes (TLS ${SESSION_TLS} only), reused for every session`);

// ------------------------------------------------------------------ one session
function eapPacket(code, id, type, data) {
  const p = Buffer.concat([Buffer.from([code, id, 0, 0, type]), data]);
  p.writeUInt16BE(p.length, 2);
  return p;
}
const ip = Buffer.from([127, 0, 0, 1]);
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

/** Runs one session to the server's first flight; returns 'challenged' or why not. */
async function session(client, n) {
  const common = [
    [ATTR.userName, Buffer.from(EAP_USER)],
    [ATTR.nasIpAddress, ip],
    [ATTR.calledStationId, Buffer.from('02-00-00-00-00-00:bench')],
    [ATTR.callingStationId, Buffer.from(`02-${[(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff, 0, 1].map((x) => x.toString(16).padStart(2, '0')).join('-')}`)],
    [ATTR.framedMtu, u32(1400)],
    [ATTR.nasPortType, u32(19)], // Wireless-802.11
  ];
  const identity = eapPacket(EAP.response, n & 0xff, EAP.identity, Buffer.from(EAP_USER));
  const r1 = await client.request([...common, ...eapAttributes(identity)]);
  if (!r1) return 'timeout (identity)';
  if (r1.code !== CODE.accessChallenge) return `code ${r1.code} to identity`;
  const state = attribute(r1, ATTR.state), start = eapOf(r1);
  if (!state || !start) return 'challenge without State or EAP-Message';
  if (start[0] !== EAP.request || start[4] !== EAP.tls || !(start[5] & 0x20)) return `not EAP-TLS Start (EAP type ${start[4]})`;
  // RFC 5216 §3.2: flags 0 (one fragment, no length), then the TLS records.
  const hello = eapPacket(EAP.response, start[1], EAP.tls, Buffer.concat([Buffer.from([0]), clientHello]));
  const r2 = await client.request([...common, [ATTR.state, state], ...eapAttributes(hello)]);
  if (!r2) return 'timeout (ClientHello)';
  if (r2.code !== CODE.accessChallenge) return `code ${r2.code} to ClientHello`;
  const flight = eapOf(r2);
  if (!flight || flight[0] !== EAP.request || flight[4] !== EAP.tls) return 'second challenge not EAP-TLS';
  // The TLS data (after the flags and, with the L flag, a 4-byte length) starts with a
  // handshake record (content type 22): the ServerHello.
  const at = 6 + (flight[5] & 0x80 ? 4 : 0);
  if (flight.length <= at || flight[at] !== 22) return 'second challenge without a TLS handshake record';
  return 'challenged';
}

/** The kernel's count of UDP datagrams dropped because a socket's receive buffer was full (whole box). */
function udpRcvbufErrors() {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/), values = lines[1].split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

async function load(s) {
  const client = new RadiusClient({ port: s.port, secret: SECRET, sockets: SOCKETS, retryMs: RETRY_S * 1000, retries: RETRIES });
  await client.ready();
  const outcomes = new Map();
  let next = 0, firstAt, peak = rssMiB(s.pid);
  const sampler = setInterval(() => { peak = Math.max(peak, rssMiB(s.pid)); }, 100);
  const c0 = cpuOf(s.pid), rssBefore = rssMiB(s.pid), drops0 = udpRcvbufErrors(), t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(WINDOW, SESSIONS) }, async () => {
    while (next < SESSIONS) {
      const n = next++;
      const o = await session(client, n);
      if (o === 'challenged') firstAt ??= performance.now();
      outcomes.set(o, (outcomes.get(o) ?? 0) + 1);
    }
  }));
  const wall = (performance.now() - t0) / 1000;
  const rssWith = rssMiB(s.pid), cpu = cpuOf(s.pid) - c0, udpDrops = udpRcvbufErrors() - drops0;
  clearInterval(sampler);
  peak = Math.max(peak, rssWith);
  client.close();
  const challenged = outcomes.get('challenged') ?? 0;
  // authbox says how many conversations its EAP workers hold (/healthz radius.eap.sessions, relayed every 250 ms).
  let held;
  if (s.name === 'authbox') {
    await sleep(400);
    try {
      const h = await (await fetch(`http://127.0.0.1:${PORT.http}/healthz`)).json();
      held = h.radius?.eap?.sessions;
    } catch { /* not reported */ }
    log(`authbox reports ${held ?? 'no count of'} EAP sessions held`);
  }
  const oldestAgeS = firstAt === undefined ? 0 : (performance.now() - firstAt) / 1000;
  return { challenged, held, outcomes: Object.fromEntries(outcomes), wall, cpu, rssBefore, rssWith, peak, oldestAgeS, udpDrops, stats: client.stats };
}

// Warm-up and check: one full EAP-TLS authentication per server (TLS contexts, code paths),
// saving the server chain eapol_test received to read the key type each server served.
const conf = eapolConf(join(work, 'eap-tls.conf'), { method: 'TLS', version: SESSION_TLS, identity: EAP_USER, certs: prepared.certs });
for (const s of servers) {
  const certOut = join(work, `served-${s.port}.pem`);
  const r = await eapol(s.port, conf, SECRET, certOut);
  if (!r.ok) throw new Error(`${s.name}: warm-up EAP-TLS failed:\n${r.out}\n${s.handle.output()}`);
  s.served = certKeyType(certOut);
  log(`warm-up ${s.name}: EAP-TLS ok, ${r.version ?? 'version not printed'}, server certificate ${s.served}`);
}
await sleep(1000);
for (const s of servers) {
  s.result = await load(s);
  const r = s.result;
  log(`${s.name}: ${r.challenged}/${SESSIONS} sessions got the server's first flight in ${r.wall.toFixed(1)} s (${JSON.stringify(r.outcomes)}), ` +
    `RSS ${r.rssBefore.toFixed(1)} -> ${r.rssWith.toFixed(1)} MiB (peak ${r.peak.toFixed(1)}), ${(r.cpu * 1000).toFixed(0)} ms CPU; ` +
    `${r.stats.sent} requests, ${r.stats.retransmits} retransmissions (UDP receive-buffer drops on the box: ${r.udpDrops}), ` +
    `${r.stats.timeouts} unanswered after ${RETRIES} retransmissions, ${r.stats.badAuthenticator} bad Response Authenticators`);
  if (r.oldestAgeS >= SESSION_MAX_AGE_S) log(`WARNING: the oldest session was ${r.oldestAgeS.toFixed(0)} s old at the measurement: some may have expired`);
}
await authbox.stop();
await fr.stop();

// ------------------------------------------------------------------ report
const perKiB = (r) => (r.challenged ? ((r.rssWith - r.rssBefore) * 1024) / r.challenged : NaN);
const rows = [['test', 'server', 'sessions', 'challenged', 'held (server says)', 'not', 'retransmitted', 'RSS before', 'RSS with sessions', 'peak RSS', 'RSS / session', 'server CPU / session', 'oldest age', 'RSS vs FreeRADIUS']];
const fRes = all.freeradius.result;
const results = {};
for (const s of servers) {
  const r = s.result;
  const per = perKiB(r), fPer = fRes ? perKiB(fRes) : NaN;
  results[s.name] = { ...r, kibPerSession: per, served: s.served };
  rows.push([
    s === servers[0] ? `${fmt(SESSIONS)} EAP-TLS ${SESSION_TLS} ${KEY_LABEL[KEY]} sessions pending (window ${WINDOW})` : '', s.name, fmt(SESSIONS), fmt(r.challenged), r.held === undefined ? '-' : fmt(r.held), fmt(SESSIONS - r.challenged), fmt(r.stats.retransmits),
    `${r.rssBefore.toFixed(1)} MiB`, `${r.rssWith.toFixed(1)} MiB`, `${r.peak.toFixed(1)} MiB`, `${per.toFixed(1)} KiB`,
    `${((r.cpu / Math.max(r.challenged, 1)) * 1000).toFixed(2)} ms`, `${r.oldestAgeS.toFixed(0)} s`,
    s.name === 'authbox' && fRes && fPer > 0 ? `${(per / fPer).toFixed(2)}x` : '',
  ]);
}
console.log(`\nEAP sessions in flight on loopback (${machine()}).`);
console.log(`Each session: EAP-Response/Identity -> EAP-TLS Start (State) -> ClientHello (TLS ${SESSION_TLS}, one captured from node:tls, reused) -> ` +
  `the server's first flight, then left pending. At most ${WINDOW} sessions in progress at once over ${SOCKETS} UDP sockets; ` +
  `requests signed with Message-Authenticator, retransmitted after ${RETRY_S} s without an answer (up to ${RETRIES} times). RSS: VmRSS of the authbox primary process / radiusd after a warm-up authentication (before) ` +
  `and right after the last challenge (with sessions); peak sampled every 100 ms; per session = (with - before) / challenged. ` +
  `Server CPU: utime+stime over the run per challenged session (two round trips and the server's first flight, no client certificate check). ` +
  `authbox keeps at most 10,000 EAP sessions for 60 s; FreeRADIUS eap max_sessions = ${FR_MAX_SESSIONS}, timer_expire = 60.\n`);
console.log(table(rows));
console.log(`\nKey types (server certificate as received by eapol_test -o in the warm-up): ${servers.map((s) => `${s.name} ${s.served}`).join(', ')}; ` +
  `client certificate (warm-up only) ${certKeyType(prepared.certs.client)}. Outcomes: ${servers.map((s) => `${s.name} ${JSON.stringify(s.result.outcomes)}`).join('; ')}.`);
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify({ results, settings: { SESSIONS, WINDOW, SOCKETS, KEY, SESSION_TLS, FR_MAX_SESSIONS }, machine: machine() }, null, 2));
