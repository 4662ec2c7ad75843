import { useEffect, useState } from 'preact/hooks';
import { Command, ErrorNote, Loading } from '../components/bits.js';
import { ago, bytes, count, exact } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import type { RepositoryList, RepositorySummary } from '../types.js';

const PAGE = 50;

interface Column {
  key: string;
  label: string;
  /** The API's sort key, if the column sorts. */
  sort?: string;
  operatorOnly?: boolean;
  cell(r: RepositorySummary): preact.ComponentChildren;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: 'name', label: 'Repository', sort: 'name', cell: (r) => <a href={href.repository(r.name)}>{r.name}</a> },
  { key: 'tags', label: 'Tags', sort: 'tags', numeric: true, cell: (r) => r.tags.toLocaleString('en') },
  { key: 'size', label: 'Size', sort: 'size', numeric: true, cell: (r) => <span title="the sum of its images, as if nothing were shared">{bytes(r.logicalBytes)}</span> },
  { key: 'stored', label: 'Stored', sort: 'stored', numeric: true, cell: (r) => <span title="distinct bytes it holds">{bytes(r.storedBytes)}</span> },
  {
    key: 'unique',
    label: 'Unique',
    sort: 'unique',
    operatorOnly: true,
    numeric: true,
    cell: (r) => (r.uniqueBytes === undefined ? <span title="needs the usage permission">—</span> : <span title="held by no other repository: what deleting it frees">{bytes(r.uniqueBytes)}</span>),
  },
  { key: 'pushed', label: 'Last push', sort: 'pushed', cell: (r) => <time title={exact(r.lastPushed)}>{ago(r.lastPushed)}</time> },
  { key: 'pulled', label: 'Last pull', sort: 'pulled', cell: (r) => <time title={exact(r.lastPulled)}>{ago(r.lastPulled)}</time> },
];

