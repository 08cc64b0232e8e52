// `authbox log auth|acct`: why authentications were accepted or refused, and accounting
// sessions. Read-only; nothing shown here is a password or a secret.
import type { AccountingSession } from '../../core/accounting.js';
import type { StoredDecision } from '../../core/auth-log.js';
import { openPkiAt, type Pki } from '../../main.js';
import { intOption, str, type CommandSpec, type Values } from '../args.js';
import { DATA_OPTION } from '../common.js';

function withPki<T>(values: Values, fn: (pki: Pki) => T): T {
  const pki = openPkiAt(str(values, 'data')!);
  try {
    return fn(pki);
  } finally {
    pki.close();
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function describeDecision(d: StoredDecision): object {
  return {
    id: d.id, at: iso(d.at), user: d.username ?? null, nas: d.nas, nasAddress: d.nasAddress,
    callingStationId: d.callingStationId ?? null, method: d.method ?? null, outcome: d.outcome, reason: d.reason ?? null,
    ...(d.details ? { details: d.details } : {}),
  };
}

function describeSession(s: AccountingSession): object {
  return {
    id: s.id, user: s.username, nas: s.nas, nasAddress: s.nasAddress, acctSessionId: s.sessionId, status: s.open ? 'open' : 'closed',
    framedIp: s.framedIp, callingStationId: s.callingStationId, calledStationId: s.calledStationId, nasIp: s.nasIp, nasPort: s.nasPort,
    nasIdentifier: s.nasIdentifier, startedAt: iso(s.startedAt), updatedAt: iso(s.updatedAt), stoppedAt: iso(s.stoppedAt),
    durationSeconds: s.sessionTime, inputOctets: s.inputOctets, outputOctets: s.outputOctets, inputPackets: s.inputPackets,
    outputPackets: s.outputPackets, interimUpdates: s.interimUpdates, terminateCause: s.terminateCause,
  };
}

export const logAuthCommand: CommandSpec = {
  name: 'log auth',
  summary: 'show authentication decisions, newest first, with the reason for each refusal',
  options: {
    data: DATA_OPTION,
    user: { type: 'string', arg: 'U', help: 'only this user (case-insensitive)' },
    limit: { type: 'string', arg: 'N', help: 'at most N decisions (default 50)' },
    json: { type: 'boolean', help: 'one JSON array' },
  },
  run(values, io) {
    const user = str(values, 'user');
    const limit = intOption(values, 'limit') ?? 50;
    withPki(values, (pki) => {
      const rows = pki.authLog.listDecisions({ ...(user !== undefined ? { user } : {}), limit });
      if (values.json === true) {
        io.out(JSON.stringify(rows.map(describeDecision), null, 2) + '\n');
        return;
      }
      if (rows.length === 0) {
        io.out('no authentication decisions\n');
        return;
      }
      for (const d of rows) {
        const who = d.username ?? '-';
        const from = d.callingStationId ? ` from ${d.callingStationId}` : '';
        io.out(`${new Date(d.at).toISOString()}  ${d.outcome.toUpperCase().padEnd(6)}  ${who} via ${d.nas}${from}`
          + `  ${d.method ?? '-'}${d.reason ? `  ${d.reason}` : ''}\n`);
      }
    });
  },
};

export const logAcctCommand: CommandSpec = {
  name: 'log acct',
  summary: 'show RADIUS accounting sessions, newest first',
  options: {
    data: DATA_OPTION,
    user: { type: 'string', arg: 'U', help: 'only this user (case-insensitive)' },
    open: { type: 'boolean', help: 'only sessions still open' },
    limit: { type: 'string', arg: 'N', help: 'at most N sessions (default 100)' },
    json: { type: 'boolean', help: 'one JSON array' },
  },
  run(values, io) {
    const user = str(values, 'user');
    const limit = intOption(values, 'limit') ?? 100;
    withPki(values, (pki) => {
      const rows = pki.accounting.listSessions({ ...(user !== undefined ? { user } : {}), ...(values.open === true ? { open: true } : {}), limit });
      if (values.json === true) {
        io.out(JSON.stringify(rows.map(describeSession), null, 2) + '\n');
        return;
      }
      if (rows.length === 0) {
        io.out('no accounting sessions\n');
        return;
      }
      for (const s of rows) {
        const address = s.framedIp ?? s.callingStationId ?? '-';
        io.out(`${new Date(s.startedAt).toISOString()}  ${(s.open ? 'open' : 'closed').padEnd(6)}  ${s.username ?? '-'} via ${s.nas}`
          + `  ${s.sessionId}  ${address}  ${s.sessionTime}s  in ${s.inputOctets} out ${s.outputOctets}`
          + `${s.terminateCause ? `  ${s.terminateCause}` : ''}\n`);
      }
    });
  },
};
