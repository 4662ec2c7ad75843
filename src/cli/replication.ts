import type { Command } from 'commander';
import type { RuleStatus } from '../replication/replication.js';
import { run } from './common.js';
import { columns, getJson } from './operator.js';

export function registerReplication(program: Command): void {
  const replication = program.command('replication').description("a berth serve's replication rules (the replication: section of its config)");
  replication
    .command('status')
    .description("each rule's queue, last success, last error and lag (needs the usage permission everywhere: an operator)")
    .option('--registry <host[:port]>', 'the berth serve to ask', 'localhost:5000')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--json', 'machine-readable output')
    .action(
      run('replication status', async (flags: { registry: string; insecure?: boolean; json?: boolean }) => {
        const { rules } = await getJson<{ rules: RuleStatus[] }>(flags.registry, '/berth/v1/replication', ['registry:usage:*'], flags.insecure);
        process.stdout.write(`${flags.json ? JSON.stringify({ rules }, null, 2) : human(rules)}\n`);
      }),
    );
}

function human(rules: RuleStatus[]): string {
  if (rules.length === 0) return 'no replication rules are configured';
  const table = columns(
    ['RULE', 'MODE', 'REMOTE', 'WAITING', 'RUNNING', 'DEAD', 'LAST SUCCESS', 'LAG'],
    rules.map((r) => [r.name, r.mode, r.remote, String(r.ready), String(r.running), String(r.dead), r.lastSuccessAt ?? '-', lag(r.lagMs)]),
  );
  const errors = rules.filter((r) => r.lastError).map((r) => `${r.name}: last error ${r.lastErrorAt}: ${r.lastError}`);
  return [table, ...(errors.length ? ['', ...errors] : [])].join('\n');
}

const lag = (ms: number): string => (ms === 0 ? '-' : ms < 120_000 ? `${Math.round(ms / 1000)}s` : ms < 7_200_000 ? `${Math.round(ms / 60_000)}m` : `${Math.round(ms / 3_600_000)}h`);
