// RADIUS clients (NAS: access points, switches, VPN concentrators, gateways): a name, the
// network its requests come from, and the shared secret, kept sealed with the master key
// (AAD "nas:<name>") so a copy of the database alone does not reveal it.
import { isIP } from 'node:net';
import type { Actor } from './actor.js';
import { addressBytes, contains, formatCidr, parseCidr, type Network } from './cidr.js';
import { AppError } from './errors.js';
import { seal, unseal } from './seal.js';

export const NAS_KINDS = ['wlan', 'vpn', 'gateway', 'switch'] as const;
export type NasKind = (typeof NAS_KINDS)[number];

/** Short secrets are brute-forced offline from one captured Access-Request (RFC 2865 §3 asks for 16 or more). */
export const NAS_SECRET_MIN = 8;
/** radclient and most NAS firmware stop well before this. */
export const NAS_SECRET_MAX = 128;
const NAS_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface NasRecord {
  id: number;
  name: string;
  /** Canonical CIDR text. */
  address: string;
  secretSealed: Buffer;
  kind: NasKind;
  requireMessageAuthenticator: boolean;
  createdAt: number;
  /** Connects over RadSec only (RFC 6614): never looked up for UDP. */
  radsec: boolean;
  /** RFC 5176 Disconnect-Requests go to this client when its users' sessions must end. */
  coa: NasCoaSettings;
}

/** Dynamic Authorization (RFC 5176) towards one client. */
export interface NasCoaSettings {
  enabled: boolean;
  /** UDP port of the NAS's Dynamic Authorization Server (RFC 5176 §2.3: 3799). */
  port: number;
  /** Null: the RADIUS shared secret. Sealed with AAD "nas-coa:<name>". */
  secretSealed: Buffer | null;
  /** Null: the NAS-IP-Address seen in accounting, else the client's address if it is one host. */
  address: string | null;
}

/** What `nas add|set --coa...` gives; undefined leaves a setting as it is, null returns it to its default. */
export interface CoaInput {
  enabled?: boolean;
  port?: number;
  secret?: string | null;
  address?: string | null;
}

export interface NewNasRow {
  name: string;
  address: string;
  secretSealed: Buffer;
  kind: NasKind;
  requireMessageAuthenticator: boolean;
  at: number;
  radsec?: boolean;
  coa?: NasCoaSettings;
}

/** What the NAS engine needs from storage; store/nas-store.ts implements it. */
export interface NasStorage {
  /** One transaction with a 'nas' change row and an audit row (no secret). NAS_EXISTS on a taken name or address. */
  insertNas(row: NewNasRow, by: Actor): NasRecord;
  /** Returns false when there was no such client. */
  deleteNas(name: string, by: Actor): boolean;
  /** Case-insensitive. */
  findNas(name: string): NasRecord | undefined;
  listNas(): NasRecord[];
  /** One transaction with a 'nas' change row and an audit row (never the secret). False when there was no such client. */
  updateNasCoa(name: string, coa: NasCoaSettings, by: Actor): boolean;
}

/** A client as the RADIUS engine uses it: the secret open, in memory only. */
export interface NasClient {
  name: string;
  network: Network;
  secret: Buffer;
  kind: NasKind;
  requireMessageAuthenticator: boolean;
}

/** RFC 6614 §2.3: the shared secret of every RadSec client (the TLS certificate authenticates it). */
export const NAS_RADSEC_SECRET = 'radsec';

export const nasSecretAad = (name: string): string => `nas:${name}`;
export const nasCoaSecretAad = (name: string): string => `nas-coa:${name}`;

/** RFC 5176 §2.3: the Dynamic Authorization Server's UDP port. */
export const COA_DEFAULT_PORT = 3799;
export const COA_DISABLED: NasCoaSettings = { enabled: false, port: COA_DEFAULT_PORT, secretSealed: null, address: null };

