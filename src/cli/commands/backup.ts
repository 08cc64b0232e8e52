// `authbox backup` and `authbox restore`: the whole data folder in one encrypted file, taken
// while the daemon runs, and put back into a new folder.
import { createBackup, readPassphraseFile, restoreBackup } from '../../backup.js';
import { str, type CommandSpec, type OptionSpec } from '../args.js';
import { cliActor, DATA_OPTION } from '../common.js';

const PASSPHRASE_OPTION: OptionSpec = {
  type: 'string', required: true, arg: 'FILE',
  help: 'file whose first line is the passphrase (at least 12 characters); keep it apart from the backups',
};

export const backupCommand: CommandSpec = {
  name: 'backup',
  summary: 'write an encrypted backup of the data folder (safe while authbox serve runs)',
  options: {
    data: DATA_OPTION,
    out: { type: 'string', required: true, arg: 'FILE', help: 'the backup file to create' },
    'passphrase-file': PASSPHRASE_OPTION,
  },
  async run(values, io) {
    const passphrase = readPassphraseFile(str(values, 'passphrase-file')!);
    const r = await createBackup({ dataDir: str(values, 'data')!, out: str(values, 'out')!, passphrase, by: cliActor() });
    const c = r.manifest.counts;
    io.out(`backup ${r.file} (${r.bytes} bytes): schema ${r.manifest.schemaVersion}, ${c.cas} CAs, ${c.certificates} certificates `
      + `(${c.revocations} revoked), ${c.users} users, ${c.devices} devices, ${c.nasClients} RADIUS clients, ${c.policies} policies, `
      + `${c.auditRows} audit records\n`);
  },
};

export const restoreCommand: CommandSpec = {
  name: 'restore',
  summary: 'restore a backup into a new data folder',
  options: {
    data: { type: 'string', required: true, arg: 'DIR', help: 'the data folder to create (must be empty or absent)' },
    in: { type: 'string', required: true, arg: 'FILE', help: 'the backup file' },
    'passphrase-file': PASSPHRASE_OPTION,
    force: { type: 'boolean', help: "replace the database, master key and authbox.json of a folder that is not empty" },
  },
  async run(values, io) {
    // A short passphrase cannot have made a backup, so the same check applies when opening one.
    const passphrase = readPassphraseFile(str(values, 'passphrase-file')!);
    const r = await restoreBackup({
      dataDir: str(values, 'data')!, input: str(values, 'in')!, passphrase, force: values.force === true, by: cliActor(),
    });
    const c = r.manifest.counts;
    io.out(`restored the backup of ${r.manifest.createdAt} (authbox ${r.manifest.authboxVersion}) into ${r.dataDir}: `
      + `${c.cas} CAs, ${c.certificates} certificates (${c.revocations} revoked), ${c.users} users, ${c.devices} devices, `
      + `${c.nasClients} RADIUS clients, ${c.policies} policies, ${c.auditRows} audit records\n`);
  },
};
