// `authbox nas add|set|list|remove|coa-log`: RADIUS clients and where their sessions are ended
// (RFC 5176 Disconnect-Request). A shared secret comes from --secret or --secret-file (a CoA
// secret from --coa-secret or --coa-secret-file) and is never printed, logged or audited.
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import type { CoaRequestRecord } from '../../core/coa.js';
import { COA_DEFAULT_PORT, NAS_KINDS, type CoaInput, type NasRecord } from '../../core/nas.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { intOption, oneOf, str, UsageError, type CommandSpec, type OptionSpec, type Values } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

/** Exactly one of --secret and --secret-file; neither with --radsec (RFC 6614 §2.3 fixes the secret). */
function readFirstLine(file: string): string {
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
  } catch (e) {
    throw new AppError('BAD_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

const COA_OPTIONS: Record<string, OptionSpec> = {
  'coa-port': { type: 'string', arg: 'N', help: `UDP port of the client's Dynamic Authorization Server (default ${COA_DEFAULT_PORT}, RFC 5176)` },
  'coa-secret': { type: 'string', arg: 'S', help: 'the secret for Disconnect-Requests, if not the RADIUS shared secret' },
  'coa-secret-file': { type: 'string', arg: 'FILE', help: 'read the CoA secret from the first line of a file' },
  'coa-address': { type: 'string', arg: 'IP', help: 'where Disconnect-Requests go (default: the NAS-IP-Address seen in accounting, else --address if one host)' },
};

/** The --coa-* options given; any of them (or --coa) turns CoA on. */
function coaFrom(values: Values): CoaInput {
  const out: CoaInput = {};
  const port = intOption(values, 'coa-port');
  if (port !== undefined) out.port = port;
  const secret = str(values, 'coa-secret');
  const file = str(values, 'coa-secret-file');
  if (secret !== undefined && file !== undefined) throw new UsageError('give --coa-secret or --coa-secret-file, not both');
  if (secret !== undefined) out.secret = secret;
  if (file !== undefined) out.secret = readFirstLine(file);
  const address = str(values, 'coa-address');
  if (address !== undefined) out.address = address;
  if (values.coa === true || Object.keys(out).length > 0) out.enabled = true;
  return out;
}

function secretFrom(values: Values): string | undefined {
  const given = str(values, 'secret');
  const file = str(values, 'secret-file');
  if (given !== undefined && file !== undefined) throw new UsageError('give --secret or --secret-file, not both');
  if (values.radsec === true) {
    if (given !== undefined || file !== undefined) throw new UsageError('a --radsec client has no shared secret: its certificate authenticates it');
    return undefined;
  }
  if (given !== undefined) return given;
  if (file === undefined) throw new UsageError('--secret or --secret-file is required');
  return readFirstLine(file);
}

export const nasAddCommand: CommandSpec = {
  name: 'nas add',
  summary: 'register a RADIUS client (access point, switch, VPN, gateway) and its shared secret',
  options: {
    data: DATA_OPTION,
    name: { type: 'string', required: true, arg: 'NAME', help: 'a name for the client' },
    address: { type: 'string', required: true, arg: 'CIDR', help: 'the address or network its requests come from (192.0.2.10, 10.0.0.0/8, 2001:db8::/64)' },
    secret: { type: 'string', arg: 'S', help: 'the shared secret, at least 8 characters (visible to other local users in the process list)' },
    'secret-file': { type: 'string', arg: 'FILE', help: 'read the shared secret from the first line of a file' },
    kind: { type: 'string', arg: NAS_KINDS.join('|'), help: 'what the client is (default wlan)' },
    'allow-missing-message-authenticator': {
      type: 'boolean', help: 'accept Access-Requests without Message-Authenticator from this client (legacy gear only: BlastRADIUS, CVE-2024-3596)',
    },
    radsec: {
      type: 'boolean', help: 'the client connects over RadSec (TLS, TCP 2083) with a certificate from authbox\'s CA whose CN or a DNS SAN is --name; no secret; never over UDP',
    },
    coa: { type: 'boolean', help: 'end its users\' sessions with Disconnect-Requests (RFC 5176) when a certificate is revoked or a user disabled' },
    ...COA_OPTIONS,
  },
  run(values, io) {
    const kind = oneOf(values, 'kind', NAS_KINDS);
    const secret = secretFrom(values);
    const coa = coaFrom(values);
    const legacy = values['allow-missing-message-authenticator'] === true;
    withPki(values, (pki) => {
      const nas = pki.nas.add({
        name: str(values, 'name')!, address: str(values, 'address')!, ...(secret !== undefined ? { secret } : {}), ...(kind ? { kind } : {}),
        requireMessageAuthenticator: !legacy, ...(values.radsec === true ? { radsec: true } : {}), ...(coa.enabled ? { coa } : {}),
      }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`added ${nas.radsec ? 'RadSec' : 'RADIUS'} client "${nas.name}" for ${nas.address} (${nas.kind})\n`);
      if (legacy) io.err('warning: this client may send Access-Requests without Message-Authenticator, which BlastRADIUS (CVE-2024-3596) exploits; use only for gear that cannot be updated\n');
    });
  },
};

/** What `nas list` shows: never the secret, sealed or not. */
function describeNas(n: NasRecord): object {
  return {
    id: n.id, name: n.name, address: n.address, kind: n.kind,
    requireMessageAuthenticator: n.requireMessageAuthenticator, transport: n.radsec ? 'radsec' : 'udp', createdAt: new Date(n.createdAt).toISOString(),
    coa: n.coa.enabled ? { port: n.coa.port, address: n.coa.address, ownSecret: n.coa.secretSealed !== null } : null,
  };
}

/** `host:port` of a client's CoA settings, or "off". */
const coaText = (n: NasRecord): string => (n.coa.enabled ? `${n.coa.address ?? 'auto'}:${n.coa.port}` : 'off');

export const nasListCommand: CommandSpec = {
  name: 'nas list',
  summary: 'list RADIUS clients (never their secrets)',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'one JSON array' } },
  run(values, io) {
    withPki(values, (pki) => {
      const all = pki.nas.list();
      if (values.json === true) {
        io.out(JSON.stringify(all.map(describeNas), null, 2) + '\n');
        return;
      }
      if (all.length === 0) {
        io.out('no RADIUS clients\n');
        return;
      }
      const nameWidth = Math.max(4, ...all.map((n) => n.name.length)) + 2;
      const addrWidth = Math.max(7, ...all.map((n) => n.address.length)) + 2;
      io.out(`${'NAME'.padEnd(nameWidth)}${'ADDRESS'.padEnd(addrWidth)}${'KIND'.padEnd(9)}${'TRANSPORT'.padEnd(11)}${'MESSAGE-AUTHENTICATOR'.padEnd(23)}COA\n`);
      for (const n of all) {
        io.out(`${n.name.padEnd(nameWidth)}${n.address.padEnd(addrWidth)}${n.kind.padEnd(9)}${(n.radsec ? 'radsec' : 'udp').padEnd(11)}`
          + `${(n.requireMessageAuthenticator ? 'required' : 'optional').padEnd(23)}${coaText(n)}\n`);
      }
    });
  },
};

