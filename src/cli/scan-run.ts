import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { duration } from '../config/units.js';
import { formatReference } from '../oci/reference.js';
import { loadIgnoreFile } from '../scan/ignore.js';
import { takeInventory } from '../scan/inventory.js';
import { buildReport, DEFAULT_MAX_DB_AGE_MS, hasFindingsAtLeast } from '../scan/report.js';
import { sarifOf } from '../scan/sarif.js';
import { parseSeverity, SEVERITIES } from '../scan/severity.js';
import { defaultDbPath, VulnDb } from '../scan/vulndb/database.js';
import { Exit } from './common.js';
import { context } from './context.js';
import { DEFAULT_IGNORE_FILE, type ScanFlags } from './scan.js';
import { limitsOf, openImage } from './scan-common.js';
import { reportTables } from './scan-output.js';

/** `berth scan`: inventory, match, filters, output; the exit code for CI gates. */
export async function scan(input: string, flags: ScanFlags): Promise<number> {
  const format = flags.json ? 'json' : flags.format ?? 'table';
  if (!['table', 'json', 'sarif'].includes(format)) {
    process.stderr.write(`berth scan: unknown --format "${format}": use table, json or sarif\n`);
    return Exit.usage;
  }
  const severities = flags.severity?.split(',').map(parseSeverity);
  const exitCode = flags.exitCode === undefined ? undefined : Number(flags.exitCode);
  if (exitCode !== undefined && !(Number.isInteger(exitCode) && exitCode >= 0 && exitCode < 256)) throw new Error(`--exit-code must be 0-255, not "${flags.exitCode}"`);
  const maxAge = flags.dbMaxAge === undefined ? DEFAULT_MAX_DB_AGE_MS : duration.parse(flags.dbMaxAge);
  const ignorePath = flags.ignoreFile ?? (existsSync(DEFAULT_IGNORE_FILE) ? DEFAULT_IGNORE_FILE : undefined);
  const ignoreFile = ignorePath ? loadIgnoreFile(ignorePath) : undefined;
  const scanners = new Set(flags.secrets ? ['secret'] : (flags.scanners ?? '').split(',').map((s) => s.trim()));
  const unknown = [...scanners].filter((s) => s !== 'vuln' && s !== 'secret');
  if (unknown.length || scanners.size === 0) throw new Error(`--scanners takes vuln and/or secret, not "${flags.scanners}"`);
  const db = scanners.has('vuln') ? VulnDb.openReadOnly(flags.db ?? defaultDbPath()) : undefined;
  const ctx = context(flags);
  try {
    const { src, image, ref } = await openImage(ctx, input, flags);
    try {
      const inventory = await takeInventory(image, { secrets: scanners.has('secret'), limits: limitsOf(flags) });
      const name = ref ? formatReference({ registry: ref.registry, repository: ref.repository, ...(ref.tag ? { tag: ref.tag } : {}) }) : src.description;
      const report = buildReport(inventory, { name, digest: image.digest }, db, {
        ...(severities ? { severities } : {}),
        ignoreUnfixed: flags.ignoreUnfixed ?? false,
        ...(ignoreFile ? { ignoreFile } : {}),
        maxDbAgeMs: maxAge,
      });
      for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
      const text = format === 'json' ? JSON.stringify(report, null, 2) : format === 'sarif' ? sarifOf(report) : reportTables(report);
      if (flags.output) await writeFile(flags.output, `${text}\n`);
      else process.stdout.write(`${text}\n`);
      return exitCode !== undefined && hasFindingsAtLeast(report, severities ? lowest(severities) : 'UNKNOWN') ? exitCode : Exit.ok;
    } finally {
      await src.close();
    }
  } finally {
    db?.close();
    await ctx.http.close();
  }
}

const lowest = (list: ReturnType<typeof parseSeverity>[]) => list.reduce((a, b) => (SEVERITIES.indexOf(a) <= SEVERITIES.indexOf(b) ? a : b));
