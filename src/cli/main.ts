// The `authbox` command: dispatch, --help, and the edge where errors become one line
// and an exit status (2 for usage, 1 for failure), never a stack trace.
import { isAppError } from '../core/errors.js';
import { readVersion } from '../main.js';
import { helpText, parseCommand, UsageError, type CommandSpec, type Output } from './args.js';
import {
  adminAddCommand, adminDisableCommand, adminEnableCommand, adminListCommand, adminOtpResetCommand, adminPasswdCommand, adminTokenCommand,
  adminTokenRevokeCommand,
} from './commands/admin.js';
import { backupCommand, restoreCommand } from './commands/backup.js';
import { caCertCommand, tlsRenewCommand } from './commands/ca.js';
import { tlsImportCommand, tlsShowCommand } from './commands/tls.js';
import {
  certIssueCommand, certListCommand, certRevokeCommand, certShowCommand, certSignBatchCommand, certSignCommand, certUnholdCommand,
} from './commands/cert.js';
import { certExpiringCommand } from './commands/cert-expiring.js';
import {
  deviceAddCommand, deviceDisableCommand, deviceEnableCommand, deviceListCommand, deviceRemoveCommand, deviceSetCommand, deviceShowCommand,
} from './commands/device.js';
import { initCommand } from './commands/init.js';
import {
  ldapAddCommand, ldapListCommand, ldapRemoveCommand, ldapRunsCommand, ldapSyncCommand, ldapTestCommand,
} from './commands/ldap.js';
import { logAcctCommand, logAuthCommand } from './commands/log.js';
import { nasAddCommand, nasCoaLogCommand, nasListCommand, nasRemoveCommand, nasSetCommand } from './commands/nas.js';
import {
  policyFactorsCommand, policyGroupOtpCommand, policyMethodsCommand, policyRemoveCommand, policySetCommand, policyShowCommand,
} from './commands/policy.js';
import { serveCommand } from './commands/serve.js';
import {
  userAddCommand, userDisableCommand, userEnableCommand, userListCommand, userPasswdCommand, userResetPasswordCommand, userSetCommand,
  userShowCommand, userUnlockCommand,
} from './commands/user.js';
import { userOtpConfirmCommand, userOtpEnrollCommand, userOtpResetCommand } from './commands/user-otp.js';

const COMMANDS: readonly CommandSpec[] = [
  initCommand, serveCommand, caCertCommand, tlsRenewCommand, tlsImportCommand, tlsShowCommand,
  certIssueCommand, certSignCommand, certSignBatchCommand, certRevokeCommand, certUnholdCommand, certListCommand, certShowCommand, certExpiringCommand,
  userAddCommand, userPasswdCommand, userDisableCommand, userEnableCommand, userListCommand, userShowCommand, userSetCommand,
  userUnlockCommand, userResetPasswordCommand, userOtpEnrollCommand, userOtpConfirmCommand, userOtpResetCommand,
  nasAddCommand, nasSetCommand, nasListCommand, nasRemoveCommand, nasCoaLogCommand,
  ldapAddCommand, ldapListCommand, ldapTestCommand, ldapSyncCommand, ldapRunsCommand, ldapRemoveCommand,
  deviceAddCommand, deviceListCommand, deviceShowCommand, deviceRemoveCommand, deviceDisableCommand, deviceEnableCommand, deviceSetCommand,
  policySetCommand, policyShowCommand, policyRemoveCommand, policyMethodsCommand, policyFactorsCommand, policyGroupOtpCommand,
  logAuthCommand, logAcctCommand,
  backupCommand, restoreCommand,
  adminAddCommand, adminListCommand, adminPasswdCommand, adminDisableCommand, adminEnableCommand, adminOtpResetCommand,
  adminTokenCommand, adminTokenRevokeCommand,
];

const io: Output = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
};

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return ['usage: authbox <command> [options]', '', 'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`), '', 'Run `authbox <command> --help` for its options.', ''].join('\n');
}

export async function runCli(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(overview());
    return argv.length === 0 ? 2 : 0;
  }
  if (argv[0] === '--version') {
    io.out(`authbox ${readVersion()}\n`);
    return 0;
  }
  // Longest match: "cert issue" before a hypothetical "cert".
  const spec = [...COMMANDS].sort((a, b) => b.name.length - a.name.length)
    .find((c) => c.name.split(' ').every((word, i) => argv[i] === word));
  if (!spec) {
    const group = COMMANDS.filter((c) => c.name.startsWith(argv[0] + ' '));
    io.err(group.length
      ? `authbox: "${argv.slice(0, 2).join(' ')}" is not a command; try: ${group.map((c) => c.name).join(', ')}\n`
      : `authbox: unknown command "${argv[0]}"; run \`authbox --help\`\n`);
    return 2;
  }
  const rest = argv.slice(spec.name.split(' ').length);
  try {
    const values = parseCommand(spec, rest);
    if (values === 'help') {
      io.out(helpText(spec));
      return 0;
    }
    await spec.run(values, io);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`authbox ${spec.name}: ${e.message}\nRun \`authbox ${spec.name} --help\` for usage.\n`);
      return 2;
    }
    if (isAppError(e)) {
      io.err(`authbox ${spec.name}: ${e.message}\n`);
      return 1;
    }
    io.err(`authbox ${spec.name}: unexpected failure: ${(e as Error)?.message ?? String(e)}\n`);
    if (process.env.AUTHBOX_DEBUG) io.err(`${(e as Error)?.stack}\n`);
    return 1;
  }
}

process.exitCode = await runCli(process.argv.slice(2));
