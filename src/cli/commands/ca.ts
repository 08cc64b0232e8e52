import { toPem } from '../../ca/pem.js';
import type { CommandSpec } from '../args.js';
import { DATA_OPTION, withPki } from '../common.js';

export const caCertCommand: CommandSpec = {
  name: 'ca cert',
  summary: 'print the CA chain in PEM, issuing CA first, then the root',
  options: { data: DATA_OPTION },
  run(values, io) {
    withPki(values, (pki) => io.out(pki.authority.chain().map((der) => toPem('CERTIFICATE', der)).join('')));
  },
};
