// What the EAP engine asks of a method run inside a TLS tunnel (PEAP, EAP-TTLS): the first
// application data to send once the handshake is complete, and the answer to each piece
// of application data from the peer.
import type { InnerRefusal } from './inner-auth.js';

export type TunnelRefusal = InnerRefusal | 'EAP method refused by the peer' | 'EAP protocol error' | 'inner method failed';

export type TunnelStep =
  /** Application data to send; `done` when the peer's next (empty) answer ends in success. */
  | { kind: 'send'; data: Buffer; done?: { username: string; inner: string } }
  | { kind: 'accept'; username: string; inner: string }
  | { kind: 'reject'; reason: TunnelRefusal; username?: string; detail?: string };

export interface TunnelMethod {
  /** Application data the server sends first (PEAP: the inner Identity request), if any. */
  start(): Buffer | undefined;
  /** `nextId` is the Identifier the next EAP-Request will carry. */
  receive(data: Buffer, nextId: number): Promise<TunnelStep>;
}
