// `authbox admin ...`: console operators. A generated password or an API token is printed
// once and never stored in the clear; the bootstrap hash from `init --admin-password`
// becomes the operator "admin" on first use.
import { readFileSync } from 'node:fs';
import { AppError } from '../../core/errors.js';
import { generatePassword, parseRole } from '../../core/operators.js';
import { operatorService } from '../../main.js';
import { str, type CommandSpec, type OptionSpec, type Values } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const USERNAME: OptionSpec = { type: 'string', required: true, arg: 'U', help: 'the operator name' };
const PASSWORD_FILE: OptionSpec = { type: 'string', arg: 'FILE', help: 'read the password from the first line of a file' };

function passwordFile(values: Values): string | undefined {
  const file = str(values, 'password-file');
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8').split(/\r?\n/)[0]!;
  } catch (e) {
    throw new AppError('BAD_INPUT', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const adminAddCommand: CommandSpec = {
  name: 'admin add',
  summary: 'add a console operator (admin, network, helpdesk or auditor)',
  options: {
    data: DATA_OPTION, username: USERNAME,
    role: { type: 'string', required: true, arg: 'R', help: 'admin, network, helpdesk or auditor' },
    'password-file': PASSWORD_FILE,
  },
  run(values, io) {
    const role = parseRole(str(values, 'role')!);
    const password = passwordFile(values);
    withPki(values, (pki) => {
      const r = operatorService(pki).add({ username: str(values, 'username')!, role, ...(password !== undefined ? { password } : {}) }, cliActor());
      io.out(`added operator "${r.operator.username}" (${role})\n`);
      if (r.password !== undefined) io.out(`password (shown once): ${r.password}\n`);
      if (role === 'admin') io.out('an admin enrols a one-time password (TOTP) at the first login\n');
    });
  },
};

export const adminListCommand: CommandSpec = {
  name: 'admin list',
  summary: 'list console operators',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'JSON output' } },
  run(values, io) {
    withPki(values, (pki) => {
      const ops = operatorService(pki).list();
      if (values.json) return io.out(JSON.stringify(ops, null, 2) + '\n');
      for (const o of ops) {
        const locked = o.lockedUntil !== null && o.lockedUntil > Date.now() ? ' locked' : '';
        io.out(`${o.username.padEnd(24)} ${o.role.padEnd(9)} ${o.enabled ? 'enabled ' : 'disabled'} ${o.otpEnrolled ? 'otp' : 'no-otp'}${locked}\n`);
      }
      if (ops.length === 0) io.out('no operators; add one with `authbox admin add`\n');
    });
  },
};

export const adminPasswdCommand: CommandSpec = {
  name: 'admin passwd',
  summary: "set an operator's password (ends the operator's sessions)",
  options: { data: DATA_OPTION, username: USERNAME, 'password-file': PASSWORD_FILE },
  run(values, io) {
    const given = passwordFile(values);
    withPki(values, (pki) => {
      const ops = operatorService(pki);
      if (given !== undefined) {
        ops.setPassword(str(values, 'username')!, given, cliActor());
        io.out(`changed the password of operator "${str(values, 'username')}"\n`);
      } else {
        const generated = generatePassword();
        ops.setPassword(str(values, 'username')!, generated, cliActor());
        io.out(`new password of operator "${str(values, 'username')}" (shown once): ${generated}\n`);
      }
    });
  },
};

function enableCommand(enabled: boolean): CommandSpec {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `admin ${verb}`,
    summary: enabled ? 'enable a console operator' : 'disable a console operator (ends its sessions; its API tokens stop working)',
    options: { data: DATA_OPTION, username: USERNAME },
    run(values, io) {
      withPki(values, (pki) => {
        const changed = operatorService(pki).setEnabled(str(values, 'username')!, enabled, cliActor());
        io.out(changed ? `${verb}d operator "${str(values, 'username')}"\n` : `operator "${str(values, 'username')}" is already ${verb}d\n`);
      });
    },
  };
}
export const adminEnableCommand = enableCommand(true);
export const adminDisableCommand = enableCommand(false);

export const adminOtpResetCommand: CommandSpec = {
  name: 'admin otp-reset',
  summary: "forget an operator's one-time password enrolment (an admin enrols again at the next login)",
  options: { data: DATA_OPTION, username: USERNAME },
  run(values, io) {
    withPki(values, (pki) => {
      operatorService(pki).resetOtp(str(values, 'username')!, cliActor());
      io.out(`reset the one-time password enrolment of operator "${str(values, 'username')}"\n`);
    });
  },
};

export const adminTokenCommand: CommandSpec = {
  name: 'admin token',
  summary: 'make an API token for scripts (Authorization: Bearer), acting with the operator\'s role; shown once',
  options: { data: DATA_OPTION, username: USERNAME, name: { type: 'string', required: true, arg: 'N', help: 'a name for the token' } },
  run(values, io) {
    withPki(values, (pki) => {
      const token = operatorService(pki).createToken(str(values, 'username')!, str(values, 'name')!, cliActor());
      io.out(`${token}\n`);
    });
  },
};

export const adminTokenRevokeCommand: CommandSpec = {
  name: 'admin token-revoke',
  summary: 'revoke an API token',
  options: { data: DATA_OPTION, username: USERNAME, name: { type: 'string', required: true, arg: 'N', help: 'the token\'s name' } },
  run(values, io) {
    withPki(values, (pki) => {
      operatorService(pki).revokeToken(str(values, 'username')!, str(values, 'name')!, cliActor());
      io.out(`revoked token "${str(values, 'name')}" of operator "${str(values, 'username')}"\n`);
    });
  },
};
