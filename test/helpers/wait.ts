import { setTimeout as sleep } from 'node:timers/promises';

/** Waits until `check` holds, polling; fails naming `what` after `ms`. For effects that land asynchronously (logs, background work). */
export async function until(check: () => boolean | Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); await sleep(25)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}
