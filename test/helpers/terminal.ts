import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { BERTH_BIN } from './berth.js';

/**
 * A real terminal: `berth ...` runs inside a detached tmux session, keys are
 * typed with send-keys and the screen is read with capture-pane, as a person
 * at a terminal would see it.
 */
export class Terminal {
  private static count = 0;
  readonly name = `berth-test-${process.pid}-${Terminal.count++}`;

  constructor(args: string[], env: Record<string, string>, size = { columns: 160, rows: 40 }) {
    const exports = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    // `; sleep` keeps the pane (and what berth printed last) on screen after berth exits; `echo EXIT=` tells its code.
    const command = `env ${exports} ${process.execPath} ${BERTH_BIN} ${args.map((a) => `'${a}'`).join(' ')}; echo EXIT=$?; sleep 60`;
    execFileSync('tmux', ['new-session', '-d', '-s', this.name, '-x', String(size.columns), '-y', String(size.rows), command]);
  }

  screen(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-t', this.name], { encoding: 'utf8' });
  }

  /** Everything the pane showed, lines scrolled off the top included. */
  history(): string {
    return execFileSync('tmux', ['capture-pane', '-p', '-S', '-', '-t', this.name], { encoding: 'utf8' });
  }

  /** Waits (bounded) until the screen matches. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > until) throw new Error(`the terminal never showed ${pattern}:\n${text}`);
      await sleep(100);
    }
  }

  /** Types `text`, then Enter. */
  type(text: string): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, '-l', text]);
    this.keys('Enter');
  }

  /** tmux key names: BSpace, Left, C-c, ... */
  keys(...names: string[]): void {
    execFileSync('tmux', ['send-keys', '-t', this.name, ...names]);
  }

  close(): void {
    execFileSync('tmux', ['kill-session', '-t', this.name]);
  }
}
