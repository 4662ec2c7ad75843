import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDigest } from '../../src/oci/digest.js';
import { boundReport } from '../../src/scan/bounded-report.js';
import type { Vulnerability } from '../../src/scan/match.js';
import type { ScanReport } from '../../src/scan/report.js';
import type { Severity } from '../../src/scan/severity.js';

const digest = parseDigest(`sha256:${'a'.repeat(64)}`);

function vulnerability(id: string, severity: Severity): Vulnerability {
  return {
    id,
    aliases: [],
    package: { name: 'semver', version: '7.5.1', purl: 'pkg:npm/semver@7.5.1', path: 'app/node_modules/semver/package.json', layer: 2 },
    installed: '7.5.1',
    severity,
    severitySource: 'advisory',
    title: `${severity} finding`,
    url: `https://osv.dev/vulnerability/${id}`,
  };
}

function report(vulnerabilities: Vulnerability[]): ScanReport {
  return { artifact: { name: 'prod/app', digest }, results: [{ target: 'Node.js', kind: 'node-pkg', vulnerabilities }], secrets: [], ignored: [], warnings: [], complete: true };
}

describe('the report the registry keeps', () => {
  test('is whole when it fits, and names no repository', () => {
    const json = boundReport(report([vulnerability('GHSA-c2qf-rxjj-qqgw', 'HIGH')]), 1 << 20);
    const kept = JSON.parse(json) as Record<string, unknown>;
    assert.equal(kept.omitted, undefined);
    assert.doesNotMatch(json, /prod\/app/);
  });

  test('over its bound, drops whole severities, least severe first, and counts what it left out', () => {
    const many = [vulnerability('CRIT-1', 'CRITICAL'), vulnerability('HIGH-1', 'HIGH'), ...Array.from({ length: 2000 }, (_, i) => vulnerability(`LOW-${i}`, i % 2 ? 'LOW' : 'UNKNOWN'))];
    const bound = 64 << 10;
    const json = boundReport(report(many), bound);
    assert.ok(Buffer.byteLength(json) <= bound, `${Buffer.byteLength(json)} bytes`);
    const kept = JSON.parse(json) as { results: { vulnerabilities: { id: string }[] }[]; omitted: { severities: string[]; vulnerabilities: number } };
    assert.deepEqual(kept.results[0]!.vulnerabilities.map((v) => v.id), ['CRIT-1', 'HIGH-1']);
    assert.deepEqual(kept.omitted, { severities: ['UNKNOWN', 'LOW'], vulnerabilities: 2000, secrets: 0 });
  });
});
