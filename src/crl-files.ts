// The CRLs the HTTP listener serves, read from the database when first asked for after a
// change, not on every change: a 100,000-entry CRL is megabytes, and most processes are never asked.
import type { PublishedFile } from './http/public-server.js';

export class CrlFiles {
  private readonly files = new Map<number, PublishedFile & { nextUpdate: number }>();

  constructor(
    private readonly store: { loadCrl(caId: number): { der: Buffer; number: number; thisUpdate: number; nextUpdate: number } | undefined },
    private readonly clock: () => Date,
  ) {}

  get(caId: number, caName: string): PublishedFile | undefined {
    let file = this.files.get(caId);
    if (!file) {
      const c = this.store.loadCrl(caId);
      if (!c) return undefined;
      // The CRL number names the content: the same in every process, new with every CRL.
      file = { der: c.der, etag: `"${caName}-${c.number}"`, lastModified: c.thisUpdate, nextUpdate: c.nextUpdate, maxAge: 0 };
      this.files.set(caId, file);
    }
    // A CRL may change within a second of a revocation: caches keep it briefly only.
    return { ...file, maxAge: Math.max(0, Math.min(60, Math.floor((file.nextUpdate - this.clock().getTime()) / 1000))) };
  }

  /** A new CRL of this CA was published: read it again when next asked for. */
  forget(caId: number): void {
    this.files.delete(caId);
  }
}
