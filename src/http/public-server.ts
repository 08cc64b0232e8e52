// The public HTTP listener: OCSP (RFC 6960 Appendix A, RFC 5019 §5), the CRLs, the CA
// certificates, /healthz and /metrics (Prometheus, to allowed addresses only). Plain node:http: this is a hot path, and every answer is
// already bytes in memory.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { OcspAnswer } from '../ocsp/responder.js';
import {
  counter, DEFAULT_METRICS_ALLOW, Histogram, histogram, METRICS_CONTENT_TYPE, renderMetrics, sourceAllowList, workerLabel, type MetricFamily,
} from './metrics.js';

export interface PublishedFile {
  der: Buffer;
  etag: string;
  lastModified: number;
  /** Seconds a cache may keep it. */
  maxAge: number;
}

/** What the listener serves; the daemon keeps it current from the change feed. */
export interface PublicContent {
  ocsp(body: Uint8Array): OcspAnswer;
  crl(caName: string): PublishedFile | undefined;
  caCertificate(caName: string): Buffer | undefined;
  chainPem(): string;
  health(): object;
  /** The daemon's metrics for GET /metrics; without it only the listener's own are served. */
  metrics?(): readonly MetricFamily[];
}

export interface PublicServerOptions {
  maxBodyBytes: number;
  /** Networks that may read /metrics (config metrics.allow); default loopback. Others get 403. */
  metricsAllow?: readonly string[];
}

/** OCSP answer times, in seconds: a cached answer takes microseconds, a signature about a millisecond. */
const OCSP_SECONDS_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1];

const OCSP_RESPONSE_TYPE = 'application/ocsp-response';

/** Headers of a cached answer, built once per answer object rather than per request. */
const headerCache = new WeakMap<OcspAnswer, Record<string, string>>();

function ocspHeaders(answer: OcspAnswer): Record<string, string> {
  const cached = headerCache.get(answer);
  if (cached) return cached;
  const headers = buildOcspHeaders(answer);
  if (answer.cache) headerCache.set(answer, headers);
  return headers;
}

function buildOcspHeaders(answer: OcspAnswer): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': OCSP_RESPONSE_TYPE, 'content-length': String(answer.der.length) };
  const c = answer.cache;
  if (c) {
    // RFC 5019 §6.2 caching headers.
    headers['cache-control'] = `max-age=${c.maxAge}, public, no-transform, must-revalidate`;
    headers['last-modified'] = new Date(c.thisUpdate).toUTCString();
    headers['expires'] = new Date(c.nextUpdate).toUTCString();
    headers['etag'] = c.etag;
  } else {
    headers['cache-control'] = 'no-cache, no-store';
  }
  return headers;
}

