import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * A request's logger that becomes a pino child, bound to the request id, only
 * when the request first logs a line its level lets through. Fastify makes a
 * logger for every request, and a pino child formats its bindings through the
 * redaction's stringifier as it is made: about 1.5 KB of a manifest GET's
 * 21 KB of allocation at `--log-level warn`, where most requests never log
 * (docs/BENCHMARKS.md). A route with options of its own (a level) gets its
 * child at once.
 */
export function requestLogger(parent: FastifyBaseLogger, bindings: Bindings, opts: ChildLoggerOptions): FastifyBaseLogger {
  if (Object.keys(opts).length > 0) return parent.child(bindings, opts);
  return new LazyChild(parent as unknown as Logger, bindings) as unknown as FastifyBaseLogger;
}

class LazyChild {
  private made: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  private get real(): Logger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(level: string) {
    this.real.level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  child(bindings: Bindings, opts?: ChildLoggerOptions): Logger {
    return this.real.child(bindings, opts);
  }

  fatal(...args: unknown[]): void {
    this.log('fatal', args);
  }
  error(...args: unknown[]): void {
    this.log('error', args);
  }
  warn(...args: unknown[]): void {
    this.log('warn', args);
  }
  info(...args: unknown[]): void {
    this.log('info', args);
  }
  debug(...args: unknown[]): void {
    this.log('debug', args);
  }
  trace(...args: unknown[]): void {
    this.log('trace', args);
  }
  silent(): void {}

  private log(method: Level, args: unknown[]): void {
    if (this.isLevelEnabled(method)) (this.real[method] as (...a: unknown[]) => void)(...args);
  }
}
