// MAC authentication bypass (MAB): a switch or access point that sees a device without a
// supplicant sends an Access-Request whose User-Name and User-Password are both the
// device's MAC (each vendor in its own spelling), usually with the same MAC in
// Calling-Station-Id (RFC 3580 §3.20). It is accepted for a registered, enabled device,
// which then gets its groups' policy (VLAN and so on) like a user.
//
// Two pieces: `withDevices` makes registered devices a capability of the users engine
// (find() answers a MAC-shaped name with a device-backed user, verifyPassword() checks
// that the password is that MAC), so the PAP path accepts a device and the policy finds
// its groups; `mabRequest` lets the RADIUS engine tell a MAB request from PAP, for the
// method name 'mab' (policy per client kind, decision log), the Calling-Station-Id check
// and the device reasons ('unknown device', 'device disabled').
import { normalizeMac } from '../core/devices.js';
import { Attr, joinAttribute, type RadiusPacket } from './codec/index.js';
import type { PapUser } from './auth.js';
import type { MethodDecision } from './methods/decision.js';

/** What MAB reads about a device (core/devices.ts DeviceIndex fits). */
export interface MabDevices {
  device(mac: string): { mac: string; enabled: boolean; groups: readonly string[] } | undefined;
}

/** A PapUser that stands for a device: no password hash, no NT hash, no CHAP password. */
export interface DeviceUser extends PapUser {
  /** Canonical MAC, also the username. */
  device: string;
  ntHashSealed: null;
  chapPasswordSealed: null;
}

export type MabRefusal = 'unknown device' | 'device disabled' | 'calling station does not match the MAC';

/** Where withDevices leaves the devices for mabRequest. */
const MAB_DEVICES = Symbol('authbox.mabDevices');

interface WithMabDevices {
  [MAB_DEVICES]?: MabDevices;
}

export const isDeviceUser = (user: object): user is DeviceUser => typeof (user as Partial<DeviceUser>).device === 'string';

const deviceUser = (d: { mac: string; enabled: boolean; groups: readonly string[] }): DeviceUser => ({
  username: d.mac, device: d.mac, enabled: d.enabled, passwordHash: null, groups: d.groups, ntHashSealed: null, chapPasswordSealed: null,
});

/** Whether the password bytes are the same MAC, in any spelling. MACs are not secrets: no constant-time compare. */
function passwordIsMac(password: Uint8Array, mac: string): boolean {
  if (password.length > 17) return false;
  return normalizeMac(Buffer.from(password).toString('latin1')) === mac;
}

/**
 * The same users engine, with registered devices: a MAC-shaped name of a registered
 * device finds a device-backed user (groups and enabled flag the device's) whose password
 * is its MAC; any other name goes to the users engine. Everything else (ntHashOf,
 * chapPasswordOf) is inherited, and a device user has no NT hash or CHAP password.
 */
export function withDevices<T extends { find(username: string): unknown; verifyPassword(user: never, password: Uint8Array): Promise<boolean> }>(
  users: T, devices: MabDevices,
): T {
  const find = (username: string): unknown => {
    const d = normalizeMac(username) !== undefined ? devices.device(username) : undefined;
    return d ? deviceUser(d) : users.find(username);
  };
  const verifyPassword = (user: object, password: Uint8Array): Promise<boolean> =>
    isDeviceUser(user) ? Promise.resolve(passwordIsMac(password, user.device))
      : (users.verifyPassword as (u: object, p: Uint8Array) => Promise<boolean>)(user, password);
  return Object.assign(Object.create(users) as T, { find, verifyPassword, [MAB_DEVICES]: devices });
}

/**
 * A MAB request: User-Name a MAC in any usual spelling, User-Password the same MAC. Given
 * such a request and a users engine built by withDevices, returns the function that decides
 * it (called only once the policy allows 'mab' for the client); undefined otherwise (the
 * request is PAP). A Calling-Station-Id, when present, must be the same MAC too.
 */
export function mabRequest(packet: RadiusPacket, password: Buffer, users: object): (() => Promise<MethodDecision>) | undefined {
  const devices = (users as WithMabDevices)[MAB_DEVICES];
  if (!devices) return undefined;
  const name = joinAttribute(packet.attributes, Attr.UserName)?.toString('utf8');
  const mac = name === undefined ? undefined : normalizeMac(name);
  if (mac === undefined || !passwordIsMac(password, mac)) return undefined;
  const station = joinAttribute(packet.attributes, Attr.CallingStationId)?.toString('utf8');
  return () => {
    password.fill(0);
    return Promise.resolve(decideMab(devices, mac, station));
  };
}

/** The MAB decision for a canonical MAC and the request's Calling-Station-Id. */
export function decideMab(devices: MabDevices, mac: string, callingStationId: string | undefined): MethodDecision {
  const reject = (reason: MabRefusal): MethodDecision => ({ outcome: 'reject', reason, username: mac });
  if (callingStationId !== undefined && normalizeMac(callingStationId) !== mac) return reject('calling station does not match the MAC');
  const device = devices.device(mac);
  if (!device) return reject('unknown device');
  if (!device.enabled) return reject('device disabled');
  return { outcome: 'accept', username: device.mac, groups: device.groups };
}
