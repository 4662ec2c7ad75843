import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import { parseDigest } from '../oci/digest.js';
import { ScanQueries } from '../meta/scan-queries.js';
import { boundReport } from '../scan/bounded-report.js';
import { imageInputOf } from '../scan/image-input.js';
import { takeInventory, type Inventory } from '../scan/inventory.js';
import type { WalkLimits } from '../scan/limits.js';
import { buildReport } from '../scan/report.js';
import { isScannableImage } from '../scan/scannable.js';
import { cycloneDx } from '../scan/sbom/cyclonedx.js';
import { summarise } from '../scan/summary.js';
import { VulnDb } from '../scan/vulndb/database.js';
import type { RegistryContext } from './context.js';
import { isStale, scannerStamp } from './scan-stamp.js';
import { storedImage } from './stored-image.js';

/** What the registry keeps of one scan, uncompressed (docs/SCANNING.md, "What is kept"). */
export const KEPT_BYTES = { report: 8 << 20, sbom: 32 << 20, inventory: 32 << 20 } as const;

export interface ImageScanInput {
  digest: string;
  /** The vulnerability database (its absence is no error: SBOM and secrets are still made). */
  dbPath: string;
  secrets: boolean;
  limits: WalkLimits;
}

export interface ImageScanOutcome {
  /** `rematched`: a newer database, matched against the inventory kept, no layer read again. */
  outcome: 'scanned' | 'rematched' | 'current' | 'not-an-image' | 'gone';
  dbVersion: number;
  vulnerabilities?: number;
  secrets?: number;
}

const gz = promisify(gzip);
const gunzipped = promisify(gunzip);

/**
 * A `scan` or `rescan` job, in a worker thread: reads the image from the
 * store, takes its inventory (or, when only the database is newer, rematches
 * the one kept), matches it, and stores the report, the SBOM and the
 * inventory, each bounded. Idempotent: a result already as new as this
 * database is left alone, so a job run twice (after a crash) or one per
 * repository the digest was pushed to costs one scan.
 */
export async function scanStoredImage(ctx: RegistryContext, input: ImageScanInput): Promise<ImageScanOutcome> {
  const digest = parseDigest(input.digest);
  const q = new ScanQueries(ctx.meta.db);
  const scanner = scannerStamp(input.secrets);
  // Opened per scan: an update renames a new file into place, and the next scan reads that one.
  const db = existsSync(input.dbPath) ? VulnDb.openReadOnly(input.dbPath) : undefined;
  try {
    const dbVersion = db?.version() ?? 0;
    const stamp = await q.stamp(digest);
    if (stamp && !isStale(stamp, scanner, dbVersion)) return { outcome: 'current', dbVersion };
    const manifest = await q.anyManifest(digest);
    if (!manifest) return { outcome: 'gone', dbVersion };
    const src = storedImage(ctx, { digest, ...manifest });
    const root = await src.root();
    if (!isScannableImage(root.bytes, root.mediaType)) return { outcome: 'not-an-image', dbVersion };

    const kept = stamp?.scanner === scanner ? await q.inventory(digest) : undefined;
    const inventory = kept ? (JSON.parse((await gunzipped(kept)).toString('utf8')) as Inventory) : await takeInventory(await imageInputOf(src), { secrets: input.secrets, limits: input.limits });
    // Named by digest only: a result serves every repository holding the digest, and names none of them.
    const report = buildReport(inventory, { name: digest, digest }, db, { maxDbAgeMs: Infinity });
    const sbom = cycloneDx(inventory, { digest });
    const sbomFits = Buffer.byteLength(sbom) <= KEPT_BYTES.sbom;
    const inventoryJson = JSON.stringify(inventory);
    const notes = [
      ...(db ? [] : ['there is no vulnerability database yet: this is the SBOM and the secrets; vulnerabilities come with the rescan after its first update']),
      ...(sbomFits ? [] : [`the SBOM is over the ${KEPT_BYTES.sbom >> 20} MiB the registry keeps; make it with berth sbom`]),
    ];
    const json = boundReport({ ...report, warnings: [...report.warnings, ...notes] }, KEPT_BYTES.report);
    await q.save({
      digest,
      scanner,
      dbVersion,
      dbUpdatedAt: db?.importedAt() ?? null,
      scannedAt: ctx.now(),
      summary: JSON.stringify(summarise(report, inventory)),
      report: await gz(json),
      sbom: sbomFits ? await gz(sbom) : null,
      inventory: Buffer.byteLength(inventoryJson) <= KEPT_BYTES.inventory ? await gz(inventoryJson) : null,
    });
    return { outcome: kept ? 'rematched' : 'scanned', dbVersion, vulnerabilities: report.results.reduce((n, r) => n + r.vulnerabilities.length, 0), secrets: report.secrets.length };
  } finally {
    db?.close();
  }
}
