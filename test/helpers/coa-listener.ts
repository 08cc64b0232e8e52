// A NAS's Dynamic Authorization Server (RFC 5176) for tests: a dgram socket on 127.0.0.1 that
// records each Disconnect-Request, checks its Request Authenticator and Message-Authenticator with
// node:crypto on its own (not authbox's codec), and answers ACK, NAK 503, or nothing.
import { createHash, createHmac } from 'node:crypto';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

export const ATTR_USER_NAME = 1;
export const ATTR_ACCT_SESSION_ID = 44;
export const ATTR_EVENT_TIMESTAMP = 55;
export const ATTR_MESSAGE_AUTHENTICATOR = 80;
export const ATTR_ERROR_CAUSE = 101;
export const DISCONNECT_REQUEST = 40;
export const DISCONNECT_ACK = 41;
export const DISCONNECT_NAK = 42;

export interface Seen {
  id: number;
  authenticatorOk: boolean;
  messageAuthenticatorOk: boolean;
  attrs: Map<number, Buffer>;
  at: number;
}

/** The NAS's Dynamic Authorization Server (RFC 5176 §2.3), with checks written apart from authbox's codec. */
export class CoaListener {
  readonly seen: Seen[] = [];
  answer: 'ack' | 'nak503' | 'silent' = 'ack';
  private constructor(private readonly socket: Socket, readonly port: number, private readonly secret: string) {}

  static async start(secret: string): Promise<CoaListener> {
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const l = new CoaListener(socket, socket.address().port, secret);
    socket.on('message', (m, rinfo) => l.onMessage(m, rinfo));
    return l;
  }

  private onMessage(packet: Buffer, rinfo: RemoteInfo): void {
    if (packet[0] !== DISCONNECT_REQUEST) return;
    const attrs = new Map<number, Buffer>();
    let maAt = -1;
    for (let at = 20; at < packet.readUInt16BE(2); at += packet[at + 1]!) {
      attrs.set(packet[at]!, packet.subarray(at + 2, at + packet[at + 1]!));
      if (packet[at] === ATTR_MESSAGE_AUTHENTICATOR) maAt = at;
    }
    // RFC 5176 §2.3: MD5(Code+Identifier+Length+16 zero octets+Attributes+Secret).
    const zeroed = Buffer.from(packet);
    zeroed.fill(0, 4, 20);
    const authenticatorOk = createHash('md5').update(zeroed).update(this.secret).digest().equals(packet.subarray(4, 20));
    // RFC 5176 §3.4 / RFC 3579 §3.2: HMAC-MD5 with the Authenticator field and the attribute's value zeroed.
    let messageAuthenticatorOk = false;
    if (maAt >= 0) {
      zeroed.fill(0, maAt + 2, maAt + 18);
      messageAuthenticatorOk = createHmac('md5', this.secret).update(zeroed).digest().equals(packet.subarray(maAt + 2, maAt + 18));
    }
    this.seen.push({ id: packet[1]!, authenticatorOk, messageAuthenticatorOk, attrs, at: Date.now() });
    if (this.answer === 'silent') return;
    const body = this.answer === 'ack' ? Buffer.alloc(0) : Buffer.from([ATTR_ERROR_CAUSE, 6, 0, 0, 0x01, 0xf7]); // 503
    const reply = Buffer.concat([Buffer.from([this.answer === 'ack' ? DISCONNECT_ACK : DISCONNECT_NAK, packet[1]!, 0, 20 + body.length]), packet.subarray(4, 20), body]);
    createHash('md5').update(reply).update(this.secret).digest().copy(reply, 4);
    this.socket.send(reply, rinfo.port, rinfo.address);
  }

  forSession(sessionId: string): Seen[] {
    return this.seen.filter((s) => s.attrs.get(ATTR_ACCT_SESSION_ID)?.toString() === sessionId);
  }

  close(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

