import { parseDigest, type Digest } from '../../oci/digest.js';
import { RegistryError } from '../../oci/errors.js';
import { parseRepoName, type RepoName } from '../../oci/name.js';
import { BrowseQueries, REPOSITORY_SORTS, type Holder, type RepositorySort } from '../../meta/browse-queries.js';
import { readBlob } from '../../registry/blobs.js';
import { listTags } from '../../registry/listing.js';
import { loadManifest } from '../../registry/manifests.js';
import { scanJobsOf } from '../../registry/scan-on-push.js';
import type { Identity } from '../access.js';
import { query, queryAll, sendBody, type Reply, type Req } from '../http.js';
import type { BerthApiDeps } from './berth-api.js';
import { pageParams, sendPage } from './paging.js';

/** Entries per page unless `n` says otherwise, and at most. */
const PAGE = 50;
const MAX_PAGE = 100;
/** A repository list looks at this many pages' worth of names for the ones the caller may see, then answers with a Link. */
const SCAN_PAGES = 10;
const LAYERS_PAGE = 100;
const HOLDERS_SHOWN = 20;
const MAX_COMPARED = 12;
/** Manifests over this size are streamed from the store, not held. */
const HELD_CONTENT = 1 << 20;

/** Sorts that order by what only `usage` shows: offered to callers who may see it for every repository. */
const AUDIT_SORTS: ReadonlySet<RepositorySort> = new Set(['unique']);

/**
 * `GET /berth/v1/repositories`: repositories the caller may pull, searched (`q`), sorted
 * (`sort`, `order`) and paginated (`n`, `offset`, a Link to the next page), with the
 * figures of `/berth/v1/usage`. Ordering runs in a worker; the caller's access is
 * applied to a bounded window of names, so a page costs the same at any registry size.
 */
export async function repositoryList({ ctx, auth, workers }: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  const who = await auth.authorize(req, { type: 'catalog' });
  const sort = oneOf(query(req, 'sort') ?? 'name', REPOSITORY_SORTS, 'sort');
  const descending = oneOf(query(req, 'order') ?? (sort === 'name' ? 'asc' : 'desc'), ['asc', 'desc'] as const, 'order') === 'desc';
  const search = (query(req, 'q') ?? '').slice(0, 255);
  const offset = integer(query(req, 'offset'), 0, 'offset');
  const n = Math.min(pageParams(req).n ?? PAGE, MAX_PAGE);
  const everything = await auth.audits(who);
  if (AUDIT_SORTS.has(sort) && !everything) {
    throw new RegistryError('DENIED', `sorting by ${sort} bytes needs the usage action on every repository`, { status: 403 });
  }
  const window = await workers.run('repositoryWindow', { sort, descending, search, offset, limit: n * SCAN_PAGES, count: everything });
  const visible: string[] = [];
  let scanned = 0;
  for (const name of window.names) {
    if (visible.length === n) break;
    scanned++;
    if (await auth.allows(who, name, 'pull')) visible.push(name);
  }
  const more = scanned < window.names.length || window.names.length === n * SCAN_PAGES;
  const repos = await Promise.all(visible.map(async (name) => ({ name, figures: await auth.allows(who, name, 'usage') })));
  const report = n === 0 ? { repositories: [] } : await workers.run('usagePage', { repos, totals: false });
  if (more && n > 0) {
    const params = new URLSearchParams({ sort, order: descending ? 'desc' : 'asc', n: String(n), offset: String(offset + scanned) });
    if (search) params.set('q', search);
    reply.header('Link', `</berth/v1/repositories?${params.toString()}>; rel="next"`);
  }
  return json(reply, { repositories: report.repositories, offset, ...(window.total !== undefined ? { total: window.total } : {}) });
}

/** `GET /berth/v1/repositories/NAME/tags`: a page of tags with digest, platforms, size, times, signatures; the first page also has the repository's figures. */
export async function tagPage({ ctx, auth, workers }: BerthApiDeps, req: Req, reply: Reply, repo: RepoName): Promise<Reply> {
  const who = await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const { n, last } = pageParams(req);
  const size = Math.min(n ?? PAGE, MAX_PAGE);
  const page = await listTags(ctx, repo, size, last);
  const scanning = scanJobsOf(ctx) !== undefined;
  const tags = await workers.run('tagDetails', { repo, tags: page.items, scans: scanning });
  const permissions = await permissionsOf(auth, who, repo);
  const summary = last === undefined ? (await workers.run('usagePage', { repos: [{ name: repo, figures: permissions.usage }], totals: false })).repositories[0] : undefined;
  return sendPage(reply, `/berth/v1/repositories/${repo}/tags`, size, page, { repository: repo, permissions, scanning, ...(summary ? { summary } : {}), tags });
}

