// The dashboard's listener status: what the daemon serves and whether each listener is up
// now. Sockets this process holds are read from their state; HTTP served by worker processes
// (http.workers > 1) is checked with a TCP connection, since only the workers hold it.
import { connect, type AddressInfo } from 'node:net';
import type { ListenAddress } from './config/config.js';
import type { RadiusListener } from './radius/server.js';

export interface ListenerStatus { name: string; address: string; up: boolean }

const PROBE_MS = 500;
const hostPort = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** Whether something accepts a TCP connection there (a wildcard address is tried on loopback). */
function probe(addr: ListenAddress): Promise<boolean> {
  const host = addr.host === '0.0.0.0' ? '127.0.0.1' : addr.host === '::' ? '::1' : addr.host;
  return new Promise((resolve) => {
    const socket = connect({ host, port: addr.port });
    const done = (up: boolean): void => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(PROBE_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function listenerStatus(parts: {
  /** HTTP in this process, or where the workers serve it. */
  http: { address: AddressInfo; listening: boolean } | { workers: ListenAddress } | undefined;
  radius: readonly RadiusListener[];
  radsec?: AddressInfo | undefined;
  admin?: AddressInfo | undefined;
}): Promise<ListenerStatus[]> {
  const out: ListenerStatus[] = [];
  const { http } = parts;
  if (http && 'workers' in http) out.push({ name: 'http', address: hostPort(http.workers.host, http.workers.port), up: await probe(http.workers) });
  else if (http) out.push({ name: 'http', address: hostPort(http.address.address, http.address.port), up: http.listening });
  for (const l of parts.radius) out.push({ name: `radius-${l.service}`, address: hostPort(l.address, l.port), up: l.status === 'up' });
  if (parts.radsec) out.push({ name: 'radsec', address: hostPort(parts.radsec.address, parts.radsec.port), up: true });
  // The console answering this request is up by definition.
  if (parts.admin) out.push({ name: 'admin', address: hostPort(parts.admin.address, parts.admin.port), up: true });
  return out;
}
