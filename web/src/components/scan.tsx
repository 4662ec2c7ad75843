import { Fragment } from 'preact';
import { repoPath } from '../api.js';
import { ago, count, exact } from '../format.js';
import type { ScanState, ScanSummary, Severity, SeverityCounts } from '../types.js';
import { Section } from './bits.js';

/** Most severe first, as the scanner ranks them. */
const SEVERITIES: Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
const TONE: Record<Severity, string> = { CRITICAL: 'bad', HIGH: 'bad', MEDIUM: 'warn', LOW: '', UNKNOWN: '' };

/** Why there are no counts yet, in a few words. */
const WAITING: Record<Exclude<ScanState['state'], 'scanned'>, string> = {
  queued: 'scanning…',
  running: 'scanning…',
  retrying: 'scanning (retrying)…',
  failed: 'scan failed',
  none: 'not scanned',
  'not-an-image': '—',
};

/** The same, as the image page says it. */
const PROGRESS: Record<Exclude<ScanState['state'], 'scanned' | 'not-an-image'>, string> = {
  queued: 'Its scan is queued.',
  running: 'Its scan is running.',
  retrying: 'Its scan failed and runs again shortly.',
  failed: 'Its scan failed and was given up.',
  none: 'It has not been scanned (it was pushed while scanning was off: push it again).',
};

const total = (c: SeverityCounts): number => SEVERITIES.reduce((n, s) => n + c[s], 0);

/** One badge per severity found, most severe first. */
function Counts({ counts }: { counts: SeverityCounts }) {
  return (
    <>
      {SEVERITIES.filter((s) => counts[s] > 0).map((s) => (
        <Fragment key={s}>
          <span class={`badge ${TONE[s]}`}>
            {counts[s]} {s.toLowerCase()}
          </span>{' '}
        </Fragment>
      ))}
    </>
  );
}

function Findings({ summary }: { summary: Omit<ScanSummary, 'worst'> }) {
  const secrets = total(summary.secrets);
  return (
    <>
      {total(summary.vulnerabilities) ? <Counts counts={summary.vulnerabilities} /> : <span class="badge good">no known vulnerabilities</span>}
      {secrets ? <span class="badge bad">{count(secrets, 'secret')}</span> : null}{' '}
      {summary.complete ? null : <span class="badge warn">incomplete</span>}
    </>
  );
}

/** A tag list's cell: counts by severity and secrets flagged, or how far the scan got. */
export function ScanCell({ scan }: { scan: ScanState }) {
  if (scan.state !== 'scanned') return <span class="muted">{WAITING[scan.state]}</span>;
  return (
    <span title={`Scanned ${exact(scan.scannedAt)}`}>
      <Findings summary={scan.summary} />
    </span>
  );
}

/** The image page's scan: when and with what database, counts, the worst findings, secrets by where they are (never what). */
export function ScanSection({ repo, digest, scan }: { repo: string; digest: string; scan: ScanState }) {
  if (scan.state === 'not-an-image') return null;
  if (scan.state !== 'scanned') {
    return (
      <Section title="Vulnerabilities and secrets">
        <p class="muted">
          {PROGRESS[scan.state]} <a href={repoPath(repo, 'manifests', digest, 'scan')}>The scan API</a> says more.
        </p>
      </Section>
    );
  }
  const { summary } = scan;
  const worst = summary.worst ?? { vulnerabilities: [], secrets: [] };
  const vulnerabilities = total(summary.vulnerabilities);
  return (
    <Section title="Vulnerabilities and secrets" actions={<a href={repoPath(repo, 'manifests', digest, 'scan')}>Full report (JSON)</a>}>
      <p>
        Scanned <time title={exact(scan.scannedAt)}>{ago(scan.scannedAt)}</time>
        {scan.database.updatedAt ? (
          <>
            {' '}
            with the vulnerability database of <time title={exact(scan.database.updatedAt)}>{exact(scan.database.updatedAt)}</time>
          </>
        ) : null}
        : {count(summary.packages, 'package')}
        {summary.os ? ` on ${summary.os}` : ''}, {count(vulnerabilities, 'vulnerability', 'vulnerabilities')}
        {vulnerabilities ? ` (${summary.fixable.toLocaleString('en')} with a fix)` : ''}.
      </p>
      <p>
        <Findings summary={summary} />
      </p>
      {worst.vulnerabilities.length ? (
        <div class="table-wrap">
          <table class="list">
            <caption>{worst.vulnerabilities.length < vulnerabilities ? `The ${worst.vulnerabilities.length} most severe vulnerabilities` : 'Vulnerabilities'}</caption>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Advisory</th>
                <th scope="col">Package</th>
                <th scope="col">Installed</th>
                <th scope="col">Fixed in</th>
              </tr>
            </thead>
            <tbody>
              {worst.vulnerabilities.map((v) => (
                <tr key={`${v.id} ${v.package} ${v.installed}`}>
                  <td>
                    <span class={`badge ${TONE[v.severity]}`}>{v.severity.toLowerCase()}</span>
                  </td>
                  <th scope="row">{v.id}</th>
                  <td>{v.package}</td>
                  <td>
                    <code>{v.installed}</code>
                  </td>
                  <td>{v.fixed ? <code>{v.fixed}</code> : <span class="muted">no fix yet</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {worst.secrets.length ? (
        <div class="table-wrap">
          <table class="list">
            <caption>Secrets (where they are; the report never holds what they are)</caption>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Rule</th>
                <th scope="col">File and layer</th>
              </tr>
            </thead>
            <tbody>
              {worst.secrets.map((s) => (
                <tr key={`${s.rule} ${s.where}`}>
                  <td>
                    <span class={`badge ${TONE[s.severity]}`}>{s.severity.toLowerCase()}</span>
                  </td>
                  <th scope="row">{s.rule}</th>
                  <td>{s.where}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {summary.complete ? null : <p class="note">The scan stopped at a limit before reading the whole image: findings may be missing.</p>}
    </Section>
  );
}
