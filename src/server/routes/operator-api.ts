import { RegistryError } from '../../oci/errors.js';
import type { Identity } from '../access.js';
import type { Reply, Req } from '../http.js';
import type { BerthApiDeps } from './berth-api.js';
import { json } from './browse-api.js';

/** `POST /berth/v1/gc/dry-run`: what garbage collection (and retention) would remove now; for operators. */
export async function gcDryRun(deps: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  await requireOperator(deps, req);
  return json(reply, await deps.workers.run('gcDryRun', {}));
}

/** `GET /berth/v1/operations`: GC runs, quotas and their use, retention rules, uploads in flight; for operators. */
export async function operations(deps: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  await requireOperator(deps, req);
  return json(reply, await deps.workers.run('operationsReport', {}));
}

/** Registry-wide views are for callers with `usage` on every repository, like the usage totals. */
async function requireOperator({ auth }: BerthApiDeps, req: Req): Promise<Identity> {
  const who = await auth.authorize(req, { type: 'base' });
  if (!(await auth.audits(who))) throw new RegistryError('DENIED', 'this needs the usage action on every repository (an operator)', { status: 403 });
  return who;
}
