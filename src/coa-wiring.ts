// Dynamic Authorization (RFC 5176) as the primary daemon runs it: the CoA engine over the
// store, the NAS settings and a UDP sender, woken by the change feed's 'cert' and 'user'
// rows from any process (CLI, console, API, directory sync).
import { CoaEngine } from './core/coa.js';
import type { Logger } from './core/logger.js';
import type { Pki } from './main.js';
import { UdpCoaClient } from './radius/coa-client.js';
import { SqliteCoaStore } from './store/coa-store.js';

export interface CoaWiring {
  /** Reads new revocations, disables and locks, and starts their Disconnect-Requests (never waits for them). */
  poll(): void;
  close(): Promise<void>;
}

export function coaWiring(pki: Pki, log: Logger, clock: () => Date): CoaWiring {
  const transport = new UdpCoaClient(log);
  const engine = new CoaEngine({
    storage: new SqliteCoaStore(pki.db),
    certificates: (serial) => pki.store.findCertificates(serial),
    target: (nas) => pki.nas.coaTarget(nas),
    transport, log, clock,
  });
  return {
    poll: () => {
      try {
        engine.poll();
      } catch (e) {
        log.error({ err: (e as Error).message }, 'CoA poll failed');
      }
    },
    close: async () => {
      void engine.stop();
      await transport.close();
    },
  };
}
