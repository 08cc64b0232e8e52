import { KEY_TYPES } from '../../ca/keys.js';
import { toPem } from '../../ca/pem.js';
import { readCertificate } from '../../ca/x509.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { issueServerCertificate, serverTlsCredentials } from '../../main.js';
import { useDefaultEverywhere } from '../../server-tls.js';
import { oneOf, type CommandSpec } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

export const caCertCommand: CommandSpec = {
  name: 'ca cert',
  summary: 'print the CA chain in PEM, issuing CA first, then the root',
  options: { data: DATA_OPTION },
  run(values, io) {
    withPki(values, (pki) => io.out(pki.authority.chain().map((der) => toPem('CERTIFICATE', der)).join('')));
  },
};

export const tlsRenewCommand: CommandSpec = {
  name: 'tls renew',
  summary: "issue authbox's own TLS server certificate again and use it everywhere (EAP, console, RadSec), replacing any imported one; a running daemon takes it at once",
  options: {
    data: DATA_OPTION,
    'key-type': { type: 'string', arg: 'T', help: `${KEY_TYPES.join(', ')} (default: the data folder's key type)` },
  },
  run(values, io) {
    withPki(values, (pki) => {
      const before = serverTlsCredentials(pki);
      issueServerCertificate(pki, oneOf(values, 'key-type', KEY_TYPES) ?? pki.config.keyType, cliActor());
      // Certificates imported for one listener (`tls import --for`) give way too: renew means authbox's own everywhere.
      useDefaultEverywhere(pki, cliActor());
      nudgeDaemon(pki.config.dataDir);
      const after = readCertificate(serverTlsCredentials(pki)!.certDer);
      io.out(`server certificate ${after.serialHex} valid until ${after.notAfter.toISOString()}` +
        `${before ? ` (replaces ${before.imported ? 'the imported ' : ''}${readCertificate(before.certDer).serialHex}${before.imported ? '' : '; revoke it with `authbox cert revoke` once clients have moved'})` : ''}\n`);
    });
  },
};
