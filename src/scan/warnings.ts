/**
 * What a scan tells the user besides its results: skipped entries, limits
 * reached, formats not understood. Bounded: a layer of a million bad entries
 * yields a hundred lines and a count, not a million lines.
 */
export class Warnings {
  private readonly lines: string[] = [];
  private dropped = 0;

  constructor(private readonly max = 100) {}

  add(line: string): void {
    if (this.lines.length < this.max) this.lines.push(line);
    else this.dropped++;
  }

  list(): string[] {
    return this.dropped ? [...this.lines, `... and ${this.dropped} more warnings`] : [...this.lines];
  }
}
