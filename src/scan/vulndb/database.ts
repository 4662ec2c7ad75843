import SQLite from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Advisory, AffectedPackage } from './osv.js';

/** Bumped when the tables change; an older database is rebuilt by the next `berth db update`. */
export const SCHEMA_VERSION = '1';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sources (
  name TEXT PRIMARY KEY, location TEXT NOT NULL, etag TEXT, last_modified TEXT,
  imported_at INTEGER NOT NULL, advisories INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
  id TEXT PRIMARY KEY, source TEXT NOT NULL, modified TEXT NOT NULL, summary TEXT NOT NULL,
  severity TEXT NOT NULL, cvss_vector TEXT, cvss_score REAL, aliases TEXT NOT NULL, url TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS affected (
  advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL, name TEXT NOT NULL,
  ranges TEXT NOT NULL, versions TEXT NOT NULL, severity TEXT);
CREATE INDEX IF NOT EXISTS affected_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_advisory ON affected (advisory_id);
CREATE INDEX IF NOT EXISTS advisories_source ON advisories (source);
`;

/** `$BERTH_VULNDB`, else the user's cache directory (the database is rebuilt from OSV at will). */
export function defaultDbPath(): string {
  if (process.env.BERTH_VULNDB) return process.env.BERTH_VULNDB;
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'berth', 'osv.db');
}

export class VulnDbError extends Error {
  override readonly name = 'VulnDbError';
}

export interface AffectedRow extends AffectedPackage {
  advisoryId: string;
}

/**
 * The vulnerability database: OSV advisories and the packages they
 * affect, indexed by (ecosystem, name). Its own SQLite file, never the
 * registry's metadata; read-only for scans, and replaced whole by
 * `berth db update` (a rename), so a scan never sees half an update.
 */
export class VulnDb {
  private readonly byPackage: SQLite.Statement<[string, string]>;
  private readonly byId: SQLite.Statement<[string]>;

  private constructor(readonly sqlite: SQLite.Database, readonly path: string) {
    this.byPackage = sqlite.prepare('SELECT advisory_id, ecosystem, name, ranges, versions, severity FROM affected WHERE ecosystem = ? AND name = ?');
    this.byId = sqlite.prepare('SELECT * FROM advisories WHERE id = ?');
  }

  static openReadOnly(path: string): VulnDb {
    if (!existsSync(path)) throw new VulnDbError(`no vulnerability database at ${path}; run \`berth db update\` first`);
    const sqlite = new SQLite(path, { readonly: true, fileMustExist: true });
    const version = (sqlite.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined)?.value;
    if (version !== SCHEMA_VERSION) {
      sqlite.close();
      throw new VulnDbError(`the vulnerability database at ${path} has schema ${version ?? 'none'}, this berth needs ${SCHEMA_VERSION}; run \`berth db update\``);
    }
    return new VulnDb(sqlite, path);
  }

  /** A fresh or copied database file being built by an update. */
  static openForWrite(path: string): VulnDb {
    const sqlite = new SQLite(path);
    sqlite.pragma('journal_mode = DELETE');
    sqlite.pragma('synchronous = FULL');
    sqlite.exec(SCHEMA);
    sqlite.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").run(SCHEMA_VERSION);
    return new VulnDb(sqlite, path);
  }

  affecting(ecosystem: string, name: string): AffectedRow[] {
    return (this.byPackage.all(ecosystem, name) as RawAffected[]).map((r) => ({
      advisoryId: r.advisory_id,
      ecosystem: r.ecosystem,
      name: r.name,
      ranges: JSON.parse(r.ranges) as AffectedPackage['ranges'],
      versions: JSON.parse(r.versions) as string[],
      ...(r.severity ? { severity: r.severity as AffectedPackage['severity'] & string } : {}),
    }));
  }

  advisory(id: string): Advisory | undefined {
    const r = this.byId.get(id) as RawAdvisory | undefined;
    if (!r) return undefined;
    return {
      id: r.id,
      modified: r.modified,
      summary: r.summary,
      severity: r.severity as Advisory['severity'],
      ...(r.cvss_vector && r.cvss_score !== null ? { cvss: { vector: r.cvss_vector, score: r.cvss_score, severity: r.severity as Advisory['severity'] } } : {}),
      aliases: JSON.parse(r.aliases) as string[],
      url: r.url,
    };
  }

  /** When the last `berth db update` finished (epoch ms), if ever. */
  importedAt(): number | undefined {
    const v = (this.sqlite.prepare("SELECT value FROM meta WHERE key = 'imported_at'").get() as { value: string } | undefined)?.value;
    return v === undefined ? undefined : Number(v);
  }

  counts(): { advisories: number; affected: number } {
    const a = this.sqlite.prepare('SELECT count(*) AS n FROM advisories').get() as { n: number };
    const p = this.sqlite.prepare('SELECT count(*) AS n FROM affected').get() as { n: number };
    return { advisories: a.n, affected: p.n };
  }

  sources(): SourceRow[] {
    return this.sqlite.prepare('SELECT * FROM sources ORDER BY name').all() as SourceRow[];
  }

  close(): void {
    this.sqlite.close();
  }
}

export interface SourceRow {
  name: string;
  location: string;
  etag: string | null;
  last_modified: string | null;
  imported_at: number;
  advisories: number;
}

interface RawAffected {
  advisory_id: string;
  ecosystem: string;
  name: string;
  ranges: string;
  versions: string;
  severity: string | null;
}

interface RawAdvisory {
  id: string;
  modified: string;
  summary: string;
  severity: string;
  cvss_vector: string | null;
  cvss_score: number | null;
  aliases: string;
  url: string;
}
