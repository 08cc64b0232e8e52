// Shared helpers for the benchmarks: paths, processes, CPU accounting from /proc,
// ab runs and their output, percentiles and tables. No dependency beyond Node 20.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The authbox checkout under test; AUTHBOX_ROOT points the benchmarks at another build. */
export const ROOT = resolve(process.env.AUTHBOX_ROOT ?? join(import.meta.dirname, '..', '..'));
export const DIST = join(ROOT, 'dist');
export const AUTHBOX_BIN = join(ROOT, 'bin', 'authbox');
export const BENCH_DIR = resolve(import.meta.dirname, '..');
export const ACTOR = { actor: 'bench', source: 'cli' };

/** import() of a compiled authbox module, e.g. dist('ca/crl.js'). */
export function dist(rel) {
  const file = join(DIST, rel);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npx tsc -p tsconfig.json\` (make build) first`);
  return import(pathToFileURL(file).href);
}

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function requireTools(...cmds) {
  const missing = cmds.filter((c) => !have(c));
  if (missing.length) {
    console.error(`missing: ${missing.join(', ')}; run bench/setup.sh (as root) first`);
    process.exit(1);
  }
}

/** A scratch folder removed at exit unless BENCH_KEEP=1. */
export function scratch(name) {
  const dir = mkdtempSync(join(process.env.BENCH_TMP ?? tmpdir(), `authbox-bench-${name}-`));
  if (process.env.BENCH_KEEP !== '1') {
    process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  } else {
    process.on('exit', () => console.error(`(kept ${dir})`));
  }
  return dir;
}

/** Runs a command to completion; throws with its stderr on a non-zero exit. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: opts.encoding ?? 'utf8', maxBuffer: 256 << 20, ...opts });
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}: ${String(r.stderr).trim().slice(0, 2000)}`);
  }
  return r.stdout;
}

/** Runs commands with a bounded number in flight (for hundreds of openssl calls). */
export async function runMany(jobs, parallel = cpus().length) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const [cmd, args, opts] = jobs[next++];
      await new Promise((res, rej) => {
        const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
        let err = '';
        p.stderr.on('data', (d) => (err += d));
        p.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd} ${args.join(' ')}: ${err.trim()}`))));
      });
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export function authboxCli(args, opts = {}) {
  return run(process.execPath, [AUTHBOX_BIN, ...args], opts);
}

// ---------------------------------------------------------------- processes and CPU

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime+stime (in ticks) of one process, all its threads; 0 when it is gone. */
function ticksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}

/** The process and every descendant (pgrep -P, recursively): cluster workers included. */
export function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    const r = spawnSync('pgrep', ['-P', String(out[i])], { encoding: 'utf8' });
    for (const line of r.stdout.split('\n')) if (line.trim()) out.push(Number(line));
  }
  return out;
}

/**
 * CPU seconds used so far by pid and all its descendants. Per-PID counters are kept so a
 * delta is taken process by process (a worker that appears later starts from zero).
 */
export function cpuSnapshot(pid) {
  const snap = new Map();
  for (const p of processTree(pid)) snap.set(p, ticksOf(p));
  return snap;
}

export function cpuSecondsBetween(before, after) {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return ticks / CLK_TCK;
}

/** Waits until something listens on the TCP port (read from /proc/net, no probe connection). */
export async function waitListening(port, timeoutMs = 20_000, proc) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc && proc.exitCode !== null) throw new Error(`server exited (${proc.exitCode}) before listening on ${port}`);
    for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
      let text = '';
      try { text = readFileSync(f, 'utf8'); } catch { continue; }
      for (const line of text.split('\n').slice(1)) {
        const cols = line.trim().split(/\s+/);
        if (cols.length > 3 && cols[1].endsWith(`:${hex}`) && cols[3] === '0A') return;
      }
    }
    await sleep(50);
  }
  throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Servers still running when the benchmark exits (an error, ^C) are killed by PID.
const running = new Set();
process.on('exit', () => {
  for (const pid of running) {
    for (const p of processTree(pid).reverse()) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

/** Starts a long-running server, its output into a log file; stop() ends it by PID. */
export function startServer(cmd, args, { log, cwd, env } = {}) {
  const fd = log ? openSync(log, 'a') : 'ignore';
  const proc = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd, env: { ...process.env, ...env } });
  if (typeof fd === 'number') closeSync(fd);
  running.add(proc.pid);
  const exited = new Promise((res) => proc.once('exit', (code, sig) => { running.delete(proc.pid); res(code ?? sig); }));
  return {
    proc,
    pid: proc.pid,
    output: () => (log ? readFileSync(log, 'utf8').slice(-4000) : ''),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      const tree = processTree(proc.pid);
      proc.kill('SIGTERM');
      const t = setTimeout(() => {
        for (const p of tree.reverse()) {
          try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
        }
      }, 5000);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** `authbox serve` on 127.0.0.1:port; resolves once /healthz answers and the workers are up. */
export async function startAuthbox(dataDir, port, workers, { log } = {}) {
  const args = [AUTHBOX_BIN, 'serve', '--data', dataDir, '--http', `127.0.0.1:${port}`, '--admin', '127.0.0.1:0'];
  if (workers !== undefined) args.push('--http-workers', String(workers));
  // AUTHBOX_NODE_ARGS go to the daemon's node only, e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof'
  // (cluster workers inherit them; each process writes its profile when it exits).
  const nodeArgs = (process.env.AUTHBOX_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
  const server = startServer(process.execPath, [...nodeArgs, ...args], { log, env: { NODE_ENV: 'production' } });
  await waitListening(port, 30_000, server.proc);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) { await r.arrayBuffer(); break; }
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`authbox did not answer /healthz: ${server.output()}`);
    await sleep(100);
  }
  // Cluster workers start one by one: wait until the process count stops growing.
  let count = processTree(server.pid).length;
  for (let i = 0; i < 10; i++) {
    await sleep(200);
    const now = processTree(server.pid).length;
    if (now === count && (workers === undefined || workers <= 1 || now >= workers + 1)) break;
    count = now;
  }
  server.processes = processTree(server.pid).length;
  return server;
}

// ---------------------------------------------------------------- ab

/**
 * One ab run: POST `file` n times with concurrency c (asynchronous, so several can run
 * side by side). Returns ab's numbers and, with gnuplot, every request's total time
 * (ms, as ab records it) for pooled percentiles.
 */
export function ab({ url, file, n, c = 8, keepAlive = false, gnuplot, timeoutS = 30 }) {
  const args = ['-q', '-n', String(n), '-c', String(c), '-s', String(timeoutS), '-p', file, '-T', 'application/ocsp-request'];
  if (keepAlive) args.push('-k');
  if (gnuplot) args.push('-g', gnuplot);
  args.push(url);
  return new Promise((resolve, reject) => {
    const p = spawn('ab', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    // 'close', not 'exit': the output may still be in the pipe when the process exits.
    p.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ab ${args.join(' ')} exited ${code}: ${err}\n${out}`));
      resolve({ ...parseAb(out, gnuplot), stderr: err, code });
    });
  });
}

