import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, apiText, repoPath } from '../api.js';
import { Command, DigestLink, ErrorNote, Loading, Pairs, Section, Stat } from '../components/bits.js';
import { ConfirmDialog } from '../components/dialog.js';
import { RawManifest } from '../components/raw-manifest.js';
import { ScanSection } from '../components/scan.js';
import { ago, bytes, exact, kindOf, platform, shortDigest } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import type { ImageDetails, LayerDetail, ReferrerNode, SignatureReport, TagMove, WhatIfDelete } from '../types.js';
import { Timeline } from './history.js';

/** Tags whose history the page shows inline; the history page has the rest. */
const HISTORIES_SHOWN = 5;

export function ImagePage({ repo, digest }: { repo: string; digest: string }) {
  usePage(`${repo}@${shortDigest(digest)}`);
  const [layerOffset, setLayerOffset] = useState(0);
  const image = useApi<ImageDetails>(`${repoPath(repo, 'manifests', digest)}?layerOffset=${layerOffset}`);
  const [deleting, setDeleting] = useState(false);
  const d = image.data;
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.repositories()}>Repositories</a> <span aria-hidden="true">/</span> <a href={href.repository(repo)}>{repo}</a> <span aria-hidden="true">/</span>{' '}
        <span aria-current="page">{shortDigest(digest)}</span>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>
          {repo}
          <span class="muted">@{shortDigest(digest)}</span>
        </h1>
        {d ? (
          <p class="lead">
            {kindOf(d.mediaType, d.artifactType)}
            {d.tags.length ? ', tagged ' : ', untagged'}
            {d.tags.map((t) => (
              <a key={t} class="chip" href={href.history(repo, t)} title={`History of tag ${t}`}>
                {t}
              </a>
            ))}
          </p>
        ) : null}
      </div>
      {image.error ? <ErrorNote error={image.error} what="this image" /> : null}
      {!d && !image.error ? <Loading what="the image" /> : null}
      {d ? (
        <>
          <dl class="stats">
            <Stat label="Size" value={bytes(d.size + (d.config?.size ?? 0) + d.layers.items.reduce((n, l) => n + l.size, 0))} hint={d.layers.total > d.layers.items.length ? 'of the layers shown' : 'manifest, config and layers'} />
            <Stat label="Layers" value={d.layers.total.toLocaleString('en')} />
            <Stat label="Pushed" value={ago(d.pushedAt)} />
            {d.config?.platform ? <Stat label="Platform" value={platform(d.config.platform)} /> : null}
          </dl>
          <Command text={`docker pull ${location.host}/${repo}@${digest}`} label="Copy the pull command by digest" />
          {d.permissions.delete ? (
            <p>
              <button type="button" class="danger" onClick={() => setDeleting(true)}>
                Delete this image…
              </button>
            </p>
          ) : null}
          {d.scan ? <ScanSection repo={repo} digest={digest} scan={d.scan} /> : null}
          {d.config ? <ConfigSection config={d.config} /> : null}
          {d.manifests ? <PlatformsSection repo={repo} image={d} /> : null}
          {d.layers.total > 0 ? <LayersSection repo={repo} image={d} onPage={setLayerOffset} /> : null}
          {d.config?.labels ? (
            <Section title="Labels">
              <Pairs entries={Object.entries(d.config.labels)} caption="Labels" />
            </Section>
          ) : null}
          {d.config?.env ? (
            <Section title="Environment">
              <Pairs entries={d.config.env.map((e) => [e.split('=', 1)[0]!, e.slice(e.indexOf('=') + 1)])} caption="Environment variables" />
            </Section>
          ) : null}
          {d.annotations ? (
            <Section title="Annotations">
              <Pairs entries={Object.entries(d.annotations)} caption="Manifest annotations" />
            </Section>
          ) : null}
          {d.config?.history?.length ? <BuildHistory config={d.config} /> : null}
          <SignaturesSection repo={repo} digest={digest} />
          <Section title="Referrers">
            {d.referrers.length ? <ReferrerTree repo={repo} nodes={d.referrers} /> : <p class="muted">Nothing is attached to this image (signatures, SBOMs and other artifacts would be listed here).</p>}
          </Section>
          {d.tags.length ? <TagHistories repo={repo} tags={d.tags} /> : null}
          <Section title="Manifest JSON">
            <RawManifest repo={repo} digest={digest} size={d.size} load={() => apiText(repoPath(repo, 'manifests', digest, 'content'))} />
          </Section>
        </>
      ) : null}
      {deleting && d ? <DeleteImage repo={repo} image={d} onClose={() => setDeleting(false)} /> : null}
    </div>
  );
}

