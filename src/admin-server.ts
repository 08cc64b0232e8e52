// The admin console over HTTPS with authbox's own TLS certificate (issued at `init`) or the one
// imported for it (`authbox tls import`, server-tls.ts), on
// config.admin.listen. The daemon starts it; everything it serves is createAdminApp's.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdminApp, type AdminAppDeps } from './admin-ui/app.js';
import { toPem } from './ca/pem.js';
import { AppError } from './core/errors.js';
import type { Logger } from './core/logger.js';
import { adminConsoleDeps, serverTlsCredentials, type Pki } from './main.js';
import type { ServerTlsCredentials } from './server-tls.js';

export interface AdminServer {
  address: AddressInfo;
  /** Takes the console's server certificate from the store again (after `authbox tls renew` or `tls import`). */
  reloadTls(): void;
  close(): Promise<void>;
}

/** `extra`: what only the running daemon knows (its listeners, the Disconnect-Request log). */
export async function startAdminServer(
  pki: Pki, log: Logger, clock: () => Date = () => new Date(), extra: Pick<AdminAppDeps, 'listeners' | 'disconnects'> = {},
): Promise<AdminServer> {
  const creds = serverTlsCredentials(pki, 'admin');
  if (!creds) throw new AppError('LISTEN_FAILED', 'no TLS certificate for the admin console (tls.server); this data folder predates it');
  const app = createAdminApp({ ...adminConsoleDeps(pki, clock), ...extra, maxBodyBytes: pki.config.http.maxBodyBytes });
  // An imported certificate goes with its own chain, authbox's with authbox's CA chain.
  const tlsOptions = (c: ServerTlsCredentials) => ({
    cert: [c.certDer, ...c.chain].map((der) => toPem('CERTIFICATE', der)).join(''),
    key: pki.vault.load(c.keyId).export({ type: 'pkcs8', format: 'pem' }),
    minVersion: 'TLSv1.2' as const,
  });
  const server: Server = createServer(tlsOptions(creds), app);
  // Slow clients must not hold sockets open for ever.
  server.headersTimeout = 20_000;
  server.requestTimeout = 30_000;
  const listen = pki.config.admin.listen;
  if (!listen) throw new AppError('LISTEN_FAILED', 'the admin console is turned off (admin.listen "off")');
  const { host, port } = listen;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new AppError('LISTEN_FAILED', `admin console ${host}:${port}: ${(e as Error).message}`)));
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  log.info({ address: `${address.address}:${address.port}` }, 'admin console listening (HTTPS)');
  return {
    address,
    reloadTls: () => {
      const c = serverTlsCredentials(pki, 'admin');
      if (c) server.setSecureContext(tlsOptions(c));
    },
    close: () => new Promise<void>((resolve) => {
      server.closeIdleConnections();
      server.close(() => resolve());
    }),
  };
}
