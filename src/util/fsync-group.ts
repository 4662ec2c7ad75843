import { open, type FileHandle } from 'node:fs/promises';

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
  /** With `keepOpen`: the handle of each path synced, opened by its first sync. */
  private readonly held = new Map<string, Promise<FileHandle>>();

  constructor(
    /**
     * `data`: fdatasync, as SQLite syncs its WAL: a log overwritten in place
     * (after a checkpoint) then needs no journal commit for its timestamps.
     */
    private readonly mode: 'full' | 'data' = 'full',
    /**
     * Keep each file open between syncs (an open and a close fewer per sync),
     * for a few files that live as long as the process and are never replaced
     * under it, such as the WAL of a database it holds open. Not for
     * directories of blobs: one deleted and made again would be synced through
     * the old one.
     */
    private readonly keepOpen = false,
  ) {}

  sync(path: string): Promise<void> {
    let next = this.waiting.get(path);
    if (!next) {
      // One turn of the event loop lets the commits finishing together join before the sync starts.
      next = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        this.waiting.delete(path);
        return this.keepOpen ? this.syncHeld(path) : fsyncPath(path, this.mode);
      });
      this.waiting.set(path, next);
    }
    return next;
  }

  /** Closes the held handles (after the last sync). */
  async close(): Promise<void> {
    const handles = [...this.held.values()];
    this.held.clear();
    await Promise.all(handles.map(async (h) => (await h.catch(() => undefined))?.close()));
  }

  private async syncHeld(path: string): Promise<void> {
    let handle = this.held.get(path);
    if (!handle) {
      handle = open(path, 'r');
      this.held.set(path, handle);
      // A failed open is not kept: the next sync tries again.
      handle.catch(() => this.held.delete(path));
    }
    await syncHandle(await handle, this.mode);
  }
}

async function fsyncPath(path: string, mode: 'full' | 'data'): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await syncHandle(handle, mode);
  } finally {
    await handle.close();
  }
}

function syncHandle(handle: FileHandle, mode: 'full' | 'data'): Promise<void> {
  return mode === 'data' ? handle.datasync() : handle.sync();
}
