// Password checks by LDAP bind against a real slapd, filter escaping on the wire, and the
// 'revoke' certificate policy for users a sync disables.
import { readFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/logger.js';
import { directoryAwareVerify, LdapBindAuthenticator, storedUserDirectory } from '../../src/ldap-sync/bind-auth.js';
import { DirectoryConnection } from '../../src/ldap-sync/directory.js';
import { isLdapError } from '../../src/ldap-sync/errors.js';
import { ldapFilter } from '../../src/ldap-sync/filter.js';
import { ldapContext, openPkiAt } from '../../src/main.js';
import { authboxOk, freePort, initDataDir, withDatabase } from '../helpers/authbox.js';
import {
  BASE_DN, GROUPS, PEOPLE, ROOT_DN, ROOT_PASSWORD, startSlapd, TRICKY_DN, TRICKY_PASSWORD, TRICKY_UID, passwordOf, userDn, type Slapd,
} from '../helpers/slapd.js';

let slapd: Slapd;
let data: Awaited<ReturnType<typeof initDataDir>>;
const endpoint = () => ({ url: slapd.url, starttls: false, caPem: null });

beforeAll(async () => {
  slapd = await startSlapd({ users: 6 });
  data = await initDataDir();
});

afterAll(async () => {
  await slapd?.cleanup();
  data?.cleanup();
});

describe('bind authentication', () => {
  it('accepts the right password, refuses a wrong or empty one', async () => {
    const auth = new LdapBindAuthenticator({ log: silentLogger });
    const t = { sourceId: 1, endpoint: endpoint(), dn: userDn('user01') };
    expect(await auth.verify(t, passwordOf('user01'))).toBe(true);
    expect(await auth.verify(t, Buffer.from(passwordOf('user01')))).toBe(true);
    expect(await auth.check(t, 'wrong-password')).toBe('reject');
    expect(await auth.check(t, passwordOf('user02'))).toBe('reject');
    // An empty password would be an unauthenticated bind, which slapd accepts.
    expect(await auth.check(t, '')).toBe('reject');
    expect(auth.isDown(1)).toBe(false);
  });

  it('a user named like a filter injection binds as itself only', async () => {
    const auth = new LdapBindAuthenticator({ log: silentLogger });
    const t = { sourceId: 1, endpoint: endpoint(), dn: TRICKY_DN };
    expect(await auth.verify(t, TRICKY_PASSWORD)).toBe(true);
    expect(await auth.verify(t, passwordOf('user01'))).toBe(false);
  });

  it('reports a down server, and answers at once while it is marked down', async () => {
    let now = 1_000_000;
    const auth = new LdapBindAuthenticator({ log: silentLogger, retryAfterMs: 30_000, now: () => now });
    const closed = await freePort();
    const t = { sourceId: 7, endpoint: { url: `ldap://127.0.0.1:${closed}`, starttls: false, caPem: null }, dn: userDn('user01') };
    expect(await auth.check(t, passwordOf('user01'))).toBe('down');
    expect(auth.isDown(7)).toBe(true);
    const started = Date.now();
    expect(await auth.check({ ...t, endpoint: endpoint() }, passwordOf('user01'))).toBe('down');
    expect(Date.now() - started).toBeLessThan(50);
    now += 30_001;
    expect(await auth.check({ ...t, endpoint: endpoint() }, passwordOf('user01'))).toBe('accept');
  });

  it('checks against the configured CA over StartTLS', async () => {
    const auth = new LdapBindAuthenticator({ log: silentLogger });
    const ca = readFileSync(slapd.caFile, 'utf8');
    const other = readFileSync(slapd.otherCaFile, 'utf8');
    expect(await auth.check({ sourceId: 2, endpoint: { url: slapd.url, starttls: true, caPem: ca }, dn: userDn('user02') }, passwordOf('user02'))).toBe('accept');
    expect(await auth.check({ sourceId: 3, endpoint: { url: slapd.url, starttls: true, caPem: other }, dn: userDn('user02') }, passwordOf('user02'))).toBe('down');
  });
});

describe('a directory that accepts connections but never answers', () => {
  it('times out with LDAP_TIMEOUT instead of hanging', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const e = await DirectoryConnection.open({ url: `ldap://127.0.0.1:${port}`, starttls: false, caPem: null }, ROOT_DN, ROOT_PASSWORD,
        { connectTimeoutMs: 200, operationTimeoutMs: 300 }).catch((err: unknown) => err);
      expect(isLdapError(e, 'LDAP_TIMEOUT'), String(e)).toBe(true);
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      sockets.forEach((s) => s.destroy());
      silent.close();
    }
  });
});

