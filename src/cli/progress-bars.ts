import cliProgress from 'cli-progress';
import type { CopyEvent } from '../transport/copy.js';
import { humanSize, shortId } from './common.js';
import type { BlobWords } from './progress-words.js';

/** Redraws per second: the bars follow the bytes without the terminal (or tmux, or ssh) doing more work than a person can read. */
const FPS = 8;
/** Columns the bar itself takes, like docker's `[=====>    ]`. */
const BAR_WIDTH = 30;
/** Rows kept free: the header above the bars, the summary under them, the shell's prompt. */
const RESERVED_ROWS = 3;

interface Line {
  /** None for a layer beyond what the terminal has rows for: it counts in the summary only. */
  bar?: cliProgress.SingleBar;
  size: number;
  done: number;
  status: string;
  /** When the first byte moved: the speed is over the transfer, not the wait before it. */
  since?: number;
}

/**
 * docker's terminal view: one line per layer rewritten in place (status, a
 * bar, bytes done/total, speed, ETA) and a summary line under them. The
 * drawing (cursor moves, the bounded redraw rate) is cli-progress's.
 */
export class ProgressBars {
  private readonly multi = new cliProgress.MultiBar({
    fps: FPS,
    barsize: BAR_WIDTH,
    hideCursor: true,
    clearOnComplete: false,
    stopOnComplete: false,
    // A line wider than the terminal would wrap, and every redraw would then leave one more line behind.
    linewrap: false,
    barCompleteChar: '=',
    barIncompleteChar: ' ',
    format: (options, params, payload: Payload) => formatLine(options, params, payload),
  });
  private readonly lines = new Map<string, Line>();
  private summary?: cliProgress.SingleBar;
  private readonly started = Date.now();

  constructor(private readonly words: BlobWords) {}

  onEvent(e: CopyEvent): void {
    if (e.type !== 'blob' || !this.words.shows(e.desc)) return;
    const line = this.line(e.desc.digest, e.desc.size);
    const status = this.words[e.status];
    if (e.status === 'transferring') line.since ??= Date.now();
    line.done = e.status === 'transferring' ? (e.transferred ?? 0) : e.status === 'waiting' ? 0 : e.desc.size;
    line.status = e.status;
    line.bar?.update(line.done, { status, ...(line.since === undefined ? {} : { since: line.since }) });
    this.updateSummary();
  }

  /** Draws the final state once more and leaves it on screen; what is printed next goes under it. */
  close(): void {
    this.updateSummary();
    this.multi.stop();
  }

  private line(digest: string, size: number): Line {
    const known = this.lines.get(digest);
    if (known) return known;
    const line: Line = { size, done: 0, status: 'waiting' };
    this.lines.set(digest, line);
    // More lines than the terminal has rows would scroll, and cursor moves cannot reach what scrolled off: every redraw would repeat it.
    if (this.lines.size > (process.stdout.rows ?? 24) - RESERVED_ROWS) return line;
    // The summary stays the last line: it is taken out and put back under each new layer.
    if (this.summary) this.multi.remove(this.summary);
    line.bar = this.multi.create(size, 0, { id: shortId(digest), status: this.words.waiting });
    this.summary = this.multi.create(0, 0, { status: '' });
    return line;
  }

  private updateSummary(): void {
    let total = 0;
    let done = 0;
    let finished = 0;
    for (const { size, done: bytes, status } of this.lines.values()) {
      total += size;
      done += bytes;
      if (status !== 'waiting' && status !== 'transferring') finished++;
    }
    if (!this.summary) return;
    this.summary.setTotal(total);
    this.summary.update(done, { status: `${finished}/${this.lines.size} ${this.words.unit}`, started: this.started });
  }
}

type Payload = { id?: string; status?: string; started?: number; since?: number };

function formatLine(options: cliProgress.Options, params: cliProgress.Params, payload: Payload): string {
  const bar = cliProgress.Format.BarFormat(params.progress, options);
  const bytes = `${humanSize(params.value)}/${humanSize(params.total)}`;
  if (payload.id === undefined) return `Total ${payload.status} [${bar}] ${bytes}${rate(params, payload.started)}`;
  const moving = params.value === 0 || params.value >= params.total ? '' : rate(params, payload.since);
  return `${payload.id}: ${(payload.status ?? '').padEnd(14)} [${bar}] ${bytes}${moving}`;
}

/** Speed since `since` and the time left at that speed. */
function rate(params: cliProgress.Params, since = params.startTime): string {
  const seconds = (Date.now() - since) / 1000;
  if (seconds <= 0 || params.value === 0) return '';
  const speed = params.value / seconds;
  const left = Math.max(0, params.total - params.value) / speed;
  return `  ${humanSize(Math.round(speed))}/s  ETA ${formatSeconds(left)}`;
}

function formatSeconds(s: number): string {
  if (s < 60) return `${Math.ceil(s)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.ceil(s % 60)).padStart(2, '0')}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
