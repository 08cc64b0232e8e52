// The console's static files (src/admin-ui/web: plain browser modules, no build step) at "/".
// They are read from the source folder, found from this module: beside it when run from src/
// (tests), two levels up from dist/admin-ui/ when built; appliance/install.sh ships that folder.
// Only files under that folder with a known type are served; anything else falls through to
// the app's JSON 404. The app's security headers (strict CSP, no-store) apply here too.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/** The web folder: beside this module (src/admin-ui/web), else the package's src/admin-ui/web seen from dist/admin-ui. */
export function webRoot(): string | null {
  const here = fileURLToPath(new URL('.', import.meta.url));
  for (const candidate of [join(here, 'web'), join(here, '..', '..', 'src', 'admin-ui', 'web')]) {
    if (existsSync(join(candidate, 'index.html'))) return resolve(candidate);
  }
  return null;
}

export function serveConsole(root: string | null = webRoot()): RequestHandler {
  // Without the files the API still works; the page says what is wrong instead of a bare 404.
  if (root === null) {
    return (req, res, next) => {
      if (req.method !== 'GET' || req.path !== '/') return next();
      res.status(503).type('text/plain; charset=utf-8').send('authbox: the console files (src/admin-ui/web) are missing from this installation; the API under /api/v1 works\n');
    };
  }
  const base = resolve(root) + sep;
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (req.path.startsWith('/api/')) return next();
    let rel: string;
    try {
      rel = decodeURIComponent(req.path === '/' ? '/index.html' : req.path);
    } catch {
      return next();
    }
    const type = TYPES[extname(rel).toLowerCase()];
    if (!type || rel.includes('\0')) return next();
    const file = resolve(base, '.' + rel);
    // Never outside the web folder ("..", encoded or not).
    if (!file.startsWith(base)) return next();
    let body: Buffer;
    try {
      if (!statSync(file).isFile()) return next();
      body = readFileSync(file);
    } catch {
      return next();
    }
    res.type(type);
    res.set('Cache-Control', 'no-store');
    res.status(200).end(req.method === 'HEAD' ? undefined : body);
  };
}
