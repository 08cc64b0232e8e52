// Registered devices (printers, phones, cameras, laptops with a machine certificate): a MAC
// address, an optional name, owner and groups, and an enabled flag. A device authenticates
// by MAC authentication bypass (radius/mab.ts) or with a certificate bound to it at issuance
// (radius/eap/client-cert.ts); its groups pick the authorization policy like a user's.
import type { Actor } from './actor.js';
import { AppError } from './errors.js';
import { validateGroupName } from './users.js';

export const DEVICE_NAME_MAX = 64;
export const DEVICE_DESCRIPTION_MAX = 200;
const DEVICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const CONTROL_CHARS = /\p{Cc}/u;

// The spellings switches and NAS firmware use (IEEE 802 canonical, Windows, bare, Cisco).
const MAC_SPELLINGS = [
  /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i,
  /^[0-9a-f]{2}(-[0-9a-f]{2}){5}$/i,
  /^[0-9a-f]{12}$/i,
  /^[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}$/i,
];

/** The MAC in canonical form (aa:bb:cc:dd:ee:ff), or undefined when the text is not a MAC in a usual spelling. */
export function normalizeMac(text: string): string | undefined {
  const t = text.trim();
  if (!MAC_SPELLINGS.some((re) => re.test(t))) return undefined;
  const hex = t.replace(/[:.-]/g, '').toLowerCase();
  return hex.match(/../g)!.join(':');
}

/** As normalizeMac, but a bad MAC is a DEVICE_INVALID error. */
export function parseMac(text: string): string {
  const mac = normalizeMac(text);
  if (!mac) {
    throw new AppError('DEVICE_INVALID', `"${text}" is not a MAC address (write it as aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff, aabbccddeeff or aabb.ccdd.eeff)`);
  }
  return mac;
}

