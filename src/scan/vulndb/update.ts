import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import lockfile from 'proper-lockfile';
import type { Warnings } from '../warnings.js';
import { DEFAULT_ECOSYSTEMS } from './sources.js';
import { VulnDb, VulnDbError, type SourceRow } from './database.js';
import { OsvFormatError, parseOsv } from './osv.js';
import { isSafeEntryName, ZipError, zipEntries } from './zip-entries.js';


const MAX_RECORD_BYTES = 8 << 20;
const FETCH_TIMEOUT_MS = 30 * 60_000;

export interface UpdateOptions {
  dbPath: string;
  /** A mirror base URL (per-ecosystem all.zip), a URL of one zip, a zip file, or a directory of zips. */
  from: string;
  ecosystems?: string[];
  warnings: Warnings;
  now?: () => number;
}

export interface SourceOutcome {
  location: string;
  status: 'imported' | 'unchanged' | 'missing';
  advisories: number;
  added: number;
  changed: number;
  removed: number;
}

interface Source {
  location: string;
  /** Fetches the archive into `file` unless it is unchanged since `known`; undefined when the mirror has none. */
  fetch(file: string, known: SourceRow | undefined): Promise<{ path: string; etag?: string; lastModified?: string } | 'unchanged' | undefined>;
}

/**
 * `berth db update`: builds the next database in a file beside the current
 * one (a copy of it, so unchanged archives and advisories are not
 * re-imported), then renames it over the current one. A scan that is
 * running keeps reading the file it opened; the next one opens the new file.
 * A failed update leaves the current database as it was.
 */
