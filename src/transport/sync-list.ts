import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isDigest } from '../oci/digest.js';
import { normaliseRegistryHost, parseReference, type Reference } from '../oci/reference.js';

/** One repository to mirror: every tag, the tags listed (or digests), or the tags a pattern matches. */
export interface SyncSource {
  repo: Reference;
  /** Tags and digests to copy; undefined means every tag (filtered by `tagPattern` when set). */
  identifiers?: string[];
  tagPattern?: RegExp;
}

export class SyncListError extends Error {
  override readonly name = 'SyncListError';
}

const pattern = z.string().transform((s, ctx) => {
  try {
    return new RegExp(s);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a regular expression: ${(e as Error).message}` });
    return z.NEVER;
  }
});

/** skopeo sync's YAML: registry -> images (name -> tags or digests, [] for all), images-by-tag-regex, tls-verify. */
const schema = z.record(
  z.string(),
  z
    .object({
      images: z.record(z.string(), z.array(z.string()).nullable()).default({}),
      'images-by-tag-regex': z.record(z.string(), pattern).default({}),
      'tls-verify': z.boolean().optional(),
    })
    .strict(),
);

/**
 * Reads a skopeo sync YAML list. Credentials in it are refused (the schema is
 * strict): logins come from `berth login`, never from a file that travels.
 */
export async function readSyncList(file: string): Promise<{ sources: SyncSource[]; plainHttp: string[] }> {
  let parsed: z.infer<typeof schema>;
  try {
    parsed = schema.parse(parseYaml(await readFile(file, 'utf8')));
  } catch (e) {
    const why = e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ') : (e as Error).message;
    throw new SyncListError(`${file}: ${why} (the format is skopeo sync's: docs/CLIENT.md, berth sync)`);
  }
  const sources: SyncSource[] = [];
  const plainHttp: string[] = [];
  for (const [host, entry] of Object.entries(parsed)) {
    const registry = normaliseRegistryHost(host);
    if (entry['tls-verify'] === false) plainHttp.push(registry);
    const repo = (name: string) => repository(registry, name, file);
    for (const [name, ids] of Object.entries(entry.images)) {
      for (const id of ids ?? []) if (!isDigest(id) && !/^[\w][\w.-]{0,127}$/.test(id)) throw new SyncListError(`${file}: ${host} ${name}: "${id}" is neither a tag nor a digest`);
      sources.push(ids?.length ? { repo: repo(name), identifiers: ids } : { repo: repo(name) });
    }
    for (const [name, tagPattern] of Object.entries(entry['images-by-tag-regex'])) sources.push({ repo: repo(name), tagPattern });
  }
  return { sources, plainHttp };
}

function repository(registry: string, name: string, file: string): Reference {
  const ref = parseReference(`${registry}/${name}`, { defaultTag: false });
  if (ref.tag !== undefined || ref.digest !== undefined) throw new SyncListError(`${file}: ${registry} ${name}: list tags under the image name, not in it`);
  return { registry: ref.registry, repository: ref.repository };
}