function sendOcsp(req: IncomingMessage, res: ServerResponse, answer: OcspAnswer): void {
  const headers = ocspHeaders(answer);
  if (answer.cache && req.headers['if-none-match'] === answer.cache.etag) {
    res.writeHead(304, headers).end();
    return;
  }
  res.writeHead(200, headers).end(answer.der);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

/** RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}. */
function decodeGetRequest(path: string): Buffer {
  let text: string;
  try {
    text = decodeURIComponent(path);
  } catch {
    throw new AppError('OCSP_MALFORMED', 'bad URL encoding');
  }
  // Accept base64url too: some clients send it.
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new AppError('OCSP_MALFORMED', 'not base64');
  return Buffer.from(b64, 'base64');
}

export function createPublicServer(content: PublicContent, options: PublicServerOptions, log: Logger): Server {
  const metricsAllowed = sourceAllowList(options.metricsAllow ?? DEFAULT_METRICS_ALLOW);
  // This process's OCSP answers by status (RFC 6960 §4.2.1) and how long each took to build.
  const ocspAnswers: Record<OcspAnswer['outcome'], number> = { successful: 0, malformedRequest: 0, unauthorized: 0, internalError: 0 };
  const ocspSeconds = new Histogram(OCSP_SECONDS_BOUNDS);
  const answerOcsp = (req: IncomingMessage, res: ServerResponse, body: Uint8Array): void => {
    const started = performance.now();
    const answer = content.ocsp(body);
    ocspSeconds.observe((performance.now() - started) / 1000);
    ocspAnswers[answer.outcome]++;
    sendOcsp(req, res, answer);
  };
  const worker = workerLabel();
  const metricsText = (): string => renderMetrics([
    ...(content.metrics?.() ?? []),
    counter('authbox_ocsp_responses_total', 'OCSP answers sent by this HTTP process, by response status.',
      Object.entries(ocspAnswers).map(([status, value]) => ({ labels: { worker, status }, value }))),
    histogram('authbox_ocsp_response_seconds', 'Time to build an OCSP answer in this HTTP process (cache lookup or signature).',
      ocspSeconds.snapshot(), { worker }),
  ]);

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);

    // Some relying parties are configured with the bare host: POST / is OCSP too.
    if (path === '/ocsp' || path === '/ocsp/' || (path === '/' && req.method === 'POST')) {
      if (req.method !== 'POST') return sendText(res, 405, 'OCSP requests are POSTed here, or sent as GET /ocsp/<base64>\n');
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > options.maxBodyBytes) {
        res.setHeader('connection', 'close');
        return sendText(res, 413, 'request too large\n');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBodyBytes && !refused) {
          refused = true;
          res.setHeader('connection', 'close');
          sendText(res, 413, 'request too large\n');
          req.destroy();
          return;
        }
        if (!refused) chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        answerOcsp(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      });
      return;
    }
    if (path.startsWith('/ocsp/') && (req.method === 'GET' || req.method === 'HEAD')) {
      const encoded = path.slice('/ocsp/'.length);
      if (encoded.length > options.maxBodyBytes * 2) return sendText(res, 414, 'request too large\n');
      let body: Buffer;
      try {
        body = decodeGetRequest(encoded);
      } catch {
        body = Buffer.alloc(0);
      }
      return answerOcsp(req, res, body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed\n');

    let m = /^\/crl\/([a-z0-9-]+)\.crl$/.exec(path);
    if (m) {
      const crl = content.crl(m[1]!);
      if (!crl) return sendText(res, 404, 'no such CRL\n');
      const headers = {
        'content-type': 'application/pkix-crl', 'content-length': String(crl.der.length), etag: crl.etag,
        'last-modified': new Date(crl.lastModified).toUTCString(), 'cache-control': `max-age=${crl.maxAge}, public, no-transform`,
      };
      if (req.headers['if-none-match'] === crl.etag) return void res.writeHead(304, headers).end();
      return void res.writeHead(200, headers).end(req.method === 'HEAD' ? undefined : crl.der);
    }
    m = /^\/ca\/([a-z0-9-]+)\.(crt|cer|der)$/.exec(path);
    if (m) {
      const der = content.caCertificate(m[1]!);
      if (!der) return sendText(res, 404, 'no such CA\n');
      return void res.writeHead(200, { 'content-type': 'application/pkix-cert', 'content-length': String(der.length) }).end(der);
    }
    if (path === '/ca/chain.pem') {
      const pem = content.chainPem();
      return void res.writeHead(200, { 'content-type': 'application/x-pem-file', 'content-length': Buffer.byteLength(pem) }).end(pem);
    }
    if (path === '/healthz') {
      const body = JSON.stringify(content.health());
      return void res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' }).end(body);
    }
    if (path === '/metrics') {
      if (!metricsAllowed(req.socket.remoteAddress)) return sendText(res, 403, 'metrics are served to the addresses in metrics.allow only\n');
      const text = metricsText();
      return void res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' })
        .end(req.method === 'HEAD' ? undefined : text);
    }
    sendText(res, 404, 'not found\n');
  };

  const server = createServer({ keepAliveTimeout: 30_000, requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
    try {
      handle(req, res);
    } catch (e) {
      log.error({ err: (e as Error).message, url: req.url }, 'HTTP handler failed');
      if (!res.headersSent) sendText(res, 500, 'internal error\n');
    }
  });
  server.maxHeadersCount = 50;
  return server;
}
