// The console's static files (src/admin-ui/static.ts): the right content types, index.html at
// "/", nothing outside the web folder whatever the spelling, the API and other methods left to
// the app; and the files themselves keep to the CSP (no inline script or style, no HTML parsing).
import type { Server } from 'node:http';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveConsole, webRoot } from '../../src/admin-ui/static.js';

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(serveConsole());
  app.use((_req, res) => { res.status(404).json({ error: { code: 'NOT_FOUND' } }); });
  server = await new Promise<Server>((resolve) => { const s = app.listen(0, '127.0.0.1', () => resolve(s)); });
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : [join(dir, f)]));
}

describe('console static files', () => {
  it('serves index.html at / and each file with its type, uncached', async () => {
    const root = await fetch(`${base}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(root.headers.get('cache-control')).toBe('no-store');
    expect(await root.text()).toContain('<script type="module" src="/app.js"></script>');
    for (const [path, type] of [['/app.js', 'text/javascript; charset=utf-8'], ['/style.css', 'text/css; charset=utf-8'], ['/pages/login.js', 'text/javascript; charset=utf-8']]) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toBe(type);
      expect(await r.text()).toBe(readFileSync(join(webRoot()!, path), 'utf8'));
    }
  });

  it('serves nothing outside the web folder, no unknown type, no API path and no POST', async () => {
    for (const path of ['/%2e%2e/static.ts', '/..%2fstatic.ts', '/pages/%2e%2e%2f%2e%2e%2fapp.ts', '/%2e%2e/%2e%2e/%2e%2e/package.json', '/nope.js', '/index.html%00.js', '/api/v1/index.html', '/pages']) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(404);
      expect(await r.json()).toEqual({ error: { code: 'NOT_FOUND' } });
    }
    expect((await fetch(`${base}/`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${base}/app.js`, { method: 'HEAD' })).status).toBe(200);
  });

  it('says so at / when the files are missing, and leaves the API alone', async () => {
    const app = express();
    app.use(serveConsole(null));
    app.use((_req, res) => { res.status(404).end(); });
    const s = await new Promise<Server>((resolve) => { const x = app.listen(0, '127.0.0.1', () => resolve(x)); });
    try {
      const url = `http://127.0.0.1:${(s.address() as { port: number }).port}`;
      const r = await fetch(`${url}/`);
      expect(r.status).toBe(503);
      expect(await r.text()).toMatch(/console files .* are missing/);
      expect((await fetch(`${url}/api/v1/openapi.json`)).status).toBe(404);
    } finally {
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
  });

  it('has every string in English and Japanese, and every page declares its route, permission and nav', async () => {
    const web = webRoot()!;
    const i18n = await import(pathToFileURL(join(web, 'i18n.js')).href) as { SHELL_MESSAGES: Record<'en' | 'ja', Record<string, string>> };
    const { PAGE_FILES } = await import(pathToFileURL(join(web, 'pages', 'index.js')).href) as { PAGE_FILES: string[] };
    const tables: [string, { en: Record<string, string>; ja: Record<string, string> }][] = [['i18n.js', i18n.SHELL_MESSAGES]];
    const routes = new Set<string>();
    for (const file of PAGE_FILES) {
      const page = await import(pathToFileURL(join(web, 'pages', file)).href) as {
        messages: { en: Record<string, string>; ja: Record<string, string> }; route: string; permission: string | null; nav: { key: string } | null; render: unknown;
      };
      expect(typeof page.render, file).toBe('function');
      expect(page.route, file).toMatch(/^\//);
      expect(routes.has(page.route), `${file}: route ${page.route} twice`).toBe(false);
      routes.add(page.route);
      expect(page.permission === null || typeof page.permission === 'string', file).toBe(true);
      if (page.nav) expect(i18n.SHELL_MESSAGES.ja[page.nav.key] ?? page.messages.ja[page.nav.key], `${file}: ${page.nav.key}`).toBeTruthy();
      tables.push([file, page.messages]);
    }
    for (const [file, m] of tables) {
      expect(Object.keys(m.ja).sort(), file).toEqual(Object.keys(m.en).sort());
      // Japanese text, not English copied over (a few are the same in both: "OK", "RadSec (RADIUS over TLS)").
      const japanese = Object.values(m.ja).filter((v) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(v)).length;
      expect(japanese / Object.keys(m.ja).length, file).toBeGreaterThan(0.8);
    }
  });

  it('keeps every file to the strict CSP: no inline script or style, no HTML parsed from strings', () => {
    for (const file of files(webRoot()!)) {
      const text = readFileSync(file, 'utf8');
      const name = relative(webRoot()!, file);
      if (file.endsWith('.html')) {
        expect(text.match(/<script(?![^>]*\ssrc=)/g), name).toBeNull();
        expect(text, name).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
      }
      if (file.endsWith('.js')) {
        // Comments may name what is avoided; code may not use it.
        const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
        expect(code, name).not.toMatch(/\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"](style|on[a-z]+)['"]/);
      }
    }
  });
});
