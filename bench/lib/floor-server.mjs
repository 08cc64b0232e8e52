#!/usr/bin/env node
// Reference servers for the OCSP benchmark, not peers: they answer every POST with the
// same pre-made OCSP response and do nothing else, to show what Node itself costs per
// response on this box. `http`: node:http with authbox's headers; `net`: a bare socket
// server with a minimal HTTP/1.x reader (no node:http at all).
//   node bench/lib/floor-server.mjs http|net PORT RESPONSE.der
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';

const [kind, portText, file] = process.argv.slice(2);
const port = Number(portText);
const body = readFileSync(file);
const headers = {
  'content-type': 'application/ocsp-response', 'content-length': String(body.length),
  'cache-control': 'max-age=60, public, no-transform, must-revalidate', etag: '"0123456789abcdef0123456789abcdef01234567"',
  'last-modified': new Date().toUTCString(), expires: new Date(Date.now() + 3_600_000).toUTCString(),
};

if (kind === 'http') {
  http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    req.on('data', () => {});
    req.on('end', () => res.writeHead(200, headers).end(body));
  }).listen(port, '127.0.0.1');
} else {
  const head = (keepAlive) => Buffer.from(`HTTP/1.1 200 OK\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}` +
    `connection: ${keepAlive ? 'keep-alive' : 'close'}\r\n\r\n`);
  const keep = Buffer.concat([head(true), body]);
  const close = Buffer.concat([head(false), body]);
  net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      for (;;) {
        const i = buf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const h = buf.subarray(0, i).toString('latin1');
        const m = /content-length:\s*(\d+)/i.exec(h);
        const need = i + 4 + (m ? Number(m[1]) : 0);
        if (buf.length < need) return;
        buf = buf.subarray(need);
        const http11 = h.slice(0, h.indexOf('\r\n')).endsWith('HTTP/1.1');
        const keepAlive = /\r\nconnection:\s*keep-alive/i.test(h) || (http11 && !/\r\nconnection:\s*close/i.test(h));
        if (!keepAlive) return void s.end(close);
        s.write(keep);
      }
    });
    s.on('error', () => {});
  }).listen(port, '127.0.0.1');
}
