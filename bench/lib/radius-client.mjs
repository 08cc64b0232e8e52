// A minimal RADIUS client for bench/eap-sessions.mjs: Access-Requests signed with
// Message-Authenticator (HMAC-MD5, RFC 3579 §3.2), replies checked by their Response
// Authenticator (RFC 2865 §3), several UDP sockets so that Identifiers (256 per socket)
// are not reused while a request is outstanding, and retransmission of the same bytes
// after retryMs, up to `retries` times, as a NAS does (RFC 5080 §2.2.1): a server whose
// socket buffer overflowed (the kernel drops the datagram) is asked again. Independent of
// authbox's own codec.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';

export const CODE = { accessRequest: 1, accessAccept: 2, accessReject: 3, accessChallenge: 11 };
export const ATTR = {
  userName: 1, nasIpAddress: 4, framedMtu: 12, state: 24, calledStationId: 30, callingStationId: 31, nasPortType: 61,
  eapMessage: 79, messageAuthenticator: 80,
};
export const EAP = { request: 1, response: 2, identity: 1, nak: 3, tls: 13 };

/** Attributes as [type, Buffer]; EAP-Message split into 253-byte attributes (RFC 3579 §3.1). */
export function eapAttributes(eap) {
  const out = [];
  for (let i = 0; i < eap.length; i += 253) out.push([ATTR.eapMessage, eap.subarray(i, i + 253)]);
  return out;
}

export function encodeAccessRequest(id, secret, attributes) {
  const authenticator = randomBytes(16);
  const parts = [];
  for (const [type, value] of attributes) parts.push(Buffer.from([type, value.length + 2]), value);
  parts.push(Buffer.from([ATTR.messageAuthenticator, 18]), Buffer.alloc(16));
  const body = Buffer.concat(parts);
  const packet = Buffer.concat([Buffer.from([CODE.accessRequest, id, 0, 0]), authenticator, body]);
  packet.writeUInt16BE(packet.length, 2);
  createHmac('md5', secret).update(packet).digest().copy(packet, packet.length - 16);
  return packet;
}

export function decodePacket(buf) {
  const length = buf.readUInt16BE(2);
  const attributes = [];
  for (let i = 20; i + 2 <= length; i += buf[i + 1]) {
    if (buf[i + 1] < 2) throw new Error('bad attribute length');
    attributes.push([buf[i], buf.subarray(i + 2, i + buf[i + 1])]);
  }
  return { code: buf[0], id: buf[1], length, attributes };
}

export function attribute(packet, type) {
  return packet.attributes.find(([t]) => t === type)?.[1];
}
export function eapOf(packet) {
  const parts = packet.attributes.filter(([t]) => t === ATTR.eapMessage).map(([, v]) => v);
  return parts.length ? Buffer.concat(parts) : undefined;
}

/** Request/response matching by socket and Identifier; at most 256 outstanding per socket. */
export class RadiusClient {
  constructor({ port, host = '127.0.0.1', secret, sockets = 8, retryMs = 2_000, retries = 4 }) {
    Object.assign(this, { port, host, secret, retryMs, retries });
    this.socks = [];
    for (let i = 0; i < sockets; i++) {
      const sock = dgram.createSocket('udp4');
      const s = { sock, pending: new Map(), nextId: 0 };
      sock.on('message', (msg) => this.onMessage(s, msg));
      this.socks.push(s);
    }
    this.turn = 0;
    this.stats = { sent: 0, retransmits: 0, timeouts: 0, badAuthenticator: 0 };
  }

  async ready() {
    await Promise.all(this.socks.map((s) => new Promise((res) => s.sock.bind(0, '127.0.0.1', res))));
    for (const s of this.socks) { s.sock.setRecvBufferSize(4 << 20); s.sock.setSendBufferSize(4 << 20); }
  }

  /** Sends an Access-Request; resolves with the decoded reply, or undefined when every try timed out. */
  request(attributes) {
    let s, id;
    for (let tries = 0; tries < this.socks.length && id === undefined; tries++) {
      s = this.socks[this.turn++ % this.socks.length];
      for (let k = 0; k < 256; k++) {
        const c = (s.nextId + k) & 0xff;
        if (!s.pending.has(c)) { id = c; s.nextId = (c + 1) & 0xff; break; }
      }
    }
    if (id === undefined) throw new Error('no free RADIUS Identifier: too many requests outstanding');
    const packet = encodeAccessRequest(id, this.secret, attributes);
    return new Promise((resolve) => {
      const entry = { resolve, timer: undefined, authenticator: packet.subarray(4, 20) };
      let tries = 0;
      const send = () => {
        if (tries > 0) this.stats.retransmits++;
        tries++;
        s.sock.send(packet, this.port, this.host);
        entry.timer = setTimeout(() => {
          if (tries <= this.retries) return send();
          s.pending.delete(id);
          this.stats.timeouts++;
          resolve(undefined);
        }, this.retryMs);
      };
      s.pending.set(id, entry);
      this.stats.sent++;
      send();
    });
  }

  onMessage(s, msg) {
    if (msg.length < 20) return;
    const p = s.pending.get(msg[1]);
    if (!p) return;
    // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
    const expect = createHash('md5').update(msg.subarray(0, 4)).update(p.authenticator).update(msg.subarray(20, msg.readUInt16BE(2)))
      .update(this.secret).digest();
    if (!expect.equals(msg.subarray(4, 20))) { this.stats.badAuthenticator++; return; }
    s.pending.delete(msg[1]);
    clearTimeout(p.timer);
    p.resolve(decodePacket(msg));
  }

  close() {
    for (const s of this.socks) {
      for (const p of s.pending.values()) { clearTimeout(p.timer); p.resolve(undefined); }
      s.sock.close();
    }
  }
}