export function validateNasName(name: string): void {
  if (!NAS_NAME.test(name)) {
    throw new AppError('NAS_INVALID', 'a client name has 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
  }
}

export function validateNasSecret(secret: string): void {
  const n = Buffer.byteLength(secret, 'utf8');
  if (n < NAS_SECRET_MIN) throw new AppError('NAS_INVALID', `the shared secret is too short: at least ${NAS_SECRET_MIN} characters (16 or more is better)`);
  if (n > NAS_SECRET_MAX) throw new AppError('NAS_INVALID', `the shared secret is too long: at most ${NAS_SECRET_MAX} bytes`);
  if (/\p{Cc}/u.test(secret)) throw new AppError('NAS_INVALID', 'the shared secret cannot contain control characters');
}

export function parseNasAddress(text: string): Network {
  const net = parseCidr(text);
  if (!net) {
    throw new AppError('NAS_INVALID', `--address must be an IPv4 or IPv6 address or network (192.0.2.10, 192.0.2.0/24, 2001:db8::/64) with no bits set past the prefix, not "${text}"`);
  }
  return net;
}

/** The NAS engine: registers, lists and removes clients, over a NasStorage. */
export class NasService {
  private readonly clock: () => Date;

  constructor(private readonly deps: { storage: NasStorage; master: Buffer; clock?: () => Date }) {
    this.clock = deps.clock ?? (() => new Date());
  }

  add(input: {
    name: string; address: string; secret?: string; kind?: NasKind; requireMessageAuthenticator?: boolean; radsec?: boolean; coa?: CoaInput;
  }, by: Actor): NasRecord {
    validateNasName(input.name);
    const address = formatCidr(parseNasAddress(input.address));
    const radsec = input.radsec === true;
    if (radsec && input.secret !== undefined) {
      throw new AppError('NAS_INVALID', 'a RadSec client has no shared secret of its own: its certificate authenticates it (RFC 6614 §2.3 fixes the secret to "radsec")');
    }
    if (!radsec) {
      if (input.secret === undefined) throw new AppError('NAS_INVALID', 'a shared secret is required');
      validateNasSecret(input.secret);
    }
    const secret = radsec ? NAS_RADSEC_SECRET : input.secret!;
    const kind = input.kind ?? 'wlan';
    if (!NAS_KINDS.includes(kind)) throw new AppError('NAS_INVALID', `the kind must be one of ${NAS_KINDS.join(', ')}`);
    const secretSealed = seal(this.deps.master, nasSecretAad(input.name), Buffer.from(secret, 'utf8'));
    const coa = input.coa ? this.coaSettings(input.name, radsec, COA_DISABLED, input.coa) : undefined;
    return this.deps.storage.insertNas({
      name: input.name, address, secretSealed, kind,
      requireMessageAuthenticator: input.requireMessageAuthenticator ?? true, at: this.clock().getTime(), ...(radsec ? { radsec } : {}),
      ...(coa ? { coa } : {}),
    }, by);
  }

  /** Changes a client's CoA settings (`nas set`). */
  setCoa(name: string, change: CoaInput, by: Actor): NasRecord {
    const current = this.deps.storage.findNas(name);
    if (!current) throw new AppError('NAS_NOT_FOUND', `no RADIUS client "${name}"`);
    const coa = this.coaSettings(current.name, current.radsec, current.coa, change);
    this.deps.storage.updateNasCoa(current.name, coa, by);
    return { ...current, coa };
  }

  /** Where and how to send a Disconnect-Request to a client, its secret open; undefined when CoA is off or it is gone. */
  coaTarget(name: string): { name: string; port: number; secret: Buffer; address: string | null; network: string } | undefined {
    const r = this.deps.storage.findNas(name);
    if (!r || !r.coa.enabled) return undefined;
    const secret = r.coa.secretSealed
      ? unseal(this.deps.master, nasCoaSecretAad(r.name), r.coa.secretSealed)
      : unseal(this.deps.master, nasSecretAad(r.name), r.secretSealed);
    return { name: r.name, port: r.coa.port, secret, address: r.coa.address, network: r.address };
  }

  private coaSettings(name: string, radsec: boolean, base: NasCoaSettings, change: CoaInput): NasCoaSettings {
    const out: NasCoaSettings = { ...base };
    if (change.enabled !== undefined) out.enabled = change.enabled;
    if (change.port !== undefined) {
      if (!Number.isInteger(change.port) || change.port < 1 || change.port > 65535) throw new AppError('NAS_INVALID', 'the CoA port must be 1 to 65535');
      out.port = change.port;
    }
    if (change.secret === null) out.secretSealed = null;
    else if (change.secret !== undefined) {
      validateNasSecret(change.secret);
      out.secretSealed = seal(this.deps.master, nasCoaSecretAad(name), Buffer.from(change.secret, 'utf8'));
    }
    if (change.address === null) out.address = null;
    else if (change.address !== undefined) {
      if (isIP(change.address) === 0) throw new AppError('NAS_INVALID', `--coa-address must be one IPv4 or IPv6 address, not "${change.address}"`);
      out.address = change.address;
    }
    // RFC 6614 §2.3: a RadSec client's RADIUS secret is the public "radsec", useless over UDP.
    if (out.enabled && radsec && !out.secretSealed) throw new AppError('NAS_INVALID', 'CoA over UDP to a RadSec client needs a secret of its own (--coa-secret)');
    return out;
  }

  remove(name: string, by: Actor): void {
    if (!this.deps.storage.deleteNas(name, by)) throw new AppError('NAS_NOT_FOUND', `no RADIUS client "${name}"`);
  }

  list(): NasRecord[] {
    return this.deps.storage.listNas();
  }

  /**
   * Every UDP client with its secret unsealed, for the RADIUS engine's in-memory table. RadSec
   * clients are left out: their secret is the public "radsec", so a UDP packet signed with it
   * proves nothing.
   */
  loadClients(): NasClient[] {
    return this.load(false);
  }

  /** The clients marked for RadSec (radius/radsec.ts binds each connection's certificate to one). */
  loadRadsecClients(): NasClient[] {
    return this.load(true);
  }

  private load(radsec: boolean): NasClient[] {
    return this.deps.storage.listNas().filter((r) => r.radsec === radsec).map((r) => ({
      name: r.name,
      network: parseNasAddress(r.address),
      secret: unseal(this.deps.master, nasSecretAad(r.name), r.secretSealed),
      kind: r.kind,
      requireMessageAuthenticator: r.requireMessageAuthenticator,
    }));
  }
}

/** The clients, looked up by a datagram's source address: the longest matching prefix wins. */
export class NasTable {
  private clients: NasClient[] = [];

  constructor(clients: NasClient[] = []) {
    this.replace(clients);
  }

  replace(clients: NasClient[]): void {
    this.clients = [...clients].sort((a, b) => b.network.prefix - a.network.prefix);
  }

  get size(): number {
    return this.clients.length;
  }

  lookup(address: string): NasClient | undefined {
    const a = addressBytes(address);
    if (!a) return undefined;
    return this.clients.find((c) => contains(c.network, a));
  }
}
