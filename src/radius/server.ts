// The RADIUS transport: UDP sockets (IPv4 and IPv6, as configured) for authentication and
// accounting, handing each datagram to the engine and sending back whatever it answers.
import { createSocket, type Socket, type SocketOptions } from 'node:dgram';
import { lookup as dnsLookup } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { ListenAddress } from '../config/config.js';
import { AppError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { RadiusAuthEngine, RadiusService } from './auth.js';

export interface RadiusListener {
  service: RadiusService;
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
  status: 'up' | 'closed';
}

export interface RadiusServer {
  listeners: RadiusListener[];
  /** Stops taking requests, answers those in flight (at most drainMs), then closes the sockets. */
  close(drainMs?: number): Promise<void>;
}

const RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024;
/** On shutdown, requests already being decided (an LDAP bind, an EAP round) get this long to be answered. */
const SHUTDOWN_DRAIN_MS = 5_000;

/**
 * Replies go to the address a request came from, always an IP literal: answered at once
 * rather than through dns.lookup and a process tick per datagram. A name (a listen address
 * given as a host name) still goes to the resolver.
 */
const literalLookup = ((host: string, options: unknown, callback: (err: Error | null, address: string, family: number) => void): void => {
  const family = isIP(host);
  if (family !== 0) {
    callback(null, host, family);
    return;
  }
  dnsLookup(host, { family: typeof options === 'number' ? options : 0 }, callback);
}) as unknown as SocketOptions['lookup'];

/** Binds one socket; a taken port or a missing address is one clear LISTEN_FAILED. */
function bind(addr: ListenAddress, what: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // An IPv6 wildcard socket also receives IPv4 (as ::ffff:a.b.c.d) unless the system says otherwise.
    const socket = createSocket({ type: isIPv6(addr.host) ? 'udp6' : 'udp4', lookup: literalLookup });
    const onError = (e: NodeJS.ErrnoException): void => {
      socket.close();
      const reason = e.code === 'EADDRINUSE' ? 'the port is already in use'
        : e.code === 'EACCES' ? 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)'
        : e.code === 'EADDRNOTAVAIL' ? 'no such local address' : e.message;
      reject(new AppError('LISTEN_FAILED', `cannot listen for ${what} on ${addr.host}:${addr.port}/udp: ${reason}`));
    };
    socket.once('error', onError);
    socket.bind({ port: addr.port, address: addr.host, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

export async function startRadiusServer(
  engine: RadiusAuthEngine, listen: { auth: readonly ListenAddress[]; acct: readonly ListenAddress[] }, log: Logger,
): Promise<RadiusServer> {
  const sockets: { socket: Socket; listener: RadiusListener }[] = [];
  // Requests being decided: on close, new datagrams are ignored and these are answered first.
  let inFlight = 0;
  let draining = false;
  let drained: (() => void) | undefined;
  const closeAll = async (drainMs = SHUTDOWN_DRAIN_MS): Promise<void> => {
    draining = true;
    if (inFlight > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, drainMs);
        drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await Promise.all(sockets.map(({ socket, listener }) => new Promise<void>((resolve) => {
      listener.status = 'closed';
      try {
        socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    })));
  };

  const plan = [
    ...listen.auth.map((a) => ({ service: 'auth' as const, addr: a, what: 'RADIUS authentication' })),
    ...listen.acct.map((a) => ({ service: 'acct' as const, addr: a, what: 'RADIUS accounting' })),
  ];
  try {
    for (const { service, addr, what } of plan) {
      const socket = await bind(addr, what);
      const bound = socket.address();
      const listener: RadiusListener = {
        service, address: bound.address, port: bound.port, family: bound.family === 'IPv6' ? 'IPv6' : 'IPv4', status: 'up',
      };
      // A burst (an access point rebooting, a roaming wave) must wait in the kernel, not be dropped
      // while the thread is busy: ask for 4 MiB (Linux caps it at net.core.rmem_max).
      try {
        socket.setRecvBufferSize(RECEIVE_BUFFER_BYTES);
      } catch (e) {
        log.warn({ service, err: (e as Error).message }, 'cannot enlarge the UDP receive buffer');
      }
      sockets.push({ socket, listener });
      socket.on('message', (data, rinfo) => {
        if (draining) return; // shutting down: the NAS retries against another server
        const t0 = performance.now();
        inFlight++;
        void engine.handle({ data, address: rinfo.address, port: rinfo.port }, service).then((reply) => {
          if (reply && listener.status === 'up') {
            socket.send(reply, rinfo.port, rinfo.address);
            engine.observeLatency(service, (performance.now() - t0) / 1000);
          }
          if (--inFlight === 0 && draining) drained?.();
        });
      });
      socket.on('error', (e) => log.error({ service, err: e.message }, 'RADIUS socket error'));
    }
  } catch (e) {
    await closeAll();
    throw e;
  }
  return { listeners: sockets.map((s) => s.listener), close: closeAll };
}