export const nasRemoveCommand: CommandSpec = {
  name: 'nas remove',
  summary: 'remove a RADIUS client: its requests are dropped from then on',
  options: { data: DATA_OPTION, name: { type: 'string', required: true, arg: 'NAME', help: 'the client to remove' } },
  run(values, io) {
    withPki(values, (pki) => {
      const name = str(values, 'name')!;
      const stored = pki.nas.list().find((n) => n.name.toLowerCase() === name.toLowerCase())?.name ?? name;
      pki.nas.remove(name, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`removed RADIUS client "${stored}"\n`);
    });
  },
};

export const nasSetCommand: CommandSpec = {
  name: 'nas set',
  summary: 'change a RADIUS client\'s Disconnect-Request (RFC 5176 CoA) settings',
  options: {
    data: DATA_OPTION,
    name: { type: 'string', required: true, arg: 'NAME', help: 'the client to change' },
    coa: { type: 'boolean', help: 'turn Disconnect-Requests on (any --coa-* option does too)' },
    'no-coa': { type: 'boolean', help: 'turn Disconnect-Requests off' },
    ...COA_OPTIONS,
    'coa-default-secret': { type: 'boolean', help: 'use the RADIUS shared secret for CoA again' },
    'coa-default-address': { type: 'boolean', help: 'send to the NAS-IP-Address seen in accounting again' },
  },
  run(values, io) {
    const change = coaFrom(values);
    if (values['no-coa'] === true) {
      if (change.enabled) throw new UsageError('--no-coa turns CoA off: give no other --coa option with it');
      change.enabled = false;
    }
    if (values['coa-default-secret'] === true) {
      if (change.secret !== undefined) throw new UsageError('give --coa-secret or --coa-default-secret, not both');
      change.secret = null;
    }
    if (values['coa-default-address'] === true) {
      if (change.address !== undefined) throw new UsageError('give --coa-address or --coa-default-address, not both');
      change.address = null;
    }
    if (Object.keys(change).length === 0) throw new UsageError('nothing to change: give --coa, --no-coa or a --coa-* option');
    withPki(values, (pki) => {
      const nas = pki.nas.setCoa(str(values, 'name')!, change, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`RADIUS client "${nas.name}": Disconnect-Requests ${nas.coa.enabled ? `to ${coaText(nas)}` : 'off'}\n`);
    });
  },
};

const iso = (ms: number): string => new Date(ms).toISOString();

function describeCoa(r: CoaRequestRecord): object {
  return {
    id: r.id, requestedAt: iso(r.requestedAt), completedAt: iso(r.completedAt), user: r.username, nas: r.nas, target: r.target,
    acctSessionId: r.sessionId, reason: r.reason, serial: r.serial, attempts: r.attempts, outcome: r.outcome, errorCause: r.errorCause, detail: r.detail,
  };
}

export const nasCoaLogCommand: CommandSpec = {
  name: 'nas coa-log',
  summary: 'show Disconnect-Requests sent (RFC 5176) and how each ended, newest first',
  options: {
    data: DATA_OPTION,
    user: { type: 'string', arg: 'U', help: 'only this user (case-insensitive)' },
    limit: { type: 'string', arg: 'N', help: 'at most N requests (default 50)' },
    json: { type: 'boolean', help: 'one JSON array' },
  },
  run(values, io) {
    const user = str(values, 'user');
    const limit = intOption(values, 'limit') ?? 50;
    withPki(values, (pki) => {
      const rows = pki.coa.list({ ...(user !== undefined ? { username: user } : {}), limit });
      if (values.json === true) {
        io.out(JSON.stringify(rows.map(describeCoa), null, 2) + '\n');
        return;
      }
      if (rows.length === 0) {
        io.out('no Disconnect-Requests\n');
        return;
      }
      for (const r of rows) {
        const cause = r.detail ? `  ${r.detail}` : '';
        io.out(`${iso(r.requestedAt)}  ${r.outcome.toUpperCase().padEnd(8)}${r.username ?? '-'} on ${r.nas} session ${r.sessionId}`
          + `  ${r.reason}${r.serial ? ` ${r.serial}` : ''}  ${r.attempts} attempt${r.attempts === 1 ? '' : 's'}${r.target ? ` to ${r.target}` : ''}${cause}\n`);
      }
    });
  },
};
