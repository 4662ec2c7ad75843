import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Descriptor } from '../oci/descriptor.js';

/** An image index being put together (`berth manifest create/annotate`), kept until `push`, as docker keeps its own. */
export interface IndexDraft {
  /** The reference the index will be pushed to. */
  list: string;
  manifests: { ref: string; descriptor: Descriptor }[];
}

/** Drafts live in `$BERTH_HOME/manifests/`, one JSON file per list reference. */
export class IndexDrafts {
  private readonly dir: string;

  constructor(home: string) {
    this.dir = join(home, 'manifests');
  }

  /** The reference encoded whole: no `/` or `..` survives, so a name never leaves the directory. */
  private file(list: string): string {
    return join(this.dir, `${encodeURIComponent(list)}.json`);
  }

  async get(list: string): Promise<IndexDraft | undefined> {
    try {
      return JSON.parse(await readFile(this.file(list), 'utf8')) as IndexDraft;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Written beside and renamed over, so an interrupted write leaves the previous draft. */
  async save(draft: IndexDraft): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.file(draft.list);
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(draft, null, 2));
    await rename(temp, file);
  }

  remove(list: string): Promise<void> {
    return rm(this.file(list), { force: true });
  }
}
