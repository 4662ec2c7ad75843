import { existsSync } from 'node:fs';
import { Warnings } from '../warnings.js';
import { VulnDb } from './database.js';
import { updateDb, type SourceOutcome } from './update.js';

export interface RefreshInput {
  dbPath: string;
  /** Where to update from; without it the database is only looked at (updated by `berth db update` or not at all). */
  from?: string;
  ecosystems?: string[];
}

export interface RefreshOutcome {
  outcomes: SourceOutcome[];
  warnings: string[];
  /** The content time of the database now in place (0: none). */
  version: number;
}

/** The registry's scheduled `db update` (in a worker thread: the download and import are long), and what the database is now. */
export async function refreshVulnDb(input: RefreshInput): Promise<RefreshOutcome> {
  const warnings = new Warnings();
  const outcomes = input.from ? await updateDb({ dbPath: input.dbPath, from: input.from, warnings, ...(input.ecosystems ? { ecosystems: input.ecosystems } : {}) }) : [];
  if (!existsSync(input.dbPath)) return { outcomes, warnings: warnings.list(), version: 0 };
  const db = VulnDb.openReadOnly(input.dbPath);
  try {
    return { outcomes, warnings: warnings.list(), version: db.version() };
  } finally {
    db.close();
  }
}
