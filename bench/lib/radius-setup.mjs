// Shared by bench/radius.mjs and bench/eap-sessions.mjs: one authbox data folder per key
// type (CA, authbox's own TLS certificate, a client certificate and FreeRADIUS's server
// certificate all of that type), `authbox serve` with RADIUS, eapol_test runs with their
// own CPU, and CPU/RSS of a server process from /proc.
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ACTOR, AUTHBOX_BIN, CLK_TCK, authboxCli, dist, processTree, run, sleep, startServer } from './common.mjs';

/** authbox's key type names (`--key-type`) and how the tables label them. */
export const KEY_LABEL = { 'ec-p256': 'P-256', 'ec-p384': 'P-384', 'rsa-2048': 'RSA-2048', 'rsa-3072': 'RSA-3072' };

/** utime+stime of a process, all its threads, in seconds (the process line of /proc/PID/stat). */
export function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}
export function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
/** Whole-box CPU ticks (busy, total) from /proc/stat, to tell whether the box was saturated. */
export function boxTicks() {
  const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3] - (v[4] ?? 0), total };
}

/**
 * A data folder initialised with `--key-type keyType` (so the CA hierarchy and authbox's own
 * TLS server certificate, which EAP serves, are of that type), one NAS, the users (scrypt,
 * in-process), and in `certs`: ca.pem (the chain), client.pem/.key (user profile, for
 * eapUser) and server-chain.pem/server.key (for FreeRADIUS), all keys of keyType.
 */
export async function prepareAuthbox(dir, { keyType, secret, users, eapUser }) {
  const dataDir = join(dir, 'authbox');
  authboxCli(['init', '--data', dataDir, '--admin-password', 'bench-admin-pw', '--key-type', keyType]);
  authboxCli(['nas', 'add', '--data', dataDir, '--name', 'bench', '--address', '127.0.0.1/32', '--secret', secret]);
  {
    // In-process (one scrypt each) rather than one CLI process per user.
    const { openPkiAt } = await dist('main.js');
    const pki = openPkiAt(dataDir);
    try {
      for (const u of users) pki.users.add({ username: u.username, password: u.password, groups: [] }, ACTOR);
    } finally {
      pki.close();
    }
  }
  const certs = join(dir, 'certs');
  run('mkdir', ['-p', certs]);
  const c = {
    ca: join(certs, 'ca.pem'), client: join(certs, 'client.pem'), clientKey: join(certs, 'client.key'),
    server: join(certs, 'server.pem'), serverKey: join(certs, 'server.key'), serverChain: join(certs, 'server-chain.pem'),
  };
  writeFileSync(c.ca, authboxCli(['ca', 'cert', '--data', dataDir]));
  authboxCli(['cert', 'issue', '--data', dataDir, '--profile', 'user', '--cn', eapUser, '--user', eapUser, '--key-type', keyType,
    '--out-cert', c.client, '--out-key', c.clientKey]);
  // FreeRADIUS's server certificate: authbox's own TLS key is sealed in its database, so a
  // separate server certificate of the same key type from the same issuing CA.
  authboxCli(['cert', 'issue', '--data', dataDir, '--profile', 'server', '--cn', 'radius.bench', '--dns', 'radius.bench',
    '--key-type', keyType, '--out-cert', c.server, '--out-key', c.serverKey]);
  const chain = readFileSync(c.ca, 'utf8');
  const issuing = chain.slice(0, chain.indexOf('-----END CERTIFICATE-----') + 26);
  writeFileSync(c.serverChain, readFileSync(c.server, 'utf8') + issuing);
  return { dataDir, certs: c, keyType };
}

/** `authbox serve` with RADIUS on 127.0.0.1:ports.radius; resolves once /healthz answers. */
export async function startAuthboxRadius(dataDir, ports, log) {
  const nodeArgs = (process.env.AUTHBOX_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = startServer(process.execPath, [...nodeArgs, AUTHBOX_BIN, 'serve', '--data', dataDir, '--http', `127.0.0.1:${ports.http}`,
    '--radius', `127.0.0.1:${ports.radius}`, '--radius-acct', `127.0.0.1:${ports.acct}`, '--admin', '127.0.0.1:0'],
  { log, env: { NODE_ENV: 'production' } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try { const r = await fetch(`http://127.0.0.1:${ports.http}/healthz`); if (r.ok) { await r.arrayBuffer(); break; } } catch { /* not yet */ }
    if (server.proc.exitCode !== null || Date.now() > deadline) throw new Error(`authbox did not start: ${server.output()}`);
    await sleep(100);
  }
  await sleep(1000); // HTTP workers
  server.processes = processTree(server.pid).length;
  return server;
}

/** Spawns cmd under sh, which prints its own /proc stat after cmd exits: cutime+cstime is cmd's CPU. */
export function spawnCounted(cmd, args) {
  return spawn('sh', ['-c', '"$@"; rc=$?; echo "@@stat $(cat /proc/$$/stat)" >&2; exit $rc', 'sh', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}
export function childCpu(text) {
  const m = /@@stat (.*)/.exec(text);
  if (!m) return NaN;
  const f = m[1].slice(m[1].lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) / CLK_TCK; // fields 16, 17: cutime, cstime
}

export const PHASE1 = {
  '1.2': 'tls_disable_tlsv1_3=1',
  '1.3': 'tls_disable_tlsv1_0=1 tls_disable_tlsv1_1=1 tls_disable_tlsv1_2=1 tls_disable_tlsv1_3=0',
};

/** An eapol_test network block: EAP-TLS with a client certificate, or PEAP-MSCHAPv2 with a password. */
export function eapolConf(file, { method, version, identity, password, certs }) {
  const lines = ['key_mgmt=WPA-EAP', `eap=${method}`, `identity="${identity}"`, `ca_cert="${certs.ca}"`, `phase1="${PHASE1[version]}"`];
  if (method === 'TLS') lines.push(`client_cert="${certs.client}"`, `private_key="${certs.clientKey}"`);
  else lines.push(`password="${password}"`, 'phase2="auth=MSCHAPV2"');
  writeFileSync(file, `network={\n${lines.map((l) => `\t${l}`).join('\n')}\n}\n`);
  return file;
}

/**
 * One eapol_test run (a full authentication: a new process, no resumption). Success: exit
 * 0, SUCCESS, and the MS-MPPE keys equal to the MSK it derived. serverCertOut: -o FILE.
 */
export function eapol(port, conf, secret, serverCertOut) {
  const args = ['-c', conf, '-a', '127.0.0.1', '-p', String(port), '-s', secret, '-t', '10'];
  if (serverCertOut) args.push('-o', serverCertOut);
  return new Promise((resolve) => {
    const p = spawnCounted('eapol_test', args);
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

/** "P-256", "RSA-2048", ... of the first certificate in a PEM or DER file, read by openssl. */
export function certKeyType(file) {
  let text;
  try { text = run('openssl', ['x509', '-in', file, '-noout', '-text']); } catch {
    text = run('openssl', ['x509', '-inform', 'DER', '-in', file, '-noout', '-text']);
  }
  const bits = (/Public-Key: \((\d+) bit\)/.exec(text) ?? [])[1];
  if (/rsaEncryption/.test(text)) return `RSA-${bits}`;
  const curve = (/NIST CURVE: (P-\d+)/.exec(text) ?? /ASN1 OID: (\S+)/.exec(text) ?? [])[1];
  if (/id-ecPublicKey/.test(text)) return curve ?? `EC-${bits}`;
  return (/Public Key Algorithm: (\S+)/.exec(text) ?? [])[1] ?? 'unknown';
}
