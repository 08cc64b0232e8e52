// `authbox user ...`: local users. A password comes from --password or --password-file
// and is never printed, logged or written into an audit row. --chap keeps it sealed in a
// reversible form as well, for CHAP (RFC 1994), which cannot work from a hash: opt-in.
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import { otpStatusOf } from '../../core/user-otp.js';
import type { ProfileChange, UserRecord } from '../../core/users.js';
import { nudgeDaemon } from '../../daemon-process.js';
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

const PROFILE_OPTIONS: Record<string, OptionSpec> = {
  'display-name': { type: 'string', arg: 'TEXT', help: 'the name shown in the console' },
  email: { type: 'string', arg: 'ADDRESS', help: 'e-mail address (expiry warnings)' },
  expires: { type: 'string', arg: 'DATE', help: 'the account stops authenticating at this date (YYYY-MM-DD, local midnight, or an ISO time); "never" clears it' },
};

/** --expires: a date (midnight local time), an ISO time, or "never". */
export function parseExpiry(text: string): number | null {
  if (text === 'never') return null;
  const t = /^\d{4}-\d{2}-\d{2}$/.test(text) ? new Date(`${text}T00:00:00`).getTime() : Date.parse(text);
  if (!Number.isFinite(t)) throw new UsageError(`--expires must be YYYY-MM-DD, an ISO time or "never", not "${text}"`);
  return t;
}

function profileFrom(values: Values): ProfileChange {
  const name = str(values, 'display-name');
  const email = str(values, 'email');
  const expires = str(values, 'expires');
  return {
    ...(name !== undefined ? { displayName: name === '' ? null : name } : {}),
    ...(email !== undefined ? { email: email === '' ? null : email } : {}),
    ...(expires !== undefined ? { accountExpiresAt: parseExpiry(expires) } : {}),
  };
}

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
    ...PROFILE_OPTIONS,
  },
  run(values, io) {
    const password = passwordFrom(values);
    const profile = profileFrom(values);
    withPki(values, (pki) => {
      const chap = values.chap === true;
      const user = pki.users.add({ username: str(values, 'username')!, password, groups: list(values, 'group'), chap, ...profile }, cliActor());
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

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** What `user list` and `user show` give: never a hash, sealed or not. */
function describeUser(u: UserRecord, now = Date.now()): object {
  return {
    id: u.id, username: u.username, displayName: u.displayName, email: u.email, enabled: u.enabled, source: u.source, groups: u.groups,
    hasPassword: u.passwordHash !== null, hasNtHash: u.ntHashSealed !== null, chap: u.chapPasswordSealed !== null,
    expires: iso(u.accountExpiresAt), passwordChanged: iso(u.passwordChangedAt),
    lockedUntil: u.lockedUntil !== null && u.lockedUntil > now ? iso(u.lockedUntil) : null,
    // The state of the one-time code, never its secret.
    otp: otpStatusOf(u).state, otpEnrolledAt: iso(otpStatusOf(u).enrolledAt),
    createdAt: new Date(u.createdAt).toISOString(), updatedAt: new Date(u.updatedAt).toISOString(),
  };
}

export const userShowCommand: CommandSpec = {
  name: 'user show',
  summary: "a user's details: groups, state, expiry, lockout, password age",
  options: { data: DATA_OPTION, username: USERNAME_OPTION, json: { type: 'boolean', help: 'as JSON' } },
  run(values, io) {
    withPki(values, (pki) => {
      const u = pki.users.get(str(values, 'username')!);
      const d = describeUser(u) as Record<string, unknown>;
      if (values.json === true) {
        io.out(JSON.stringify(d, null, 2) + '\n');
        return;
      }
      const refusal = pki.users.refusalOf(u, 'password');
      const rows: [string, unknown][] = [
        ['username', u.username], ['display name', u.displayName ?? '-'], ['e-mail', u.email ?? '-'],
        ['state', refusal ?? 'may authenticate'], ['source', u.source], ['groups', u.groups.join(', ') || '-'],
        ['expires', d.expires ?? 'never'], ['locked until', d.lockedUntil ?? '-'], ['password set', d.passwordChanged ?? '-'],
        ['CHAP', d.chap ? 'yes' : 'no'],
        ['one-time code', d.otp === 'enrolled' ? `enrolled ${String(d.otpEnrolledAt)}` : d.otp === 'pending' ? 'enrolment not confirmed' : 'none'],
      ];
      for (const [k, v] of rows) io.out(`${k.padEnd(14)}${String(v)}\n`);
    });
  },
};

export const userSetCommand: CommandSpec = {
  name: 'user set',
  summary: "change a user's display name, e-mail, expiry or groups",
  options: {
    data: DATA_OPTION, username: USERNAME_OPTION, ...PROFILE_OPTIONS,
    group: { type: 'string', multiple: true, arg: 'G', help: "the user's groups from now on (replaces them all)" },
    'no-groups': { type: 'boolean', help: 'remove the user from every group' },
  },
  run(values, io) {
    const profile = profileFrom(values);
    const groups = list(values, 'group');
    if (values['no-groups'] === true && groups.length > 0) throw new UsageError('give --group or --no-groups, not both');
    if (Object.keys(profile).length === 0 && groups.length === 0 && values['no-groups'] !== true) {
      throw new UsageError('nothing to change: give --display-name, --email, --expires, --group or --no-groups');
    }
    withPki(values, (pki) => {
      const username = pki.users.get(str(values, 'username')!).username;
      if (Object.keys(profile).length > 0) pki.users.updateProfile(username, profile, cliActor());
      if (groups.length > 0 || values['no-groups'] === true) pki.users.setGroups(username, groups, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`updated user "${username}"\n`);
    });
  },
};

export const userUnlockCommand: CommandSpec = {
  name: 'user unlock',
  summary: 'end a lockout after too many failed attempts',
  options: { data: DATA_OPTION, username: USERNAME_OPTION },
  run(values, io) {
    withPki(values, (pki) => {
      const u = pki.users.get(str(values, 'username')!);
      const now = Date.now();
      const changed = u.lockedUntil !== null && pki.users.unlock(u.username, cliActor());
      if (changed) nudgeDaemon(pki.config.dataDir);
      io.out(changed && u.lockedUntil! > now ? `unlocked user "${u.username}"\n` : `user "${u.username}" is not locked\n`);
    });
  },
};

export const userResetPasswordCommand: CommandSpec = {
  name: 'user reset-password',
  summary: 'set a one-time temporary password and print it once (the user should change it)',
  options: { data: DATA_OPTION, username: USERNAME_OPTION, chap: CHAP_OPTION },
  run(values, io) {
    withPki(values, (pki) => {
      const { user, password } = pki.users.resetPassword(str(values, 'username')!, cliActor(), { chap: values.chap === true });
      nudgeDaemon(pki.config.dataDir);
      // The only place a password is ever printed: the operator passes it on, and it is not stored anywhere readable.
      io.out(`temporary password for "${user.username}": ${password}\n(shown once; it also ends any lockout)\n`);
    });
  },
};

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
