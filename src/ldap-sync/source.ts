// Directory sources: where to connect, how to bind, what to read. The bind password is
// sealed with the master key (AAD "ldap:<name>") and never listed, logged or audited.
import { readFileSync } from 'node:fs';
import type { Actor } from '../core/actor.js';
import { seal, unseal } from '../core/seal.js';
import { LdapError } from './errors.js';
import { normalizeConfiguredFilter } from './filter.js';
import { DEFAULT_USER_FILTER, MAP_FIELDS, PRESETS, type AttributeMap, type MapField, type Preset } from './presets.js';

export const CERT_POLICIES = ['keep', 'revoke'] as const;
export type CertPolicy = (typeof CERT_POLICIES)[number];
export const DEFAULT_SCHEDULE_MINUTES = 15;
export const DEFAULT_MAX_DISABLE_SHARE = 0.1;
const SOURCE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface LdapSourceRecord {
  id: number;
  name: string;
  url: string;
  starttls: boolean;
  caPem: string | null;
  bindDn: string;
  bindPasswordSealed: Buffer;
  baseDn: string;
  userFilter: string;
  groupBaseDn: string | null;
  preset: Preset;
  attributeMap: AttributeMap;
  scheduleMinutes: number;
  maxDisableShare: number;
  certPolicy: CertPolicy;
  watermark: string | null;
  /** The same for group entries (OpenLDAP group entries, AD groups' uSNChanged); null until a full run set it. */
  groupWatermark: string | null;
  lastFullAt: number | null;
  createdAt: number;
}

export type NewLdapSourceRow = Omit<LdapSourceRecord, 'id' | 'watermark' | 'groupWatermark' | 'lastFullAt' | 'createdAt'> & { at: number };

export interface SyncRunRecord {
  id: number;
  sourceId: number;
  startedAt: number;
  endedAt: number | null;
  mode: 'full' | 'incremental';
  dryRun: boolean;
  added: number;
  updated: number;
  disabled: number;
  groups: number;
  error: string | null;
}

export interface UserLink {
  userId: number;
  sourceId: number;
  remoteId: string;
  dn: string;
  lastSeen: number;
  vanished: boolean;
  /** The sync disabled the user; only then does it enable it again. */
  syncDisabled: boolean;
}

/** What the LDAP engine needs from storage; store/ldap-store.ts implements it. */
export interface LdapStorage {
  /** One transaction with an audit row (no secret). LDAP_SOURCE_EXISTS on a taken name. */
  insertSource(row: NewLdapSourceRow, by: Actor): LdapSourceRecord;
  /** Removes the source, its runs and its user links (the users stay). False if there was none. */
  deleteSource(name: string, by: Actor): boolean;
  /** Case-insensitive. */
  findSource(name: string): LdapSourceRecord | undefined;
  sourceById(id: number): LdapSourceRecord | undefined;
  listSources(): LdapSourceRecord[];
  /** Runs fn in one immediate transaction (nested writes become savepoints). */
  transaction<T>(fn: () => T): T;
  /** groupWatermark undefined: left as it is. */
  setWatermark(sourceId: number, watermark: string | null, fullAt: number | null, groupWatermark?: string | null): void;
  recordRun(run: Omit<SyncRunRecord, 'id'>): number;
  listRuns(sourceId: number, limit?: number): SyncRunRecord[];
  links(sourceId: number): UserLink[];
  /** Every source's links. */
  allLinks(): UserLink[];
  /** Every link, whatever the source, by user id. */
  linkOfUser(userId: number): UserLink | undefined;
  upsertLink(link: UserLink): void;
  // What an incremental run reads instead of every link: only the entries it is told about.
  linksByRemoteIds(sourceId: number, remoteIds: readonly string[]): UserLink[];
  /** By the DN as normalizeDn() writes it. */
  linksByDnKeys(sourceId: number, dnKeys: readonly string[]): UserLink[];
  /** Case-insensitive. */
  linksByUsernames(sourceId: number, usernames: readonly string[]): UserLink[];
  linksOfUsers(sourceId: number, userIds: readonly number[]): UserLink[];
  /** The source's linked users holding one of these groups (case-insensitive), once per membership. */
  linkedMembers(sourceId: number, groups: readonly string[]): { link: UserLink; username: string; group: string }[];
  /** Linked users that are enabled: the base of the safety share. */
  countActiveLinks(sourceId: number): number;
}

export const bindPasswordAad = (name: string): string => `ldap:${name}`;

export interface NewSourceInput {
  name: string;
  url: string;
  starttls?: boolean;
  caFile?: string;
  caPem?: string;
  bindDn: string;
  bindPassword: string;
  baseDn: string;
  userFilter?: string;
  groupBaseDn?: string;
  preset?: Preset;
  map?: AttributeMap;
  scheduleMinutes?: number;
  maxDisableShare?: number;
  certPolicy?: CertPolicy;
}

/** field=attribute pairs from --map. */
export function parseMap(pairs: readonly string[]): AttributeMap {
  const map: AttributeMap = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z]+)=([A-Za-z][A-Za-z0-9-]*|[0-9.]+)$/.exec(pair);
    if (!m || !(MAP_FIELDS as readonly string[]).includes(m[1]!)) {
      throw new LdapError('LDAP_SOURCE_INVALID', `--map takes field=attribute with field one of ${MAP_FIELDS.join(', ')}, not "${pair}"`);
    }
    map[m[1] as MapField] = m[2]!;
  }
  return map;
}

