import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiError } from '../api.js';
import { shortDigest } from '../format.js';
import { href } from '../router.js';

/** Copies `text`; says so for a moment, also to screen readers. */
export function CopyButton({ text, label, visible = 'Copy' }: { text: string; label: string; visible?: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    await navigator.clipboard.writeText(text);
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return (
    <button type="button" class="copy" onClick={copy} aria-label={label} title={label}>
      <span aria-hidden="true">{done ? 'Copied' : visible}</span>
      <span class="visually-hidden" aria-live="polite">
        {done ? 'Copied' : ''}
      </span>
    </button>
  );
}

/** A short digest that links to its image page and copies in full. */
export function DigestLink({ repo, digest }: { repo: string; digest: string }) {
  return (
    <span class="digest">
      <a href={href.image(repo, digest)} title={digest}>
        <code>{shortDigest(digest)}</code>
      </a>
      <CopyButton text={digest} label={`Copy digest ${digest}`} />
    </span>
  );
}

/** A command to paste into a terminal, with its copy button. */
export function Command({ text, label }: { text: string; label: string }) {
  return (
    <div class="command">
      <code>{text}</code>
      <CopyButton text={text} label={label} />
    </div>
  );
}

export function ErrorNote({ error, what }: { error: ApiError; what: string }) {
  const hint =
    error.status === 403 ? 'Your account may not see it.' : error.status === 404 ? 'It does not exist, or you may not see it.' : '';
  return (
    <div class="note error" role="alert">
      <strong>Could not load {what}.</strong> {error.message} {hint}
    </div>
  );
}

export const Loading = ({ what }: { what: string }) => (
  <p class="loading" role="status">
    Loading {what}…
  </p>
);

export function Section({ title, children, id, actions }: { title: string; children: ComponentChildren; id?: string; actions?: ComponentChildren }) {
  const headingId = `${id ?? title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <div class="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div class="stat">
      <dt>{label}</dt>
      <dd>
        {value}
        {hint ? <span class="hint">{hint}</span> : null}
      </dd>
    </div>
  );
}

/** Key/value pairs of attacker-controlled text (labels, annotations, env): shown as text, never markup. */
export function Pairs({ entries, caption }: { entries: [string, string][]; caption: string }) {
  if (entries.length === 0) return <p class="muted">None.</p>;
  return (
    <table class="pairs">
      <caption class="visually-hidden">{caption}</caption>
      <tbody>
        {entries.map(([k, v]) => (
          <tr key={k}>
            <th scope="row">
              <code>{k}</code>
            </th>
            <td>
              <code class="wrap">{v}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