export function RepositoriesPage({ params }: { params: URLSearchParams }) {
  usePage('Repositories');
  const session = useSession();
  const q = params.get('q') ?? '';
  const sort = params.get('sort') ?? 'name';
  const order = params.get('order') ?? (sort === 'name' ? 'asc' : 'desc');
  const offset = Number(params.get('offset') ?? 0) || 0;
  const [search, setSearch] = useState(q);
  useEffect(() => setSearch(q), [q]);
  const query = new URLSearchParams({ sort, order, n: String(PAGE), offset: String(offset), ...(q ? { q } : {}) });
  const list = useApi<RepositoryList>(`/berth/v1/repositories?${query.toString()}`);
  const go = (changes: Record<string, string>, replace = false) => {
    const next = Object.fromEntries(Object.entries({ q, sort, order, ...changes }).filter(([, v]) => v !== ''));
    const target = href.repositories(next);
    if (replace) location.replace(target);
    else location.hash = target;
  };
  useEffect(() => {
    if (search === q) return;
    const t = setTimeout(() => go({ q: search.trim() }, true), 250);
    return () => clearTimeout(t);
  }, [search]);
  const columns = COLUMNS.filter((c) => !c.operatorOnly || session.operator);
  const nextOffset = list.next ? new URLSearchParams(list.next.split('?')[1]).get('offset') : null;
  const rows = list.data?.repositories ?? [];

  return (
    <div class="page">
      <div class="page-head">
        <h1 tabIndex={-1}>Repositories</h1>
        <p class="lead">
          {list.data?.total !== undefined ? `${count(list.data.total, 'repository', 'repositories')} in this registry. ` : ''}
          Each holds the tags and images pushed under one name. Select one to see its tags, layers and history.
        </p>
      </div>
      <form class="toolbar" role="search" onSubmit={(e) => (e.preventDefault(), go({ q: search.trim(), offset: '' }))}>
        <label for="repo-search">Search repositories</label>
        <input id="repo-search" type="search" value={search} placeholder="name contains…" onInput={(e) => setSearch((e.target as HTMLInputElement).value)} autoComplete="off" />
        <label for="repo-sort">Sort by</label>
        <select id="repo-sort" value={sort} onChange={(e) => go({ sort: (e.target as HTMLSelectElement).value, order: '', offset: '' })}>
          {columns
            .filter((c) => c.sort)
            .map((c) => (
              <option key={c.key} value={c.sort}>
                {c.label}
              </option>
            ))}
        </select>
        <button type="button" class="ghost" onClick={() => go({ order: order === 'asc' ? 'desc' : 'asc', offset: '' })} aria-label={`Order: ${order === 'asc' ? 'ascending' : 'descending'}; switch`}>
          {order === 'asc' ? '↑ ascending' : '↓ descending'}
        </button>
      </form>
      {list.error ? <ErrorNote error={list.error} what="the repositories" /> : null}
      {list.loading && !list.data ? <Loading what="repositories" /> : null}
      {list.data && rows.length === 0 ? <Empty searching={q !== ''} loggedIn={session.user !== null} canLogin={session.canLogin} /> : null}
      {rows.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-busy={list.loading}>
            <caption class="visually-hidden">Repositories, sorted by {sort}, {order === 'asc' ? 'ascending' : 'descending'}</caption>
            <thead>
              <tr>
                {columns.map((c) => (
                  <th key={c.key} scope="col" class={c.numeric ? 'num' : undefined} aria-sort={c.sort === sort ? (order === 'asc' ? 'ascending' : 'descending') : undefined}>
                    {c.sort ? (
                      <button type="button" class="sort" onClick={() => go({ sort: c.sort!, order: c.sort === sort && order === 'asc' ? 'desc' : c.sort === sort ? 'asc' : '', offset: '' })}>
                        {c.label}
                        <span aria-hidden="true">{c.sort === sort ? (order === 'asc' ? ' ▲' : ' ▼') : ''}</span>
                      </button>
                    ) : (
                      c.label
                    )}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{grouped(rows, sort === 'name', columns)}</tbody>
          </table>
        </div>
      ) : null}
      <nav class="pager" aria-label="Pages of repositories">
        {offset > 0 ? <a href={href.repositories(Object.fromEntries(Object.entries({ q, sort, order }).filter(([, v]) => v)))}>← First page</a> : <span />}
        {nextOffset ? <a href={href.repositories(Object.fromEntries(Object.entries({ q, sort, order, offset: nextOffset }).filter(([, v]) => v)))}>Next page →</a> : null}
      </nav>
    </div>
  );
}

/** Rows under a heading per namespace (the first part of the name) when listed by name. */
function grouped(rows: RepositorySummary[], byName: boolean, columns: Column[]) {
  const out: preact.ComponentChildren[] = [];
  let namespace: string | undefined;
  for (const r of rows) {
    const ns = r.name.includes('/') ? r.name.slice(0, r.name.indexOf('/')) : '(top level)';
    if (byName && ns !== namespace) {
      namespace = ns;
      out.push(
        <tr class="group" key={`ns-${ns}`}>
          <th scope="colgroup" colSpan={columns.length}>
            {ns}
          </th>
        </tr>,
      );
    }
    out.push(
      <tr key={r.name}>
        {columns.map((c) => (
          <td key={c.key} class={c.numeric ? 'num' : undefined}>
            {c.cell(r)}
          </td>
        ))}
      </tr>,
    );
  }
  return out;
}

function Empty({ searching, loggedIn, canLogin }: { searching: boolean; loggedIn: boolean; canLogin: boolean }) {
  if (searching) return <p class="note">No repository you may see matches this search.</p>;
  return (
    <div class="note">
      <p>
        <strong>No repositories to show{loggedIn ? '' : ' yet'}.</strong> {!loggedIn && canLogin ? <a href={href.login(location.hash)}>Log in</a> : null}
        {!loggedIn && canLogin ? ' to see the repositories your account may pull, or push an image:' : ' Push an image to see it here:'}
      </p>
      <Command text={`skopeo copy docker://docker.io/library/alpine:latest docker://${location.host}/library/alpine:latest --dest-tls-verify=false`} label="Copy the push command" />
    </div>
  );
}
