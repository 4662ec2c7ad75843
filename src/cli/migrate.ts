import type { Command } from 'commander';
import type { Backends } from '../config/backends.js';

interface MigrateFlags {
  from: string;
  to: string;
  verifyExisting?: boolean;
  json?: boolean;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('copy a whole registry between backends (e.g. filesystem+SQLite to S3+PostgreSQL), verifying every digest; run again to resume')
    .requiredOption('--from <config>', 'YAML config of the source registry (its storage and metadata sections)')
    .requiredOption('--to <config>', 'YAML config of the destination registry')
    .option('--verify-existing', 'rehash blobs the destination already has instead of trusting their size')
    .option('--json', 'print the report as JSON')
    .action(async (flags: MigrateFlags) => {
      let from: Backends | undefined;
      let to: Backends | undefined;
      // Loaded here, not at the top: every other verb would pay for the S3 SDK, pg and Kysely at start.
      const { migrateRegistry } = await import('../registry/migrate.js');
      const { openBackends } = await import('../config/backends.js');
      try {
        const [fromConfig, toConfig] = [await load(flags.from), await load(flags.to)];
        from = await openBackends(fromConfig);
        to = await openBackends(toConfig);
        if (from.describe.blobs === to.describe.blobs && from.describe.metadata === to.describe.metadata) {
          fail('--from and --to name the same storage and metadata; nothing to migrate');
        }
        const report = await migrateRegistry(
          { store: from.store, db: from.metaDb.db },
          { store: to.store, db: to.metaDb.db },
          {
            verifyExisting: flags.verifyExisting ?? false,
            onProgress: (e) => {
              if (e.outcome === 'failed' || (!flags.json && e.outcome === 'copied')) process.stderr.write(`${e.outcome} ${e.digest} (${e.size} bytes)${e.error ? `: ${e.error}` : ''}\n`);
            },
          },
        );
        if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else {
          const b = report.blobs;
          process.stdout.write(`blobs: ${b.copied} copied (${b.copiedBytes} bytes), ${b.present} already present, ${report.failed.length} failed\n`);
          if (report.metadata) {
            const m = report.metadata;
            process.stdout.write(`metadata: ${m.repositories} repositories, ${m.manifests} manifests, ${m.tags} tags, ${m.blobs} blob records\n`);
          }
        }
        if (report.failed.length) {
          fail(`${report.failed.length} blobs could not be copied (listed above); metadata was not copied. Fix or remove them in the source, then run the same command again.`);
        }
      } finally {
        await Promise.all([from?.metaDb.close(), to?.metaDb.close()]);
      }
    });
}

async function load(file: string) {
  const { ConfigError, loadConfig } = await import('../config/config.js');
  try {
    return loadConfig({ file, env: {} });
  } catch (e) {
    if (e instanceof ConfigError) fail(e.message, 2);
    throw e;
  }
}

function fail(message: string, code = 1): never {
  process.stderr.write(`berth migrate: ${message}\n`);
  process.exit(code);
}
