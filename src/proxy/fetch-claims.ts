import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProxyQueries } from '../meta/proxy-queries.js';
import { RegistryError } from '../oci/errors.js';

/**
 * A claim lasts this long unless renewed (it is, every third of it, while
 * its fetch runs): a replica that dies mid-fetch blocks the others for at
 * most this long before one of them takes over.
 */
const CLAIM_MS = 15_000;
/** How often a request waiting on another replica's fetch looks again. */
const POLL_MS = 200;

/** Held while this request fetches something for everyone; `release` when the result is visible (or the fetch failed). */
export interface Claim {
  release(): Promise<void>;
}

/**
 * One upstream fetch per missing thing, however many requests want it at
 * once, on one replica or many. In a process, requests wait on the leader's
 * promise; across processes, on a row in `proxy_claims` that the leader
 * renews while it works. A waiter gives up after `waitMs` with a 503, and
 * takes over when a claim lapses (its holder died).
 */
export class FetchClaims {
  private readonly local = new Map<string, Promise<void>>();
  private readonly process = randomUUID();

  constructor(
    private readonly q: ProxyQueries,
    private readonly waitMs: number,
  ) {}

  /**
   * Resolves to 'ready' once `ready()` says the thing is there (possibly
   * because another request fetched it meanwhile), or to a claim when this
   * request is the one to fetch it.
   */
  async acquire(key: string, ready: () => Promise<boolean>): Promise<Claim | 'ready'> {
    const deadline = Date.now() + this.waitMs;
    for (;;) {
      if (await ready()) return 'ready';
      const running = this.local.get(key);
      if (running) {
        await within(running, deadline - Date.now());
      } else {
        const claim = await this.take(key);
        // The holder before us may have finished between our look and our claim: look again before fetching twice.
        if (claim && (await ready())) {
          await claim.release();
          return 'ready';
        }
        if (claim) return claim;
        await sleep(POLL_MS);
      }
      if (Date.now() >= deadline) {
        throw new RegistryError('UNAVAILABLE', `another request is still fetching this from the upstream after ${Math.round(this.waitMs / 1000)} s (proxy.waitTimeout); try again`, {
          headers: { 'Retry-After': '5' },
        });
      }
    }
  }

  private async take(key: string): Promise<Claim | undefined> {
    const holder = `${this.process}:${randomUUID()}`;
    if (!(await this.q.claim(key, holder, Date.now(), Date.now() + CLAIM_MS))) return undefined;
    let finish!: () => void;
    this.local.set(key, new Promise<void>((r) => (finish = r)));
    const renew = setInterval(() => void this.q.claim(key, holder, Date.now(), Date.now() + CLAIM_MS).catch(() => {}), CLAIM_MS / 3);
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        this.local.delete(key);
        finish();
        await this.q.release(key, holder).catch(() => {});
      },
    };
  }
}

/** Waits for `p` at most `ms` (whichever comes first); never rejects. */
async function within(p: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, ms))))]);
  clearTimeout(timer);
}
