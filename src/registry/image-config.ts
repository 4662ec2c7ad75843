import type { Readable } from 'node:stream';
import type { Descriptor, Platform } from '../oci/descriptor.js';
import { isObject } from '../oci/descriptor.js';
import type { Digest } from '../oci/digest.js';
import { MediaType } from '../oci/mediatypes.js';
import { readBlob } from './blobs.js';
import type { RegistryContext } from './context.js';

/** History entries shown at most: a config can list thousands. */
const MAX_HISTORY = 500;

/** What a person wants to know of an image config: how it runs, what it says about itself, how it was built. */
export interface ConfigSummary {
  digest: Digest;
  mediaType: string;
  size: number;
  platform?: Platform;
  created?: string;
  author?: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: string[];
  labels?: Record<string, string>;
  history?: { created?: string; createdBy?: string; comment?: string; emptyLayer: boolean }[];
  historyTotal?: number;
  /** Why nothing more is shown: not an image config, too large, or not JSON. */
  unreadable?: string;
}

const CONFIG_TYPES: ReadonlySet<string> = new Set([MediaType.ociConfig, MediaType.dockerConfig]);

/** Reads and summarises an image's config blob; at most the manifest size limit is read. */
export async function configSummary(ctx: RegistryContext, config: Descriptor, indexedSize: number | undefined): Promise<ConfigSummary> {
  const base: ConfigSummary = { digest: config.digest, mediaType: config.mediaType, size: indexedSize ?? config.size };
  if (!CONFIG_TYPES.has(config.mediaType)) return { ...base, unreadable: `an artifact config (${config.mediaType}), not an image config` };
  if (indexedSize === undefined) return { ...base, unreadable: 'the config blob is not in the registry' };
  if (indexedSize > ctx.limits.maxManifestBytes) return { ...base, unreadable: `the config is ${indexedSize} bytes, more than is shown` };
  let json: unknown;
  try {
    json = JSON.parse((await readAll(await readBlob(ctx, { digest: config.digest, size: indexedSize }))).toString('utf8'));
  } catch (e) {
    return { ...base, unreadable: `the config is not readable JSON: ${(e as Error).message.slice(0, 200)}` };
  }
  return isObject(json) ? { ...base, ...summarise(json) } : { ...base, unreadable: 'the config is not a JSON object' };
}

function summarise(c: Record<string, unknown>): Partial<ConfigSummary> {
  const run = isObject(c.config) ? c.config : {};
  const out: Partial<ConfigSummary> = {};
  if (typeof c.architecture === 'string' && typeof c.os === 'string') {
    out.platform = { architecture: c.architecture, os: c.os, ...(typeof c.variant === 'string' ? { variant: c.variant } : {}) };
  }
  if (typeof c.created === 'string') out.created = c.created;
  if (typeof c.author === 'string') out.author = c.author;
  const list = strings(run.Entrypoint);
  if (list) out.entrypoint = list;
  const cmd = strings(run.Cmd);
  if (cmd) out.cmd = cmd;
  const env = strings(run.Env);
  if (env) out.env = env;
  if (typeof run.WorkingDir === 'string' && run.WorkingDir !== '') out.workingDir = run.WorkingDir;
  if (typeof run.User === 'string' && run.User !== '') out.user = run.User;
  if (isObject(run.ExposedPorts)) out.exposedPorts = Object.keys(run.ExposedPorts);
  if (isObject(run.Labels)) out.labels = Object.fromEntries(Object.entries(run.Labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
  if (Array.isArray(c.history)) {
    out.historyTotal = c.history.length;
    out.history = c.history.slice(0, MAX_HISTORY).filter(isObject).map((h) => ({
      ...(typeof h.created === 'string' ? { created: h.created } : {}),
      ...(typeof h.created_by === 'string' ? { createdBy: h.created_by } : {}),
      ...(typeof h.comment === 'string' ? { comment: h.comment } : {}),
      emptyLayer: h.empty_layer === true,
    }));
  }
  return out;
}

const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? v : undefined);

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}
