import type { Command } from 'commander';
import type { NotificationsStatus } from '../notify/status.js';
import { columns, getJson } from './operator.js';

export function registerNotifications(program: Command): void {
  const cmd = program.command('notifications').description("a registry's webhook endpoints");
  cmd
    .command('status')
    .description('each endpoint: events waiting, delivered, dropped, last success and last error')
    .option('--registry <host[:port]>', 'the berth serve to ask', 'localhost:5000')
    .option('--insecure', 'allow plain HTTP for a non-loopback registry')
    .option('--json', 'machine-readable output')
    .action(async (flags: { registry: string; insecure?: boolean; json?: boolean }) => {
      const s = await getJson<NotificationsStatus>(flags.registry, '/berth/v1/notifications', ['registry:metrics:*'], flags.insecure);
      process.stdout.write(`${flags.json ? JSON.stringify(s, null, 2) : human(s)}\n`);
    });
}

function human(s: NotificationsStatus): string {
  if (s.endpoints.length === 0) return 'no notification endpoints configured (notifications.endpoints in berth.yaml)';
  const table = columns(
    ['ENDPOINT', 'URL', 'PENDING', 'OLDEST PENDING', 'DELIVERED', 'FAILED', 'DROPPED', 'LAST SUCCESS'],
    s.endpoints.map((e) => [e.disabled ? `${e.name} (disabled)` : e.name, e.url, String(e.pending), e.oldestPendingAt ?? '-', String(e.delivered), String(e.failedAttempts), String(e.dropped), e.lastSuccessAt ?? '-']),
  );
  const errors = s.endpoints.filter((e) => e.lastError).map((e) => `${e.name}: last error at ${e.lastErrorAt}: ${e.lastError}`);
  return errors.length ? `${table}\n\n${errors.join('\n')}` : table;
}
