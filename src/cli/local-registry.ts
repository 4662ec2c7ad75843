import { RegistryContext } from '../registry/context.js';
import { openBackends, registryContext } from '../config/backends.js';
import { ConfigError, loadConfig, type Config } from '../config/config.js';
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
  const ctx = registryContext(config, { store, metaDb });
  return { ctx, config, close: () => metaDb.close() };
}