/** `GET /berth/v1/repositories/NAME/tag-history`: every move of every tag, newest first (`before`: the id where the last page ended). */
export async function repositoryHistory({ ctx, auth }: BerthApiDeps, req: Req, reply: Reply, repo: RepoName): Promise<Reply> {
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const repoId = await ctx.requireRepo(repo);
  const size = Math.min(pageParams(req).n ?? PAGE, MAX_PAGE);
  const beforeRaw = query(req, 'before');
  const before = beforeRaw === undefined ? undefined : integer(beforeRaw, 0, 'before');
  const rows = await new BrowseQueries(ctx.meta.db).history(repoId, size + 1, before);
  const moves = rows.slice(0, size).map((r) => ({ ...r, at: new Date(r.at).toISOString() }));
  if (rows.length > size) reply.header('Link', `</berth/v1/repositories/${repo}/tag-history?n=${size}&before=${moves[moves.length - 1]!.id}>; rel="next"`);
  return json(reply, { repository: repo, moves });
}

/** `GET /berth/v1/repositories/NAME/manifests/DIGEST`: the image page (config, a page of layers with who else holds each, platforms, referrers). */
export async function imagePage({ ctx, auth, workers }: BerthApiDeps, req: Req, reply: Reply, repo: RepoName, digest: Digest): Promise<Reply> {
  const who = await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const layerOffset = integer(query(req, 'layerOffset'), 0, 'layerOffset');
  const details = await workers.run('imageDetails', { repo, digest, layerOffset, layerLimit: LAYERS_PAGE, scans: scanJobsOf(ctx) !== undefined });
  const visible = visibility(auth, who);
  const layers = [];
  for (const l of details.layers.items) {
    const shown: Holder[] = [];
    for (const h of l.holders) if (shown.length <= HOLDERS_SHOWN && (await visible(h.repository))) shown.push(h);
    layers.push({ ...l, holders: shown.slice(0, HOLDERS_SHOWN), moreHolders: shown.length > HOLDERS_SHOWN });
  }
  return json(reply, { ...details, layers: { ...details.layers, items: layers }, permissions: await permissionsOf(auth, who, repo) });
}

/** `GET /berth/v1/repositories/NAME/manifests/DIGEST/content`: the manifest byte for byte, for the raw view; not counted as a pull. */
export async function manifestContent({ ctx, auth }: BerthApiDeps, req: Req, reply: Reply, repo: RepoName, digest: Digest): Promise<Reply> {
  await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  const repoId = await ctx.requireRepo(repo);
  const row = await ctx.meta.manifest(repoId, digest);
  if (!row) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is not in repository "${repo}"`, { detail: { digest } });
  reply.code(200).headers({ 'Content-Type': row.mediaType, 'Content-Length': String(row.size), 'Docker-Content-Digest': digest, 'X-Content-Type-Options': 'nosniff' });
  if (row.size > HELD_CONTENT) return sendBody(reply, await readBlob(ctx, { digest, size: row.size }));
  return reply.send((await loadManifest(ctx, repoId, digest))!.bytes);
}

/** `GET /berth/v1/sharing?image=NAME@DIGEST&image=...`: the layers of up to twelve images, for the chart of what they share. */
export async function sharing({ auth, workers }: BerthApiDeps, req: Req, reply: Reply): Promise<Reply> {
  const wanted = queryAll(req, 'image');
  if (wanted.length === 0 || wanted.length > MAX_COMPARED) throw new RegistryError('UNSUPPORTED', `name 1 to ${MAX_COMPARED} images as image=NAME@DIGEST`, { status: 400 });
  const images = wanted.map((w) => {
    const at = w.lastIndexOf('@');
    if (at <= 0) throw new RegistryError('UNSUPPORTED', `image "${w.slice(0, 300)}": expected NAME@DIGEST`, { status: 400 });
    return { repo: parseRepoName(w.slice(0, at)), digest: parseDigest(w.slice(at + 1)) };
  });
  for (const repo of new Set(images.map((i) => i.repo))) await auth.authorize(req, { type: 'repository', name: repo, actions: ['pull'] });
  return json(reply, { images: await workers.run('layerSets', { images }) });
}

/** What the caller may do to a repository beyond pulling, so pages offer only actions that would work. */
async function permissionsOf(auth: BerthApiDeps['auth'], who: Identity, repo: string): Promise<{ delete: boolean; usage: boolean }> {
  return { delete: await auth.allows(who, repo, 'delete'), usage: await auth.allows(who, repo, 'usage') };
}

/** `allows(who, repo, 'pull')`, asked once per repository per request. */
function visibility(auth: BerthApiDeps['auth'], who: Identity): (repo: string) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>();
  return (repo) => {
    let v = seen.get(repo);
    if (!v) seen.set(repo, (v = auth.allows(who, repo, 'pull')));
    return v;
  };
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new RegistryError('UNSUPPORTED', `invalid ${name} "${value.slice(0, 50)}": expected one of ${allowed.join(', ')}`, { status: 400 });
}

function integer(raw: string | undefined, fallback: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,12}$/.test(raw)) throw new RegistryError('UNSUPPORTED', `invalid ${name} "${raw.slice(0, 50)}": expected a non-negative integer`, { status: 400 });
  return Number(raw);
}

export const json = (reply: Reply, body: unknown): Reply => reply.code(200).type('application/json').send(JSON.stringify(body));
