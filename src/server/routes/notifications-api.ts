import type { FastifyInstance } from 'fastify';
import type { NotificationsConfig } from '../../config/notifications.js';
import { queueOf, redactUrl } from '../../notify/notifier.js';
import type { WorkerPool } from '../../workers/pool.js';
import type { Authorizer } from '../access.js';
import type { NotificationsStatus } from '../../notify/status.js';

/**
 * `GET /berth/v1/notifications`: each endpoint's backlog and last outcomes,
 * for callers with `metrics` on every repository (it names receivers and
 * quotes their errors). The counts come from the job queue, read in a worker.
 */
export function registerNotificationsApi(app: FastifyInstance, deps: { auth: Authorizer; workers: WorkerPool; config: NotificationsConfig }): void {
  app.get('/berth/v1/notifications', async (req, reply) => {
    await deps.auth.authorize(req, { type: 'metrics' });
    const { queues } = await deps.workers.run('registryFigures', { storage: false });
    const byName = new Map(queues.map((q) => [q.queue, q]));
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const status: NotificationsStatus = {
      endpoints: deps.config.endpoints.map((e) => {
        const q = byName.get(queueOf(e.name));
        return {
          name: e.name,
          url: redactUrl(e.url),
          format: e.format,
          disabled: e.disabled,
          pending: (q?.ready ?? 0) + (q?.running ?? 0),
          oldestPendingAt: iso(q?.oldestPendingAt ?? null),
          delivered: q?.succeeded ?? 0,
          failedAttempts: q?.failed ?? 0,
          dropped: q?.dropped ?? 0,
          lastSuccessAt: iso(q?.lastSuccessAt ?? null),
          lastError: q?.lastError ?? null,
          lastErrorAt: iso(q?.lastErrorAt ?? null),
        };
      }),
    };
    return reply.type('application/json').send(JSON.stringify(status));
  });
}
