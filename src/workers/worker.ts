import { workerData } from 'node:worker_threads';
import { isRegistryError } from '../oci/errors.js';
import { RegistryContext } from '../registry/context.js';
import { openBackends, registryContext } from '../server/backends.js';
import type { Config } from '../server/config.js';
import { TASKS, type TaskName, type TaskOutcome } from './tasks.js';

let context: Promise<RegistryContext> | undefined;

/** The worker thread's own connections, opened on its first task and held until the thread exits. */
async function open(config: Config): Promise<RegistryContext> {
  const { store, metaDb } = await openBackends(config, { migrate: false });
  const ctx = registryContext(config, { store, metaDb });
  return ctx;
}

export default async function run({ name, input }: { name: TaskName; input: never }): Promise<TaskOutcome<unknown>> {
  context ??= open((workerData as { config: Config }).config);
  try {
    return { ok: true, value: await TASKS[name](await context, input) };
  } catch (e) {
    if (!isRegistryError(e)) throw e;
    return { ok: false, error: { code: e.code, message: e.message, status: e.status, detail: e.detail, headers: e.headers } };
  }
}
