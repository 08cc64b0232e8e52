// One-time downloads of PKCS#12 files made by the console. They live in this process's
// memory only, for a few minutes: the file is encrypted under a one-time password that is
// never kept anywhere, and the download token is held only as its SHA-256. Nothing of it
// touches the disk, and a restart simply forgets the downloads in flight.
import { createHash, randomBytes, randomInt } from 'node:crypto';

export const DOWNLOAD_TTL_MS = 10 * 60_000;
/** A bound on memory: an operator cannot pile up more files than this. */
const MAX_PENDING = 500;
// No 0/O, 1/l/I: the password is read off a screen and typed into a device.
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
export const ONE_TIME_PASSWORD_LENGTH = 20;

export interface PendingDownload {
  operatorId: number;
  serial: string;
  filename: string;
  body: Buffer;
  expiresAt: number;
}

export type TakeResult = { kind: 'ok'; download: PendingDownload } | { kind: 'gone' } | { kind: 'not-yours' };

const hashOf = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

/** About 115 bits from an alphabet without look-alike characters. */
export function oneTimePassword(): string {
  let out = '';
  for (let i = 0; i < ONE_TIME_PASSWORD_LENGTH; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}

export class DownloadStore {
  private readonly pending = new Map<string, PendingDownload>();

  constructor(private readonly clock: () => Date, private readonly ttlMs = DOWNLOAD_TTL_MS) {}

  /** Keeps the file and returns the token that fetches it once. */
  put(d: Omit<PendingDownload, 'expiresAt'>): { token: string; expiresAt: number } {
    this.prune();
    if (this.pending.size >= MAX_PENDING) {
      // The oldest goes first; Map keeps insertion order.
      const oldest = this.pending.keys().next().value as string;
      this.forget(oldest);
    }
    const token = randomBytes(32).toString('base64url');
    const expiresAt = this.clock().getTime() + this.ttlMs;
    this.pending.set(hashOf(token), { ...d, expiresAt });
    return { token, expiresAt };
  }

  /**
   * The file, removed as it is handed over. Another operator's token is refused without
   * being used up; an unknown, used or expired one is gone.
   */
  take(token: string, operatorId: number): TakeResult {
    this.prune();
    if (typeof token !== 'string' || token.length === 0 || token.length > 128) return { kind: 'gone' };
    const key = hashOf(token);
    const d = this.pending.get(key);
    if (!d) return { kind: 'gone' };
    if (d.operatorId !== operatorId) return { kind: 'not-yours' };
    this.pending.delete(key);
    return { kind: 'ok', download: d };
  }

  get size(): number {
    this.prune();
    return this.pending.size;
  }

  private prune(): void {
    const now = this.clock().getTime();
    for (const [key, d] of this.pending) if (d.expiresAt <= now) this.forget(key);
  }

  private forget(key: string): void {
    // Overwrite the bytes: the file is encrypted, but there is no reason to leave it in the heap.
    this.pending.get(key)?.body.fill(0);
    this.pending.delete(key);
  }
}
