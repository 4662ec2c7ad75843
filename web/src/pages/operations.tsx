import { useState } from 'preact/hooks';
import { api, ApiError } from '../api.js';
import { ErrorNote, Loading, Section } from '../components/bits.js';
import { ago, bytes, count, exact, shortDigest } from '../format.js';
import { usePage, useApi } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import type { DryRunSummary, OperationsReport } from '../types.js';

const hours = (ms: number) => (ms % 3600_000 === 0 ? count(ms / 3600_000, 'hour') : `${Math.round(ms / 60_000)} minutes`);

export function OperationsPage() {
  usePage('Operations');
  const session = useSession();
  const report = useApi<OperationsReport>(session.operator ? '/berth/v1/operations' : null);
  return (
    <div class="page">
      <div class="page-head">
        <h1 tabIndex={-1}>Operations</h1>
        <p class="lead">Garbage collection, retention, quotas and uploads in progress, for the whole registry.</p>
      </div>
      {!session.operator ? <p class="note">This page is for operators: accounts with the usage permission on every repository.</p> : null}
      {report.error ? <ErrorNote error={report.error} what="the operations report" /> : null}
      {session.operator && !report.data && !report.error ? <Loading what="the operations report" /> : null}
      {report.data ? (
        <>
          <GcSection report={report.data} onRan={report.reload} />
          <QuotaSection report={report.data} />
          <RetentionSection report={report.data} />
          <UploadsSection report={report.data} />
        </>
      ) : null}
    </div>
  );
}

function GcSection({ report, onRan }: { report: OperationsReport; onRan(): void }) {
  const [dry, setDry] = useState<DryRunSummary | undefined>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const run = async () => {
    setBusy(true);
    setError(undefined);
    try {
      setDry(await api<DryRunSummary>('/berth/v1/gc/dry-run', { method: 'POST' }));
      onRan();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
    setBusy(false);
  };
  return (
    <Section
      title="Garbage collection"
      actions={
        <button type="button" class="primary" onClick={run} disabled={busy}>
          {busy ? 'Running…' : 'Run a dry run'}
        </button>
      }
    >
      <p class="muted">
        Deleting an image removes its manifest; its layers are freed when garbage collection finds nothing else uses them, sparing anything written in the last{' '}
        {hours(report.gc.graceMs)}. {report.gc.deleteUntagged ? 'Untagged manifests are collected too.' : ''} A dry run shows what a run would remove now, and removes nothing.
      </p>
      {error ? (
        <p class="note error" role="alert">
          {error}
        </p>
      ) : null}
      {dry ? <DryRun dry={dry} /> : null}
      <h3>Recent runs</h3>
      {report.gcRuns.length === 0 ? (
        <p class="muted">No run recorded yet.</p>
      ) : (
        <table class="list">
          <caption class="visually-hidden">Garbage collection runs, newest first</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Kind</th>
              <th scope="col" class="num">
                Tags
              </th>
              <th scope="col" class="num">
                Manifests
              </th>
              <th scope="col" class="num">
                Blobs
              </th>
              <th scope="col" class="num">
                Freed
              </th>
            </tr>
          </thead>
          <tbody>
            {report.gcRuns.map((r) => (
              <tr key={r.startedAt}>
                <td>
                  <time title={exact(new Date(r.startedAt).toISOString())}>{ago(new Date(r.startedAt).toISOString())}</time>
                </td>
                <td>{r.dryRun ? 'dry run' : 'collection'}</td>
                <td class="num">{r.tagsRemoved}</td>
                <td class="num">{r.manifestsRemoved}</td>
                <td class="num">{r.blobsRemoved}</td>
                <td class="num">
                  {bytes(r.freedBytes)}
                  {r.dryRun ? ' (would)' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

function DryRun({ dry }: { dry: DryRunSummary }) {
  return (
    <div class="note" role="status">
      <p>
        <strong>A collection now would free {bytes(dry.freedBytes)}</strong> in {count(dry.blobs, 'blob')}, remove {count(dry.retentionTotal, 'tag')} by retention and{' '}
        {count(dry.manifestsTotal, 'untagged manifest')}.
      </p>
      {dry.retention.length ? (
        <>
          <h4>Retention would delete</h4>
          <ul class="inline">
            {dry.retention.map((r) => (
              <li key={`${r.repository}:${r.tag}`}>
                <a href={href.image(r.repository, r.digest)}>
                  {r.repository}:{r.tag}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {dry.manifests.length ? (
        <>
          <h4>Untagged manifests</h4>
          <ul class="inline">
            {dry.manifests.map((m) => (
              <li key={`${m.repository}@${m.digest}`}>
                <a href={href.image(m.repository, m.digest)}>
                  {m.repository}@{shortDigest(m.digest)}
                </a>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </div>
  );
}

function QuotaSection({ report }: { report: OperationsReport }) {
  return (
    <Section title="Quotas">
      {report.quotas.length === 0 ? (
        <p class="muted">No namespace has a quota (quotas: in the configuration).</p>
      ) : (
        <ul class="quotas">
          {report.quotas.map((q) => {
            const share = Math.min(100, Math.round((q.usedBytes / q.limitBytes) * 100));
            return (
              <li key={q.namespace}>
                <label for={`quota-${q.namespace}`}>
                  <strong>{q.namespace}</strong> {bytes(q.usedBytes)} of {bytes(q.limitBytes)} ({share}%)
                </label>
                <meter id={`quota-${q.namespace}`} min={0} max={q.limitBytes} low={q.limitBytes * 0.75} high={q.limitBytes * 0.9} optimum={0} value={q.usedBytes} />
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}

function RetentionSection({ report }: { report: OperationsReport }) {
  return (
    <Section title="Retention rules">
      {report.retention.length === 0 ? (
        <p class="muted">No retention rule: tags stay until someone deletes them.</p>
      ) : (
        <ul>
          {report.retention.map((r, i) => (
            <li key={i}>
              <code>{r.repositories}</code>: {r.keepLast !== undefined ? `keep the newest ${r.keepLast}` : ''}
              {r.keepLast !== undefined && r.olderThanMs !== undefined ? ', ' : ''}
              {r.olderThanMs !== undefined ? `delete tags older than ${hours(r.olderThanMs)}` : ''}
              {r.keepTags.length ? `; never ${r.keepTags.join(', ')}` : ''}
            </li>
          ))}
        </ul>
      )}
      <p class="muted">The dry run above lists what the rules would delete now.</p>
    </Section>
  );
}

function UploadsSection({ report }: { report: OperationsReport }) {
  return (
    <Section title="Uploads in progress">
      {report.uploads.length === 0 ? (
        <p class="muted">No upload in progress.</p>
      ) : (
        <table class="list">
          <caption class="visually-hidden">Upload sessions, most recently active first</caption>
          <thead>
            <tr>
              <th scope="col">Repository</th>
              <th scope="col" class="num">
                Received
              </th>
              <th scope="col">By</th>
              <th scope="col">Started</th>
              <th scope="col">Last chunk</th>
            </tr>
          </thead>
          <tbody>
            {report.uploads.map((u) => (
              <tr key={u.id}>
                <td>{u.repository}</td>
                <td class="num">{bytes(u.bytes)}</td>
                <td>{u.owner ?? `anonymous (${u.client ?? 'unknown address'})`}</td>
                <td>{ago(u.createdAt)}</td>
                <td>{ago(u.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {report.uploadsTotal > report.uploads.length ? <p class="muted">and {report.uploadsTotal - report.uploads.length} more.</p> : null}
    </Section>
  );
}