function parseAb(out, gnuplot) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const failed = /Failed requests:\s+(\d+)(?:\s*\n\s*\(Connect: (\d+), Receive: (\d+), Length: (\d+), Exceptions: (\d+)\))?/.exec(out);
  // ab counts a response whose length differs from the first one as "failed": ECDSA
  // signatures vary by a byte or two, so only connect/receive/exception failures count.
  const hardFailures = failed ? (failed[2] !== undefined ? Number(failed[2]) + Number(failed[3]) + Number(failed[5]) : Number(failed[1])) : 0;
  const result = {
    complete: num(/Complete requests:\s+(\d+)/),
    seconds: num(/Time taken for tests:\s+([\d.]+)/),
    rps: num(/Requests per second:\s+([\d.]+)/),
    failures: hardFailures + (num(/Non-2xx responses:\s+(\d+)/) || 0),
    keepAliveRequests: num(/Keep-Alive requests:\s+(\d+)/) || 0,
    p50: num(/\n\s+50%\s+(\d+)/),
    p99: num(/\n\s+99%\s+(\d+)/),
    raw: out,
  };
  if (gnuplot) {
    const lines = readFileSync(gnuplot, 'utf8').split('\n').slice(1);
    result.ttimes = lines.filter(Boolean).map((l) => Number(l.split('\t')[4]));
  }
  return result;
}

// ---------------------------------------------------------------- numbers

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function fmt(x, digits = 0) {
  if (x === undefined || x === null || Number.isNaN(x)) return 'n/a';
  if (typeof x === 'string') return x;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** Prints rows (arrays of strings) as an aligned table, first row the header. */
export function table(rows) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => '| ' + r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ') + ' |';
  const out = [line(rows[0]), '|' + widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : '-'.repeat(w + 1) + ':')).join('|') + '|'];
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}

export function machine() {
  const c = cpus();
  const mem = (() => {
    try { return readFileSync('/proc/meminfo', 'utf8').match(/MemTotal:\s+(\d+)/)[1] / 1048576; } catch { return NaN; }
  })();
  let distro = '';
  try { distro = readFileSync('/etc/os-release', 'utf8').match(/PRETTY_NAME="([^"]+)"/)[1]; } catch { /* not Linux */ }
  const openssl = have('openssl') ? run('openssl', ['version']).trim() : 'no openssl';
  return `${c.length} x ${c[0]?.model.trim()}, ${mem.toFixed(1)} GiB RAM, ${distro}, Node ${process.version}, ${openssl}`;
}

/** Share of the CPUs idle over `ms` (other work on the box skews every number here). */
export async function idleShare(ms = 1000) {
  const read = () => readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const a = read();
  await sleep(ms);
  const b = read();
  const d = b.map((x, i) => x - a[i]);
  const total = d.reduce((x, y) => x + y, 0);
  return total ? (d[3] + (d[4] ?? 0)) / total : 1;
}

/** Prints a warning when the machine is not idle before a benchmark. */
export async function warnIfBusy(tag) {
  const idle = await idleShare(1000);
  if (idle < 0.9) {
    const top = spawnSync('ps', ['-eo', 'pcpu,pid,comm', '--sort=-pcpu'], { encoding: 'utf8' }).stdout.split('\n').slice(1, 5).join('; ');
    console.log(`WARNING: the machine was only ${(idle * 100).toFixed(0)}% idle before the ${tag} benchmark (${top.replace(/\s+/g, ' ')}): numbers will be low`);
  }
  return idle;
}

/** Lists files in a folder matching a suffix (sorted). */
export function filesIn(dir, suffix) {
  return readdirSync(dir).filter((f) => f.endsWith(suffix)).sort().map((f) => join(dir, f));
}

/** Deterministic pseudo-random numbers (mulberry32), so each run picks the same mix. */
export function rng(seed = 42) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