function checkUrl(url: string, starttls: boolean): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new LdapError('LDAP_SOURCE_INVALID', `--url must look like ldap://HOST:PORT or ldaps://HOST:PORT, not "${url}"`);
  }
  if ((u.protocol !== 'ldap:' && u.protocol !== 'ldaps:') || !u.hostname || (u.pathname !== '' && u.pathname !== '/')) {
    throw new LdapError('LDAP_SOURCE_INVALID', `--url must look like ldap://HOST:PORT or ldaps://HOST:PORT, not "${url}"`);
  }
  if (u.protocol === 'ldaps:' && starttls) throw new LdapError('LDAP_SOURCE_INVALID', '--starttls is for ldap:// URLs; ldaps:// is TLS already');
}

function checkPem(pem: string, where: string): void {
  if (!/-----BEGIN CERTIFICATE-----/.test(pem)) throw new LdapError('LDAP_SOURCE_INVALID', `${where} holds no PEM certificate`);
}

export class LdapSourceService {
  private readonly clock: () => Date;

  constructor(private readonly deps: { storage: LdapStorage; master: Buffer; clock?: () => Date }) {
    this.clock = deps.clock ?? (() => new Date());
  }

  add(input: NewSourceInput, by: Actor): LdapSourceRecord {
    if (!SOURCE_NAME.test(input.name)) {
      throw new LdapError('LDAP_SOURCE_INVALID', 'a source name has 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
    }
    const starttls = input.starttls ?? false;
    checkUrl(input.url, starttls);
    let caPem = input.caPem ?? null;
    if (input.caFile !== undefined) {
      try {
        caPem = readFileSync(input.caFile, 'utf8');
      } catch (e) {
        throw new LdapError('LDAP_SOURCE_INVALID', `cannot read ${input.caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    if (caPem !== null) checkPem(caPem, input.caFile ?? 'the CA');
    const preset = input.preset ?? 'openldap';
    if (!PRESETS.includes(preset)) throw new LdapError('LDAP_SOURCE_INVALID', `the preset must be one of ${PRESETS.join(', ')}`);
    const userFilter = normalizeConfiguredFilter(input.userFilter ?? DEFAULT_USER_FILTER[preset]);
    if (!userFilter) throw new LdapError('LDAP_SOURCE_INVALID', `--user-filter is not a balanced LDAP filter: "${input.userFilter}"`);
    if (!input.bindDn.includes('=')) throw new LdapError('LDAP_SOURCE_INVALID', `--bind-dn must be a DN (cn=...,dc=...), not "${input.bindDn}"`);
    if (!input.baseDn.includes('=')) throw new LdapError('LDAP_SOURCE_INVALID', `--base-dn must be a DN, not "${input.baseDn}"`);
    if (input.bindPassword === '') throw new LdapError('LDAP_SOURCE_INVALID', 'the bind password cannot be empty (an empty password is an anonymous bind)');
    const scheduleMinutes = input.scheduleMinutes ?? DEFAULT_SCHEDULE_MINUTES;
    if (!Number.isInteger(scheduleMinutes) || scheduleMinutes < 1 || scheduleMinutes > 1440) {
      throw new LdapError('LDAP_SOURCE_INVALID', 'the schedule is 1 to 1440 minutes');
    }
    const maxDisableShare = input.maxDisableShare ?? DEFAULT_MAX_DISABLE_SHARE;
    if (!(maxDisableShare >= 0 && maxDisableShare <= 1)) throw new LdapError('LDAP_SOURCE_INVALID', 'the maximum disable share is between 0 and 1');
    const certPolicy = input.certPolicy ?? 'keep';
    if (!CERT_POLICIES.includes(certPolicy)) throw new LdapError('LDAP_SOURCE_INVALID', `the certificate policy is ${CERT_POLICIES.join(' or ')}`);
    return this.deps.storage.insertSource({
      name: input.name, url: input.url, starttls, caPem, bindDn: input.bindDn,
      bindPasswordSealed: seal(this.deps.master, bindPasswordAad(input.name), Buffer.from(input.bindPassword, 'utf8')),
      baseDn: input.baseDn, userFilter, groupBaseDn: input.groupBaseDn ?? null, preset, attributeMap: input.map ?? {},
      scheduleMinutes, maxDisableShare, certPolicy, at: this.clock().getTime(),
    }, by);
  }

  get(name: string): LdapSourceRecord {
    const s = this.deps.storage.findSource(name);
    if (!s) throw new LdapError('LDAP_SOURCE_NOT_FOUND', `no LDAP source "${name}"`);
    return s;
  }

  list(): LdapSourceRecord[] {
    return this.deps.storage.listSources();
  }

  remove(name: string, by: Actor): void {
    if (!this.deps.storage.deleteSource(name, by)) throw new LdapError('LDAP_SOURCE_NOT_FOUND', `no LDAP source "${name}"`);
  }

  /** The bind password, open; in memory only. */
  bindPassword(source: Pick<LdapSourceRecord, 'name' | 'bindPasswordSealed'>): string {
    return unseal(this.deps.master, bindPasswordAad(source.name), source.bindPasswordSealed).toString('utf8');
  }
}
