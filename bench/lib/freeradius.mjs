// A private FreeRADIUS 3.2 instance for the benchmarks (see /work/shared/PEERS.md): a copy
// of /etc/freeradius/3.0 in a scratch folder with raddbdir/logdir/run_dir pointed there,
// no user/group switch, one virtual server on 127.0.0.1 plus the inner-tunnel server for
// PEAP, our own clients.conf, users file and eap module (EAP-TLS, PEAP with MS-CHAPv2
// inside); run in the foreground (`freeradius -f -d DIR`), stopped by PID.
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, sleep, startServer } from './common.mjs';

export const FREERADIUS_ETC = '/etc/freeradius/3.0';

/**
 * Writes the configuration. users: [{ username, password }] (Cleartext-Password in the
 * files module); tls: { certChain, key, caFile } (PEM paths) for the eap module;
 * maxSessions: the eap module's max_sessions (EAP conversations in flight; default
 * ${max_requests}, 16384 in Debian's radiusd.conf).
 */
export function configureFreeradius(dir, { port, secret, users, tls, maxSessions }) {
  mkdirSync(dir, { recursive: true });
  run('cp', ['-a', FREERADIUS_ETC, dir]);
  const raddb = join(dir, '3.0');
  mkdirSync(join(dir, 'log'), { recursive: true });
  mkdirSync(join(dir, 'run'), { recursive: true });

  let conf = readFileSync(join(raddb, 'radiusd.conf'), 'utf8');
  conf = conf
    .replace(/^(\s*)raddbdir\s*=.*$/m, `$1raddbdir = ${raddb}`)
    .replace(/^(\s*)logdir\s*=.*$/m, `$1logdir = ${join(dir, 'log')}`)
    .replace(/^(\s*)run_dir\s*=.*$/m, `$1run_dir = ${join(dir, 'run')}`)
    .replace(/^(\s*)(user|group)\s*=.*$/gm, '$1#$2 = (commented out by bench/lib/freeradius.mjs)');
  writeFileSync(join(raddb, 'radiusd.conf'), conf);

  // require_message_authenticator exists in 3.2.1 (a per-client boolean); with it, an
  // Access-Request without Message-Authenticator is dropped, as authbox does by default.
  writeFileSync(join(raddb, 'clients.conf'),
    `client bench {\n\tipaddr = 127.0.0.1\n\tsecret = ${secret}\n\trequire_message_authenticator = yes\n\tnas_type = other\n}\n`);

  writeFileSync(join(raddb, 'mods-config', 'files', 'authorize'),
    users.map((u) => `${u.username}\tCleartext-Password := "${u.password}"\n`).join(''));

  for (const f of readdirSync(join(raddb, 'sites-enabled'))) rmSync(join(raddb, 'sites-enabled', f));
  writeFileSync(join(raddb, 'sites-enabled', 'bench'), `server bench {
\tlisten {
\t\ttype = auth
\t\tipaddr = 127.0.0.1
\t\tport = ${port}
\t}
\tauthorize {
\t\teap {
\t\t\tok = return
\t\t}
\t\tfiles
\t\tpap
\t}
\tauthenticate {
\t\tAuth-Type PAP {
\t\t\tpap
\t\t}
\t\teap
\t}
\tpost-auth {
\t}
}
`);
  // PEAP's phase 2 (EAP-MSCHAPv2) goes through this server: the users file gives the
  // Cleartext-Password, mschap checks the MS-CHAPv2 response (mods-enabled/mschap as shipped).
  writeFileSync(join(raddb, 'sites-enabled', 'inner-tunnel'), `server inner-tunnel {
\tauthorize {
\t\tfiles
\t\tmschap
\t\teap {
\t\t\tok = return
\t\t}
\t}
\tauthenticate {
\t\tAuth-Type MS-CHAP {
\t\t\tmschap
\t\t}
\t\teap
\t}
\tpost-auth {
\t}
}
`);

  // EAP-TLS and PEAP (MS-CHAPv2 inside), nothing else. EAP-TLS is proposed first; a PEAP
  // supplicant answers with a Nak naming PEAP (one extra round trip, as with authbox).
  // No TLS session cache: every eapol_test process makes a full handshake anyway.
  rmSync(join(raddb, 'mods-enabled', 'eap'));
  writeFileSync(join(raddb, 'mods-enabled', 'eap'), `eap {
\tdefault_eap_type = tls
\ttimer_expire = 60
\tignore_unknown_eap_types = no
\tcisco_accounting_username_bug = no
\tmax_sessions = ${maxSessions ?? '${max_requests}'}
\ttls-config tls-common {
\t\tprivate_key_file = ${tls.key}
\t\tcertificate_file = ${tls.certChain}
\t\tca_file = ${tls.caFile}
\t\tcipher_list = "DEFAULT"
\t\tcipher_server_preference = no
\t\ttls_min_version = "1.2"
\t\ttls_max_version = "1.3"
\t\tecdh_curve = ""
\t\tcache {
\t\t\tenable = no
\t\t}
\t\tverify {
\t\t}
\t\tocsp {
\t\t\tenable = no
\t\t}
\t}
\ttls {
\t\ttls = tls-common
\t}
\tpeap {
\t\ttls = tls-common
\t\tdefault_eap_type = mschapv2
\t\tcopy_request_to_tunnel = no
\t\tuse_tunneled_reply = no
\t\tvirtual_server = "inner-tunnel"
\t}
\tmschapv2 {
\t\tsend_error = no
\t}
}
`);
  return raddb;
}

/** `freeradius -f -d RADDB`; resolves once it says it is ready to process requests. */
export async function startFreeradius(raddb, log) {
  // Check the configuration first: the error is then readable.
  run('freeradius', ['-C', '-d', raddb], { encoding: 'utf8' });
  const server = startServer('freeradius', ['-f', '-l', log, '-d', raddb], {});
  const deadline = Date.now() + 20_000;
  for (;;) {
    let text = '';
    try { text = readFileSync(log, 'utf8'); } catch { /* not yet */ }
    if (/Ready to process requests/.test(text)) break;
    if (server.proc.exitCode !== null) throw new Error(`freeradius exited ${server.proc.exitCode}: ${text.slice(-3000)}`);
    if (Date.now() > deadline) throw new Error(`freeradius did not start: ${text.slice(-3000)}`);
    await sleep(100);
  }
  server.output = () => { try { return readFileSync(log, 'utf8').slice(-4000); } catch { return ''; } };
  return server;
}

export function freeradiusVersion() {
  try {
    const out = run('freeradius', ['-v'], { encoding: 'utf8' });
    return (/FreeRADIUS Version ([\d.]+)/.exec(out) ?? [])[1] ?? 'unknown';
  } catch (e) {
    const m = /FreeRADIUS Version ([\d.]+)/.exec(String(e.message));
    return m ? m[1] : 'unknown';
  }
}
