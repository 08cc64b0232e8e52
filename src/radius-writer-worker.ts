// The RADIUS writer thread (see radius-writer.ts): owns a database connection of its own and
// commits what the RADIUS thread hands it: decision batches, in order, and accounting groups.
// Here a commit may wait for the disk (the WAL's fsync, a checkpoint the commit triggers,
// another process's write lock: a directory sync); none of that stops a RADIUS answer.
// - A decision batch that cannot be written stays at the head of its queue and is tried again a
//   second later; nothing is dropped here (the RADIUS side bounds what it hands over).
// - An accounting group is committed at once (durably: synchronous FULL), and its outcome sent
//   back; the Accounting-Response waits for it. A failed group is reported, not retried: the NAS
//   retransmits (RFC 2866 §2).
import { parentPort, workerData } from 'node:worker_threads';
import type { AuthDecision } from './core/auth-log.js';
import { SqliteAccountingStore } from './store/accounting-store.js';
import { SqliteAuthLogStore } from './store/auth-log-store.js';
import { openDatabase } from './store/db.js';
import type { WriterReply, WriterRequest } from './radius-writer.js';

const RETRY_MS = 1000;
const port = parentPort!;
const db = openDatabase((workerData as { databaseFile: string }).databaseFile);
const decisions = new SqliteAuthLogStore(db);
const accounting = new SqliteAccountingStore(db);
const queue: (readonly AuthDecision[])[] = [];
let retry: NodeJS.Timeout | undefined;
let failing = false;

const reply = (m: WriterReply): void => port.postMessage(m);
const queued = (): number => queue.reduce((n, b) => n + b.length, 0);

/** Writes the decision queue in order; stops at the first batch that fails and tries it again later. */
function drain(): void {
  while (queue.length > 0) {
    const batch = queue[0]!;
    try {
      decisions.appendDecisions(batch);
    } catch (e) {
      if (!failing) reply({ type: 'failing', error: (e as Error).message, queued: queued() });
      failing = true;
      retry ??= setTimeout(() => {
        retry = undefined;
        drain();
      }, RETRY_MS);
      return;
    }
    queue.shift();
    if (failing) reply({ type: 'recovered' });
    failing = false;
    reply({ type: 'written', n: batch.length });
  }
}

port.on('message', (m: WriterRequest) => {
  switch (m.type) {
    case 'append':
      queue.push(m.rows);
      if (!retry) drain();
      break;
    case 'accounting':
      try {
        accounting.applyAccounting(m.events);
        reply({ type: 'accounted', id: m.id });
      } catch (e) {
        // The SQLite code (SQLITE_FULL, SQLITE_IOERR, ...) goes along: the RADIUS side counts a storage failure by it.
        reply({ type: 'accounted', id: m.id, error: (e as Error).message, ...(typeof (e as { code?: unknown }).code === 'string' ? { code: (e as { code: string }).code } : {}) });
      }
      break;
    case 'prune':
      try {
        reply({ type: 'pruned', n: decisions.pruneDecisions(m.before) });
      } catch (e) {
        reply({ type: 'failing', error: `pruning: ${(e as Error).message}`, queued: 0 });
      }
      break;
    case 'close':
      clearTimeout(retry);
      retry = undefined;
      drain();
      clearTimeout(retry);
      db.close();
      reply({ type: 'closed', unwritten: queued() });
      port.close();
      break;
  }
});