function ConfigSection({ config }: { config: NonNullable<ImageDetails['config']> }) {
  const run = (v?: string[]) => (v ? <code>{JSON.stringify(v)}</code> : <span class="muted">not set</span>);
  return (
    <Section title="How it runs">
      {config.unreadable ? <p class="muted">{config.unreadable}.</p> : null}
      <dl class="facts">
        <dt>Entrypoint</dt>
        <dd>{run(config.entrypoint)}</dd>
        <dt>Command</dt>
        <dd>{run(config.cmd)}</dd>
        {config.workingDir ? (
          <>
            <dt>Working directory</dt>
            <dd>
              <code>{config.workingDir}</code>
            </dd>
          </>
        ) : null}
        {config.user ? (
          <>
            <dt>User</dt>
            <dd>
              <code>{config.user}</code>
            </dd>
          </>
        ) : null}
        {config.exposedPorts?.length ? (
          <>
            <dt>Ports</dt>
            <dd>{config.exposedPorts.join(', ')}</dd>
          </>
        ) : null}
        {config.created ? (
          <>
            <dt>Built</dt>
            <dd>
              <time title={exact(config.created)}>{ago(config.created)}</time>
              {config.author ? ` by ${config.author}` : ''}
            </dd>
          </>
        ) : null}
        <dt>Config</dt>
        <dd>
          <code>{shortDigest(config.digest)}</code>, {bytes(config.size)}
        </dd>
      </dl>
    </Section>
  );
}

