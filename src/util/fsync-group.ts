import { open } from 'node:fs/promises';

/**
 * Group commit for fsync: every caller that asks for a file or directory to
 * be synced while no sync of it has started yet shares the one that starts
 * next. A caller asks after its own write (a rename into a directory, a
 * commit appended to a log), so the sync that resolves it began after that
 * write and covers it; a sync already running may have begun before it, so
 * a caller arriving then waits for a fresh one. Concurrent commits of the
 * same directory (or of the metadata log) cost one fsync between them,
 * instead of one each in a row.
 */
export class FsyncGroup {
  private readonly waiting = new Map<string, Promise<void>>();

  /**
   * `data`: fdatasync, as SQLite syncs its WAL: a log overwritten in place
   * (after a checkpoint) then needs no journal commit for its timestamps.
   */
  constructor(private readonly mode: 'full' | 'data' = 'full') {}

  sync(path: string): Promise<void> {
    let next = this.waiting.get(path);
    if (!next) {
      // One turn of the event loop lets the commits finishing together join before the sync starts.
      next = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.waiting.delete(path);
        return fsyncPath(path, this.mode);
      });
      this.waiting.set(path, next);
    }
    return next;
  }
}

async function fsyncPath(path: string, mode: 'full' | 'data'): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await (mode === 'data' ? handle.datasync() : handle.sync());
  } finally {
    await handle.close();
  }
}
