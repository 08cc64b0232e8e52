// What a directory's attributes mean: the two presets (Active Directory, OpenLDAP) and
// the mapping of one search entry to a DirectoryUser. `--map field=attribute` overrides.
import { ldapFilter } from './filter.js';

export const PRESETS = ['ad', 'openldap'] as const;
export type Preset = (typeof PRESETS)[number];

/** The fields a source maps; each names one LDAP attribute. */
export const MAP_FIELDS = [
  'username', 'upn', 'mail', 'displayName', 'groups', 'disabled', 'accountExpires', 'remoteId', 'changeMarker',
] as const;
export type MapField = (typeof MAP_FIELDS)[number];
export type AttributeMap = Partial<Record<MapField, string>>;

export const PRESET_MAPS: Record<Preset, AttributeMap> = {
  ad: {
    username: 'sAMAccountName', upn: 'userPrincipalName', mail: 'mail', displayName: 'displayName',
    groups: 'memberOf', disabled: 'userAccountControl', accountExpires: 'accountExpires',
    remoteId: 'objectGUID', changeMarker: 'uSNChanged',
  },
  // Groups come from group entries under the group base DN (groupOfNames member, posixGroup memberUid).
  openldap: {
    username: 'uid', mail: 'mail', displayName: 'cn', disabled: 'pwdAccountLockedTime',
    remoteId: 'entryUUID', changeMarker: 'modifyTimestamp',
  },
};

export const DEFAULT_USER_FILTER: Record<Preset, string> = {
  ad: '(&(objectCategory=person)(objectClass=user))',
  openldap: '(objectClass=inetOrgPerson)',
};

export const OPENLDAP_GROUP_FILTER = '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))';
/** What is read of a group entry: its name and members (DNs, or uids for posixGroup). */
export const OPENLDAP_GROUP_ATTRIBUTES = ['cn', 'member', 'uniqueMember', 'memberUid'] as const;

/** MS-ADTS 2.2.16: ACCOUNTDISABLE. */
export const UF_ACCOUNTDISABLE = 0x2;
/** accountExpires: 100 ns intervals since 1601-01-01; 0 and 2^63-1 mean never. */
const AD_NEVER = 0x7fffffffffffffffn;
const FILETIME_UNIX_OFFSET_MS = 11_644_473_600_000n;

export function effectiveMap(preset: Preset, overrides: AttributeMap): Required<Pick<AttributeMap, 'username' | 'remoteId'>> & AttributeMap {
  const map = { ...PRESET_MAPS[preset], ...overrides };
  return { ...map, username: map.username!, remoteId: map.remoteId! };
}

/**
 * OpenLDAP with the preset's modifyTimestamp: entries are marked by entryCSN where the server
 * has it (see ENTRY_CSN), modifyTimestamp otherwise. A --map'ed marker is used as it is.
 */
function marksByCsn(preset: Preset, map: AttributeMap): boolean {
  return preset === 'openldap' && map.changeMarker?.toLowerCase() === 'modifytimestamp';
}

export type AttributeValue = string | string[] | Buffer | Buffer[];
export interface RawEntry {
  dn: string;
  [attribute: string]: AttributeValue;
}

/** A user as the directory describes it, in authbox's terms. */
export interface DirectoryUser {
  dn: string;
  remoteId: string;
  username: string;
  displayName?: string;
  mail?: string;
  upn?: string;
  /** Group names; undefined when this preset reads groups from group entries. */
  groups?: string[];
  disabled: boolean;
  /** uSNChanged or modifyTimestamp, for the next incremental run. */
  changeMarker?: string;
}

/** Attribute names are case-insensitive (RFC 4512 §2.5). */
function get(entry: RawEntry, attribute: string | undefined): AttributeValue | undefined {
  if (!attribute) return undefined;
  const lower = attribute.toLowerCase();
  for (const [k, v] of Object.entries(entry)) if (k !== 'dn' && k.toLowerCase() === lower) return v;
  return undefined;
}

