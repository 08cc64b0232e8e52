// The decision log's writer thread (see decision-writer.ts): owns a database connection of its
// own and writes the batches the RADIUS thread hands it, in order. Here a commit may wait for the
// disk (the WAL's fsync, a checkpoint the commit triggers, another process's write lock: a
// directory sync): none of that stops a RADIUS answer. A batch that cannot be written stays at
// the head of the queue and is tried again a second later; nothing is dropped here (the RADIUS
// side bounds what it hands over).
import { parentPort, workerData } from 'node:worker_threads';
import type { AuthDecision } from './core/auth-log.js';
import { SqliteAuthLogStore } from './store/auth-log-store.js';
import { openDatabase } from './store/db.js';
import type { WriterReply, WriterRequest } from './decision-writer.js';

const RETRY_MS = 1000;
const port = parentPort!;
const db = openDatabase((workerData as { databaseFile: string }).databaseFile);
const store = new SqliteAuthLogStore(db);
const queue: (readonly AuthDecision[])[] = [];
let retry: NodeJS.Timeout | undefined;
let failing = false;

const reply = (m: WriterReply): void => port.postMessage(m);

/** Writes the queue in order; stops at the first batch that fails and tries it again later. */
function drain(): void {
  while (queue.length > 0) {
    const batch = queue[0]!;
    try {
      store.appendDecisions(batch);
    } catch (e) {
      if (!failing) reply({ type: 'failing', error: (e as Error).message, queued: queue.reduce((n, b) => n + b.length, 0) });
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
    case 'prune':
      try {
        reply({ type: 'pruned', n: store.pruneDecisions(m.before) });
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
      reply({ type: 'closed', unwritten: queue.reduce((n, b) => n + b.length, 0) });
      port.close();
      break;
  }
});
