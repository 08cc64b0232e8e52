// A slapd that LOOKS LIKE Active Directory to authbox's `ad` preset: it emulates AD's
// attributes, not AD. A small test-only schema (made-up OIDs under the private arc
// 1.3.6.1.4.1.99999, never to be used outside tests) defines sAMAccountName,
// userPrincipalName, memberOf, userAccountControl, accountExpires, objectGUID, uSNChanged,
// objectCategory and the object classes user, group and container. Nothing here computes
// anything by itself: the helper's operations keep the directory in step as AD would,
//  - every change to an entry sets that entry's uSNChanged from one counter (AD's
//    highestCommittedUSN, per domain controller);
//  - adding or removing a member writes the GROUP's member and uSNChanged, and the user's
//    memberOf WITHOUT touching the user's uSNChanged (memberOf is a back-link in AD).
// What it cannot show: AD's real schema and syntaxes (objectCategory is a DN there), range
// retrieval of large member lists (member;range=0-1499), nested groups, tombstones, paging
// limits and referrals, Kerberos/NTLM, LDAP signing, or anything done by a real DC.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './authbox.js';
import { BASE_DN, startSlapd, type Slapd } from './slapd.js';

export { BASE_DN, ROOT_DN, ROOT_PASSWORD } from './slapd.js';
// Attribute types in lower case: slapd returns DNs so, AD would write CN=/OU= (DNs compare case-insensitively).
export const AD_USERS = `cn=Users,${BASE_DN}`;
export const AD_GROUPS = `ou=Groups,${BASE_DN}`;
/** MS-ADTS 2.2.16 userAccountControl: NORMAL_ACCOUNT (0x200), ACCOUNTDISABLE (0x2). */
export const UAC_NORMAL = 0x200;
export const UAC_DISABLED = 0x202;
/** accountExpires value meaning "never" (besides 0). */
export const AD_NEVER = '9223372036854775807';

const OID = '1.3.6.1.4.1.99999.1';
const STRING = '1.3.6.1.4.1.1466.115.121.1.15';
const INTEGER = '1.3.6.1.4.1.1466.115.121.1.27';
const DN = '1.3.6.1.4.1.1466.115.121.1.12';
const OCTETS = '1.3.6.1.4.1.1466.115.121.1.40';

export const AD_SCHEMA = `# TEST-ONLY emulation of Active Directory attributes for authbox's tests.
# The OIDs under ${OID} are made up (a private arc); never use this schema elsewhere.
attributetype ( ${OID}.1 NAME 'sAMAccountName' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch SYNTAX ${STRING} SINGLE-VALUE )
attributetype ( ${OID}.2 NAME 'userPrincipalName' EQUALITY caseIgnoreMatch SYNTAX ${STRING} SINGLE-VALUE )
attributetype ( ${OID}.3 NAME 'memberOf' EQUALITY distinguishedNameMatch SYNTAX ${DN} )
attributetype ( ${OID}.4 NAME 'userAccountControl' EQUALITY integerMatch SYNTAX ${INTEGER} SINGLE-VALUE )
attributetype ( ${OID}.5 NAME 'accountExpires' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX ${INTEGER} SINGLE-VALUE )
attributetype ( ${OID}.6 NAME 'objectGUID' EQUALITY octetStringMatch SYNTAX ${OCTETS} SINGLE-VALUE )
attributetype ( ${OID}.7 NAME 'uSNChanged' EQUALITY integerMatch ORDERING integerOrderingMatch SYNTAX ${INTEGER} SINGLE-VALUE )
attributetype ( ${OID}.8 NAME 'objectCategory' EQUALITY caseIgnoreMatch SYNTAX ${STRING} SINGLE-VALUE )
objectclass ( ${OID}.100 NAME 'user' SUP organizationalPerson STRUCTURAL
  MUST ( sAMAccountName $ objectGUID $ uSNChanged $ objectCategory )
  MAY ( userPrincipalName $ memberOf $ userAccountControl $ accountExpires $ mail $ displayName ) )
objectclass ( ${OID}.101 NAME 'group' SUP top STRUCTURAL
  MUST ( cn $ objectGUID $ uSNChanged $ objectCategory ) MAY ( member $ sAMAccountName $ description ) )
objectclass ( ${OID}.102 NAME 'container' SUP top STRUCTURAL MUST cn )
`;

export interface AdUserSpec {
  sam: string;
  /** The RDN value (AD names users by their full name, not their account name). */
  cn: string;
  password: string;
  mail?: string;
  displayName?: string;
  uac?: number;
  accountExpires?: string;
  /** 'computer' for a machine account: objectClass user too, excluded by objectCategory=person. */
  category?: 'person' | 'computer';
}

export interface AdDirectory {
  slapd: Slapd;
  /** The last uSNChanged given out. */
  usn(): number;
  userDn(sam: string): string;
  groupDn(name: string): string;
  /** objectGUID as text (MS-DTYP 2.3.4.3), as authbox should store it. */
  guidOf(sam: string): string;
  /** Replaces (string) or removes (null) attributes of a user; bumps its uSNChanged. */
  modifyUser(sam: string, changes: Record<string, string | null>): void;
  addMember(group: string, sam: string): void;
  removeMember(group: string, sam: string): void;
  /** Deletes the user; its groups lose the member (and get a new uSNChanged), as in AD. */
  deleteUser(sam: string): void;
  /** One attribute of an entry, read back with ldapsearch. */
  read(dn: string, attribute: string): string[];
  cleanup(): Promise<void>;
}

const guidText = (n: number): string => {
  const h = (v: number, len: number): string => v.toString(16).padStart(len, '0');
  return `${h(0x1000_0000 + n, 8)}-${h(0xa000 + n, 4)}-${h(0xb000 + n, 4)}-c0de-${h(0xd00d_0000 + n, 12)}`;
};