function values(v: AttributeValue | undefined): string[] {
  if (v === undefined) return [];
  const all = Array.isArray(v) ? v : [v];
  return all.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : x)).filter((x) => x !== '');
}

const first = (v: AttributeValue | undefined): string | undefined => values(v)[0];

/** objectGUID as the usual text form (MS-DTYP 2.3.4.3: the first three fields are little-endian). */
export function formatGuid(b: Buffer): string {
  if (b.length !== 16) return b.toString('hex');
  const h = (s: number, e: number, reverse: boolean): string => {
    const part = Buffer.from(b.subarray(s, e));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}

function remoteIdOf(v: AttributeValue | undefined): string | undefined {
  const one = Array.isArray(v) ? v[0] : v;
  if (one === undefined) return undefined;
  if (Buffer.isBuffer(one)) return one.length === 16 ? formatGuid(one) : one.toString('hex');
  return one.toLowerCase();
}

/** The value of a DN's first RDN (CN=Staff,OU=Groups,... -> Staff), with RFC 4514 escapes undone. */
export function firstRdnValue(dn: string): string {
  let out = '';
  let i = dn.indexOf('=') + 1;
  for (; i < dn.length; i++) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      const hex = dn.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) { out += String.fromCharCode(parseInt(hex, 16)); i += 2; } else { out += dn[i + 1]; i++; }
      continue;
    }
    if (c === ',' || c === '+') break;
    out += c;
  }
  return out.trim();
}

/** For comparing DNs: lower case, no spaces around separators. Good enough for DNs a server returns. */
export function normalizeDn(dn: string): string {
  return dn.toLowerCase().replace(/\s*([,=+])\s*/g, '$1').trim();
}

function adDisabled(entry: RawEntry, map: AttributeMap, now: number): boolean {
  const uac = Number(first(get(entry, map.disabled)) ?? '0');
  if (Number.isFinite(uac) && (uac & UF_ACCOUNTDISABLE) !== 0) return true;
  const expires = first(get(entry, map.accountExpires));
  if (expires && /^\d+$/.test(expires)) {
    const ft = BigInt(expires);
    if (ft !== 0n && ft !== AD_NEVER && ft / 10_000n - FILETIME_UNIX_OFFSET_MS <= BigInt(now)) return true;
  }
  return false;
}

/** One search entry as a DirectoryUser, or a reason it cannot be one. */
export function mapEntry(entry: RawEntry, preset: Preset, overrides: AttributeMap, now: number): DirectoryUser | { skip: string } {
  const map = effectiveMap(preset, overrides);
  const username = first(get(entry, map.username));
  if (!username) return { skip: `${entry.dn}: no ${map.username}` };
  const remoteId = remoteIdOf(get(entry, map.remoteId));
  if (!remoteId) return { skip: `${entry.dn}: no ${map.remoteId}` };
  const disabled = preset === 'ad' ? adDisabled(entry, map, now) : values(get(entry, map.disabled)).length > 0;
  const user: DirectoryUser = { dn: entry.dn, remoteId, username, disabled };
  const displayName = first(get(entry, map.displayName));
  const mail = first(get(entry, map.mail));
  const upn = first(get(entry, map.upn));
  const marker = (marksByCsn(preset, map) ? first(get(entry, ENTRY_CSN)) : undefined) ?? first(get(entry, map.changeMarker));
  if (displayName) user.displayName = displayName;
  if (mail) user.mail = mail;
  if (upn) user.upn = upn;
  if (marker) user.changeMarker = marker;
  if (map.groups) user.groups = values(get(entry, map.groups)).map(firstRdnValue).filter((g) => g !== '');
  return user;
}

/** The attributes to ask for. */
export function requestedAttributes(preset: Preset, overrides: AttributeMap): string[] {
  const map = effectiveMap(preset, overrides);
  return [...new Set([...Object.values(map).filter((a): a is string => !!a), ...(marksByCsn(preset, map) ? [ENTRY_CSN] : [])])];
}

/** Group membership read from group entries (OpenLDAP): by member DN and by memberUid. */
export class GroupIndex {
  private readonly byDn = new Map<string, Set<string>>();
  private readonly byUid = new Map<string, Set<string>>();
  readonly names = new Set<string>();

