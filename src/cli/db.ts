import type { Command } from 'commander';
import { DEFAULT_ECOSYSTEMS, OSV_EXPORT } from '../scan/vulndb/sources.js';
import { out, printJson, run, table } from './common.js';

interface DbFlags {
  db?: string;
  from?: string;
  ecosystems?: string;
  json?: boolean;
}

export function registerDb(program: Command): void {
  const db = program.command('db').description('the offline vulnerability database berth scan matches against (OSV advisories)');
  db.command('update')
    .description('import OSV all.zip archives; unchanged archives and advisories are skipped, and the new database replaces the old at once')
    .option('--from <url|file>', `a mirror of OSV's export (<base>/<Ecosystem>/all.zip), one zip's URL, a zip file or a directory of zips (default ${OSV_EXPORT})`)
    .option('--ecosystems <list>', `ecosystems to fetch from a mirror (default ${DEFAULT_ECOSYSTEMS.join(',')})`)
    .option('--db <path>', 'the database file (default $BERTH_VULNDB or ~/.cache/berth/osv.db)')
    .option('--json', 'machine-readable output on stdout')
    .action(
      run('db update', async (flags: DbFlags) => {
        const [{ updateDb }, { defaultDbPath }, { Warnings }] = await Promise.all([import('../scan/vulndb/update.js'), import('../scan/vulndb/database.js'), import('../scan/warnings.js')]);
        const warnings = new Warnings();
        const path = flags.db ?? defaultDbPath();
        const outcomes = await updateDb({ dbPath: path, from: flags.from ?? OSV_EXPORT, warnings, ...(flags.ecosystems ? { ecosystems: flags.ecosystems.split(',').map((e) => e.trim()) } : {}) });
        for (const w of warnings.list()) process.stderr.write(`warning: ${w}\n`);
        if (flags.json) return void printJson({ path, sources: outcomes });
        out(table(['SOURCE', 'STATUS', 'ADVISORIES', 'ADDED', 'CHANGED', 'REMOVED'], outcomes.map((o) => [o.location, o.status, String(o.advisories), String(o.added), String(o.changed), String(o.removed)])));
        out(`database: ${path}`);
      }),
    );
  db.command('status')
    .description('when the database was last updated, and what it holds')
    .option('--db <path>', 'the database file (default $BERTH_VULNDB or ~/.cache/berth/osv.db)')
    .option('--json', 'machine-readable output on stdout')
    .action(
      run('db status', async (flags: DbFlags) => {
        const { defaultDbPath, VulnDb } = await import('../scan/vulndb/database.js');
        const path = flags.db ?? defaultDbPath();
        const vdb = VulnDb.openReadOnly(path);
        try {
          const importedAt = vdb.importedAt();
          const status = { path, importedAt: importedAt ? new Date(importedAt).toISOString() : null, ...vdb.counts(), sources: vdb.sources() };
          if (flags.json) return void printJson(status);
          out(`database:   ${path}`);
          out(`updated:    ${status.importedAt ?? 'never'}`);
          out(`advisories: ${status.advisories} (${status.affected} affected packages)`);
          out(table(['SOURCE', 'ADVISORIES', 'IMPORTED'], status.sources.map((s) => [s.location, String(s.advisories), new Date(s.imported_at).toISOString()])));
        } finally {
          vdb.close();
        }
      }),
    );
}
