// `authbox user ...`: local users. A password comes from --password or --password-file
// and is never printed, logged or written into an audit row. --chap keeps it sealed in a
// reversible form as well, for CHAP (RFC 1994), which cannot work from a hash: opt-in.
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import type { UserRecord } from '../../core/users.js';
import { nudgeDaemon } from '../../daemon.js';
import { list, str, UsageError, type CommandSpec, type OptionSpec, type Values } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const USERNAME_OPTION: OptionSpec = { type: 'string', required: true, arg: 'U', help: 'the user name' };
const PASSWORD_OPTIONS: Record<string, OptionSpec> = {
  password: { type: 'string', arg: 'PW', help: 'the password (visible to other local users in the process list)' },
  'password-file': { type: 'string', arg: 'FILE', help: 'read the password from the first line of a file' },
};

const CHAP_OPTION: OptionSpec = {
  type: 'boolean',
  help: 'also keep the password sealed (reversible, AES-256-GCM under the master key) so CHAP can check it',
};

/** Exactly one of --password and --password-file. */
function passwordFrom(values: Values): string {
  const given = str(values, 'password');
  const file = str(values, 'password-file');
  if (given !== undefined && file !== undefined) throw new UsageError('give --password or --password-file, not both');
  if (given !== undefined) return given;
  if (file === undefined) throw new UsageError('--password or --password-file is required');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new AppError('BAD_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  // The first line, so `echo pw > file` works; a password cannot hold a line break.
  return text.split(/\r?\n/)[0]!;
}

export const userAddCommand: CommandSpec = {
  name: 'user add',
  summary: 'add a local user with a password and optional groups',
  options: {
    data: DATA_OPTION,
    username: USERNAME_OPTION,
    ...PASSWORD_OPTIONS,
    group: { type: 'string', multiple: true, arg: 'G', help: 'a group the user belongs to' },
    chap: CHAP_OPTION,
  },
  run(values, io) {
    const password = passwordFrom(values);
    withPki(values, (pki) => {
      const chap = values.chap === true;
      const user = pki.users.add({ username: str(values, 'username')!, password, groups: list(values, 'group'), chap }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`added user "${user.username}"${user.groups.length ? ` in ${user.groups.join(', ')}` : ''}${chap ? ', CHAP enabled' : ''}\n`);
    });
  },
};

export const userPasswdCommand: CommandSpec = {
  name: 'user passwd',
  summary: "set a user's password (without --chap, CHAP is turned off for the user)",
  options: {
    data: DATA_OPTION, username: USERNAME_OPTION, ...PASSWORD_OPTIONS,
    chap: { ...CHAP_OPTION, help: `${CHAP_OPTION.help}; without --chap any sealed copy is dropped and CHAP is refused` },
    'no-chap': { type: 'boolean', help: 'keep no reversible copy (the default: a change without --chap drops it)' },
  },
  run(values, io) {
    if (values.chap === true && values['no-chap'] === true) throw new UsageError('give --chap or --no-chap, not both');
    const password = passwordFrom(values);
    withPki(values, (pki) => {
      const chap = values.chap === true;
      const before = pki.users.get(str(values, 'username')!);
      const user = pki.users.setPassword(before.username, password, cliActor(), { chap });
      nudgeDaemon(pki.config.dataDir);
      const note = chap ? ', CHAP enabled' : before.chapPasswordSealed ? ', CHAP disabled' : '';
      io.out(`changed the password of "${user.username}"${note}\n`);
    });
  },
};

function enableCommand(enabled: boolean): CommandSpec {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `user ${verb}`,
    summary: enabled ? 'allow a disabled user to authenticate again' : 'refuse every authentication of a user, keeping the account',
    options: { data: DATA_OPTION, username: USERNAME_OPTION },
    run(values, io) {
      withPki(values, (pki) => {
        const username = str(values, 'username')!;
        const changed = pki.users.setEnabled(username, enabled, cliActor());
        if (changed) nudgeDaemon(pki.config.dataDir);
        const name = pki.users.get(username).username;
        io.out(changed ? `${verb}d user "${name}"\n` : `user "${name}" is already ${verb}d\n`);
      });
    },
  };
}

export const userEnableCommand = enableCommand(true);
export const userDisableCommand = enableCommand(false);

/** What `user list` shows: never a hash, sealed or not. */
function describeUser(u: UserRecord): object {
  return {
    id: u.id, username: u.username, enabled: u.enabled, source: u.source, groups: u.groups,
    hasPassword: u.passwordHash !== null, hasNtHash: u.ntHashSealed !== null, chap: u.chapPasswordSealed !== null,
    createdAt: new Date(u.createdAt).toISOString(), updatedAt: new Date(u.updatedAt).toISOString(),
  };
}

export const userListCommand: CommandSpec = {
  name: 'user list',
  summary: 'list users, their state and groups',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'one JSON array' } },
  run(values, io) {
    withPki(values, (pki) => {
      const users = pki.users.list();
      if (values.json === true) {
        io.out(JSON.stringify(users.map(describeUser), null, 2) + '\n');
        return;
      }
      if (users.length === 0) {
        io.out('no users\n');
        return;
      }
      const width = Math.max(8, ...users.map((u) => u.username.length)) + 2;
      io.out(`${'USERNAME'.padEnd(width)}${'STATE'.padEnd(10)}${'SOURCE'.padEnd(8)}${'CHAP'.padEnd(6)}GROUPS\n`);
      for (const u of users) {
        const chap = u.chapPasswordSealed !== null ? 'yes' : 'no';
        io.out(`${u.username.padEnd(width)}${(u.enabled ? 'enabled' : 'disabled').padEnd(10)}${u.source.padEnd(8)}${chap.padEnd(6)}${u.groups.join(',') || '-'}\n`);
      }
    });
  },
};