export interface DeviceRecord {
  id: number;
  /** Canonical: aa:bb:cc:dd:ee:ff. */
  mac: string;
  name: string | null;
  /** The username of the user it belongs to. */
  owner: string | null;
  description: string | null;
  groups: string[];
  enabled: boolean;
  /** Its certificates are accepted only from the station with its MAC (Calling-Station-Id). */
  bindMac: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewDeviceRow {
  mac: string;
  name: string | null;
  owner: string | null;
  description: string | null;
  groups: string[];
  bindMac: boolean;
  at: number;
}

/** A certificate bound to a device at issuance. */
export interface DeviceCertificateBinding {
  serial: string;
  mac: string;
}

/** What the devices engine needs from storage; store/devices-store.ts implements it. */
export interface DeviceStorage {
  /** One transaction with a 'device' change row and an audit row. DEVICE_EXISTS on a taken MAC or name. */
  insertDevice(row: NewDeviceRow, by: Actor): DeviceRecord;
  /** Returns false when there was no such device. Its certificate bindings stay, so they keep being refused. */
  deleteDevice(mac: string, by: Actor): boolean;
  setDeviceEnabled(mac: string, enabled: boolean, at: number, by: Actor): void;
  /** One transaction with a 'device' change row and an audit row. */
  setDeviceBindMac(mac: string, bindMac: boolean, at: number, by: Actor): void;
  findDevice(mac: string): DeviceRecord | undefined;
  listDevices(): DeviceRecord[];
  /** Binds a certificate (by serial) to a device, with a 'device' change row and an audit row. */
  bindCertificate(binding: DeviceCertificateBinding, at: number, by: Actor): void;
  /** The canonical MAC a certificate is bound to, if any. */
  findCertificateDevice(serial: string): string | undefined;
  listCertificateBindings(mac: string): DeviceCertificateBinding[];
}

export interface DeviceInput {
  mac: string;
  name?: string;
  owner?: string;
  description?: string;
  groups?: readonly string[];
  /** Accept its certificates only from the station with its MAC. */
  bindMac?: boolean;
}

export function validateDeviceName(name: string): void {
  if (!DEVICE_NAME.test(name)) {
    throw new AppError('DEVICE_INVALID', `a device name has 1 to ${DEVICE_NAME_MAX} letters, digits, dots, dashes or underscores, starting with a letter or digit, not "${name}"`);
  }
}

function validateDescription(text: string): void {
  if ([...text].length > DEVICE_DESCRIPTION_MAX || CONTROL_CHARS.test(text)) {
    throw new AppError('DEVICE_INVALID', `a description has at most ${DEVICE_DESCRIPTION_MAX} characters and no control characters`);
  }
}

/** Groups compare case-insensitively: keep the first spelling. */
function dedupeGroups(groups: readonly string[]): string[] {
  const seen = new Set<string>();
  return groups.filter((g) => {
    const key = g.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The devices engine: registers, lists, enables, disables and removes devices over a DeviceStorage. */
export class DeviceService {
  private readonly clock: () => Date;

  constructor(private readonly deps: {
    storage: DeviceStorage;
    /** Owners must be users (core/users.ts UserService fits). */
    users: { find(username: string): { username: string } | undefined };
    clock?: () => Date;
  }) {
    this.clock = deps.clock ?? (() => new Date());
  }

  add(input: DeviceInput, by: Actor): DeviceRecord {
    const mac = parseMac(input.mac);
    if (input.name !== undefined) validateDeviceName(input.name);
    // A name shaped like a MAC would let one device answer for another's MAC as its identity.
    if (input.name !== undefined && normalizeMac(input.name)) {
      throw new AppError('DEVICE_INVALID', `a device name cannot be a MAC address ("${input.name}")`);
    }
    if (input.description !== undefined) validateDescription(input.description);
    for (const g of input.groups ?? []) validateGroupName(g);
    let owner: string | null = null;
    if (input.owner !== undefined) {
      const user = this.deps.users.find(input.owner);
      if (!user) throw new AppError('USER_NOT_FOUND', `no such user: ${input.owner} (add it with authbox user add)`);
      owner = user.username;
    }
    return this.deps.storage.insertDevice({
      mac, name: input.name ?? null, owner, description: input.description ?? null,
      groups: dedupeGroups(input.groups ?? []), bindMac: input.bindMac ?? false, at: this.now(),
    }, by);
  }

  remove(mac: string, by: Actor): DeviceRecord {
    const device = this.get(mac);
    if (!this.deps.storage.deleteDevice(device.mac, by)) throw notFound(device.mac);
    return device;
  }

  /** Returns false when the device already was in that state (nothing written). */
  setEnabled(mac: string, enabled: boolean, by: Actor): boolean {
    const device = this.get(mac);
    if (device.enabled === enabled) return false;
    this.deps.storage.setDeviceEnabled(device.mac, enabled, this.now(), by);
    return true;
  }

  /**
   * Whether the device's certificates are accepted only when the request's Calling-Station-Id
   * is its MAC (EAP-TLS, radius/eap/client-cert.ts). Returns false when nothing changed.
   */
  setBindMac(mac: string, bindMac: boolean, by: Actor): boolean {
    const device = this.get(mac);
    if (device.bindMac === bindMac) return false;
    this.deps.storage.setDeviceBindMac(device.mac, bindMac, this.now(), by);
    return true;
  }

  /** Any spelling of the MAC; DEVICE_INVALID when it is not one. */
  find(mac: string): DeviceRecord | undefined {
    return this.deps.storage.findDevice(parseMac(mac));
  }

  get(mac: string): DeviceRecord {
    const device = this.find(mac);
    if (!device) throw notFound(parseMac(mac));
    return device;
  }

  list(): DeviceRecord[] {
    return this.deps.storage.listDevices();
  }

  /** Binds an issued certificate to a registered device (the caller runs it in the issuing transaction). */
  bindCertificate(serial: string, mac: string, by: Actor): void {
    const device = this.get(mac);
    this.deps.storage.bindCertificate({ serial, mac: device.mac }, this.now(), by);
  }

  /** The serials of the certificates bound to a device. */
  certificatesOf(mac: string): string[] {
    return this.deps.storage.listCertificateBindings(parseMac(mac)).map((b) => b.serial);
  }

  /**
   * The MAC of the device a certificate was issued for, whether or not that device is
   * still registered (EAP-TLS: radius/eap/client-cert.ts withDeviceCertificates).
   */
  certificateDevice(serial: string): string | undefined {
    return this.deps.storage.findCertificateDevice(serial);
  }

  /** The device with this MAC, or undefined for an unknown one or a text that is not a MAC (never throws). */
  device(mac: string): DeviceRecord | undefined {
    const m = normalizeMac(mac);
    return m === undefined ? undefined : this.deps.storage.findDevice(m);
  }

  private now(): number {
    return this.clock().getTime();
  }
}

const notFound = (mac: string): AppError => new AppError('DEVICE_NOT_FOUND', `no device with MAC ${mac}`);

/** A device as RADIUS reads it (MAB and EAP-TLS). */
export interface DeviceView {
  mac: string;
  name: string | null;
  enabled: boolean;
  groups: readonly string[];
}

/**
 * Devices in memory, for the RADIUS hot path (MAB): the daemon builds it once and
 * replaces it whole on any 'device' change from the feed.
 */
export class DeviceIndex {
  private byMac = new Map<string, DeviceView>();

  constructor(devices: readonly DeviceRecord[] = []) {
    this.replace(devices);
  }

  replace(devices: readonly DeviceRecord[]): void {
    this.byMac = new Map(devices.map((d) => [d.mac, { mac: d.mac, name: d.name, enabled: d.enabled, groups: d.groups }]));
  }

  get size(): number {
    return this.byMac.size;
  }

  /** The device with this MAC, in any spelling; undefined for an unknown one or a text that is not a MAC. */
  device(mac: string): DeviceView | undefined {
    const m = normalizeMac(mac);
    return m === undefined ? undefined : this.byMac.get(m);
  }
}
