import type { ServerResponse } from 'node:http';

/** Below this many, the list is not swept: a sweep costs more than holding a few answered responses. */
const SWEEP_FLOOR = 64;

/**
 * The requests being answered now, counted when scraped. A 'close' listener
 * per response (the obvious way, and the only event that comes for cut-off
 * responses too) was a closure, a listener and its removal on every request.
 * Here a request costs one push; the list is swept of closed responses when
 * it doubles, so it holds at most about twice the peak in flight.
 */
export class InFlight {
  private open: ServerResponse[] = [];
  private sweepAt = SWEEP_FLOOR;

  add(res: ServerResponse): void {
    if (this.open.push(res) < this.sweepAt) return;
    this.sweep();
    this.sweepAt = Math.max(SWEEP_FLOOR, this.open.length * 2);
  }

  count(): number {
    this.sweep();
    return this.open.length;
  }

  private sweep(): void {
    this.open = this.open.filter((res) => !res.closed);
  }
}
