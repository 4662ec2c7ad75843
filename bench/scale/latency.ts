/** Latencies in milliseconds and what they sum to. */
export class Latencies {
  private readonly ms: number[] = [];

  add(ms: number): void {
    this.ms.push(ms);
  }

  get count(): number {
    return this.ms.length;
  }

  /** The `p` quantile (0.5: median), to 0.01 ms; NaN with no samples. */
  quantile(p: number): number {
    if (this.ms.length === 0) return NaN;
    const sorted = [...this.ms].sort((a, b) => a - b);
    return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 100) / 100;
  }
}

/** Runs `fn`, resolving to how long it took in milliseconds. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}
