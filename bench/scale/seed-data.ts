import pLimit from 'p-limit';
import { openBackends } from '../../src/config/backends.js';
import { loadConfig } from '../../src/config/config.js';
import { seedRegistry, type SeedReport, type SeedShape } from '../../src/meta/seed.js';

const DAY = 86_400_000;
const WRITERS = 16;

/**
 * Seeds the registry `berth serve --data dir` will open, through the same
 * backends (migrated): metadata through src/meta/seed.ts, bytes through the
 * store without fsync (a crash while seeding only means seeding again). Two
 * days old, so GC's grace period (an hour by default) protects none of it.
 */
export async function seedDataDir(dir: string, shape: SeedShape): Promise<SeedReport & { seconds: number }> {
  const t0 = performance.now();
  const { store, metaDb } = await openBackends(loadConfig({ overrides: { data: dir, 'storage.filesystem.fsync': false } }));
  const limit = pLimit(WRITERS);
  try {
    const report = await seedRegistry(metaDb.db, shape, {
      at: Date.now() - 2 * DAY,
      store: async (items) => void (await Promise.all(items.map((c) => limit(() => store.put(c.digest, c.bytes))))),
    });
    return { ...report, seconds: Math.round((performance.now() - t0) / 100) / 10 };
  } finally {
    await metaDb.close();
  }
}
