// `authbox policy set|show|remove|methods|factors|group-otp`: what an accepted user gets per
// group (VLAN, Session-Timeout, Filter-Id, Class), which methods each kind of RADIUS client
// allows, and which second factors a kind (or a group) requires.
// A user in several groups with policies gets the policy of the group with the lowest
// priority number (ties: group name order); policies are not merged.
import { NAS_KINDS } from '../../core/nas.js';
import {
  AUTH_METHODS, FACTOR_SETTINGS, PRIORITY_DEFAULT, SESSION_TIMEOUT_MAX, SESSION_TIMEOUT_MIN, VLAN_ID_MAX, VLAN_ID_MIN, parseMethods,
  type AuthMethod, type GroupPolicy,
} from '../../core/policy.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { intOption, list, oneOf, str, UsageError, type CommandSpec } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const UNSET_FIELDS = { vlan: 'vlan', 'session-timeout': 'sessionTimeout', 'filter-id': 'filterId', class: 'class' } as const;
type UnsetName = keyof typeof UNSET_FIELDS;

function describePolicy(p: GroupPolicy): string {
  const parts = [
    p.vlan !== null ? `VLAN ${p.vlan}` : '', p.sessionTimeout !== null ? `session timeout ${p.sessionTimeout} s` : '',
    p.filterId !== null ? `filter ${p.filterId}` : '', p.class !== null ? `class ${p.class}` : '', `priority ${p.priority}`,
  ];
  return parts.filter(Boolean).join(', ');
}

export const policySetCommand: CommandSpec = {
  name: 'policy set',
  summary: 'set what members of a group get on Access-Accept (VLAN, session timeout, filter, class)',
  options: {
    data: DATA_OPTION,
    group: { type: 'string', required: true, arg: 'G', help: 'the group' },
    vlan: { type: 'string', arg: 'ID', help: `VLAN ID (${VLAN_ID_MIN}-${VLAN_ID_MAX}) or VLAN name (up to 32 characters), sent as Tunnel-Private-Group-Id` },
    'session-timeout': { type: 'string', arg: 'SECONDS', help: `Session-Timeout, ${SESSION_TIMEOUT_MIN} to ${SESSION_TIMEOUT_MAX} seconds` },
    'filter-id': { type: 'string', arg: 'NAME', help: 'Filter-Id: the name of a filter (ACL) the client knows' },
    class: { type: 'string', arg: 'TEXT', help: 'Class, echoed by the client in its accounting' },
    priority: { type: 'string', arg: 'N', help: `when a user is in several groups, the lowest number wins, then the group name (default ${PRIORITY_DEFAULT})` },
    unset: { type: 'string', multiple: true, arg: Object.keys(UNSET_FIELDS).join('|'), help: 'clear one field of an existing policy' },
  },
  run(values, io) {
    const sessionTimeout = intOption(values, 'session-timeout');
    const priority = intOption(values, 'priority');
    const unset = list(values, 'unset').map((u) => {
      if (!(u in UNSET_FIELDS)) throw new UsageError(`--unset must be one of ${Object.keys(UNSET_FIELDS).join(', ')}, not "${u}"`);
      return UNSET_FIELDS[u as UnsetName];
    });
    const vlan = str(values, 'vlan');
    const filterId = str(values, 'filter-id');
    const cls = str(values, 'class');
    if ([vlan, sessionTimeout, filterId, cls, priority].every((v) => v === undefined) && unset.length === 0) {
      throw new UsageError('give at least one of --vlan, --session-timeout, --filter-id, --class, --priority or --unset');
    }
    withPki(values, (pki) => {
      const p = pki.policy.set({
        group: str(values, 'group')!, unset,
        ...(vlan !== undefined ? { vlan } : {}), ...(sessionTimeout !== undefined ? { sessionTimeout } : {}),
        ...(filterId !== undefined ? { filterId } : {}), ...(cls !== undefined ? { class: cls } : {}),
        ...(priority !== undefined ? { priority } : {}),
      }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`policy of group "${p.group}": ${describePolicy(p)}\n`);
    });
  },
};

export const policyRemoveCommand: CommandSpec = {
  name: 'policy remove',
  summary: "remove a group's policy: its members get no policy attributes from it",
  options: { data: DATA_OPTION, group: { type: 'string', required: true, arg: 'G', help: 'the group' } },
  run(values, io) {
    withPki(values, (pki) => {
      const group = str(values, 'group')!;
      const stored = pki.policy.load().groups.find((g) => g.group.toLowerCase() === group.toLowerCase())?.group ?? group;
      pki.policy.remove(group, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`removed the policy of group "${stored}"\n`);
    });
  },
};

