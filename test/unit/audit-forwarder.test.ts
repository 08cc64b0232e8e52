import { describe, expect, it } from 'vitest';
import { AuditForwarder } from '../../src/core/log-streams.js';
import type { Logger } from '../../src/core/logger.js';

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({
  id: i + 1, at: 0, actor: 'ldap-sync:corp', source: 'sync', action: 'user.add', target: `u${i + 1}`, detail: '{"groups":[]}',
}));

function setup(total: number) {
  const all = rows(total);
  const source = {
    latestAuditId: () => 0,
    auditSince: (id: number, limit: number) => all.filter((r) => r.id > id).slice(0, limit),
  };
  const seen: number[] = [];
  const log = { info: (o: { auditId: number }) => void seen.push(o.auditId), debug() {}, warn() {}, error() {}, child: () => log } as unknown as Logger;
  return { forwarder: new AuditForwarder(source as never, log, 60_000), seen };
}

describe('AuditForwarder', () => {
  it('forwards a burst in chunks with a turn of the event loop between them, in order, each row once', async () => {
    const { forwarder, seen } = setup(1_050);
    forwarder.start();
    expect(forwarder.poll(200)).toBe(200);
    expect(seen).toHaveLength(200);
    for (let i = 0; i < 20 && seen.length < 1_050; i++) await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(Array.from({ length: 1_050 }, (_, i) => i + 1));
    forwarder.stop();
  });

  it('stop() forwards everything left at once', () => {
    const { forwarder, seen } = setup(2_500);
    forwarder.stop();
    expect(seen).toHaveLength(2_500);
  });
});
