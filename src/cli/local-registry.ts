import { existsSync } from 'node:fs';
import { RegistryContext } from '../registry/context.js';
import { openBackends, registryContext } from '../config/backends.js';
import { blobRoot, loadConfig, sqlitePath, type Config } from '../config/config.js';
import { UsageError } from './exit.js';
import type { LocalFlags } from './operator.js';

/** Opens the store and metadata a `berth serve` with the same flags would use; never creates a registry. */
export async function openLocalRegistry(flags: LocalFlags): Promise<{ ctx: RegistryContext; config: Config; close: () => Promise<void> }> {
  const config = loadConfig({ file: flags.config, overrides: { data: flags.data } });
  refuseMissingData(config);
  const { store, metaDb } = await openBackends(config);
  const ctx = registryContext(config, { store, metaDb });
  return { ctx, config, close: () => metaDb.close() };
}

/** Opening the backends would create an empty registry where the operator only mistyped (or forgot) --data. */
function refuseMissingData(config: Config): void {
  const local = [config.storage.s3 ? undefined : blobRoot(config), config.metadata.postgres ? undefined : sqlitePath(config)];
  const missing = local.find((p) => p !== undefined && !existsSync(p));
  if (missing) {
    throw new UsageError(`no registry at ${missing}: name the data directory berth serve uses with --data DIR, or its config with --config FILE`);
  }
}
