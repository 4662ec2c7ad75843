import { useState } from 'preact/hooks';
import { repoPath } from '../api.js';
import { DigestLink, ErrorNote, Loading } from '../components/bits.js';
import { ago, exact } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import type { TagMove } from '../types.js';

const PAGE = 50;

interface TagHistory {
  tag: string;
  current: string | null;
  immutable: boolean;
  moves: TagMove[];
}

export function HistoryPage({ repo, tag }: { repo: string; tag: string | null }) {
  usePage(`Tag history of ${repo}`);
  return (
    <div class="page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={href.repositories()}>Repositories</a> <span aria-hidden="true">/</span> <a href={href.repository(repo)}>{repo}</a> <span aria-hidden="true">/</span>{' '}
        <span aria-current="page">tag history</span>
      </nav>
      <div class="page-head">
        <h1 tabIndex={-1}>Tag history of {repo}</h1>
        <p class="lead">
          A tag is an alias for a digest. Pushing under the same tag again moves it to the new digest; the image it pointed at before is still there by its digest. Every move is
          recorded, with who made it.
        </p>
      </div>
      <div class="tabs" role="navigation" aria-label="Repository views">
        <a href={href.repository(repo)}>Tags</a>
        <a href={href.history(repo)} aria-current="page">
          Tag history
        </a>
      </div>
      {tag ? <OneTag repo={repo} tag={tag} /> : <AllTags repo={repo} />}
    </div>
  );
}

function AllTags({ repo }: { repo: string }) {
  const [before, setBefore] = useState<string[]>([]);
  const cursor = before[before.length - 1];
  const h = useApi<{ moves: (TagMove & { id: number; tag: string })[] }>(`${repoPath(repo, 'tag-history')}?n=${PAGE}${cursor ? `&before=${cursor}` : ''}`);
  if (h.error) return <ErrorNote error={h.error} what="the tag history" />;
  if (!h.data) return <Loading what="the tag history" />;
  return (
    <>
      <Timeline repo={repo} moves={h.data.moves} />
      <nav class="pager" aria-label="Pages of history">
        {before.length ? (
          <button type="button" class="ghost" onClick={() => setBefore(before.slice(0, -1))}>
            ← Newer moves
          </button>
        ) : (
          <span />
        )}
        {h.next ? (
          <button type="button" class="ghost" onClick={() => setBefore([...before, String(h.data!.moves[h.data!.moves.length - 1]!.id)])}>
            Older moves →
          </button>
        ) : null}
      </nav>
    </>
  );
}

function OneTag({ repo, tag }: { repo: string; tag: string }) {
  const h = useApi<TagHistory>(repoPath(repo, 'tags', tag, 'history'));
  if (h.error) return <ErrorNote error={h.error} what={`the history of ${tag}`} />;
  if (!h.data) return <Loading what="the tag history" />;
  return (
    <>
      <p>
        Only <code>{tag}</code> ({h.data.current ? 'now points at ' : 'deleted'}
        {h.data.current ? <DigestLink repo={repo} digest={h.data.current} /> : null}
        {h.data.immutable ? ', immutable' : ''}). <a href={href.history(repo)}>Show every tag</a>
      </p>
      <Timeline repo={repo} moves={[...h.data.moves].reverse().map((m) => ({ ...m, tag }))} />
    </>
  );
}

export function Timeline({ repo, moves }: { repo: string; moves: TagMove[] }) {
  if (moves.length === 0) return <p class="muted">No tag has moved yet.</p>;
  return (
    <ol class="timeline" aria-label="Tag moves, newest first">
      {moves.map((m, i) => (
        <li key={m.id ?? i} class={m.to === null ? 'deleted' : m.from === null ? 'created' : 'moved'}>
          <time dateTime={m.at} title={exact(m.at)}>
            {ago(m.at)}
          </time>
          <div>
            <strong>
              <a href={href.history(repo, m.tag)}>{m.tag}</a>
            </strong>{' '}
            {m.from === null ? (
              <>
                created, pointing at <Target repo={repo} digest={m.to} />
              </>
            ) : m.to === null ? (
              <>
                deleted (it pointed at <Target repo={repo} digest={m.from} />)
              </>
            ) : (
              <>
                moved from <Target repo={repo} digest={m.from} /> to <Target repo={repo} digest={m.to} />
              </>
            )}
            <div class="muted small">by {m.actor ?? 'anonymous'}</div>
          </div>
        </li>
      ))}
    </ol>
  );
}

const Target = ({ repo, digest }: { repo: string; digest: string | null }) => (digest ? <DigestLink repo={repo} digest={digest} /> : <span>nothing</span>);
