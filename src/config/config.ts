import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { PostgresConfigSchema } from './postgres.js';
import { S3ConfigSchema } from './s3.js';
import { duration, size } from './units.js';
import { GcConfigSchema, StorageRulesSchema } from './storage.js';
import { AccessConfigSchema, AuthConfigSchema, checkAccess } from './auth.js';
import { TlsConfigSchema } from './tls.js';
import { PolicyConfigSchema } from './policy.js';
import { ScanConfigSchema } from './scan.js';
import { ProxyConfigSchema } from './proxy.js';
import { ReplicationConfigSchema } from './replication.js';
import { NotificationsConfigSchema } from './notifications.js';
import { MetricsConfigSchema } from './metrics.js';
import { UiConfigSchema } from './ui.js';

export const ConfigSchema = z
  .object({
    /** Where the embedded defaults keep their files: blobs under `blobs/`, SQLite at `berth.db`. */
    data: z.string().default('./berth-data'),
    http: z
      .object({
        addr: z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^:\s]*):\d{1,5}$/, 'host:port').default('localhost:5000'),
        /** Time in-flight requests get to finish on SIGTERM before the process exits anyway. */
        shutdownTimeout: duration.default(30_000),
        /** A request body that sends nothing for this long is cut off; the upload stays resumable (0: never). */
        bodyIdleTimeout: duration.default(60_000),
        /** A blob response the client takes nothing of for this long is cut off, so a stuck reader frees what it holds (0: never). */
        sendIdleTimeout: duration.default(60_000),
        /** Connections open at once; more are closed as they arrive (each holds a file descriptor). */
        maxConnections: z.number().int().positive().default(1024),
        /** After SIGTERM, how long new requests get 503 + Retry-After (and /readyz 503) before the listener closes. */
        drainPeriod: duration.default(5_000),
        /** Proxies (addresses or CIDR ranges) whose X-Forwarded-For/-Host/-Proto are believed; nobody's by default. */
        trustedProxies: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .default({ addr: 'localhost:5000', shutdownTimeout: 30_000, bodyIdleTimeout: 60_000, sendIdleTimeout: 60_000, maxConnections: 1024, drainPeriod: 5_000, trustedProxies: [] }),
    storage: z
      .object({
        filesystem: z
          .object({
            root: z.string().optional(),
            fsync: z.boolean().default(true),
            /** Below this much free space pushes are refused (507) and /readyz says why; 0 turns the check off. */
            minFree: z.union([z.literal(0), size]).default(256 << 20),
          })
          .strict()
          .default({ fsync: true, minFree: 256 << 20 }),
        /** When set, blobs live in this bucket and `filesystem` is ignored. */
        s3: S3ConfigSchema.optional(),
      })
      .strict()
      .default({ filesystem: { fsync: true, minFree: 256 << 20 } }),
    metadata: z
      .object({
        sqlite: z.object({ path: z.string().optional() }).strict().default({}),
        /** When set, metadata lives in PostgreSQL (required for several replicas) and `sqlite` is ignored. */
        postgres: PostgresConfigSchema.optional(),
      })
      .strict()
      .default({ sqlite: {} }),
    limits: z
      .object({
        maxManifestSize: size.default(4 << 20),
        maxListEntries: z.number().int().positive().default(1000),
        /** Manifest bytes requests may hold in memory at once; beyond it big manifests wait their turn. */
        manifestsInFlight: size.default(16 << 20),
      })
      .strict()
      .default({ maxManifestSize: 4 << 20, maxListEntries: 1000, manifestsInFlight: 16 << 20 }),
    /** Memory for read caches, in bytes whatever the content; the default server stays within its memory budget (docs/SECURITY.md). */
    cache: z
      .object({ manifests: size.default(48 << 20), metadata: size.default(16 << 20) })
      .strict()
      .default({ manifests: 48 << 20, metadata: 16 << 20 }),
    uploads: z
      .object({
        expiry: duration.default(24 * 3600_000),
        purgeInterval: duration.default(10 * 60_000),
        /** Open upload sessions per user (or, anonymously, per client address); more are refused with 429. */
        maxSessions: z.number().int().positive().default(200),
      })
      .strict()
      .default({ expiry: 24 * 3600_000, purgeInterval: 10 * 60_000, maxSessions: 200 }),
    workers: z
      .object({
        /** Processes that each serve the whole API on the one listener (`berth serve --workers N`); docs/REPLICAS.md says what they share. */
        processes: z.number().int().positive().max(64).default(1),
        /** Worker threads per process for work whose cost grows with the registry (usage, GC, scans); each holds its own connections. */
        threads: z.number().int().positive().default(2),
        queue: z.number().int().positive().default(32),
      })
      .strict()
      .default({ processes: 1, threads: 2, queue: 32 }),
    gc: GcConfigSchema,
    ...StorageRulesSchema,
    log: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
        format: z.enum(['json', 'pretty']).default('json'),
      })
      .strict()
      .default({ level: 'info', format: 'json' }),
    auth: AuthConfigSchema.optional(),
    access: AccessConfigSchema,
    tls: TlsConfigSchema.optional(),
    policy: PolicyConfigSchema,
    scan: ScanConfigSchema.optional(),
    proxy: ProxyConfigSchema.optional(),
    replication: ReplicationConfigSchema,
    notifications: NotificationsConfigSchema,
    metrics: MetricsConfigSchema,
    ui: UiConfigSchema,
  })
  .strict()
  .superRefine((c, ctx) => checkAccess(c.auth, c.access, ctx));