describe('filter escaping on a real server', () => {
  it('`*)(uid=*` matches only the entry with that literal uid', async () => {
    const conn = await DirectoryConnection.open(endpoint(), ROOT_DN, ROOT_PASSWORD);
    try {
      const hits = await conn.search(PEOPLE, ldapFilter`(uid=${TRICKY_UID})`, ['uid']);
      expect(hits.map((h) => h.dn)).toEqual([TRICKY_DN]);
      expect(await conn.search(PEOPLE, ldapFilter`(uid=${'user01*'})`, ['uid'])).toEqual([]);
      expect((await conn.search(PEOPLE, '(uid=*)', ['uid'])).length).toBe(7);
    } finally {
      await conn.close();
    }
  });
});

describe('synced users end to end', () => {
  it('checks a synced user by bind, a local user by its hash, and revokes certificates per policy', async () => {
    const dir = data.dir;
    authboxOk(['ldap', 'add', '--data', dir, '--name', 'corp', '--url', slapd.url, '--starttls', '--ca-file', slapd.caFile,
      '--bind-dn', ROOT_DN, '--bind-password', ROOT_PASSWORD, '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--cert-policy', 'revoke',
      '--max-disable-percent', '50']);
    authboxOk(['ldap', 'sync', '--data', dir, '--name', 'corp']);
    authboxOk(['user', 'add', '--data', dir, '--username', 'localann', '--password', 'local-pass-1']);
    const out = join(data.dir, '..');
    authboxOk(['cert', 'issue', '--data', dir, '--profile', 'user', '--cn', 'user06', '--user', 'user06',
      '--out-cert', join(out, 'u6.pem'), '--out-key', join(out, 'u6.key')]);

    const pki = openPkiAt(dir);
    try {
      const ctx = ldapContext(pki);
      const auth = new LdapBindAuthenticator({ log: silentLogger });
      const index = storedUserDirectory(ctx.store);
      const verify = directoryAwareVerify(index, auth, (u, pw) => pki.users.verifyPassword(u, pw));
      const enc = (s: string) => Buffer.from(s, 'utf8');
      expect(await verify({ passwordHash: null }, enc('anything'))).toBe(false);
      expect(await verify(pki.users.get('user03'), enc(passwordOf('user03')))).toBe(true);
      expect(await verify(pki.users.get('user03'), enc('nope-nope'))).toBe(false);
      expect(await verify(pki.users.get(TRICKY_UID), enc(TRICKY_PASSWORD))).toBe(true);
      expect(await verify(pki.users.get('localann'), enc('local-pass-1'))).toBe(true);
      expect(await verify(pki.users.get('localann'), enc(passwordOf('user03')))).toBe(false);
    } finally {
      pki.close();
    }

    slapd.tool('ldapdelete', [userDn('user06')]);
    const r = JSON.parse(authboxOk(['ldap', 'sync', '--data', dir, '--name', 'corp', '--full', '--json'])) as { counts: { disabled: number }; revokedCertificates: number };
    expect(r.counts.disabled).toBe(1);
    expect(r.revokedCertificates).toBe(1);
    const cert = withDatabase(dir, (db) => db.prepare("SELECT status, reason FROM certificates WHERE username = 'user06'").get()) as { status: string; reason: number };
    expect(cert).toEqual({ status: 'revoked', reason: 3 });
    const audit = withDatabase(dir, (db) => db.prepare("SELECT actor FROM audit WHERE action = 'cert.revoke'").all()) as { actor: string }[];
    expect(audit).toHaveLength(1);
  });
});
