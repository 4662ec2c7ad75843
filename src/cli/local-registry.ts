import { Metadata } from '../meta/metadata.js';
import { RegistryContext } from '../registry/context.js';
import { StoragePolicy } from '../registry/policy.js';
import { openBackends } from '../server/backends.js';
import { ConfigError, loadConfig, type Config } from '../server/config.js';
import { policySettings } from '../server/storage-config.js';
import type { LocalFlags } from './operator.js';

/** Opens the store and metadata a `berth serve` with the same flags would use. */
export async function openLocalRegistry(name: string, flags: LocalFlags): Promise<{ ctx: RegistryContext; config: Config; close: () => Promise<void> }> {
  let config: Config;
  try {
    config = loadConfig({ file: flags.config, overrides: { data: flags.data } });
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`berth ${name}: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const { store, metaDb } = await openBackends(config);
  const ctx = new RegistryContext(store, new Metadata(metaDb.db, metaDb.reader), {
    maxManifestBytes: config.limits.maxManifestSize,
    maxListEntries: config.limits.maxListEntries,
    uploadExpiryMs: config.uploads.expiry,
  });
  ctx.policy = new StoragePolicy(policySettings(config));
  return { ctx, config, close: () => metaDb.close() };
}
