// `authbox tls import` and `authbox tls show`: a server certificate from another CA for the
// console, for RADIUS (EAP, RadSec) or both; `tls renew` (ca.ts) goes back to authbox's own.
import { readFileSync } from 'node:fs';
import { AppError, isAppError } from '../../core/errors.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { importServerCertificate, listenerCertificates, type TlsImportTarget } from '../../server-tls.js';
import { oneOf, str, type CommandSpec } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const TARGETS = ['admin', 'radius', 'all'] as const;
const LISTENER_NAMES = { admin: 'admin console (HTTPS)', radius: 'RADIUS (EAP-TLS/PEAP/TTLS, RadSec)' } as const;

function readInput(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new AppError('BAD_INPUT', `cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export const tlsImportCommand: CommandSpec = {
  name: 'tls import',
  summary: 'use a server certificate from another CA (PEM) for the console, RADIUS or both; a running daemon takes it at once',
  options: {
    data: DATA_OPTION,
    cert: { type: 'string', required: true, arg: 'FILE', help: 'the server certificate (PEM); certificates after it are taken as its chain' },
    key: { type: 'string', required: true, arg: 'FILE', help: 'its private key (PEM, PKCS#8 or traditional RSA/EC, not encrypted); sealed in the key vault' },
    chain: { type: 'string', arg: 'FILE', help: 'the intermediate CA certificates (PEM), the issuer of the server certificate first' },
    for: {
      type: 'string', arg: 'USE',
      help: 'admin (the HTTPS console), radius (EAP and RadSec) or all (default); `authbox tls renew` puts authbox\'s own back everywhere',
    },
  },
  run(values, io) {
    const target: TlsImportTarget = oneOf(values, 'for', TARGETS) ?? 'all';
    const chainPath = str(values, 'chain');
    const files = {
      certPem: readInput(str(values, 'cert')!, 'certificate'),
      keyPem: readInput(str(values, 'key')!, 'key'),
      ...(chainPath ? { chainPem: readInput(chainPath, 'chain') } : {}),
    };
    withPki(values, (pki) => {
      let checked;
      try {
        checked = importServerCertificate(pki, files, target, cliActor());
      } catch (e) {
        // The code is what scripts and the operations guide (appliance/CONFIG.md) key on.
        if (isAppError(e)) throw new AppError(e.code, `refused, nothing changed: ${e.message} (${e.code})`, { cause: e });
        throw e;
      }
      nudgeDaemon(pki.config.dataDir);
      io.out(`imported ${checked.subject} (issuer ${checked.issuer}, serial ${checked.serialHex}, valid until ${checked.notAfter.toISOString()}, ` +
        `chain of ${checked.chain.length}) for ${target === 'all' ? 'every listener' : LISTENER_NAMES[target]}\n`);
    });
  },
};

export const tlsShowCommand: CommandSpec = {
  name: 'tls show',
  summary: 'print the server certificate each listener presents (imported or issued by authbox)',
  options: { data: DATA_OPTION },
  run(values, io) {
    withPki(values, (pki) => {
      const lines = listenerCertificates(pki).flatMap((c) => [
        `${c.use}: ${c.source === 'issued' ? 'issued by authbox' : 'imported'} — ${LISTENER_NAMES[c.use]}`,
        `  subject:  ${c.subject}`,
        `  issuer:   ${c.issuer}`,
        `  notAfter: ${c.notAfter.toISOString()}`,
        `  serial:   ${c.serialHex}`,
        `  sha256:   ${c.sha256}`,
        `  chain:    ${c.chainLength} certificate${c.chainLength === 1 ? '' : 's'} (setting ${c.setting})`,
      ]);
      io.out(lines.length ? lines.join('\n') + '\n' : 'no server certificate in this data folder\n');
    });
  },
};
