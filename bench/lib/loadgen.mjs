#!/usr/bin/env node
// A fixed-rate (open-loop) HTTP load generator for OCSP POSTs, as wrk2 does it:
// request i is due at start + i/rate, and its latency is counted from when it was due,
// so a stalled server is charged for the requests that queued behind it (no
// coordinated omission). Debian's wrk has no -R (that is wrk2), and the OpenSSL
// responder cannot take wrk at all, hence this. Keep-alive over a pool of connections,
// or one HTTP/1.0 request per connection (like ab without -k).
//
//   node bench/lib/loadgen.mjs CONFIG.json   -> prints a JSON summary on stdout
// CONFIG: { port, host?, path?, bodies: [file...], rate, durationS, warmupS?,
//           connections?, keepAlive?, timelineFile?, events?: [{ atS, cmd, args }] }
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

export async function fixedRate(cfg) {
  const host = cfg.host ?? '127.0.0.1';
  const path = cfg.path ?? '/ocsp';
  const keepAlive = cfg.keepAlive !== false;
  const rate = cfg.rate;
  const warmupMs = (cfg.warmupS ?? 2) * 1000;
  const durationMs = cfg.durationS * 1000;
  const bodies = cfg.bodies.map((f) => readFileSync(f));
  const version = keepAlive ? '1.1' : '1.0';
  const requests = bodies.map((b) => Buffer.concat([
    Buffer.from(`POST ${path} HTTP/${version}\r\nHost: ${host}:${cfg.port}\r\nContent-Type: application/ocsp-request\r\n` +
      `Content-Length: ${b.length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`),
    b,
  ]));

  const total = Math.floor((rate * durationMs) / 1000);
  const lat = new Float64Array(total).fill(-1); // ms, from due time to the last byte
  let errors = 0, non200 = 0, done = 0, sent = 0;
  const errorKinds = {};
  const noteError = (kind) => { errors++; errorKinds[kind] = (errorKinds[kind] ?? 0) + 1; };
  const start = performance.now() + 50;
  const due = (i) => start + (i * 1000) / rate;

  // Reads one HTTP response off a byte stream: status and Content-Length, or to EOF.
  const makeParser = () => {
    let chunks = [], size = 0, headerEnd = -1, need = -1, status = 0;
    return {
      push(d) {
        chunks.push(d); size += d.length;
        if (headerEnd < 0) {
          const all = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
          chunks = [all];
          const i = all.indexOf('\r\n\r\n');
          if (i < 0) return false;
          headerEnd = i + 4;
          const head = all.subarray(0, i).toString('latin1');
          status = Number(head.slice(9, 12));
          const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
          need = m ? headerEnd + Number(m[1]) : -1;
        }
        return need >= 0 && size >= need;
      },
      get status() { return status; },
      get headerSeen() { return headerEnd >= 0; },
      reset() { chunks = []; size = 0; headerEnd = -1; need = -1; status = 0; },
    };
  };

  const finish = (i, status) => {
    lat[i] = performance.now() - due(i);
    if (status !== 200) non200++;
    done++;
  };

  let dispatch;
  const pending = [];
  if (keepAlive) {
    const free = [];
    const open = (n) => new Promise((resolve, reject) => {
      const s = net.connect({ host, port: cfg.port, noDelay: true });
      s.setNoDelay(true);
      const parser = makeParser();
      s.current = -1;
      s.on('data', (d) => {
        if (s.current < 0) return;
        if (parser.push(d)) {
          finish(s.current, parser.status);
          parser.reset();
          s.current = -1;
          const next = pending.shift();
          if (next !== undefined) send(s, next); else free.push(s);
        }
      });
      s.on('error', (e) => { noteError(e.code ?? 'error'); reject(e); });
      s.on('close', () => {
        if (s.current >= 0) { noteError('closed'); done++; s.current = -1; }
        const k = free.indexOf(s);
        if (k >= 0) free.splice(k, 1);
        s.dead = true;
      });
      s.once('connect', () => resolve(s));
      void n;
    });
    const send = (s, i) => { s.current = i; s.write(requests[i % requests.length]); };
    const conns = await Promise.all(Array.from({ length: cfg.connections ?? 32 }, (_, n) => open(n)));
    free.push(...conns);
    dispatch = (i) => {
      const s = free.pop();
      if (s) send(s, i); else pending.push(i);
    };
  } else {
    let inFlight = 0;
    const limit = cfg.connections ?? 64;
    const go = (i) => {
      inFlight++;
      const parser = makeParser();
      let finished = false;
      const s = net.connect({ host, port: cfg.port, noDelay: true }, () => s.write(requests[i % requests.length]));
      const end = (err) => {
        if (finished) return;
        finished = true;
        inFlight--;
        if (err) { noteError(err); done++; } else finish(i, parser.status);
        const next = pending.shift();
        if (next !== undefined) go(next);
      };
      s.on('data', (d) => { if (parser.push(d)) { end(); s.destroy(); } });
      s.on('end', () => end(parser.headerSeen ? undefined : 'eof'));
      s.on('error', (e) => end(e.code ?? 'error'));
    };
    dispatch = (i) => (inFlight < limit ? go(i) : pending.push(i));
  }

  const events = [];
  for (const ev of cfg.events ?? []) {
    setTimeout(() => {
      const t0 = performance.now();
      const p = spawn(ev.cmd, ev.args, { stdio: 'ignore' });
      p.on('exit', (code) => events.push({ atMs: t0 - start, tookMs: performance.now() - t0, code }));
    }, Math.max(0, start - performance.now() + ev.atS * 1000));
  }

  await new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (sent < total && due(sent) <= now) dispatch(sent++);
      if (sent < total) setTimeout(tick, Math.max(0, Math.min(1, due(sent) - performance.now())));
      else resolve();
    };
    setTimeout(tick, Math.max(0, start - performance.now()));
  });
  const deadline = performance.now() + 10_000;
  while (done < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const elapsed = (performance.now() - start) / 1000;

  const first = Math.ceil((warmupMs * rate) / 1000);
  const measured = [];
  let lost = 0;
  for (let i = first; i < total; i++) (lat[i] >= 0 ? measured.push(lat[i]) : lost++);
  measured.sort((a, b) => a - b);
  const pct = (p) => measured.length ? measured[Math.min(measured.length - 1, Math.ceil((p / 100) * measured.length) - 1)] : NaN;
  if (cfg.timelineFile) {
    const rows = [];
    for (let i = 0; i < total; i++) rows.push(`${(due(i) - start).toFixed(3)}\t${lat[i].toFixed(3)}`);
    writeFileSync(cfg.timelineFile, rows.join('\n') + '\n');
  }
  return {
    rate, sent: total, completed: done, measured: measured.length, lost, errors, errorKinds, non200,
    achievedRps: done / elapsed,
    p50: pct(50), p90: pct(90), p99: pct(99), p999: pct(99.9), max: measured.length ? measured[measured.length - 1] : NaN,
    events,
    // Let the process exit even if a server keeps sockets open.
    _close: () => {},
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const r = await fixedRate(cfg);
  delete r._close;
  process.stdout.write(JSON.stringify(r) + '\n');
  process.exit(0);
}
