import type { ScanStamp } from '../meta/scan-queries.js';

/**
 * Bumped when the analysers change what an inventory holds: results of an
 * older revision are then rescanned from their layers, not rematched.
 */
const SCANNER_REVISION = 1;

/** The stamp results are made with: a result with another one is rescanned. */
export const scannerStamp = (secrets: boolean): string => `${SCANNER_REVISION}${secrets ? '+secrets' : ''}`;

/** Whether a result needs a scan: another scanner, or an older database than `dbVersion`. */
export const isStale = (stamp: ScanStamp, scanner: string, dbVersion: number): boolean => stamp.scanner !== scanner || stamp.dbVersion < dbVersion;