  add(entry: RawEntry): void {
    const name = first(get(entry, 'cn')) ?? firstRdnValue(entry.dn);
    if (!name) return;
    this.names.add(name);
    for (const dn of [...values(get(entry, 'member')), ...values(get(entry, 'uniqueMember'))]) {
      this.put(this.byDn, normalizeDn(dn), name);
    }
    for (const uid of values(get(entry, 'memberUid'))) this.put(this.byUid, uid.toLowerCase(), name);
  }

  /** Every member DN (as normalizeDn writes it) and memberUid (lower case) of the indexed groups. */
  memberKeys(): { dnKeys: string[]; uids: string[] } {
    return { dnKeys: [...this.byDn.keys()], uids: [...this.byUid.keys()] };
  }

  groupsOf(dn: string, username: string): string[] {
    const all = new Set([...(this.byDn.get(normalizeDn(dn)) ?? []), ...(this.byUid.get(username.toLowerCase()) ?? [])]);
    return [...all].sort();
  }

  private put(m: Map<string, Set<string>>, key: string, name: string): void {
    let s = m.get(key);
    if (!s) m.set(key, (s = new Set()));
    s.add(name);
  }
}

/** The filter part that selects entries changed since the watermark. */
export function changedSinceFilter(preset: Preset, attribute: string, watermark: string): { attribute: string; value: string } {
  if (preset === 'ad') return { attribute, value: String(BigInt(watermark) + 1n) };
  return { attribute, value: watermark };
}

/** The latest change marker of these entries, or `since` when none is later. */
export function latestMarker(preset: Preset, entries: readonly RawEntry[], attribute: string, since: string | null): string | null {
  let latest = since;
  for (const e of entries) {
    const m = first(get(e, attribute));
    if (m && markerAfter(preset, m, latest ?? undefined)) latest = m;
  }
  return latest;
}

/**
 * OpenLDAP's change sequence number: the time of an entry's last change to the microsecond,
 * with an ordering rule (CSNOrderingMatch). The watermarks use it where the server has it, so
 * that an incremental run reads again only the last entry changed, not every entry changed in
 * the same second as that one (modifyTimestamp counts whole seconds: after a bulk load, that
 * is every entry; and a group entry carries its whole member list).
 */
export const ENTRY_CSN = 'entryCSN';
const isCsn = (v: string): boolean => v.includes('#');

/** The filter part that selects entries changed since a watermark: by entryCSN when it is one, else by `attribute`. */
export function changedSinceClause(preset: Preset, attribute: string, watermark: string): string {
  if (isCsn(watermark)) return ldapFilter`(entryCSN>=${watermark})`;
  const since = changedSinceFilter(preset, attribute, watermark);
  return `(${since.attribute}>=${ldapFilter`${since.value}`})`;
}

/** The new group watermark: the latest entryCSN when the entries have one, else the latest `attribute`. */
export function latestGroupMarker(preset: Preset, entries: readonly RawEntry[], attribute: string, since: string | null): string | null {
  const csn = latestMarker('openldap', entries, ENTRY_CSN, since !== null && isCsn(since) ? since : null);
  return csn ?? latestMarker(preset, entries, attribute, since);
}

/** Whether marker a is later than b (uSNChanged numerically, GeneralizedTime as text). */
export function markerAfter(preset: Preset, a: string, b: string | undefined): boolean {
  if (b === undefined) return true;
  if (preset === 'ad' && /^\d+$/.test(a) && /^\d+$/.test(b)) return BigInt(a) > BigInt(b);
  // A CSN against a modifyTimestamp (a watermark kept before CSNs were): entries read with
  // (modifyTimestamp>=b) are not earlier than b, and a CSN of b's second is the finer mark.
  if (isCsn(a) !== isCsn(b)) return isCsn(a) ? a.slice(0, 14) >= b.slice(0, 14) : a.slice(0, 14) > b.slice(0, 14);
  return a > b;
}
