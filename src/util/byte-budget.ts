/**
 * A weighted semaphore over bytes: work that holds `n` bytes in memory waits
 * until they fit under the budget, first come first served, for at most
 * `waitMs`. One piece larger than the whole budget runs alone.
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { n: number; grant: () => void }[] = [];

  constructor(
    private readonly capacity: number,
    private readonly waitMs: number,
    private readonly onTimeout: () => Error,
  ) {}

  async use<T>(bytes: number, work: () => Promise<T>): Promise<T> {
    const n = Math.min(Math.max(0, bytes), this.capacity);
    await this.acquire(n);
    try {
      return await work();
    } finally {
      this.used -= n;
      this.grantWaiting();
    }
  }

  private acquire(n: number): Promise<void> {
    if (this.waiting.length === 0 && this.used + n <= this.capacity) {
      this.used += n;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const entry = {
        n,
        grant: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiting.splice(this.waiting.indexOf(entry), 1);
        reject(this.onTimeout());
        this.grantWaiting();
      }, this.waitMs);
      this.waiting.push(entry);
    });
  }

  private grantWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.n <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.n;
      next.grant();
    }
  }
}
