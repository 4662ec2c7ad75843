import type { Command } from 'commander';
import { clientOptions, run } from './common.js';
import { imageReadOptions, type ImageFlags } from './scan-common.js';

export interface ScanFlags extends ImageFlags {
  format?: string;
  severity?: string;
  exitCode?: string;
  ignoreUnfixed?: boolean;
  ignoreFile?: string;
  secrets?: boolean;
  scanners?: string;
  db?: string;
  dbMaxAge?: string;
  output?: string;
}

export const DEFAULT_IGNORE_FILE = '.berthignore.yaml';
const SEVERITY_NAMES = 'UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL';

export function registerScan(program: Command): void {
  imageReadOptions(clientOptions(program.command('scan').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], oci-archive:FILE, docker-archive:FILE')))
    .description('find known vulnerabilities (offline OSV database) and secrets in an image, including secrets in deleted files')
    .option('--format <format>', 'table, json or sarif', 'table')
    .option('--severity <list>', `report only these severities, e.g. HIGH,CRITICAL (${SEVERITY_NAMES})`)
    .option('--exit-code <n>', 'exit with this code when anything is reported (for CI gates)')
    .option('--ignore-unfixed', 'leave out vulnerabilities with no fixed version yet')
    .option('--ignore-file <file>', `accepted findings with reasons and expiry dates (default ./${DEFAULT_IGNORE_FILE} if present)`)
    .option('--scanners <list>', 'vuln, secret or both', 'vuln,secret')
    .option('--secrets', 'secrets only: the same as --scanners secret (no vulnerability database needed)')
    .option('--db <path>', 'the vulnerability database (default $BERTH_VULNDB or ~/.cache/berth/osv.db)')
    .option('--db-max-age <duration>', 'warn when the database is older than this, e.g. 24h (default 7d)')
    .option('-o, --output <file>', 'write the report here instead of stdout')
    .action(
      run('scan', async (input: string, flags: ScanFlags) => (await import('./scan-run.js')).scan(input, flags)),
    );
}
