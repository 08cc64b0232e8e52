// `authbox device add|list|show|remove|enable|disable`: registered devices, which
// authenticate by MAC authentication bypass or with a certificate issued for them
// (`cert issue --profile device --device MAC`). A MAC is accepted in the usual spellings
// and always shown as aa:bb:cc:dd:ee:ff.
import type { DeviceRecord } from '../../core/devices.js';
import { nudgeDaemon } from '../../daemon-process.js';
import { list, oneOf, str, type CommandSpec } from '../args.js';
import { cliActor, DATA_OPTION, withPki } from '../common.js';

const MAC_OPTION = {
  type: 'string', required: true, arg: 'MAC', help: 'the MAC address (aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff)',
} as const;

function describeDevice(d: DeviceRecord, certificates?: string[]): object {
  return {
    mac: d.mac, name: d.name, owner: d.owner, description: d.description, groups: d.groups, enabled: d.enabled, bindMac: d.bindMac,
    createdAt: new Date(d.createdAt).toISOString(), updatedAt: new Date(d.updatedAt).toISOString(),
    ...(certificates ? { certificates } : {}),
  };
}

export const deviceAddCommand: CommandSpec = {
  name: 'device add',
  summary: 'register a device (MAC authentication bypass, device certificates)',
  options: {
    data: DATA_OPTION,
    mac: MAC_OPTION,
    name: { type: 'string', arg: 'NAME', help: 'a name for the device (also accepted as its EAP-TLS identity)' },
    owner: { type: 'string', arg: 'USERNAME', help: 'the user the device belongs to' },
    group: { type: 'string', multiple: true, arg: 'G', help: 'a group whose policy (VLAN, ...) the device gets' },
    description: { type: 'string', arg: 'TEXT', help: 'free text, e.g. where the device is' },
    'bind-mac': { type: 'boolean', help: "accept the device's certificates (EAP-TLS) only when Calling-Station-Id is its MAC" },
  },
  run(values, io) {
    withPki(values, (pki) => {
      const name = str(values, 'name');
      const owner = str(values, 'owner');
      const description = str(values, 'description');
      const device = pki.devices.add({
        mac: str(values, 'mac')!, groups: list(values, 'group'),
        ...(name !== undefined ? { name } : {}), ...(owner !== undefined ? { owner } : {}),
        ...(description !== undefined ? { description } : {}), ...(values['bind-mac'] === true ? { bindMac: true } : {}),
      }, cliActor());
      nudgeDaemon(pki.config.dataDir);
      const groups = device.groups.length ? ` in ${device.groups.join(', ')}` : '';
      io.out(`added device ${device.mac}${device.name ? ` "${device.name}"` : ''}${groups}\n`);
    });
  },
};

export const deviceListCommand: CommandSpec = {
  name: 'device list',
  summary: 'list registered devices',
  options: { data: DATA_OPTION, json: { type: 'boolean', help: 'one JSON array' } },
  run(values, io) {
    withPki(values, (pki) => {
      const all = pki.devices.list();
      if (values.json === true) {
        io.out(JSON.stringify(all.map((d) => describeDevice(d)), null, 2) + '\n');
        return;
      }
      if (all.length === 0) {
        io.out('no devices\n');
        return;
      }
      const nameWidth = Math.max(4, ...all.map((d) => (d.name ?? '-').length)) + 2;
      const ownerWidth = Math.max(5, ...all.map((d) => (d.owner ?? '-').length)) + 2;
      io.out(`${'MAC'.padEnd(19)}${'NAME'.padEnd(nameWidth)}${'OWNER'.padEnd(ownerWidth)}${'STATE'.padEnd(10)}GROUPS\n`);
      for (const d of all) {
        io.out(`${d.mac.padEnd(19)}${(d.name ?? '-').padEnd(nameWidth)}${(d.owner ?? '-').padEnd(ownerWidth)}`
          + `${(d.enabled ? 'enabled' : 'disabled').padEnd(10)}${d.groups.join(',') || '-'}\n`);
      }
    });
  },
};

export const deviceShowCommand: CommandSpec = {
  name: 'device show',
  summary: 'show one device and the certificates issued for it',
  options: { data: DATA_OPTION, mac: MAC_OPTION, json: { type: 'boolean', help: 'one JSON object' } },
  run(values, io) {
    withPki(values, (pki) => {
      const d = pki.devices.get(str(values, 'mac')!);
      const certificates = pki.devices.certificatesOf(d.mac);
      if (values.json === true) {
        io.out(JSON.stringify(describeDevice(d, certificates), null, 2) + '\n');
        return;
      }
      const lines: [string, string][] = [
        ['MAC', d.mac], ['Name', d.name ?? '-'], ['Owner', d.owner ?? '-'], ['Description', d.description ?? '-'],
        ['Groups', d.groups.join(', ') || '-'], ['State', d.enabled ? 'enabled' : 'disabled'],
        ['Bind MAC', d.bindMac ? 'yes (Calling-Station-Id must be the MAC)' : 'no'],
        ['Created', new Date(d.createdAt).toISOString()], ['Certificates', certificates.join(', ') || '-'],
      ];
      for (const [k, v] of lines) io.out(`${(k + ':').padEnd(14)}${v}\n`);
    });
  },
};

export const deviceRemoveCommand: CommandSpec = {
  name: 'device remove',
  summary: 'remove a device: its MAB requests and certificates are refused from then on',
  options: { data: DATA_OPTION, mac: MAC_OPTION },
  run(values, io) {
    withPki(values, (pki) => {
      const d = pki.devices.remove(str(values, 'mac')!, cliActor());
      nudgeDaemon(pki.config.dataDir);
      io.out(`removed device ${d.mac}${d.name ? ` "${d.name}"` : ''}\n`);
    });
  },
};

function enableCommand(enabled: boolean): CommandSpec {
  const verb = enabled ? 'enable' : 'disable';
  return {
    name: `device ${verb}`,
    summary: enabled ? 'let a disabled device authenticate again' : 'refuse a device (MAB and its certificates) without removing it',
    options: { data: DATA_OPTION, mac: MAC_OPTION },
    run(values, io) {
      withPki(values, (pki) => {
        const mac = pki.devices.get(str(values, 'mac')!).mac;
        const changed = pki.devices.setEnabled(mac, enabled, cliActor());
        if (changed) nudgeDaemon(pki.config.dataDir);
        io.out(changed ? `${verb}d device ${mac}\n` : `device ${mac} was already ${verb}d\n`);
      });
    },
  };
}

export const deviceEnableCommand = enableCommand(true);
export const deviceDisableCommand = enableCommand(false);

export const deviceSetCommand: CommandSpec = {
  name: 'device set',
  summary: "change a device's settings: whether its certificates are accepted only from the station with its MAC",
  options: {
    data: DATA_OPTION,
    mac: MAC_OPTION,
    'bind-mac': {
      type: 'string', required: true, arg: 'on|off',
      help: 'on: EAP-TLS with its certificates only when Calling-Station-Id is its MAC (Wi-Fi, wired 802.1X); off: from anywhere',
    },
  },
  run(values, io) {
    const bindMac = oneOf(values, 'bind-mac', ['on', 'off'] as const)! === 'on';
    withPki(values, (pki) => {
      const mac = pki.devices.get(str(values, 'mac')!).mac;
      const changed = pki.devices.setBindMac(mac, bindMac, cliActor());
      if (changed) nudgeDaemon(pki.config.dataDir);
      io.out(`device ${mac}: certificates bound to its MAC ${bindMac ? 'on' : 'off'}${changed ? '' : ' (unchanged)'}\n`);
    });
  },
};