export type Config = z.output<typeof ConfigSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads the YAML file (if any), then applies `BERTH_*` environment variables
 * (`BERTH_HTTP_ADDR` sets `http.addr`, `BERTH_LIMITS_MAX_MANIFEST_SIZE` sets
 * `limits.maxManifestSize`), then flags. Every bad key is named in the error.
 */
export function loadConfig(opts: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Config {
  const raw: Record<string, unknown> = opts.file ? readYaml(opts.file) : {};
  // Where each value that did not come from the file came from, so an error blames the right place.
  const origins = applyEnv(raw, opts.env ?? process.env);
  for (const [path, value] of Object.entries(opts.overrides ?? {})) {
    if (value === undefined) continue;
    setPath(raw, path.split('.'), value);
    origins.set(path, 'from the command line');
  }
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) {
    let fromFile = false;
    const lines = parsed.error.issues.map((i) => {
      const key = i.path.join('.');
      // An issue on `storage.s3` as a whole is blamed on the variable that set a key inside it.
      const origin = [...origins].find(([p]) => key === p || key.startsWith(`${p}.`) || p.startsWith(`${key}.`))?.[1];
      if (!origin) fromFile = true;
      return `  ${key || '(root)'}${origin ? ` (${origin})` : ''}: ${i.message}`;
    });
    throw new ConfigError(`invalid configuration${opts.file && fromFile ? ` in ${opts.file}` : ''}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Every `BERTH_*` variable that sets a config key. */
export const configEnvNames = (): string[] => leafPaths(ConfigSchema).map(envName);

export function blobRoot(c: Config): string {
  return resolve(c.storage.filesystem.root ?? c.data);
}

export function sqlitePath(c: Config): string {
  return resolve(c.metadata.sqlite.path ?? `${c.data}/berth.db`);
}

function readYaml(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}: ${(e as Error).message}`);
  }
  try {
    const doc: unknown = YAML.parse(text) ?? {};
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('the top level must be a mapping');
    return doc as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError(`config file ${file} is not valid YAML: ${(e as Error).message}`);
  }
}

/** Every leaf key path of the schema, e.g. ['limits', 'maxManifestSize']. */
function leafPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const inner = unwrap(schema);
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return [prefix];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (;;) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodType;
    else if (s instanceof z.ZodPipe) s = s.in as z.ZodType;
    else return s;
  }
}

export const envName = (path: string[]): string =>
  `BERTH_${path.map((k) => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')}`;

/** Returns the dotted paths it set, each with the variable it came from. */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const set = new Map<string, string>();
  for (const path of leafPaths(ConfigSchema)) {
    const name = envName(path);
    const value = env[name];
    if (value === undefined) continue;
    setPath(raw, path, coerce(value));
    set.set(path.join('.'), `from environment variable ${name}`);
  }
  return set;
}

/** Env values are strings; numbers and booleans are written as such in YAML, so read them the same way. */
function coerce(value: string): unknown {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const key of path.slice(0, -1)) {
    if (typeof cur[key] !== 'object' || cur[key] === null) cur[key] = {};
    cur = cur[key] as Record<string, unknown>;
  }
  cur[path[path.length - 1]!] = value;
}
