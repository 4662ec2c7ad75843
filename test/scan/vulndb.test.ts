import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { fixtureAdvisories, osvZip, serveMirror, writeOsvMirror, type MirrorServer } from '../helpers/osv.js';
import { writeScanImage } from '../helpers/scan-image.js';

interface Report {
  results: { target: string; vulnerabilities: { id: string; package: { name: string }; installed: string; fixed?: string; severity: string; severitySource: string }[] }[];
  ignored: { id: string; reason: string }[];
}

const OS_RELEASE_DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const OS_RELEASE_ALPINE = 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.16.9\nPRETTY_NAME="Alpine Linux v3.16"\n';

const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });
const metadata = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nLicense: Apache 2.0\n\n${name} description\n`;

describe('berth db update and berth scan against real OSV advisories', () => {
  let mirror: MirrorServer;
  let work: string;
  let env: Record<string, string>;
  let debian: string;
  let alpine: string;

  before(async () => {
    work = tempDir('berth-vulndb-');
    await writeOsvMirror(join(work, 'mirror'), fixtureAdvisories());
    mirror = await serveMirror(join(work, 'mirror'));
    env = { BERTH_VULNDB: join(work, 'db', 'osv.db'), BERTH_HOME: join(work, 'home'), XDG_CACHE_HOME: join(work, 'cache') };
    // The host's real dpkg database (bookworm: glibc and tar from Debian 12), plus npm and Python packages at versions real advisories name.
    debian = join(work, 'debian');
    await writeScanImage(debian, 'v1', [
      { 'etc/os-release': OS_RELEASE_DEBIAN, 'var/lib/dpkg/status': readFileSync('/var/lib/dpkg/status') },
      {
        'app/node_modules/semver/package.json': pkgJson('semver', '7.5.1'),
        'app/node_modules/lodash/package.json': pkgJson('lodash', '4.17.21'),
        'app/node_modules/lodash.template/package.json': pkgJson('lodash.template', '4.5.0'),
        'usr/lib/python3/dist-packages/requests-2.28.1.dist-info/METADATA': metadata('requests', '2.28.1'),
        'usr/lib/python3/dist-packages/pip-23.3.dist-info/METADATA': metadata('pip', '23.3'),
      },
    ]);
    alpine = join(work, 'alpine');
    await writeScanImage(alpine, 'v1', [
      { 'etc/os-release': OS_RELEASE_ALPINE, 'lib/apk/db/installed': 'C:Q1x\nP:bind-libs\nV:9.16.45-r0\nA:x86_64\nL:MPL-2.0\no:bind\n\nP:musl\nV:1.2.3-r3\nA:x86_64\nL:MIT\no:musl\n\n' },
    ]);
  });
  after(async () => mirror?.close());

  test('imports every ecosystem from a mirror, then skips unchanged archives (ETag) and re-imports only changed advisories', async () => {
    const first = await berth(['db', 'update', '--from', mirror.url, '--json'], env);
    assert.equal(first.code, 0, first.stderr);
    const sources = (JSON.parse(first.stdout) as { sources: { location: string; status: string; added: number; changed: number }[] }).sources;
    assert.deepEqual(sources.map((s) => [s.location.split('/').at(-2), s.status, s.added]), [['Alpine', 'imported', 1], ['Debian', 'imported', 3], ['Go', 'imported', 3], ['npm', 'imported', 2], ['PyPI', 'imported', 2]]);
    const status = await berth(['db', 'status', '--json'], env);
    assert.equal((JSON.parse(status.stdout) as { advisories: number }).advisories, 11);

    const again = await berth(['db', 'update', '--from', mirror.url, '--json'], env);
    assert.ok((JSON.parse(again.stdout) as { sources: { status: string }[] }).sources.every((s) => s.status === 'unchanged'), again.stdout);
    assert.equal(mirror.downloads.length, 5, 'the second update downloads nothing');

    // An advisory re-published with a new modified time and a later fix is replaced; the others are left as they are.
    const records = fixtureAdvisories();
    const semver = records.find((r) => r.id === 'GHSA-c2qf-rxjj-qqgw')!;
    semver.modified = '2026-05-01T00:00:00Z';
    writeFileSync(join(work, 'mirror', 'npm', 'all.zip'), await osvZip(records.filter((r) => r.affected?.[0]?.package.ecosystem === 'npm')));
    const third = await berth(['db', 'update', '--from', mirror.url, '--json'], env);
    const npm = (JSON.parse(third.stdout) as { sources: { location: string; status: string; added: number; changed: number }[] }).sources.find((s) => s.location.includes('/npm/'))!;
    assert.deepEqual([npm.status, npm.added, npm.changed], ['imported', 0, 1]);
    assert.deepEqual(readdirSync(join(work, 'db')).sort(), ['osv.db'], 'no temporary files are left beside the database');
  });

  test('finds what the advisories say, by each ecosystem\'s version order, and nothing they exclude', async () => {
    const r = await berth(['scan', `oci:${debian}:v1`, '--format', 'json', '--scanners', 'vuln'], env);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Report;
    const found = report.results.flatMap((t) => t.vulnerabilities.map((v) => `${v.id} ${v.package.name} ${v.installed} ${v.fixed ?? '-'} ${v.severity}`)).sort();
    const host = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'tar'], { encoding: 'utf8' });
    assert.deepEqual(found, [
      // tar: unfixed in Debian 12, rated by Debian's urgency (unimportant)
      `DEBIAN-CVE-2005-2541 tar ${host} - LOW`,
      'GHSA-35jh-r3h4-6jhm lodash.template 4.5.0 - HIGH', // last_affected 4.5.0 includes 4.5.0; lodash 4.17.21 is the fix
      'GHSA-c2qf-rxjj-qqgw semver 7.5.1 7.5.2 HIGH', // SEMVER: 7.0.0 <= 7.5.1 < 7.5.2
      'GHSA-j8r2-6x86-q33q requests 2.28.1 2.31.0 MEDIUM', // PEP 440 range; pip 23.3 is the fix itself
    ]);
    // glibc 2.36-9+deb12u14 on this host is exactly DEBIAN-CVE-2026-4438's fix, and later than DEBIAN-CVE-2023-4911's.
    const libc = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libc6'], { encoding: 'utf8' });
    if (libc === '2.36-9+deb12u14') assert.ok(!found.some((f) => f.includes('glibc') || f.includes('libc6')));
    assert.equal(report.results.find((t) => t.target.startsWith('debian'))?.vulnerabilities[0]?.severitySource, 'ecosystem');

    const a = await berth(['scan', `oci:${alpine}:v1`, '--format', 'json', '--scanners', 'vuln'], env);
    const alpineFound = (JSON.parse(a.stdout) as Report).results.flatMap((t) => t.vulnerabilities.map((v) => `${v.id} ${v.package.name} ${v.fixed}`));
    assert.deepEqual(alpineFound, ['ALPINE-CVE-2023-4408 bind-libs 9.16.48-r0'], 'matched by origin (bind) and branch (Alpine:v3.16)');
  });

  test('--severity, --ignore-unfixed, --exit-code and an ignore file with reasons and expiry gate CI', async () => {
    const base = ['scan', `oci:${debian}:v1`, '--scanners', 'vuln'];
    const high = await berth([...base, '--severity', 'HIGH,CRITICAL', '--exit-code', '7'], env);
    assert.equal(high.code, 7, high.stderr);
    assert.match(high.stdout, /GHSA-c2qf-rxjj-qqgw/);
    assert.doesNotMatch(high.stdout, /GHSA-j8r2-6x86-q33q/, 'MEDIUM is filtered out');

    const critical = await berth([...base, '--severity', 'CRITICAL', '--exit-code', '7'], env);
    assert.equal(critical.code, 0, 'nothing CRITICAL: the gate passes');

    const fixedOnly = await berth([...base, '--ignore-unfixed', '--format', 'json'], env);
    const ids = (JSON.parse(fixedOnly.stdout) as Report).results.flatMap((t) => t.vulnerabilities.map((v) => v.id));
    assert.ok(!ids.includes('DEBIAN-CVE-2005-2541') && !ids.includes('GHSA-35jh-r3h4-6jhm'), ids.join());

    const ignore = join(work, 'ignore.yaml');
    writeFileSync(
      ignore,
      [
        'vulnerabilities:',
        '  - id: CVE-2022-25883          # an alias of GHSA-c2qf-rxjj-qqgw',
        '    reason: "semver ranges come from our own config only"',
        '    expires: 2999-01-01',
        '  - id: GHSA-j8r2-6x86-q33q',
        '    reason: "no proxies in production"',
        '    expires: 2000-01-01',
      ].join('\n'),
    );
    const ignored = await berth([...base, '--ignore-file', ignore, '--format', 'json'], env);
    const report = JSON.parse(ignored.stdout) as Report;
    const left = report.results.flatMap((t) => t.vulnerabilities.map((v) => v.id));
    assert.ok(!left.includes('GHSA-c2qf-rxjj-qqgw') && left.includes('GHSA-j8r2-6x86-q33q'), left.join());
    assert.deepEqual(report.ignored, [{ id: 'GHSA-c2qf-rxjj-qqgw', reason: 'semver ranges come from our own config only' }]);
    assert.match(ignored.stderr, /ignore entry for GHSA-j8r2-6x86-q33q expired on 2000-01-01/);

    writeFileSync(ignore, 'vulnerabilities:\n  - id: CVE-2022-25883\n');
    const noReason = await berth([...base, '--ignore-file', ignore], env);
    assert.equal(noReason.code, 1);
    assert.match(noReason.stderr, /vulnerabilities\.0\.reason/);
  });

  test('SARIF for code scanning, and a warning when the database is older than allowed', async () => {
    const r = await berth(['scan', `oci:${debian}:v1`, '--scanners', 'vuln', '--format', 'sarif', '--db-max-age', '1ms'], env);
    assert.equal(r.code, 0, r.stderr);
    const sarif = JSON.parse(r.stdout) as { version: string; runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[] };
    assert.equal(sarif.version, '2.1.0');
    const semver = sarif.runs[0]!.results.find((x) => x.ruleId === 'GHSA-c2qf-rxjj-qqgw')!;
    assert.equal(semver.level, 'error');
    assert.equal(semver.locations[0]!.physicalLocation.artifactLocation.uri, 'app/node_modules/semver/package.json');
    assert.match(r.stderr, /vulnerability database was last updated .*run `berth db update`/);
    const fresh = await berth(['scan', `oci:${debian}:v1`, '--scanners', 'vuln'], env);
    assert.doesNotMatch(fresh.stderr, /last updated/);
  });

  test('a zip entry with ../ or an absolute path is refused; nothing is written outside the database path', async () => {
    const records = fixtureAdvisories().filter((r) => r.id.startsWith('GO-'));
    const zip = join(work, 'evil.zip');
    writeFileSync(zip, await osvZip(records, { 'GO-2022-0969': '../../escape.json', 'GO-2022-1144': '/tmp/absolute.json' }));
    const db = join(work, 'evil-db', 'osv.db');
    const r = await berth(['db', 'update', '--from', zip, '--db', db, '--json'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /entry "\.\.\/\.\.\/escape\.json" has an unsafe path .*refused/);
    assert.match(r.stderr, /entry "\/tmp\/absolute\.json" has an unsafe path/);
    assert.equal((JSON.parse(r.stdout) as { sources: { advisories: number }[] }).sources[0]!.advisories, 1, 'only the safe entry is imported');
    assert.ok(!existsSync(join(work, 'escape.json')) && !existsSync('/tmp/absolute.json'));
    assert.deepEqual(readdirSync(join(work, 'evil-db')), ['osv.db']);
  });

  test('a scan without a database says how to get one', async () => {
    const r = await berth(['scan', `oci:${debian}:v1`, '--db', join(work, 'none.db')], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no vulnerability database at .*none\.db; run `berth db update` first/);
  });
});
