// `authbox user otp enroll|confirm|reset`: a user's one-time code (TOTP, RFC 6238) for
// gateways and VPNs whose policy requires one (`authbox policy factors --otp required`).
// Enrolment shows the otpauth:// URI (and a QR code for an authenticator app) once; it is
// confirmed by the first code the app shows. The secret is never shown again.
import QRCode from 'qrcode';
import { nudgeDaemon } from '../../daemon-process.js';
import { str, UsageError, type CommandSpec, type OptionSpec } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const USERNAME_OPTION: OptionSpec = { type: 'string', required: true, arg: 'U', help: 'the user name' };

export const userOtpEnrollCommand: CommandSpec = {
  name: 'user otp enroll',
  summary: "start a user's one-time code enrolment: prints the otpauth:// URI and a QR code to scan",
  options: {
    data: DATA_OPTION,
    username: USERNAME_OPTION,
    'print-secret': { type: 'boolean', help: 'print the base32 secret too, for scripts (no QR code); keep the output private' },
  },
  async run(values, io) {
    const username = str(values, 'username')!;
    const { uri, name } = withPki(values, (pki) => {
      const r = pki.users.beginOtpEnrollment(username, cliActor());
      nudgeDaemon(pki.config.dataDir);
      return { uri: r.uri, name: pki.users.get(username).username };
    });
    io.out(`otpauth URI: ${uri}\n`);
    if (values['print-secret'] === true) {
      io.out(`secret: ${new URL(uri).searchParams.get('secret') ?? ''}\n`);
    } else {
      io.out(`${await QRCode.toString(uri, { type: 'terminal', small: true })}\n`);
    }
    io.out(`Scan it with an authenticator app, then: authbox user otp confirm --username ${name} --code CODE\n`);
  },
};

export const userOtpConfirmCommand: CommandSpec = {
  name: 'user otp confirm',
  summary: 'confirm a one-time code enrolment with the first code the authenticator app shows',
  options: {
    data: DATA_OPTION,
    username: USERNAME_OPTION,
    code: { type: 'string', required: true, arg: 'CODE', help: 'the 6-digit code' },
  },
  run(values, io) {
    const code = str(values, 'code')!.trim();
    if (!/^\d{6}$/.test(code)) throw new UsageError('--code is the 6-digit code the app shows');
    withPki(values, (pki) => {
      const username = str(values, 'username')!;
      pki.users.confirmOtp(username, code, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`one-time code enrolled for "${pki.users.get(username).username}"\n`);
    });
  },
};

export const userOtpResetCommand: CommandSpec = {
  name: 'user otp reset',
  summary: "forget a user's one-time code (lost phone): the user enrols again",
  options: { data: DATA_OPTION, username: USERNAME_OPTION },
  run(values, io) {
    withPki(values, (pki) => {
      const username = str(values, 'username')!;
      const name = pki.users.get(username).username;
      const changed = pki.users.resetOtp(username, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(changed ? `one-time code of "${name}" reset\n` : `"${name}" had no one-time code\n`);
    });
  },
};