/** MS-DTYP 2.3.4.3: the first three fields are stored little-endian, the rest as written. */
export function guidBytes(text: string): Buffer {
  const [a, b, c, d, e] = text.split('-') as [string, string, string, string, string];
  const le = (hex: string): Buffer => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([le(a), le(b), le(c), Buffer.from(d + e, 'hex')]);
}

export async function startAdSlapd(spec: { users: AdUserSpec[]; groups: { name: string; members: string[] }[] }): Promise<AdDirectory> {
  const schemaDir = tempDir('authbox-ad-schema-');
  const schema = join(schemaDir.path, 'ad-emulation.schema');
  writeFileSync(schema, AD_SCHEMA);
  let usn = 12_000;
  const users = new Map(spec.users.map((u, i) => [u.sam, { ...u, guid: guidText(i + 1) }]));
  const groups = new Map(spec.groups.map((g, i) => [g.name, { members: new Set(g.members), guid: guidText(500 + i) }]));
  const userDn = (sam: string): string => {
    const u = users.get(sam);
    if (!u) throw new Error(`no user ${sam}`);
    return `cn=${u.cn},${AD_USERS}`;
  };
  const groupDn = (name: string): string => `cn=${name},${AD_GROUPS}`;
  const groupsOf = (sam: string): string[] => [...groups].filter(([, g]) => g.members.has(sam)).map(([n]) => n);

  const ldif: string[] = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n`,
    `dn: ${AD_USERS}\nobjectClass: container\ncn: Users\n`,
    `dn: ${AD_GROUPS}\nobjectClass: organizationalUnit\nou: Groups\n`,
  ];
  for (const u of users.values()) {
    const lines = [
      `dn: ${userDn(u.sam)}`, 'objectClass: top', 'objectClass: person', 'objectClass: organizationalPerson', 'objectClass: user',
      `cn: ${u.cn}`, `sn: ${u.cn.split(' ').pop()}`, `sAMAccountName: ${u.sam}`, `userPrincipalName: ${u.sam}@corp.example.org`,
      `objectCategory: ${u.category ?? 'person'}`, `objectGUID:: ${guidBytes(u.guid).toString('base64')}`, `uSNChanged: ${++usn}`,
      `userAccountControl: ${u.uac ?? UAC_NORMAL}`, `accountExpires: ${u.accountExpires ?? AD_NEVER}`, `userPassword: ${u.password}`,
      ...(u.mail ? [`mail: ${u.mail}`] : []), ...(u.displayName ? [`displayName: ${u.displayName}`] : []),
      ...groupsOf(u.sam).map((g) => `memberOf: ${groupDn(g)}`),
    ];
    ldif.push(`${lines.join('\n')}\n`);
  }
  for (const [name, g] of groups) {
    ldif.push([`dn: ${groupDn(name)}`, 'objectClass: top', 'objectClass: group', `cn: ${name}`, `sAMAccountName: ${name}`, 'objectCategory: group',
      `objectGUID:: ${guidBytes(g.guid).toString('base64')}`, `uSNChanged: ${++usn}`, ...[...g.members].map((m) => `member: ${userDn(m)}`)].join('\n') + '\n');
  }
  const slapd = await startSlapd({ schemas: [schema], ldif: ldif.join('\n'), indexes: ['sAMAccountName eq', 'uSNChanged eq'] });
  const modify = (...changes: string[]): void => void slapd.tool('ldapmodify', [], changes.join('\n'));
  const bumpUsn = (): string => `replace: uSNChanged\nuSNChanged: ${++usn}\n`;
  const membership = (group: string, sam: string, op: 'add' | 'delete'): void => {
    const g = groups.get(group);
    if (!g) throw new Error(`no group ${group}`);
    if (op === 'add') g.members.add(sam); else g.members.delete(sam);
    // One ldapmodify: the group's forward link and its USN, then the user's back-link only.
    modify(`dn: ${groupDn(group)}\nchangetype: modify\n${op}: member\nmember: ${userDn(sam)}\n-\n${bumpUsn()}`,
      `dn: ${userDn(sam)}\nchangetype: modify\n${op}: memberOf\nmemberOf: ${groupDn(group)}\n`);
  };

  return {
    slapd,
    usn: () => usn,
    userDn,
    groupDn,
    guidOf: (sam) => users.get(sam)!.guid,
    modifyUser(sam, changes) {
      const parts = Object.entries(changes).map(([a, v]) => (v === null ? `delete: ${a}\n` : `replace: ${a}\n${a}: ${v}\n`));
      modify(`dn: ${userDn(sam)}\nchangetype: modify\n${[...parts, bumpUsn()].join('-\n')}`);
    },
    addMember: (group, sam) => membership(group, sam, 'add'),
    removeMember: (group, sam) => membership(group, sam, 'delete'),
    deleteUser(sam) {
      const dn = userDn(sam);
      for (const g of groupsOf(sam)) {
        groups.get(g)!.members.delete(sam);
        modify(`dn: ${groupDn(g)}\nchangetype: modify\ndelete: member\nmember: ${dn}\n-\n${bumpUsn()}`);
      }
      slapd.tool('ldapdelete', [dn]);
      users.delete(sam);
    },
    read(dn, attribute) {
      const out = slapd.tool('ldapsearch', ['-LLL', '-o', 'ldif-wrap=no', '-s', 'base', '-b', dn, '(objectClass=*)', attribute]);
      const prefix = `${attribute.toLowerCase()}: `;
      return out.split('\n').filter((l) => l.toLowerCase().startsWith(prefix)).map((l) => l.slice(prefix.length));
    },
    async cleanup() {
      await slapd.cleanup();
      schemaDir.cleanup();
    },
  };
}
