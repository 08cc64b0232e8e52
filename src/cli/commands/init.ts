import { KEY_TYPES, DEFAULT_KEY_TYPE } from '../../ca/keys.js';
import { initDataDir } from '../../main.js';
import { oneOf, str, type CommandSpec } from '../args.js';
import { cliActor, DATA_OPTION } from '../common.js';

export const initCommand: CommandSpec = {
  name: 'init',
  summary: 'create a data folder with a root CA, an issuing CA, an OCSP signer and a TLS certificate',
  options: {
    data: { ...DATA_OPTION, help: 'the data folder to create (must not exist)' },
    org: { type: 'string', arg: 'NAME', help: 'organization name in the CA names (default "authbox")' },
    'key-type': { type: 'string', arg: 'TYPE', help: `CA key type: ${KEY_TYPES.join(', ')} (default ${DEFAULT_KEY_TYPE})` },
    'public-url': { type: 'string', arg: 'URL', help: 'base of the OCSP and CRL URLs in certificates (default http://HOSTNAME:8080)' },
    'admin-password': { type: 'string', arg: 'PW', help: 'password of the first console administrator' },
  },
  run(values, io) {
    const r = initDataDir({
      dataDir: str(values, 'data')!,
      organization: str(values, 'org') ?? 'authbox',
      keyType: oneOf(values, 'key-type', KEY_TYPES) ?? DEFAULT_KEY_TYPE,
      ...(str(values, 'public-url') ? { publicUrl: str(values, 'public-url')! } : {}),
      ...(str(values, 'admin-password') ? { adminPassword: str(values, 'admin-password')! } : {}),
      by: cliActor(),
    });
    io.out([
      `created ${r.dataDir}`,
      `  root CA:     ${r.rootSubject} (${r.keyDescription})`,
      `  issuing CA:  ${r.issuingSubject}`,
      `  OCSP:        ${r.publicUrl}/ocsp`,
      `  CRLs:        ${r.publicUrl}/crl/issuing.crl, ${r.publicUrl}/crl/root.crl`,
      `  master key:  ${r.masterKeyFile}`,
      '',
      'The master key unlocks every private key in the database. Keep a copy of it apart',
      'from your backups (see README, "The master key").',
      '',
    ].join('\n'));
  },
};
