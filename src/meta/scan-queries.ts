import type { Kysely } from 'kysely';
import type { Digest } from '../oci/digest.js';
import type { Database } from './schema.js';

/** What made a result: a result older than the scanner or the database in use is rescanned. */
export interface ScanStamp {
  scanner: string;
  dbVersion: number;
}

/** A result without its blobs: what a policy judges and a listing shows. */
export interface ScanHead extends ScanStamp {
  dbUpdatedAt: number | null;
  scannedAt: number;
  /** JSON (src/scan/summary.ts). */
  summary: string;
}

export interface StoredScan extends ScanHead {
  /** gzipped JSON. */
  report: Buffer;
  sbom: Buffer | null;
}

export interface NewScan extends StoredScan {
  digest: Digest;
  inventory: Buffer | null;
}

/** One result as the rescan sweep sees it; `live` is false once no repository holds the digest. */
export interface SweepRow extends ScanStamp {
  digest: Digest;
  live: boolean;
}

const HEAD = ['scanner', 'db_version', 'db_updated_at', 'scanned_at', 'summary'] as const;

/** Scan results by manifest digest (migration 007), whatever repositories hold it. */
export class ScanQueries {
  constructor(private readonly db: Kysely<Database>) {}

  async stamp(digest: Digest): Promise<ScanStamp | undefined> {
    const r = await this.db.selectFrom('scan_results').select(['scanner', 'db_version']).where('digest', '=', digest).executeTakeFirst();
    return r && { scanner: r.scanner, dbVersion: Number(r.db_version) };
  }

  async head(digest: Digest): Promise<ScanHead | undefined> {
    const r = await this.db.selectFrom('scan_results').select(HEAD).where('digest', '=', digest).executeTakeFirst();
    return r && toHead(r);
  }

  /** Heads of several digests at once (the children of an index). */
  async heads(digests: Digest[]): Promise<Map<Digest, ScanHead>> {
    if (digests.length === 0) return new Map();
    const rows = await this.db.selectFrom('scan_results').select(['digest', ...HEAD]).where('digest', 'in', digests).execute();
    return new Map(rows.map((r) => [r.digest as Digest, toHead(r)]));
  }

  async full(digest: Digest): Promise<StoredScan | undefined> {
    const r = await this.db.selectFrom('scan_results').select([...HEAD, 'report', 'sbom']).where('digest', '=', digest).executeTakeFirst();
    return r && { ...toHead(r), report: Buffer.from(r.report), sbom: r.sbom && Buffer.from(r.sbom) };
  }

  async inventory(digest: Digest): Promise<Buffer | undefined> {
    const r = await this.db.selectFrom('scan_results').select('inventory').where('digest', '=', digest).executeTakeFirst();
    return r?.inventory ? Buffer.from(r.inventory) : undefined;
  }

  /**
   * Stores a result unless one made with a newer database by the same
   * scanner is there already (a slow scan finishing after a rescan). False
   * when it was not stored.
   */
  async save(s: NewScan): Promise<boolean> {
    const row = { digest: s.digest, scanner: s.scanner, db_version: s.dbVersion, db_updated_at: s.dbUpdatedAt, scanned_at: s.scannedAt, summary: s.summary, report: s.report, sbom: s.sbom, inventory: s.inventory };
    const r = await this.db
      .insertInto('scan_results')
      .values(row)
      .onConflict((oc) =>
        oc
          .column('digest')
          .doUpdateSet((eb) => ({
            scanner: eb.ref('excluded.scanner'),
            db_version: eb.ref('excluded.db_version'),
            db_updated_at: eb.ref('excluded.db_updated_at'),
            scanned_at: eb.ref('excluded.scanned_at'),
            summary: eb.ref('excluded.summary'),
            report: eb.ref('excluded.report'),
            sbom: eb.ref('excluded.sbom'),
            inventory: eb.ref('excluded.inventory'),
          }))
          .where((eb) => eb.or([eb('scan_results.db_version', '<=', eb.ref('excluded.db_version')), eb('scan_results.scanner', '<>', eb.ref('excluded.scanner'))])),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Up to `limit` results after `after` in digest order: a bounded step of the rescan sweep. */
  async page(after: string, limit: number): Promise<SweepRow[]> {
    const rows = await this.db
      .selectFrom('scan_results')
      .select((eb) => ['digest', 'scanner', 'db_version', eb.exists(eb.selectFrom('manifests').select('manifests.digest').whereRef('manifests.digest', '=', 'scan_results.digest')).as('live')])
      .where('digest', '>', after)
      .orderBy('digest')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ digest: r.digest as Digest, scanner: r.scanner, dbVersion: Number(r.db_version), live: Boolean(r.live) }));
  }

  /** Removes the results of these digests that no repository holds any more (checked again here: one may have been pushed since). */
  async deleteOrphans(digests: Digest[]): Promise<number> {
    if (digests.length === 0) return 0;
    const r = await this.db
      .deleteFrom('scan_results')
      .where('digest', 'in', digests)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('manifests').select('manifests.digest').whereRef('manifests.digest', '=', 'scan_results.digest'))))
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /** The size the store must serve for a blob: the indexed one, not what a manifest claims. */
  async blobSize(digest: Digest): Promise<number | undefined> {
    const r = await this.db.selectFrom('blobs').select('size').where('digest', '=', digest).executeTakeFirst();
    return r && Number(r.size);
  }

  /** The media type and size of a manifest in whichever repository holds it (the store keeps one copy of its bytes). */
  async anyManifest(digest: Digest): Promise<{ mediaType: string; size: number } | undefined> {
    const r = await this.db.selectFrom('manifests').select(['media_type', 'size']).where('digest', '=', digest).limit(1).executeTakeFirst();
    return r && { mediaType: r.media_type, size: Number(r.size) };
  }
}

const toHead = (r: { scanner: string; db_version: number; db_updated_at: number | null; scanned_at: number; summary: string }): ScanHead => ({
  scanner: r.scanner,
  dbVersion: Number(r.db_version),
  dbUpdatedAt: r.db_updated_at === null ? null : Number(r.db_updated_at),
  scannedAt: Number(r.scanned_at),
  summary: r.summary,
});
