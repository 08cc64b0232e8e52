// A real gateway checking client certificates through authbox (issue 6): Debian's nginx
// (nginx-light) in front of a web application, with `ssl_verify_client on` against the
// authbox CA chain and `ssl_ocsp on` pointed at the running daemon's OCSP URL. curl with a
// client certificate issued by authbox gets 200; after `authbox cert revoke` the same
// request is refused (nginx answers 400 "The SSL certificate error"), with no restart of
// nginx: `ssl_ocsp_cache off` (nginx's default) makes every new connection ask authbox.
// This configuration is the worked example of docs/gateway-integration.md.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authboxOk, freePort, initDataDir, sleep, startServe, tempDir, type RunningDaemon } from '../helpers/authbox.js';
import { issueCert, writeCaFiles, type CaFiles, type IssuedCert } from '../helpers/pki.js';

const NGINX = '/usr/sbin/nginx';
/**
 * Changes from the CLI are live within a second (DESIGN.md, the change feed); the margin is
 * for this test machine, shared by many test processes at once.
 */
const LIVE_MS = 2000;

let data: Awaited<ReturnType<typeof initDataDir>>;
let files: ReturnType<typeof tempDir>;
let daemon: RunningDaemon | undefined;
let nginx: ChildProcess | undefined;
let nginxLog = '';
let ca: CaFiles;
let gatewayPort: number;
let laptop: IssuedCert;
let spare: IssuedCert;

/** The gateway's nginx.conf: everything nginx writes stays in `dir`. */
function gatewayConfig(o: { dir: string; port: number; cert: string; key: string; chain: string; ocspUrl: string }): string {
  return `daemon off;
worker_processes 1;
pid ${o.dir}/nginx.pid;
error_log ${o.dir}/error.log info;
events { worker_connections 64; }
http {
  access_log ${o.dir}/access.log;
  client_body_temp_path ${o.dir}/tmp/body;
  proxy_temp_path ${o.dir}/tmp/proxy;
  fastcgi_temp_path ${o.dir}/tmp/fastcgi;
  uwsgi_temp_path ${o.dir}/tmp/uwsgi;
  scgi_temp_path ${o.dir}/tmp/scgi;
  server {
    listen 127.0.0.1:${o.port} ssl;
    ssl_certificate ${o.cert};
    ssl_certificate_key ${o.key};
    # Client certificates must chain to the authbox CAs (issuing CA, then root).
    ssl_client_certificate ${o.chain};
    ssl_verify_client on;
    ssl_verify_depth 2;
    # Every certificate of the client's chain is checked with authbox's OCSP responder.
    ssl_ocsp on;
    ssl_ocsp_responder ${o.ocspUrl};
    # No shared cache of OCSP answers: a revocation bites on the next connection.
    ssl_ocsp_cache off;
    location / {
      return 200 "hello $ssl_client_s_dn\\n";
    }
  }
}
`;
}

/** One HTTPS request with curl: the status code and curl's output. */
function curl(cert: IssuedCert | undefined): { code: string; body: string; stderr: string } {
  const r = spawnSync('curl', [
    '-sS', '--max-time', '10', '--cacert', ca.chain, ...(cert ? ['--cert', cert.cert, '--key', cert.key] : []),
    '-o', '-', '-w', '\n%{http_code}', `https://127.0.0.1:${gatewayPort}/`,
  ], { encoding: 'utf8' });
  const lines = r.stdout.trimEnd().split('\n');
  return { code: lines.pop() ?? '', body: lines.join('\n'), stderr: r.stderr };
}

async function startNginx(conf: string): Promise<void> {
  nginx = spawn(NGINX, ['-c', conf, '-p', files.path, '-e', join(files.path, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
  nginx.stdout!.on('data', (d: Buffer) => (nginxLog += d.toString()));
  nginx.stderr!.on('data', (d: Buffer) => (nginxLog += d.toString()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${nginxLog}`);
    const probe = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-k', `https://127.0.0.1:${gatewayPort}/`], { encoding: 'utf8' });
    // Without a client certificate nginx answers 400 ("No required SSL certificate was sent"): it is up.
    if (probe.stdout === '400') return;
    if (Date.now() > deadline) throw new Error(`nginx did not come up: ${nginxLog}`);
    await sleep(100);
  }
}

const errorLog = (): string => {
  try {
    return readFileSync(join(files.path, 'error.log'), 'utf8');
  } catch {
    return '';
  }
};

beforeAll(async () => {
  data = await initDataDir();
  files = tempDir('authbox-nginx-');
  mkdirSync(join(files.path, 'tmp'));
  ca = writeCaFiles(data.dir, files.path);
  const server = { cert: join(files.path, 'gateway.crt'), key: join(files.path, 'gateway.key') };
  authboxOk(['cert', 'issue', '--data', data.dir, '--profile', 'server', '--cn', 'gateway.test', '--ip', '127.0.0.1',
    '--out-cert', server.cert, '--out-key', server.key]);
  laptop = issueCert(data.dir, files.path, 'laptop-lost');
  spare = issueCert(data.dir, files.path, 'laptop-spare');
  daemon = await startServe(data.dir, data.port);
  gatewayPort = await freePort();
  const conf = join(files.path, 'nginx.conf');
  writeFileSync(conf, gatewayConfig({
    dir: files.path, port: gatewayPort, cert: server.cert, key: server.key, chain: ca.chain, ocspUrl: `${daemon.base}/ocsp`,
  }));
  await startNginx(conf);
});

afterAll(async () => {
  if (nginx && nginx.exitCode === null) {
    const exited = new Promise((res) => nginx!.once('exit', res));
    process.kill(nginx.pid!, 'SIGQUIT');
    await exited;
  }
  await daemon?.stop();
  data?.cleanup();
  files?.cleanup();
});

describe('nginx with ssl_verify_client and ssl_ocsp against authbox', () => {
  it('is an nginx with ssl_ocsp (1.19 or later)', () => {
    const v = spawnSync(NGINX, ['-V'], { encoding: 'utf8' });
    const version = /nginx\/(\d+)\.(\d+)/.exec(v.stderr);
    expect(version, v.stderr).not.toBeNull();
    expect(Number(version![1]) * 1000 + Number(version![2])).toBeGreaterThanOrEqual(1019);
    expect(v.stderr).toContain('--with-http_ssl_module');
  });

  it('lets a client with a valid authbox certificate through', () => {
    const r = curl(laptop);
    expect(r.code, `${r.stderr}\n${errorLog()}`).toBe('200');
    expect(r.body).toContain('CN=laptop-lost');
  });

  it('refuses a client without a certificate', () => {
    expect(curl(undefined).code).toBe('400');
  });

  it('refuses the same certificate on the next request after `authbox cert revoke`, and keeps letting another through', async () => {
    expect(curl(laptop).code).toBe('200');
    authboxOk(['cert', 'revoke', '--data', data.dir, '--serial', laptop.serial, '--reason', 'keyCompromise']);
    await sleep(LIVE_MS);
    const r = curl(laptop);
    expect(r.code, errorLog()).toBe('400');
    expect(r.body).toContain('The SSL certificate error');
    // nginx logs why: the OCSP answer says revoked.
    expect(errorLog()).toMatch(/client SSL certificate verify error: certificate revoked/);
    expect(curl(spare).code).toBe('200');
  });
});