export async function updateDb(opts: UpdateOptions): Promise<SourceOutcome[]> {
  const dbPath = resolve(opts.dbPath);
  await mkdir(dirname(dbPath), { recursive: true });
  const release = await lockfile.lock(dirname(dbPath), { lockfilePath: `${dbPath}.lock`, retries: { retries: 30, minTimeout: 200, maxTimeout: 2000 } }).catch((e: Error) => {
    throw new VulnDbError(`another \`berth db update\` holds ${dbPath}.lock (${e.message})`);
  });
  const next = `${dbPath}.next-${process.pid}`;
  const download = `${next}.zip`;
  try {
    await rm(next, { force: true });
    const known = startFrom(dbPath, next);
    const db = VulnDb.openForWrite(next);
    const outcomes: SourceOutcome[] = [];
    try {
      for (const source of await sourcesOf(opts.from, opts.ecosystems ?? DEFAULT_ECOSYSTEMS)) {
        const fetched = await source.fetch(download, known.get(source.location));
        if (fetched === undefined) {
          opts.warnings.add(`${source.location}: not found; skipped`);
          outcomes.push({ location: source.location, status: 'missing', advisories: 0, added: 0, changed: 0, removed: 0 });
          continue;
        }
        if (fetched === 'unchanged') {
          const row = known.get(source.location)!;
          outcomes.push({ location: source.location, status: 'unchanged', advisories: row.advisories, added: 0, changed: 0, removed: 0 });
          continue;
        }
        try {
          outcomes.push(await importArchive(db, source.location, fetched, opts));
        } finally {
          if (fetched.path === download) await rm(download, { force: true });
        }
      }
      db.sqlite.prepare("INSERT INTO meta (key, value) VALUES ('imported_at', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(String((opts.now ?? Date.now)()));
    } finally {
      db.close();
    }
    await fsyncFile(next);
    await rename(next, dbPath);
    await fsyncFile(dirname(dbPath));
    return outcomes;
  } finally {
    await rm(next, { force: true });
    await rm(download, { force: true });
    await release();
  }
}

/** Copies the current database into `next` (VACUUM INTO is a consistent snapshot) and returns what it knew of each source. */
function startFrom(dbPath: string, next: string): Map<string, SourceRow> {
  if (!existsSync(dbPath)) return new Map();
  let current: VulnDb;
  try {
    current = VulnDb.openReadOnly(dbPath);
  } catch {
    return new Map(); // an older schema: rebuilt from scratch
  }
  try {
    current.sqlite.prepare('VACUUM INTO ?').run(next);
    return new Map(current.sources().map((s) => [s.location, s]));
  } finally {
    current.close();
  }
}

async function importArchive(db: VulnDb, location: string, fetched: { path: string; etag?: string; lastModified?: string }, opts: UpdateOptions): Promise<SourceOutcome> {
  const s = db.sqlite;
  const existing = new Map((s.prepare('SELECT id, modified FROM advisories WHERE source = ?').all(location) as { id: string; modified: string }[]).map((r) => [r.id, r.modified]));
  const deleteAffected = s.prepare('DELETE FROM affected WHERE advisory_id = ?');
  const deleteAdvisory = s.prepare('DELETE FROM advisories WHERE id = ?');
  const upsert = s.prepare(
    `INSERT INTO advisories (id, source, modified, summary, severity, cvss_vector, cvss_score, aliases, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET source = excluded.source, modified = excluded.modified, summary = excluded.summary, severity = excluded.severity,
       cvss_vector = excluded.cvss_vector, cvss_score = excluded.cvss_score, aliases = excluded.aliases, url = excluded.url`,
  );
  const insertAffected = s.prepare('INSERT INTO affected (advisory_id, ecosystem, name, ranges, versions, severity) VALUES (?, ?, ?, ?, ?, ?)');
  const seen = new Set<string>();
  const outcome: SourceOutcome = { location, status: 'imported', advisories: 0, added: 0, changed: 0, removed: 0 };
  s.exec('BEGIN');
  try {
    for await (const entry of zipEntries(fetched.path)) {
      if (!isSafeEntryName(entry.name)) {
        opts.warnings.add(`${location}: entry "${entry.name.slice(0, 200)}" has an unsafe path (absolute or with ..); refused`);
        continue;
      }
      if (!entry.name.endsWith('.json')) continue;
      let parsed;
      try {
        parsed = parseOsv(JSON.parse((await entry.read(MAX_RECORD_BYTES)).toString('utf8')));
      } catch (e) {
        if (!(e instanceof OsvFormatError || e instanceof SyntaxError || e instanceof ZipError)) throw e;
        opts.warnings.add(`${location}: entry ${entry.name.slice(0, 200)} skipped: ${e.message}`);
        continue;
      }
      const { advisory, affected, withdrawn } = parsed;
      if (withdrawn) continue;
      seen.add(advisory.id);
      const before = existing.get(advisory.id);
      if (before === advisory.modified) continue;
      if (before === undefined) outcome.added++;
      else outcome.changed++;
      deleteAffected.run(advisory.id);
      upsert.run(advisory.id, location, advisory.modified, advisory.summary, advisory.severity, advisory.cvss?.vector ?? null, advisory.cvss?.score ?? null, JSON.stringify(advisory.aliases), advisory.url);
      for (const a of affected) insertAffected.run(advisory.id, a.ecosystem, a.name, JSON.stringify(a.ranges), JSON.stringify(a.versions), a.severity ?? null);
    }
    // Advisories the archive no longer holds (withdrawn, or moved) leave with it.
    for (const id of existing.keys()) {
      if (seen.has(id)) continue;
      deleteAffected.run(id);
      deleteAdvisory.run(id);
      outcome.removed++;
    }
    outcome.advisories = seen.size;
    s.prepare(
      `INSERT INTO sources (name, location, etag, last_modified, imported_at, advisories) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, imported_at = excluded.imported_at, advisories = excluded.advisories`,
    ).run(location, location, fetched.etag ?? null, fetched.lastModified ?? null, (opts.now ?? Date.now)(), seen.size);
    s.exec('COMMIT');
  } catch (e) {
    s.exec('ROLLBACK');
    throw e instanceof ZipError ? new VulnDbError(`${location}: ${e.message}`) : e;
  }
  return outcome;
}

async function sourcesOf(from: string, ecosystems: string[]): Promise<Source[]> {
  if (/^https?:\/\//.test(from)) {
    if (from.endsWith('.zip')) return [httpSource(from)];
    return ecosystems.map((e) => httpSource(`${from.replace(/\/+$/, '')}/${encodeURIComponent(e)}/all.zip`));
  }
  const path = resolve(from);
  const info = await stat(path).catch(() => {
    throw new VulnDbError(`--from ${from}: no such file or directory`);
  });
  if (!info.isDirectory()) return [fileSource(path)];
  const zips = (await readdir(path, { recursive: true })).filter((f) => f.endsWith('.zip')).sort();
  if (zips.length === 0) throw new VulnDbError(`--from ${from}: the directory holds no .zip files`);
  return zips.map((z) => fileSource(join(path, z)));
}

/** Conditional GET: an archive whose ETag (or Last-Modified) is unchanged is not downloaded again. */
function httpSource(url: string): Source {
  return {
    location: url,
    async fetch(file, known) {
      const headers: Record<string, string> = {};
      if (known?.etag) headers['If-None-Match'] = known.etag;
      if (known?.last_modified) headers['If-Modified-Since'] = known.last_modified;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) }).catch((e: Error) => {
        throw new VulnDbError(`${url}: ${e.message}${e.cause ? ` (${(e.cause as Error).message})` : ''}`);
      });
      if (res.status === 304) return 'unchanged';
      if (res.status === 404) return undefined;
      if (!res.ok || !res.body) throw new VulnDbError(`${url}: HTTP ${res.status}`);
      await pipeline(Readable.fromWeb(res.body as never), createWriteStream(file));
      const etag = res.headers.get('etag');
      const lastModified = res.headers.get('last-modified');
      return { path: file, ...(etag ? { etag } : {}), ...(lastModified ? { lastModified } : {}) };
    },
  };
}

/** A local archive is unchanged while its size and mtime are. */
function fileSource(path: string): Source {
  return {
    location: path,
    async fetch(_file, known) {
      const info = await stat(path);
      const etag = `${info.size}-${info.mtimeMs}`;
      if (known?.etag === etag) return 'unchanged';
      return { path, etag };
    },
  };
}

async function fsyncFile(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
