import { Option, type Command } from 'commander';
import type { CopyEvent } from '../transport/copy.js';
import { out, printJson, UsageError } from './common.js';
import { ProgressBars } from './progress-bars.js';
import type { BlobWords } from './progress-words.js';

const MODES = ['auto', 'tty', 'plain', 'json'] as const;
type Mode = (typeof MODES)[number];
const JSON_INTERVAL_MS = 1000;

export interface ProgressFlags {
  json?: boolean;
  quiet?: boolean;
  progress?: Mode;
}

/** `--progress` and `--quiet` for the verbs that move images (pull, push, copy). */
export function progressOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--progress <mode>', 'auto: bars on a terminal, plain lines otherwise; tty; plain (docker-style lines); json (one event per line)').choices(MODES).default('auto'))
    .option('-q, --quiet', 'print only the final reference or digest');
}

/**
 * What a transfer verb prints while it runs and when it ends, in one of five
 * modes: bars on a terminal, docker's plain lines, one JSON event per line,
 * quiet (only the result), or `--json`'s single document at the end.
 */
export class Reporter {
  private readonly bars?: ProgressBars;
  private readonly plain?: (e: CopyEvent) => void;
  /** When each blob's last `transferring` event went out in json mode: a 10 GB layer is not a million lines. */
  private readonly lastJson = new Map<string, number>();

  private constructor(
    private readonly mode: 'tty' | 'plain' | 'json' | 'quiet' | 'document',
    words: BlobWords,
    plain: () => (e: CopyEvent) => void,
  ) {
    if (mode === 'tty') this.bars = new ProgressBars(words);
    if (mode === 'plain') this.plain = plain();
  }

  /** `plain` makes the docker-style line printer the verb has always had (kept byte for byte). */
  static for(flags: ProgressFlags, words: BlobWords, plain: () => (e: CopyEvent) => void): Reporter {
    return new Reporter(modeOf(flags), words, plain);
  }

  /** A status line docker prints (`Pulling from`, `Digest:`): shown with bars and plain lines only. */
  say(line: string): void {
    if (this.mode === 'tty' || this.mode === 'plain') out(line);
  }

  readonly onEvent = (e: CopyEvent): void => {
    if (this.bars) this.bars.onEvent(e);
    else if (this.plain) this.plain(e);
    else if (this.mode === 'json' && !this.throttled(e)) out(JSON.stringify(eventJson(e)));
  };

  private throttled(e: CopyEvent): boolean {
    if (e.type !== 'blob' || e.status !== 'transferring' || e.transferred === e.desc.size) return false;
    const now = Date.now();
    if (now - (this.lastJson.get(e.desc.digest) ?? 0) < JSON_INTERVAL_MS) return true;
    this.lastJson.set(e.desc.digest, now);
    return false;
  }

  /** Runs the transfer; whatever its outcome the bars stop, so what is printed next (an error too) goes under them. */
  async track<T>(transfer: () => Promise<T>): Promise<T> {
    try {
      return await transfer();
    } finally {
      this.bars?.close();
    }
  }

  /** The end: `--json`'s document, the last JSON event, or the one quiet line. */
  result(summary: Record<string, unknown>, quietLine: string): void {
    if (this.mode === 'document') printJson(summary);
    else if (this.mode === 'json') out(JSON.stringify({ type: 'result', ...summary }));
    else if (this.mode === 'quiet') out(quietLine);
  }
}

function modeOf(flags: ProgressFlags): 'tty' | 'plain' | 'json' | 'quiet' | 'document' {
  const chosen = flags.progress ?? 'auto';
  if (flags.json && flags.quiet) throw new UsageError('--json and --quiet contradict each other: choose one');
  if (flags.json) {
    if (chosen !== 'auto') throw new UsageError(`--json prints one document at the end; for one event per line use --progress json instead`);
    return 'document';
  }
  if (flags.quiet) return 'quiet';
  if (chosen !== 'auto') return chosen;
  // TERM=dumb (emacs shells, some CI) cannot move the cursor.
  return process.stdout.isTTY && process.env.TERM !== 'dumb' ? 'tty' : 'plain';
}

function eventJson(e: CopyEvent): Record<string, unknown> {
  if (e.type === 'manifest') return { type: 'manifest', digest: e.manifest.digest, mediaType: e.manifest.mediaType, root: e.root };
  return { type: 'blob', digest: e.desc.digest, mediaType: e.desc.mediaType, size: e.desc.size, status: e.status, ...(e.transferred === undefined ? {} : { transferred: e.transferred }) };
}
