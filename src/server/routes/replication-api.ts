import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../../oci/errors.js';
import type { Replication } from '../../replication/replication.js';
import type { Authorizer } from '../access.js';
import type { Reply, Req } from '../http.js';
import type { WorkerPool } from '../../workers/pool.js';

/**
 * `GET /berth/v1/replication`: every rule's queue, last success, last error
 * and lag. The rules name repositories and other registries, so only an
 * operator (`usage` on every repository, as for the registry's totals) sees them.
 */
export function registerReplicationApi(app: FastifyInstance, deps: { auth: Authorizer; workers: WorkerPool; replication?: Replication }): void {
  app.get('/berth/v1/replication', (req, reply) => status(deps, req, reply));
}

async function status({ auth, workers, replication }: { auth: Authorizer; workers: WorkerPool; replication?: Replication }, req: Req, reply: Reply): Promise<Reply> {
  const who = await auth.authorize(req, { type: 'base' });
  if (!(await auth.audits(who))) {
    throw new RegistryError('DENIED', 'replication status shows every rule with its repositories and registries: it needs the usage permission on every repository (an operator)', { status: 403 });
  }
  // The queue figures are a GROUP BY over every job: a worker thread computes them, as for /metrics.
  const rules = replication ? replication.status((await workers.run('registryFigures', { storage: false })).queues) : [];
  return reply.code(200).type('application/json').send(JSON.stringify({ rules }));
}
