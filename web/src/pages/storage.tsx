import { useMemo, useState } from 'preact/hooks';
import { api, ApiError, repoPath } from '../api.js';
import { ErrorNote, Loading, Section, Stat } from '../components/bits.js';
import { BarChart, colourOf, type Series } from '../components/bar-chart.js';
import { bytes, count, shortDigest } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import type { LayerSet, RepositoryList, UsageTotals } from '../types.js';

const BIGGEST = 10;

export function StoragePage({ params }: { params: URLSearchParams }) {
  usePage('Storage');
  const session = useSession();
  const compare = (params.get('compare') ?? '').split(',').filter(Boolean);
  return (
    <div class="page">
      <div class="page-head">
        <h1 tabIndex={-1}>Storage</h1>
        <p class="lead">
          The registry stores each layer once, by its digest, however many images use it. So the images add up to more than the disk holds, and deleting an image frees only what
          no other image uses.
        </p>
      </div>
      {session.operator ? <Totals /> : null}
      <Biggest operator={session.operator} />
      <Compare images={compare} />
    </div>
  );
}

function Totals() {
  const usage = useApi<UsageTotals>('/berth/v1/usage?n=0');
  if (usage.error) return <ErrorNote error={usage.error} what="the registry totals" />;
  if (!usage.data) return <Loading what="the totals" />;
  const { storedBytes = 0, logicalBytes = 0, storedObjects = 0 } = usage.data;
  const saved = Math.max(0, logicalBytes - storedBytes);
  const series: Series[] = [{ label: 'Bytes', values: [logicalBytes, storedBytes, saved], color: ['hsl(211 60% 62%)', 'hsl(211 70% 45%)', 'hsl(145 55% 40%)'] }];
  return (
    <Section title="Disk used and what sharing saves">
      <dl class="stats">
        <Stat label="Sum of image sizes" value={bytes(logicalBytes)} hint="a layer used by N images counted N times" />
        <Stat label="Disk used" value={bytes(storedBytes)} hint={`${count(storedObjects, 'blob')}, each stored once`} />
        <Stat label="Saved by sharing" value={bytes(saved)} hint={logicalBytes ? `${Math.round((saved / logicalBytes) * 100)}% of the sum` : undefined} />
      </dl>
      <BarChart
        labels={['Sum of image sizes', 'Disk used', 'Saved by sharing']}
        series={series}
        stacked={false}
        legend={false}
        label={`Images add up to ${bytes(logicalBytes)}; the registry stores ${bytes(storedBytes)}; sharing saves ${bytes(saved)}.`}
      />
    </Section>
  );
}

