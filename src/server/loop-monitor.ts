import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Logger } from 'pino';

/** A window whose slowest turn of the event loop took longer than this is worth a warning: something ran unbounded work on it. */
const BLOCKED_MS = 1000;

/**
 * Watches the event loop's delay (invariant 6: it never runs unbounded work).
 * Every `windowMs` the window's figures go to the debug log, and a window
 * with a turn longer than a second to the warn log, so an operator can see
 * a violation without a profiler.
 */
export function monitorLoop(logger: Logger, windowMs: number): () => void {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const ms = (ns: number) => Math.round(ns / 1e5) / 10;
    const now = performance.eventLoopUtilization();
    // The share of the window the loop spent running callbacks rather than waiting: near 1 means it had no time for anyone else.
    const utilization = Math.round(performance.eventLoopUtilization(now, last).utilization * 100) / 100;
    last = now;
    const figures = { p50Ms: ms(h.percentile(50)), p99Ms: ms(h.percentile(99)), maxMs: ms(h.max), utilization };
    if (figures.maxMs > BLOCKED_MS) logger.warn(figures, 'the event loop was blocked');
    else logger.debug(figures, 'event loop delay');
    h.reset();
  }, windowMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    h.disable();
  };
}
