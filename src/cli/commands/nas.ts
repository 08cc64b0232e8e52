// `authbox nas add|list|remove`: RADIUS clients. A shared secret comes from --secret or
// --secret-file and is never printed, logged or written into an audit row.
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import { NAS_KINDS, type NasRecord } from '../../core/nas.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { oneOf, str, UsageError, type CommandSpec, type Values } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

/** Exactly one of --secret and --secret-file; neither with --radsec (RFC 6614 §2.3 fixes the secret). */
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
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
  } catch (e) {
    throw new AppError('BAD_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
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
  },
  run(values, io) {
    const kind = oneOf(values, 'kind', NAS_KINDS);
    const secret = secretFrom(values);
    const legacy = values['allow-missing-message-authenticator'] === true;
    withPki(values, (pki) => {
      const nas = pki.nas.add({
        name: str(values, 'name')!, address: str(values, 'address')!, ...(secret !== undefined ? { secret } : {}), ...(kind ? { kind } : {}),
        requireMessageAuthenticator: !legacy, ...(values.radsec === true ? { radsec: true } : {}),
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
  };
}

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
      io.out(`${'NAME'.padEnd(nameWidth)}${'ADDRESS'.padEnd(addrWidth)}${'KIND'.padEnd(9)}${'TRANSPORT'.padEnd(11)}MESSAGE-AUTHENTICATOR\n`);
      for (const n of all) {
        io.out(`${n.name.padEnd(nameWidth)}${n.address.padEnd(addrWidth)}${n.kind.padEnd(9)}${(n.radsec ? 'radsec' : 'udp').padEnd(11)}${n.requireMessageAuthenticator ? 'required' : 'optional'}\n`);
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
