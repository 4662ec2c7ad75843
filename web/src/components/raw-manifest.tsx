import { useMemo, useState } from 'preact/hooks';
import { bytes } from '../format.js';
import { href } from '../router.js';

/** Lines rendered at a time: a 4 MiB manifest has a hundred thousand, and the page must stay responsive. */
const CHUNK = 1000;
const DIGEST = /(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})/g;

/**
 * The manifest as stored, loaded when opened, pretty-printed, a chunk of
 * lines at a time. Digests of manifests link to their page; any other digest
 * (config, layers) jumps to its row in the layer table when it has one.
 */
export function RawManifest({ repo, digest, size, load }: { repo: string; digest: string; size: number; load(): Promise<string> }) {
  const [text, setText] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  // Closed, the section fetches nothing, so it must not claim to be loading (a screen reader would announce it).
  const [asked, setAsked] = useState(false);
  const [shown, setShown] = useState(CHUNK);
  const { lines, manifests } = useMemo(() => parsed(text), [text]);
  const open = () => {
    setAsked(true);
    if (text === undefined) load().then(setText, (e: unknown) => setError((e as Error).message));
  };
  return (
    <details onToggle={(e) => (e.target as HTMLDetailsElement).open && open()}>
      <summary>
        Show the manifest as stored ({bytes(size)}, digest <code>{digest.slice(0, 19)}…</code>)
      </summary>
      {error ? <p class="note error">{error}</p> : null}
      {asked && text === undefined && !error ? <p class="loading">Loading…</p> : null}
      {text !== undefined ? (
        <>
          <pre class="raw" tabIndex={0} aria-label="Manifest JSON">
            {lines.slice(0, shown).map((l, i) => (
              <Line key={i} line={l} repo={repo} manifests={manifests} />
            ))}
          </pre>
          {shown < lines.length ? (
            <p>
              <span class="muted">
                Showing {shown.toLocaleString('en')} of {lines.length.toLocaleString('en')} lines.{' '}
              </span>
              <button type="button" class="ghost" onClick={() => setShown(shown + CHUNK * 10)}>
                Show more lines
              </button>
            </p>
          ) : null}
        </>
      ) : null}
    </details>
  );
}

function Line({ line, repo, manifests }: { line: string; repo: string; manifests: Set<string> }) {
  const parts = line.split(DIGEST);
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 0 ? (
          p
        ) : manifests.has(p) ? (
          <a key={i} href={href.image(repo, p)}>
            {p}
          </a>
        ) : (
          <button key={i} type="button" class="link" onClick={() => jumpToLayer(p)} title="Show this layer in the table">
            {p}
          </button>
        ),
      )}
      {'\n'}
    </>
  );
}

function jumpToLayer(digest: string) {
  const row = document.getElementById(`layer-${digest}`);
  row?.scrollIntoView({ block: 'center' });
  row?.classList.add('flash');
  setTimeout(() => row?.classList.remove('flash'), 1500);
}

/** Pretty-printed lines, and the digests the manifest names as manifests (an index's children, a subject). */
function parsed(text: string | undefined): { lines: string[]; manifests: Set<string> } {
  const manifests = new Set<string>();
  if (text === undefined) return { lines: [], manifests };
  try {
    const m = JSON.parse(text) as { manifests?: { digest?: string }[]; subject?: { digest?: string } };
    for (const c of m.manifests ?? []) if (c.digest) manifests.add(c.digest);
    if (m.subject?.digest) manifests.add(m.subject.digest);
    return { lines: JSON.stringify(m, null, 2).split('\n'), manifests };
  } catch {
    return { lines: text.split('\n'), manifests };
  }
}
