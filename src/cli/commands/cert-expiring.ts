import { listExpiring } from '../../expiry.js';
import { intOption, type CommandSpec } from '../args.js';
import { DATA_OPTION, withPki } from '../common.js';

const DAY_MS = 86_400_000;

export const certExpiringCommand: CommandSpec = {
  name: 'cert expiring',
  summary: 'list certificates, CAs, OCSP signers and imported TLS server certificates that expire soon (revoked and renewed ones left out)',
  options: {
    data: DATA_OPTION,
    days: { type: 'string', arg: 'N', help: 'within this many days (default: the largest of expiry.days, 30)' },
    json: { type: 'boolean', help: 'JSON output' },
  },
  run(values, io) {
    withPki(values, (pki) => {
      const days = intOption(values, 'days') ?? Math.max(...pki.config.expiry.days);
      const now = Date.now();
      const items = listExpiring(pki, now, days);
      if (values.json) {
        return io.out(JSON.stringify(items.map((i) => ({
          kind: i.kind, ca: i.caName, serial: i.serial, name: i.name, profile: i.profile ?? null, user: i.username ?? null,
          notAfter: new Date(i.notAfter).toISOString(), daysLeft: Math.floor((i.notAfter - now) / DAY_MS),
          // An imported TLS server certificate: which listeners present it; 'ca' is then its issuer.
          ...(i.listeners ? { listeners: i.listeners, subject: i.subject ?? null } : {}),
        })), null, 2) + '\n');
      }
      if (items.length === 0) return io.out(`nothing expires within ${days} day${days === 1 ? '' : 's'}\n`);
      const table = [['KIND', 'NAME', 'PROFILE', 'USER', 'SERIAL', 'CA', 'EXPIRES', 'DAYS LEFT'], ...items.map((i) => [
        i.kind, i.name, i.profile ?? '-', i.username ?? '-', i.serial, i.caName, new Date(i.notAfter).toISOString(),
        String(Math.floor((i.notAfter - now) / DAY_MS)),
      ])];
      const widths = table[0]!.map((_, c) => Math.max(...table.map((r) => r[c]!.length)));
      io.out(table.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
  },
};