function Biggest({ operator }: { operator: boolean }) {
  const sort = operator ? 'unique' : 'stored';
  const list = useApi<RepositoryList>(`/berth/v1/repositories?sort=${sort}&order=desc&n=${BIGGEST}`);
  const rows = list.data?.repositories ?? [];
  const series = useMemo<Series[]>(
    () =>
      operator
        ? [
            { label: 'Unique (freed if deleted)', values: rows.map((r) => r.uniqueBytes ?? 0), color: 'hsl(14 75% 52%)' },
            { label: 'Shared with others', values: rows.map((r) => r.sharedBytes ?? 0), color: 'hsl(211 60% 62%)' },
          ]
        : [{ label: 'Stored', values: rows.map((r) => r.storedBytes), color: 'hsl(211 70% 50%)' }],
    [list.data],
  );
  const labels = useMemo(() => rows.map((r) => r.name), [list.data]);
  return (
    <Section title={operator ? 'Biggest repositories by unique bytes' : 'Biggest repositories you can see'}>
      {list.error ? <ErrorNote error={list.error} what="the repositories" /> : null}
      {!list.data && !list.error ? <Loading what="the repositories" /> : null}
      {rows.length ? (
        <>
          <BarChart labels={labels} series={series} stacked={true} label={`The ${rows.length} biggest repositories by ${sort} bytes; the table below has the numbers.`} />
          <table class="list">
            <caption class="visually-hidden">Biggest repositories</caption>
            <thead>
              <tr>
                <th scope="col">Repository</th>
                <th scope="col" class="num">
                  Stored
                </th>
                {operator ? (
                  <th scope="col" class="num">
                    Unique
                  </th>
                ) : null}
                {operator ? (
                  <th scope="col" class="num">
                    Shared
                  </th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row">
                    <a href={href.repository(r.name)}>{r.name}</a>
                  </th>
                  <td class="num">{bytes(r.storedBytes)}</td>
                  {operator ? <td class="num">{bytes(r.uniqueBytes)}</td> : null}
                  {operator ? <td class="num">{bytes(r.sharedBytes)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : list.data ? (
        <p class="muted">No repositories yet.</p>
      ) : null}
    </Section>
  );
}

/** The "layered cakes": one bar per image, one segment per layer, a shared layer the same colour in every bar. */
function Compare({ images }: { images: string[] }) {
  const query = images.map((i) => `image=${encodeURIComponent(i)}`).join('&');
  const sets = useApi<{ images: LayerSet[] }>(images.length ? `/berth/v1/sharing?${query}` : null);
  const [adding, setAdding] = useState('');
  const [addError, setAddError] = useState<string | undefined>();
  const add = async (e: Event) => {
    e.preventDefault();
    setAddError(undefined);
    const m = /^([a-z0-9][a-z0-9._/-]*):([A-Za-z0-9_][A-Za-z0-9._-]*)$/.exec(adding.trim());
    if (!m) return setAddError('Write it as repository:tag, for example team/app:1.0');
    try {
      const h = await api<{ current: string | null }>(repoPath(m[1]!, 'tags', m[2]!, 'history'));
      if (!h.current) return setAddError(`${adding} was deleted`);
      location.hash = href.storage(new URLSearchParams({ compare: [...images, `${m[1]}@${h.current}`].join(',') }));
      setAdding('');
    } catch (err) {
      setAddError(err instanceof ApiError ? err.message : String(err));
    }
  };
  const chart = useMemo(() => (sets.data ? layerChart(sets.data.images) : undefined), [sets.data]);
  return (
    <Section title="Which layers images share">
      <p class="muted">
        Pick images (tick them in a repository's tag list, or add them here) to see their layers side by side. A layer in several bars is stored once.
      </p>
      <form class="toolbar" onSubmit={add}>
        <label for="compare-add">Add an image</label>
        <input id="compare-add" value={adding} placeholder="repository:tag" onInput={(e) => setAdding((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary">
          Add
        </button>
        {images.length ? (
          <a class="button ghost" href={href.storage()}>
            Clear
          </a>
        ) : null}
      </form>
      {addError ? (
        <p class="note error" role="alert">
          {addError}
        </p>
      ) : null}
      {sets.error ? <ErrorNote error={sets.error} what="the layers" /> : null}
      {images.length && !sets.data && !sets.error ? <Loading what="the layers" /> : null}
      {chart ? (
        <>
          <BarChart labels={chart.labels} series={chart.series} stacked={true} legend={false} label={chart.summary} />
          <p>{chart.summary}</p>
          <LayerMatrix sets={sets.data!.images} />
        </>
      ) : null}
    </Section>
  );
}

function layerChart(sets: LayerSet[]) {
  const labels = sets.map((s) => `${s.repository}${s.tags[0] ? `:${s.tags[0]}` : `@${shortDigest(s.digest)}`}`);
  const order: string[] = [];
  const size = new Map<string, number>();
  const users = new Map<string, number[]>();
  sets.forEach((s, i) =>
    s.layers.forEach((l) => {
      if (!size.has(l.digest)) order.push(l.digest);
      size.set(l.digest, l.size);
      users.set(l.digest, [...new Set([...(users.get(l.digest) ?? []), i])]);
    }),
  );
  const series: Series[] = order.map((d, i) => ({
    label: shortDigest(d),
    values: sets.map((s) => (s.layers.some((l) => l.digest === d) ? size.get(d)! : 0)),
    color: colourOf(d, i),
    note: () => `in ${count(users.get(d)!.length, 'image')}`,
  }));
  const sum = sets.reduce((n, s) => n + s.layers.reduce((m, l) => m + l.size, 0), 0);
  const stored = [...size.values()].reduce((n, v) => n + v, 0);
  const shared = order.filter((d) => users.get(d)!.length > 1).length;
  const summary = `These ${count(sets.length, 'image')} have ${count(order.length, 'distinct layer')}, ${shared} of them shared: their layers add up to ${bytes(sum)}, stored as ${bytes(stored)}.`;
  return { labels, series, summary };
}

function LayerMatrix({ sets }: { sets: LayerSet[] }) {
  const layers = [...new Map(sets.flatMap((s) => s.layers.map((l) => [l.digest, l.size] as const))).entries()];
  return (
    <div class="table-wrap">
      <table class="list matrix">
        <caption>Layers (rows) in each image (columns)</caption>
        <thead>
          <tr>
            <th scope="col">Layer</th>
            <th scope="col" class="num">
              Size
            </th>
            {sets.map((s) => (
              <th key={`${s.repository}@${s.digest}`} scope="col">
                <a href={href.image(s.repository, s.digest)}>
                  {s.repository}
                  {s.tags[0] ? `:${s.tags[0]}` : ''}
                </a>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {layers.map(([digest, size]) => (
            <tr key={digest}>
              <th scope="row">
                <code title={digest}>{shortDigest(digest)}</code>
              </th>
              <td class="num">{bytes(size)}</td>
              {sets.map((s) => (
                <td key={s.digest + s.repository}>{s.layers.some((l) => l.digest === digest) ? <span aria-label="contains this layer">●</span> : <span aria-label="does not contain it" class="muted">·</span>}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
      {sets.some((s) => s.index) ? <p class="muted">A multi-platform index has no layers of its own: compare one of its platforms' images.</p> : null}
    </div>
  );
}
