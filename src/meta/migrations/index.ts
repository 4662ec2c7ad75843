import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../dialect.js';
import * as initial from './001-initial.js';
import * as replicas from './002-replicas.js';
import * as storage from './003-storage.js';
import * as jobs from './004-jobs.js';
import * as hardening from './005-hardening.js';
import * as signatures from './006-signatures.js';
import * as scans from './007-scans.js';
import * as notifications from './009-notifications.js';
import * as ui from './010-ui.js';
import * as proxy from './011-proxy.js';
import * as registryId from './012-registry-id.js';
import * as refLookup from './013-ref-lookup.js';
import * as schedules from './014-schedules.js';

/** Versioned schema changes, applied in order by Kysely's migrator (which takes a lock, so replicas may start together). */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001-initial': { up: (db: Kysely<any>) => initial.up(db, dialect) },
    '002-replicas': { up: (db: Kysely<any>) => replicas.up(db, dialect) },
    '003-storage': { up: (db: Kysely<any>) => storage.up(db) },
    '004-jobs': { up: (db: Kysely<any>) => jobs.up(db, dialect) },
    '005-hardening': { up: (db: Kysely<any>) => hardening.up(db) },
    '006-signatures': { up: (db: Kysely<any>) => signatures.up(db, dialect) },
    '007-scans': { up: (db: Kysely<any>) => scans.up(db, dialect) },
    '009-notifications': { up: (db: Kysely<any>) => notifications.up(db) },
    '010-ui': { up: (db: Kysely<any>) => ui.up(db, dialect) },
    '011-proxy': { up: (db: Kysely<any>) => proxy.up(db) },
    '012-registry-id': { up: (db: Kysely<any>) => registryId.up(db) },
    '013-ref-lookup': { up: (db: Kysely<any>) => refLookup.up(db) },
    '014-schedules': { up: (db: Kysely<any>) => schedules.up(db) },
  };
}