export const policyMethodsCommand: CommandSpec = {
  name: 'policy methods',
  summary: 'choose the authentication methods a kind of RADIUS client allows (default: all)',
  options: {
    data: DATA_OPTION,
    kind: { type: 'string', required: true, arg: NAS_KINDS.join('|'), help: 'the kind of client' },
    allow: { type: 'string', required: true, arg: 'M,M', help: `comma-separated, from ${AUTH_METHODS.join(', ')}; "all" for the default` },
  },
  run(values, io) {
    const kind = oneOf(values, 'kind', NAS_KINDS)!;
    const names = str(values, 'allow')!.split(',').map((n) => n.trim()).filter(Boolean);
    let methods: AuthMethod[] | undefined;
    if (names.length === 1 && names[0]!.toLowerCase() === 'all') methods = undefined;
    else {
      const unknown = names.filter((n) => !(AUTH_METHODS as readonly string[]).includes(n.toLowerCase()));
      if (names.length === 0 || unknown.length > 0) {
        throw new UsageError(`--allow takes methods from ${AUTH_METHODS.join(', ')} (or "all")${unknown.length ? `, not "${unknown.join(',')}"` : ''}`);
      }
      methods = parseMethods(names);
    }
    withPki(values, (pki) => {
      pki.policy.setMethods(kind, methods, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`${kind} clients allow ${methods ? methods.join(', ') : `every method (${AUTH_METHODS.join(', ')})`}\n`);
    });
  },
};

export const policyShowCommand: CommandSpec = {
  name: 'policy show',
  summary: 'show the group policies (in the order they win) and the methods each kind of client allows',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'one JSON object' } },
  run(values, io) {
    withPki(values, (pki) => {
      const { groups, methods: rows, otpGroups = [] } = pki.policy.load();
      const methods = pki.policy.methodsByKind();
      const factors = pki.policy.factorsByKind();
      if (values.json === true) {
        const customized = new Set(rows.map((r) => r.kind));
        io.out(JSON.stringify({
          groups,
          methods: NAS_KINDS.map((k) => ({ kind: k, methods: methods[k], default: !customized.has(k) })),
          factors: NAS_KINDS.map((k) => factors[k]),
          otpGroups,
        }, null, 2) + '\n');
        return;
      }
      if (groups.length === 0) io.out('no group policies\n');
      else {
        const w = Math.max(5, ...groups.map((g) => g.group.length)) + 2;
        const vw = Math.max(4, ...groups.map((g) => (g.vlan ?? '-').length)) + 2;
        io.out(`${'GROUP'.padEnd(w)}${'PRIORITY'.padEnd(10)}${'VLAN'.padEnd(vw)}${'TIMEOUT'.padEnd(9)}${'FILTER-ID'.padEnd(12)}CLASS\n`);
        for (const g of groups) {
          io.out(`${g.group.padEnd(w)}${String(g.priority).padEnd(10)}${(g.vlan ?? '-').padEnd(vw)}${String(g.sessionTimeout ?? '-').padEnd(9)}`
            + `${(g.filterId ?? '-').padEnd(12)}${g.class ?? '-'}\n`);
        }
      }
      io.out('\nMETHODS\n');
      for (const k of NAS_KINDS) io.out(`${k.padEnd(9)}${methods[k].join(', ')}\n`);
      io.out('\nSECOND FACTORS\n');
      io.out(`${'KIND'.padEnd(9)}${'OTP'.padEnd(10)}TUNNEL-CLIENT-CERT\n`);
      for (const k of NAS_KINDS) io.out(`${k.padEnd(9)}${factors[k].otp.padEnd(10)}${factors[k].tunnelClientCert}\n`);
      io.out(`groups requiring OTP: ${otpGroups.length ? otpGroups.join(', ') : '-'}\n`);
    });
  },
};

export const policyFactorsCommand: CommandSpec = {
  name: 'policy factors',
  summary: 'require a second factor for a kind of RADIUS client: a one-time code (PAP) or a client certificate (PEAP/TTLS)',
  options: {
    data: DATA_OPTION,
    kind: { type: 'string', required: true, arg: NAS_KINDS.join('|'), help: 'the kind of client' },
    otp: { type: 'string', arg: FACTOR_SETTINGS.join('|'), help: 'PAP and TTLS-PAP need a one-time code after the password' },
    'tunnel-client-cert': {
      type: 'string', arg: FACTOR_SETTINGS.join('|'),
      help: "PEAP and TTLS need a client certificate in the outer TLS handshake, of the inner identity's user",
    },
  },
  run(values, io) {
    const kind = oneOf(values, 'kind', NAS_KINDS)!;
    const otp = oneOf(values, 'otp', FACTOR_SETTINGS);
    const tunnelClientCert = oneOf(values, 'tunnel-client-cert', FACTOR_SETTINGS);
    if (otp === undefined && tunnelClientCert === undefined) throw new UsageError('give --otp or --tunnel-client-cert (or both)');
    withPki(values, (pki) => {
      const f = pki.policy.setFactors(kind, { ...(otp ? { otp } : {}), ...(tunnelClientCert ? { tunnelClientCert } : {}) }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`${kind} clients: one-time code ${f.otp}, tunnel client certificate ${f.tunnelClientCert}\n`);
    });
  },
};

export const policyGroupOtpCommand: CommandSpec = {
  name: 'policy group-otp',
  summary: 'require a one-time code (PAP, TTLS-PAP) from the members of a group on every kind of client',
  options: {
    data: DATA_OPTION,
    group: { type: 'string', required: true, arg: 'G', help: 'the group' },
    otp: { type: 'string', required: true, arg: FACTOR_SETTINGS.join('|'), help: 'required, or off to stop requiring it' },
  },
  run(values, io) {
    const group = str(values, 'group')!;
    const otp = oneOf(values, 'otp', FACTOR_SETTINGS)!;
    withPki(values, (pki) => {
      pki.policy.setGroupOtp(group, otp === 'required', cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`members of group "${group}": one-time code ${otp === 'required' ? 'required' : 'not required by the group'}\n`);
    });
  },
};
