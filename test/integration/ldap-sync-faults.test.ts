// The directory going down in the middle of a sync: a TCP proxy between authbox and a real
// slapd forwards the bytes and cuts both sockets after N bytes from the server, once the
// first page(s) of the paged search (500 entries a page) have arrived but not all of them.
// The run must fail with one clear line, be recorded with its error, and change nothing:
// no user added, updated or disabled, no group, link or audit row.
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHBOX, authboxOk, initDataDir, withDatabase, type RunResult } from '../helpers/authbox.js';
import { BASE_DN, GROUPS, ROOT_DN, ROOT_PASSWORD, startSlapd, type Slapd } from '../helpers/slapd.js';

/** Three pages of users at the sync's page size of 500. */
const USERS = 1200;

interface CuttingProxy {
  port: number;
  /** Bytes from the server after which both sockets of a connection are cut; Infinity: never. */
  limit: number;
  /** Bytes the server sent on the last connection (all of them, or up to the cut). */
  lastServerBytes: number;
  cuts: number;
  close(): Promise<void>;
}

async function startProxy(upstreamPort: number): Promise<CuttingProxy> {
  const sockets = new Set<Socket>();
  const proxy: CuttingProxy = { port: 0, limit: Infinity, lastServerBytes: 0, cuts: 0, close: async () => undefined };
  const server: Server = createServer((client) => {
    const upstream = connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const limit = proxy.limit;
    let sent = 0;
    proxy.lastServerBytes = 0;
    const cut = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => upstream.write(d));
    upstream.on('data', (d: Buffer) => {
      if (sent + d.length >= limit) {
        client.write(d.subarray(0, limit - sent));
        sent = limit;
        proxy.lastServerBytes = sent;
        proxy.cuts++;
        // Let the forwarded part reach the client, then drop both ends.
        client.end(cut);
        upstream.destroy();
        return;
      }
      sent += d.length;
      proxy.lastServerBytes = sent;
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    for (const s of [client, upstream]) {
      s.on('error', cut);
      s.on('close', () => sockets.delete(s));
    }
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  proxy.port = (server.address() as { port: number }).port;
  proxy.close = () => new Promise<void>((res) => {
    for (const s of sockets) s.destroy();
    server.close(() => res());
  });
  return proxy;
}

/** authbox in a child process without blocking this event loop, which runs the proxy. */
function authboxAsync(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AUTHBOX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? -1, stdout, stderr });
    });
  });
}

let slapd: Slapd;
let proxy: CuttingProxy;
let fresh: Awaited<ReturnType<typeof initDataDir>>;
let synced: Awaited<ReturnType<typeof initDataDir>>;
/** Every byte the server sends for one whole full sync. */
let fullSyncBytes = 0;

const addSource = (dir: string): string => authboxOk([
  'ldap', 'add', '--data', dir, '--name', 'corp', '--url', `ldap://127.0.0.1:${proxy.port}`, '--bind-dn', ROOT_DN,
  '--bind-password', ROOT_PASSWORD, '--base-dn', BASE_DN, '--group-base-dn', GROUPS, '--preset', 'openldap',
]);

/** Everything a sync may write, but the run record. */
const snapshot = (dir: string): Record<string, unknown[]> => withDatabase(dir, (db) => ({
  users: db.prepare('SELECT * FROM users ORDER BY id').all(),
  userGroups: db.prepare('SELECT * FROM user_groups ORDER BY user_id, group_name').all(),
  links: db.prepare('SELECT * FROM ldap_user_links ORDER BY user_id').all(),
  audit: db.prepare('SELECT * FROM audit ORDER BY id').all(),
  source: db.prepare('SELECT watermark, last_full_at FROM ldap_sources ORDER BY id').all(),
}));

interface RunJson { mode: string; error: string | null; added: number; updated: number; disabled: number }
const runs = (dir: string): RunJson[] => JSON.parse(authboxOk(['ldap', 'runs', '--data', dir, '--name', 'corp', '--json'])) as RunJson[];