function PlatformsSection({ repo, image }: { repo: string; image: ImageDetails }) {
  return (
    <Section title="Platforms">
      <p class="muted">A multi-platform index: clients pick the image for their platform.</p>
      <table class="list">
        <caption class="visually-hidden">Images of this index</caption>
        <thead>
          <tr>
            <th scope="col">Platform</th>
            <th scope="col">Image</th>
            <th scope="col" class="num">
              Manifest size
            </th>
          </tr>
        </thead>
        <tbody>
          {image.manifests!.map((m) => (
            <tr key={m.digest}>
              <td>{m.platform ? platform(m.platform) : m.artifactType ?? 'unknown'}</td>
              <td>
                <DigestLink repo={repo} digest={m.digest} />
              </td>
              <td class="num">{bytes(m.size)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {(image.manifestsTotal ?? 0) > image.manifests!.length ? <p class="muted">and {image.manifestsTotal! - image.manifests!.length} more (see the manifest JSON).</p> : null}
    </Section>
  );
}

function LayersSection({ repo, image, onPage }: { repo: string; image: ImageDetails; onPage(offset: number): void }) {
  const { items, offset, total } = image.layers;
  return (
    <Section title="Layers">
      <p class="muted">
        Each layer is stored once, however many images use it. A layer shared with other images costs nothing more; deleting this image frees only the layers no other image
        uses.
      </p>
      <div class="table-wrap">
        <table class="list">
          <caption class="visually-hidden">Layers of this image, bottom first</caption>
          <thead>
            <tr>
              <th scope="col" class="num">
                #
              </th>
              <th scope="col">Digest</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col">Also used by</th>
            </tr>
          </thead>
          <tbody>
            {items.map((l, i) => (
              <LayerRow key={`${l.digest}-${i}`} repo={repo} layer={l} n={offset + i + 1} />
            ))}
          </tbody>
        </table>
      </div>
      {total > items.length ? (
        <nav class="pager" aria-label="Pages of layers">
          {offset > 0 ? (
            <button type="button" class="ghost" onClick={() => onPage(Math.max(0, offset - items.length))}>
              ← Previous layers
            </button>
          ) : (
            <span />
          )}
          <span class="muted">
            Layers {offset + 1}–{offset + items.length} of {total.toLocaleString('en')}
          </span>
          {offset + items.length < total ? (
            <button type="button" class="ghost" onClick={() => onPage(offset + items.length)}>
              Next layers →
            </button>
          ) : null}
        </nav>
      ) : null}
    </Section>
  );
}

function LayerRow({ repo, layer, n }: { repo: string; layer: LayerDetail; n: number }) {
  return (
    <tr id={`layer-${layer.digest}`}>
      <td class="num">{n}</td>
      <td>
        <code title={layer.digest}>{shortDigest(layer.digest)}</code>
        {layer.urls ? <div class="muted small">non-distributable, from {layer.urls[0]}</div> : null}
      </td>
      <td class="num">{bytes(layer.size)}</td>
      <td>
        {layer.holders.length === 0 ? (
          <span class="muted">only this image</span>
        ) : (
          <ul class="inline">
            {layer.holders.map((h) => (
              <li key={`${h.repository}@${h.digest}`}>
                <a href={href.image(h.repository, h.digest)}>
                  {h.repository}
                  {h.tag ? `:${h.tag}` : `@${shortDigest(h.digest)}`}
                </a>
              </li>
            ))}
            {layer.moreHolders ? <li class="muted">and more</li> : null}
          </ul>
        )}
      </td>
    </tr>
  );
}

function BuildHistory({ config }: { config: NonNullable<ImageDetails['config']> }) {
  const history = config.history!;
  return (
    <Section title="Build history">
      <ol class="build">
        {history.map((h, i) => (
          <li key={i} class={h.emptyLayer ? 'empty' : undefined}>
            <code class="wrap">{h.createdBy ?? h.comment ?? '(no command recorded)'}</code>
            <span class="muted small">
              {h.emptyLayer ? ' no layer' : ' adds a layer'}
              {h.created ? `, ${ago(h.created)}` : ''}
            </span>
          </li>
        ))}
      </ol>
      {(config.historyTotal ?? 0) > history.length ? <p class="muted">and {config.historyTotal! - history.length} more steps.</p> : null}
    </Section>
  );
}

function SignaturesSection({ repo, digest }: { repo: string; digest: string }) {
  const report = useApi<SignatureReport>(repoPath(repo, 'manifests', digest, 'signatures'));
  return (
    <Section title="Signatures">
      {report.error ? <ErrorNote error={report.error} what="the signatures" /> : null}
      {report.data ? (
        report.data.signatures.length === 0 ? (
          <p class="muted">Not signed.</p>
        ) : (
          <>
            <p>
              {report.data.signed ? <span class="badge good">verified</span> : <span class="badge warn">{report.data.judged ? 'not verified' : 'not checked'}</span>}{' '}
              {report.data.judged ? 'against the keys this registry trusts for the repository.' : 'No signature policy names keys for this repository, so no signature is judged.'}
            </p>
            <ul>
              {report.data.signatures.map((s, i) => (
                <li key={i}>
                  {s.kind}: {s.outcome}
                  {s.signer ? `, by ${s.signer}` : ''} <span class="muted small">({s.where})</span>
                </li>
              ))}
            </ul>
          </>
        )
      ) : null}
    </Section>
  );
}

function ReferrerTree({ repo, nodes }: { repo: string; nodes: ReferrerNode[] }) {
  return (
    <ul class="tree">
      {nodes.map((n) => (
        <li key={n.digest}>
          <span class="badge">{n.artifactType ?? n.mediaType}</span> <DigestLink repo={repo} digest={n.digest} />{' '}
          <span class="muted small">
            {bytes(n.size)}
            {n.via === 'tag' ? `, by tag ${n.tag}` : ''}
          </span>
          {n.referrers.length ? <ReferrerTree repo={repo} nodes={n.referrers} /> : null}
        </li>
      ))}
    </ul>
  );
}

function TagHistories({ repo, tags }: { repo: string; tags: string[] }) {
  return (
    <Section title="Tag history">
      {tags.slice(0, HISTORIES_SHOWN).map((t) => (
        <OneTagHistory key={t} repo={repo} tag={t} />
      ))}
      {tags.length > HISTORIES_SHOWN ? <a href={href.history(repo)}>The history of every tag</a> : null}
    </Section>
  );
}

function OneTagHistory({ repo, tag }: { repo: string; tag: string }) {
  const h = useApi<{ moves: TagMove[] }>(repoPath(repo, 'tags', tag, 'history'));
  return (
    <div class="tag-history">
      <h3>{tag}</h3>
      {h.error ? <ErrorNote error={h.error} what={`the history of ${tag}`} /> : null}
      {h.data ? <Timeline repo={repo} moves={[...h.data.moves].reverse().map((m) => ({ ...m, tag }))} /> : null}
    </div>
  );
}

/** Deleting by digest takes every tag on it along; shows what that frees when the caller may see it. */
function DeleteImage({ repo, image, onClose }: { repo: string; image: ImageDetails; onClose(): void }) {
  const [whatIf, setWhatIf] = useState<WhatIfDelete | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    if (!image.permissions.usage) return;
    api<WhatIfDelete>(`/berth/v1/usage?repo=${encodeURIComponent(repo)}&whatIfDelete=${encodeURIComponent(image.digest)}`).then(setWhatIf, (e: unknown) => setError(String((e as Error).message)));
  }, []);
  const confirm = async () => {
    setBusy(true);
    try {
      await api(repoPath(repo, 'manifests', image.digest), { method: 'DELETE' });
      location.hash = href.repository(repo);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };
  const tags = whatIf?.tagsRemoved ?? image.tags;
  return (
    <ConfirmDialog title={`Delete ${repo}@${shortDigest(image.digest)}?`} confirmLabel="Delete image and its tags" busy={busy} error={error} onConfirm={confirm} onClose={onClose}>
      <p>
        The manifest <code>{image.digest}</code> is removed from <code>{repo}</code>
        {tags.length ? ', and with it these tags:' : '. It has no tags.'}
      </p>
      {tags.length ? (
        <ul class="inline">
          {tags.map((t) => (
            <li key={t}>
              <code>{t}</code>
            </li>
          ))}
        </ul>
      ) : null}
      {image.permissions.usage ? (
        whatIf ? (
          <p>
            <strong>Frees {bytes(whatIf.freedBytes)}</strong> once garbage collection runs; the rest is still used by other images.
          </p>
        ) : (
          <p class="muted">Working out what it frees…</p>
        )
      ) : (
        <p class="muted">How much it frees is shown to users with the usage permission.</p>
      )}
      <p>Attached signatures and other referrers go with it. This cannot be undone.</p>
    </ConfirmDialog>
  );
}
