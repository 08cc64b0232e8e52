import { toPem } from '../../ca/pem.js';
import { openPkiAt } from '../../main.js';
import { str, type CommandSpec } from '../args.js';
import { DATA_OPTION } from '../common.js';

export const caCertCommand: CommandSpec = {
  name: 'ca cert',
  summary: 'print the CA chain in PEM, issuing CA first, then the root',
  options: { data: DATA_OPTION },
  run(values, io) {
    const pki = openPkiAt(str(values, 'data')!);
    try {
      io.out(pki.authority.chain().map((der) => toPem('CERTIFICATE', der)).join(''));
    } finally {
      pki.close();
    }
  },
};
