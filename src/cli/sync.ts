import { posix } from 'node:path';
import type { Command } from 'commander';
import { RemoteError } from '../client/errors.js';
import type { RegistryClient } from '../client/registry.js';
import { isDigest } from '../oci/digest.js';
import type { RepoName, Tag } from '../oci/name.js';
import { formatReference, isLoopbackRegistry, normaliseRegistryHost, parseReference, type Reference } from '../oci/reference.js';
import { clientFor, openSink, openSource, type TransportContext } from '../transport/location.js';
import { readSyncList, SyncListError, type SyncSource } from '../transport/sync-list.js';
import { noReferrersOption } from './attached.js';
import { clientOptions, NotFoundError, out, printJson, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';
import { copyWithAttachments } from './copy.js';
import { repositoryArg } from './copy-tags.js';

interface SyncFlags extends ClientFlags {
  src: 'docker' | 'yaml';
  dryRun?: boolean;
  referrers?: boolean;
}

type Outcome = 'copied' | 'skipped' | 'would copy';

export function registerSync(program: Command): void {
  noReferrersOption(clientOptions(
    program
      .command('sync')
      .argument('<source>', 'HOST/REPO (every tag), HOST/REPO:TAG, or with --src yaml a skopeo sync YAML file')
      .argument('<destination>', 'HOST[/NAMESPACE]: each repository lands under it by the last component of its name, as with skopeo sync'),
  ))
    .description('mirror repositories into a registry as skopeo sync does, copying only what the destination does not have')
    .option('--src <transport>', 'docker (a repository) or yaml (a list of images)', 'docker')
    .option('--dry-run', 'say what would be copied and skipped, copy nothing')
    .action(
      run('sync', async (source: string, destination: string, flags: SyncFlags) => {
        if (flags.src !== 'docker' && flags.src !== 'yaml') throw new UsageError(`--src ${String(flags.src)}: expected docker or yaml`);
        const dst = destinationArg(destination);
        const sources = flags.src === 'yaml' ? await fromYaml(source, flags) : [fromArg(source)];
        const ctx = context(flags);
        const done: { source: string; destination: string; digest: string; outcome: Outcome }[] = [];
        try {
          for (const s of sources) {
            const into: Reference = { registry: dst.registry, repository: destinationRepo(dst, s.repo) };
            for await (const id of identifiers(clientFor(ctx, s.repo.registry), s)) {
              const result = await syncOne(ctx, at(s.repo, id), at(into, id), flags);
              done.push(result);
              if (!flags.json) out(describe(result));
            }
          }
        } finally {
          await ctx.http.close();
        }
        if (flags.json) return void printJson(done);
        const count = (o: Outcome) => done.filter((d) => d.outcome === o).length;
        out(flags.dryRun ? `Would copy ${count('would copy')}, skip ${count('skipped')} (dry run: nothing was copied)` : `Copied ${count('copied')}, skipped ${count('skipped')} the destination already had`);
      }),
    );
}

async function syncOne(ctx: TransportContext, from: Reference, to: Reference, flags: SyncFlags): Promise<{ source: string; destination: string; digest: string; outcome: Outcome }> {
  const names = { source: formatReference(from), destination: formatReference(to) };
  const digest = await digestAt(clientFor(ctx, from.registry), from);
  if (digest === undefined) throw new NotFoundError(`${names.source} does not exist`);
  const there = await digestAt(clientFor(ctx, to.registry), to);
  if (there === digest) return { ...names, digest, outcome: 'skipped' };
  if (flags.dryRun) return { ...names, digest, outcome: 'would copy' };
  const src = await openSource(ctx, { kind: 'remote', ref: from });
  try {
    await copyWithAttachments(src, await openSink(ctx, { kind: 'remote', ref: to }), { json: true, ...(flags.referrers === false ? { referrers: false } : {}) }, undefined);
  } finally {
    await src.close();
  }
  return { ...names, digest, outcome: 'copied' };
}

function describe(r: { source: string; destination: string; digest: string; outcome: Outcome }): string {
  if (r.outcome === 'skipped') return `Skipped ${r.source}: ${r.destination} already is ${r.digest}`;
  return `${r.outcome === 'copied' ? 'Copied' : 'Would copy'} ${r.source} to ${r.destination} (${r.digest})`;
}

/** What a tag or digest names there, or undefined when nothing is. A HEAD without Docker-Content-Digest falls back to a GET. */
async function digestAt(client: RegistryClient, ref: Reference): Promise<string | undefined> {
  const id = ref.digest ?? ref.tag!;
  const head = await client.resolve(ref.repository, id);
  if (head) return head.digest;
  return client.getManifest(ref.repository, id).then(
    (m) => m.digest,
    (e: unknown) => {
      if (e instanceof RemoteError && e.status === 404) return undefined;
      throw e;
    },
  );
}

async function* identifiers(client: RegistryClient, s: SyncSource): AsyncGenerator<string> {
  if (s.identifiers) return yield* s.identifiers;
  for await (const page of client.tagPages(s.repo.repository)) for (const tag of page) if (!s.tagPattern || s.tagPattern.test(tag)) yield tag;
}

const at = (repo: Reference, id: string): Reference =>
  isDigest(id) ? { registry: repo.registry, repository: repo.repository, digest: id } : { registry: repo.registry, repository: repo.repository, tag: id as Tag };

/** skopeo's naming: the last component of the source name (busybox of registry.example.com/library/busybox). */
function destinationRepo(dst: { registry: string; namespace: string }, src: Reference): RepoName {
  const name = posix.basename(src.repository);
  return parseReference(`${dst.registry}/${dst.namespace ? `${dst.namespace}/` : ''}${name}`, { defaultTag: false }).repository;
}

function destinationArg(input: string): { registry: string; namespace: string } {
  const plain = input.replace(/^docker:\/\//, '').replace(/\/+$/, '');
  const slash = plain.indexOf('/');
  const registry = normaliseRegistryHost(slash < 0 ? plain : plain.slice(0, slash));
  const namespace = slash < 0 ? '' : plain.slice(slash + 1);
  if (namespace) parseReference(`${registry}/${namespace}`, { defaultTag: false });
  return { registry, namespace };
}

function fromArg(input: string): SyncSource {
  const ref = parseReference(input.replace(/^docker:\/\//, ''), { defaultTag: false });
  if (ref.tag === undefined && ref.digest === undefined) return { repo: repositoryArg(input, 'source') };
  return { repo: { registry: ref.registry, repository: ref.repository }, identifiers: [ref.digest ?? ref.tag!] };
}

async function fromYaml(file: string, flags: SyncFlags): Promise<SyncSource[]> {
  const list = await readSyncList(file).catch((e: unknown) => {
    throw e instanceof SyncListError ? new UsageError(e.message) : e;
  });
  const plain = list.plainHttp.filter((r) => !isLoopbackRegistry(r));
  if (plain.length && !flags.insecure) throw new UsageError(`${file} sets tls-verify: false for ${plain.join(', ')}: pass --insecure to allow that`);
  return list.sources;
}