/** A full sync through the proxy cut after 60% of the bytes: past the first page of users, short of the last. */
async function cutFullSync(dir: string): Promise<RunResult> {
  proxy.limit = Math.floor(fullSyncBytes * 0.6);
  const cutsBefore = proxy.cuts;
  try {
    const r = await authboxAsync(['ldap', 'sync', '--data', dir, '--name', 'corp', '--full']);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    return r;
  } finally {
    proxy.limit = Infinity;
  }
}

const expectOneClearLine = (r: RunResult): void => {
  expect(r.status, r.stderr).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/the connection was closed during search|cannot connect|ECONNRESET/);
  expect(lines[0]).toContain(`127.0.0.1:${proxy.port}`);
};

beforeAll(async () => {
  slapd = await startSlapd({ users: USERS });
  proxy = await startProxy(slapd.port);
  fresh = await initDataDir();
  synced = await initDataDir();
  addSource(fresh.dir);
  addSource(synced.dir);
  // The second case's first, successful sync, through the proxy uncut: it also measures
  // how many bytes a whole full sync takes, so the cut can land past the first page.
  const r = await authboxAsync(['ldap', 'sync', '--data', synced.dir, '--name', 'corp', '--full', '--json']);
  expect(r.status, r.stderr).toBe(0);
  expect((JSON.parse(r.stdout) as { counts: { added: number } }).counts.added).toBe(USERS + 1);
  fullSyncBytes = proxy.lastServerBytes;
  // 1,200 entries of about 150 bytes: well past one page of 500.
  expect(fullSyncBytes).toBeGreaterThan(100_000);
}, 60_000);

afterAll(async () => {
  await proxy?.close();
  await slapd?.cleanup();
  fresh?.cleanup();
  synced?.cleanup();
});

describe('the directory going down in the middle of a sync', () => {
  it('a first full sync cut after the first page adds nobody, exits 1 with one line and records the error', async () => {
    const before = snapshot(fresh.dir);
    expect(before.users).toEqual([]);
    const r = await cutFullSync(fresh.dir);
    expectOneClearLine(r);
    expect(snapshot(fresh.dir)).toEqual(before);
    const [last] = runs(fresh.dir);
    expect(last).toMatchObject({ mode: 'full', added: 0, updated: 0, disabled: 0 });
    expect(r.stderr.trim()).toBe(`authbox ldap sync: ${last!.error}`);
  }, 60_000);

  it('a second full sync cut mid-run leaves the first sync\'s state: nobody disabled, nothing changed', async () => {
    const before = snapshot(synced.dir);
    expect(before.users).toHaveLength(USERS + 1);
    expect(before.links).toHaveLength(USERS + 1);
    // A change the cut run would have applied, had it finished (the sync keeps groups, not mail).
    slapd.tool('ldapmodify', [], `dn: cn=admins,${GROUPS}\nchangetype: modify\nadd: member\nmember: uid=user05,ou=people,${BASE_DN}\n`);
    const r = await cutFullSync(synced.dir);
    expectOneClearLine(r);
    const after = snapshot(synced.dir);
    expect(after).toEqual(before);
    expect((after.users as { enabled: number }[]).every((u) => u.enabled === 1)).toBe(true);
    const [last, first] = runs(synced.dir);
    expect(last).toMatchObject({ mode: 'full', disabled: 0 });
    expect(last!.error).toMatch(/closed|cannot connect|ECONNRESET/);
    expect(first).toMatchObject({ mode: 'full', error: null, added: USERS + 1 });
    // The directory back: the next run completes and picks the change up.
    const ok = await authboxAsync(['ldap', 'sync', '--data', synced.dir, '--name', 'corp', '--full', '--json']);
    expect(ok.status, ok.stderr).toBe(0);
    expect((JSON.parse(ok.stdout) as { counts: object }).counts).toMatchObject({ added: 0, updated: 1, disabled: 0, groups: 1 });
  }, 60_000);
});
