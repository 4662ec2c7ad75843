import { useState } from 'preact/hooks';
import { api, ApiError, repoPath } from '../api.js';
import { Command, CopyButton, DigestLink, ErrorNote, Loading, Stat } from '../components/bits.js';
import { ConfirmDialog } from '../components/dialog.js';
import { ScanCell } from '../components/scan.js';
import { ago, bytes, count, exact, kindOf, platform } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import type { TagDetail, TagPage } from '../types.js';

const PAGE = 50;

export function RepositoryPage({ repo }: { repo: string }) {
  usePage(repo);
  const [last, setLast] = useState<string[]>([]);
  const cursor = last[last.length - 1];
  const page = useApi<TagPage>(`${repoPath(repo, 'tags')}?n=${PAGE}${cursor ? `&last=${encodeURIComponent(cursor)}` : ''}`);
  const [summary, setSummary] = useState<TagPage['summary']>();
  if (page.data?.summary && page.data.summary !== summary) setSummary(page.data.summary);
  const [deleting, setDeleting] = useState<TagDetail | undefined>();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const host = location.host;
  const toggle = (digest: string) => {
    const next = new Set(selected);
    if (next.has(digest)) next.delete(digest);
    else next.add(digest);
    setSelected(next);
  };
  const compare = new URLSearchParams({ compare: [...selected].map((d) => `${repo}@${d}`).join(',') });

  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.repositories()}>Repositories</a> <span aria-hidden="true">/</span> <span aria-current="page">{repo}</span>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>{repo}</h1>
        <p class="lead">
          Tags are names that point at an image by its digest; <a href={href.history(repo)}>the tag history</a> shows every move.
        </p>
      </div>
      {summary ? (
        <dl class="stats">
          <Stat label="Tags" value={summary.tags.toLocaleString('en')} hint={count(summary.manifests, 'manifest')} />
          <Stat label="Size of its images" value={bytes(summary.logicalBytes)} />
          <Stat label="Stored" value={bytes(summary.storedBytes)} hint="each layer once" />
          {summary.uniqueBytes !== undefined ? <Stat label="Unique to it" value={bytes(summary.uniqueBytes)} hint="freed if it is deleted" /> : null}
          <Stat label="Last push" value={ago(summary.lastPushed)} />
        </dl>
      ) : null}
      <Command text={`docker pull ${host}/${repo}:${page.data?.tags.find((t) => !t.attachment)?.tag ?? 'latest'}`} label="Copy the pull command" />
      <div class="tabs" role="navigation" aria-label="Repository views">
        <a href={href.repository(repo)} aria-current="page">
          Tags
        </a>
        <a href={href.history(repo)}>Tag history</a>
      </div>
      {page.error ? <ErrorNote error={page.error} what={`the tags of ${repo}`} /> : null}
      {page.loading && !page.data ? <Loading what="tags" /> : null}
      {page.data ? (
        <>
          <div class="table-wrap">
            <table class="list">
              <caption class="visually-hidden">Tags of {repo}</caption>
              <thead>
                <tr>
                  <th scope="col">
                    <span class="visually-hidden">Compare</span>
                  </th>
                  <th scope="col">Tag</th>
                  <th scope="col">Digest</th>
                  <th scope="col">Kind and platforms</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col">Pushed</th>
                  <th scope="col">Pulled</th>
                  <th scope="col">Signed</th>
                  {page.data.scanning ? <th scope="col">Scan</th> : null}
                  <th scope="col">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {page.data.tags.map((t) => (
                  <tr key={t.tag} class={t.attachment ? 'attachment' : undefined}>
                    <td>
                      <input type="checkbox" checked={selected.has(t.digest)} onChange={() => toggle(t.digest)} aria-label={`Compare the layers of ${t.tag}`} />
                    </td>
                    <th scope="row">
                      <a href={href.image(repo, t.digest)}>{t.tag}</a>
                      {t.attachment ? <span class="badge">attachment</span> : null}
                    </th>
                    <td>
                      <DigestLink repo={repo} digest={t.digest} />
                    </td>
                    <td>
                      {kindOf(t.mediaType, t.artifactType)}
                      {t.platforms.length ? <div class="muted small">{t.platforms.map(platform).join(', ')}</div> : null}
                    </td>
                    <td class="num">{bytes(t.logicalBytes)}</td>
                    <td>
                      <time title={exact(t.pushedAt)}>{ago(t.pushedAt)}</time>
                    </td>
                    <td>
                      <time title={exact(t.pulledAt)}>{ago(t.pulledAt)}</time>
                    </td>
                    <td>{t.signatures > 0 ? <span class="badge good">signed ({t.signatures})</span> : <span class="muted">no</span>}</td>
                    {t.scan ? (
                      <td>
                        <ScanCell scan={t.scan} />
                      </td>
                    ) : null}
                    <td class="actions">
                      <CopyButton text={`docker pull ${host}/${repo}:${t.tag}`} label={`Copy docker pull ${repo}:${t.tag}`} visible="Copy pull" />
                      <CopyButton text={`docker pull ${host}/${repo}@${t.digest}`} label={`Copy docker pull ${repo}@${t.digest}`} visible="by digest" />
                      {page.data!.permissions.delete ? (
                        <button type="button" class="danger small" onClick={() => setDeleting(t)} aria-label={`Delete tag ${t.tag}`}>
                          Delete
                        </button>
                      ) : null}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages of tags">
            {last.length ? (
              <button type="button" class="ghost" onClick={() => setLast(last.slice(0, -1))}>
                ← Previous tags
              </button>
            ) : (
              <span />
            )}
            {selected.size >= 1 ? (
              <a class="button" href={href.storage(compare)}>
                Compare layers of {selected.size} selected
              </a>
            ) : null}
            {page.next ? (
              <button type="button" class="ghost" onClick={() => setLast([...last, page.data!.tags[page.data!.tags.length - 1]!.tag])}>
                Next tags →
              </button>
            ) : null}
          </nav>
        </>
      ) : null}
      {deleting ? <DeleteTag repo={repo} tag={deleting} onClose={() => setDeleting(undefined)} onDeleted={() => (setDeleting(undefined), page.reload())} /> : null}
    </div>
  );
}

/** Deleting a tag removes the name only; the image stays while its digest or another tag names it. */
function DeleteTag({ repo, tag, onClose, onDeleted }: { repo: string; tag: TagDetail; onClose(): void; onDeleted(): void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const confirm = async () => {
    setBusy(true);
    try {
      await api(repoPath(repo, 'tags', tag.tag), { method: 'DELETE' });
      onDeleted();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
      setBusy(false);
    }
  };
  return (
    <ConfirmDialog title={`Delete tag ${tag.tag}?`} confirmLabel={`Delete tag ${tag.tag}`} busy={busy} error={error} onConfirm={confirm} onClose={onClose}>
      <p>
        <code>
          {repo}:{tag.tag}
        </code>{' '}
        will no longer resolve. The image <code>{tag.digest}</code> stays in the registry (by digest, and under any other tag) until it is deleted and garbage collected. The tag
        history keeps a record of this delete.
      </p>
    </ConfirmDialog>
  );
}
