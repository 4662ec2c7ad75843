import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import SQLite from 'better-sqlite3';
import { after, before, describe, test } from 'node:test';
import { TEST_BACKEND } from '../helpers/backends.js';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { blob } from '../helpers/oci.js';
import { fixtureAdvisories, osvZip, serveMirror, writeOsvMirror, type MirrorServer } from '../helpers/osv.js';
import { Raw } from '../helpers/registry-client.js';
import { writeScanImage, writeScanIndex, zeroFileLayer, type Layer } from '../helpers/scan-image.js';
import { berthEnv, output } from '../helpers/signing.js';
import { missingTools, Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';
import { basic, htpasswdFile } from '../auth/helpers.js';

const OS_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Added to the mirror halfway: the clean image's lodash.template 4.5.0 is affected (last_affected), rated HIGH. */
const LATE_ADVISORY = 'GHSA-35jh-r3h4-6jhm';
const PASSWORDS = { ops: 'ops-Scan-1', dev: 'dev-Scan-2' };

const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });
const randomOf = (alphabet: string, n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');

const ops = basic('ops', PASSWORDS.ops);

/** Raw requests as ops, who may pull and push everywhere. */
class AsOps extends Raw {
  override fetch(path: string, init: Parameters<Raw['fetch']>[1] = {}): Promise<Response> {
    return super.fetch(path, { ...init, headers: { ...ops, ...(init.headers as Record<string, string>) } });
  }
}

interface ScanBody {
  repository: string;
  digest: string;
  scannedAt: string;
  database: { updatedAt: string | null; changedAt: string | null };
  summary: { packages: number; complete: boolean; vulnerabilities: Record<string, number>; secrets: Record<string, number> };
  report: {
    results: { target: string; vulnerabilities: { id: string; package: { name: string }; severity: string }[] }[];
    secrets: { rule: string; target: string; layer: number; present: boolean; removedIn?: number; excerpt: string }[];
  };
  sbom: { bomFormat: string; metadata: { component: { name: string } }; components: { name: string; purl: string }[] };
}

/**
 * Scan on push in `berth serve`, end to end with real clients: skopeo
 * pushes images built offline from this machine's real package data, the
 * registry loads its vulnerability database from a loopback OSV mirror of
 * real advisories at start, scans in its worker threads, serves the result
 * on /berth/v1/, and refuses pulls its policy forbids.
 */
describe('scan on push, the scan API and the pull policy', { skip: missingTools('skopeo', 'htpasswd', 'unshare') }, () => {
  const work = tempDir('berth-scan-push-');
  const tools = new Tools();
  const env = berthEnv();
  const aws = { id: `AKIA${randomOf('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`, secret: randomOf('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 40) };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  let mirror: MirrorServer;
  let server: BerthServer;
  let config: string;
  let raw: Raw;
  const digests: Record<string, string> = {};

  const scan = (repo: string, digest: string, headers: Record<string, string> = ops) => fetch(`${server.url}/berth/v1/repositories/${repo}/manifests/${digest}/scan`, { headers });
  /** Waits for the scan, checking that whatever is answered meanwhile says why there is no result yet. */
  const scanned = async (repo: string, digest: string, done: (b: ScanBody) => boolean = () => true): Promise<ScanBody> => {
    let body: ScanBody | undefined;
    await until(async () => {
      const r = await scan(repo, digest);
      if (r.status === 404) {
        assert.match(((await r.json()) as { errors: { message: string }[] }).errors[0]!.message, /has not been scanned yet: its scan is (queued|running)/);
        return false;
      }
      assert.equal(r.status, 200);
      body = (await r.json()) as ScanBody;
      return done(body);
      // Scans run in worker threads beside other suites on a 2-core CI: room, not a timing claim.
    }, `the scan of ${repo}@${digest}`, 90_000);
    return body!;
  };
  const push = async (layout: string, tag: string, ref: string, ...flags: string[]) => {
    await tools.skopeo('copy', '--dest-tls-verify=false', ...flags, `oci:${layout}:${tag}`, `docker://${server.host}/${ref}`);
  };
  const get = (repo: string, ref: string, method = 'GET') => raw.fetch(`/v2/${repo}/manifests/${ref}`, { method, headers: { Accept: MANIFEST } });
  const inspect = (ref: string) => tools.run('skopeo', ['inspect', '--tls-verify=false', `docker://${server.host}/${ref}`]);

  before(async () => {
    // The mirror starts without LATE_ADVISORY; the rescan test publishes it.
    await writeOsvMirror(join(work, 'mirror'), fixtureAdvisories().filter((r) => r.id !== LATE_ADVISORY));
    mirror = await serveMirror(join(work, 'mirror'));
    config = `auth:
  htpasswd: ${htpasswdFile(work, PASSWORDS)}
access:
  - { repos: "**", users: [ops], actions: [pull, push] }
  - { repos: "public/**", users: [dev], actions: [pull, push] }
scan:
  lease: 2s
  db: { updateUrl: "${mirror.url}", updateInterval: 2s }
  policy:
    - { repos: "prod/**", severity: HIGH, secrets: true, unscanned: deny }
    - { repos: "lax/**", severity: CRITICAL, unscanned: allow }
`;
    server = await startBerth({ config });
    raw = new AsOps(server.url);
    await tools.skopeo('login', '--tls-verify=false', '-u', 'ops', '-p', PASSWORDS.ops, server.host);
    const login = await berth(['login', server.host, '-u', 'ops', '--password-stdin'], env, { input: PASSWORDS.ops });
    assert.equal(login.code, 0, output(login));

    // The host's real dpkg database, a vulnerable semver, and keys added in layer 2 and deleted in layer 3.
    const vulnerableLayers: Layer[] = [
      { 'etc/os-release': OS_RELEASE, 'var/lib/dpkg/status': readFileSync('/var/lib/dpkg/status') },
      { 'app/node_modules/semver/package.json': pkgJson('semver', '7.5.1'), 'root/.aws/credentials': `[default]\naws_access_key_id = ${aws.id}\naws_secret_access_key = ${aws.secret}\n`, 'root/.ssh/id_rsa': rsa },
      { 'root/.aws/.wh.credentials': '', 'root/.wh..ssh': '' },
    ];
    const cleanLayers: Layer[] = [{ 'etc/os-release': OS_RELEASE, 'app/node_modules/lodash.template/package.json': pkgJson('lodash.template', '4.5.0') }];
    digests.vulnerable = (await writeScanImage(join(work, 'vulnerable'), 'v1', vulnerableLayers)).digest;
    digests.clean = (await writeScanImage(join(work, 'clean'), 'v1', cleanLayers)).digest;
    // Both again in one layout (the same bytes, so the same digests), under an index.
    await writeScanImage(join(work, 'multi'), 'clean', cleanLayers);
    await writeScanImage(join(work, 'multi'), 'vulnerable', vulnerableLayers);
    digests.index = writeScanIndex(join(work, 'multi'), 'v1', [
      { digest: digests.clean, platform: { os: 'linux', architecture: 'amd64' } },
      { digest: digests.vulnerable, platform: { os: 'linux', architecture: 'arm64' } },
    ]);
    // A layer that is not a tar at all: its scan fails, every time.
    const garbage = gzipSync(randomBytes(4096));
    await writeScanImage(join(work, 'broken'), 'v1', [[]], { rawLayers: { 0: { bytes: garbage, diffId: `sha256:${'0'.repeat(64)}` } } });
    digests.broken = JSON.parse(readFileSync(join(work, 'broken', 'index.json'), 'utf8')).manifests[0].digest;
    await until(() => server.logs.some((l) => l.msg === 'vulnerability database updated'), 'the database loaded from the mirror', 90_000);
  });
  after(async () => {
    await server?.stop();
    await mirror?.close();
  });

  test('a pushed image is scanned: SBOM, vulnerabilities, secrets redacted, the database time', async () => {
    await push(join(work, 'vulnerable'), 'v1', 'prod/app:v1');
    const body = await scanned('prod/app', digests.vulnerable!);
    assert.equal(body.repository, 'prod/app');
    const found = body.report.results.flatMap((r) => r.vulnerabilities.map((v) => `${v.id} ${v.package.name} ${v.severity}`));
    assert.ok(found.includes('GHSA-c2qf-rxjj-qqgw semver HIGH'), found.join());
    assert.equal(body.summary.vulnerabilities.HIGH, 1);
    const secrets = body.report.secrets.map((s) => `${s.rule} ${s.target} ${s.layer} ${s.removedIn}`).sort();
    assert.deepEqual(secrets, ['aws-access-key-id root/.aws/credentials 2 3', 'aws-secret-access-key root/.aws/credentials 2 3', 'private-key root/.ssh/id_rsa 2 3']);
    const text = JSON.stringify(body);
    for (const secret of [aws.id, aws.secret, rsa.split('\n')[1]!]) assert.ok(!text.includes(secret), 'no secret in the scan API');

    // The SBOM lists every dpkg package of the host and the npm package, and names no repository.
    const dpkg = execFileSync('dpkg-query', ['-W', '-f', '${Package}\n'], { encoding: 'utf8' }).trim().split('\n');
    const names = new Set(body.sbom.components.map((c) => c.name));
    assert.equal(body.sbom.bomFormat, 'CycloneDX');
    assert.ok(dpkg.every((p) => names.has(p)), 'every host package is in the SBOM');
    assert.ok(body.sbom.components.some((c) => c.purl === 'pkg:npm/semver@7.5.1'));
    assert.equal(body.sbom.metadata.component.name, digests.vulnerable);

    const status = JSON.parse((await berth(['db', 'status', '--db', join(server.dataDir, 'osv.db'), '--json'], env)).stdout) as { importedAt: string };
    // The database is updated every two seconds (unchanged, the content time stays): the scan used one of those.
    assert.ok(Date.parse(body.database.updatedAt!) <= Date.parse(status.importedAt), 'the database time of the scan');
    assert.ok(body.database.changedAt, 'and when its content changed');
  });

  test('the policy refuses skopeo and berth pull, naming the findings and the policy; a clean image, signatures and SBOMs pull', async () => {
    const refused = await get('prod/app', 'v1');
    assert.equal(refused.status, 403);
    const error = ((await refused.json()) as { errors: { code: string; message: string }[] }).errors[0]!;
    assert.equal(error.code, 'DENIED');
    assert.match(error.message, /^scan policy for "prod\/\*\*" \(severity: HIGH, secrets: refused, unscanned: deny\) refuses to serve prod\/app@sha256:[0-9a-f]{64}: 1 vulnerability at HIGH or above \(GHSA-c2qf-rxjj-qqgw in semver 7\.5\.1 \(HIGH\), fixed in 7\.5\.2\); and 3 secret\(s\)/);
    assert.match(error.message, /aws-access-key-id at root\/\.aws\/credentials:2: removed in layer 3, still downloadable in layer 2/);
    const sk = await inspect('prod/app:v1');
    assert.notEqual(sk.code, 0);
    assert.match(sk.stderr, /scan policy for \\?"prod\/\*\*\\?".*GHSA-c2qf-rxjj-qqgw/);
    const bp = await berth(['pull', `${server.host}/prod/app:v1`], env);
    assert.equal(bp.code, 4, output(bp));
    assert.match(bp.stderr, /scan policy for \\?"prod\/\*\*\\?".*GHSA-c2qf-rxjj-qqgw/);
    assert.equal((await get('prod/app', 'v1', 'HEAD')).status, 200, 'a HEAD serves no content: signers learn the digest');

    // Same content under lax/: only CRITICAL is refused there, and the result is shared (one scan per digest).
    await push(join(work, 'vulnerable'), 'v1', 'lax/app:v1');
    assert.equal((await scan('lax/app', digests.vulnerable!)).status, 200, 'scanned once, found under every repository holding it');
    assert.equal((await inspect('lax/app:v1')).code, 0);

    await push(join(work, 'clean'), 'v1', 'prod/clean:v1');
    await scanned('prod/clean', digests.clean!);
    assert.equal((await inspect('prod/clean:v1')).code, 0);
    const pulled = await berth(['pull', `${server.host}/prod/clean:v1`], env);
    assert.equal(pulled.code, 0, output(pulled));

    // An SBOM referrer and a cosign-style signature of the refused image: both are read by verifiers, both stay readable.
    const config = blob('{}');
    const doc = blob('{"bomFormat":"CycloneDX"}');
    await raw.pushBlob('prod/app', config);
    await raw.pushBlob('prod/app', doc);
    const subject = { mediaType: MANIFEST, digest: digests.vulnerable, size: Number((await get('prod/app', 'v1', 'HEAD')).headers.get('content-length')) };
    const sbom = blob(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, artifactType: 'application/vnd.cyclonedx+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: config.digest, size: 2 }, layers: [{ mediaType: 'application/vnd.cyclonedx+json', digest: doc.digest, size: doc.bytes.length }], subject }));
    assert.equal((await raw.pushManifest('prod/app', sbom.digest, sbom)).status, 201);
    assert.equal((await get('prod/app', sbom.digest)).status, 200, 'the SBOM referrer');
    const sigTag = `${digests.vulnerable!.replace(':', '-')}.sig`;
    const signature = blob(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: 2 }, layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: doc.digest, size: doc.bytes.length, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ==' } }] }));
    assert.equal((await raw.pushManifest('prod/app', sigTag, signature)).status, 201);
    assert.equal((await get('prod/app', sigTag)).status, 200, 'the signature, an image manifest over a JSON layer, is no image to judge');
    const notImage = await scan('prod/app', signature.digest);
    assert.equal(notImage.status, 404);
    assert.match(await notImage.text(), /is not an image \(a signature, an SBOM or another artifact\): only images are scanned/);
  });

  test('an image not scanned yet is refused under unscanned: deny and served under allow', async () => {
    await push(join(work, 'broken'), 'v1', 'prod/broken:v1');
    await push(join(work, 'broken'), 'v1', 'lax/broken:v1');
    await until(() => server.logs.some((l) => l.msg === 'job failed; will retry' && l.key === digests.broken), 'a failed scan of the broken image', 90_000);
    const r = await get('prod/broken', 'v1');
    assert.equal(r.status, 403);
    assert.match(await r.text(), /refuses to serve prod\/broken@sha256:[0-9a-f]{64}: it has not been scanned yet: its scan (failed|is running)/);
    assert.match((await inspect('prod/broken:v1')).stderr, /it has not been scanned yet/);
    assert.equal((await get('lax/broken', 'v1')).status, 200, 'unscanned: allow');
    const api = await scan('prod/broken', digests.broken!);
    assert.equal(api.status, 404);
    const detail = ((await api.json()) as { errors: { detail: { scan: { state: string; error?: string } } }[] }).errors[0]!.detail.scan;
    assert.match(detail.state, /^(running|retrying|failed)$/);
  });

  test('an index: its children are scanned, the API lists them, and each child is judged when pulled', async () => {
    await push(join(work, 'multi'), 'v1', 'prod/multi:v1', '--all');
    await scanned('prod/multi', digests.clean!);
    const listing = (await (await scan('prod/multi', digests.index!)).json()) as { manifests: { digest: string; platform: { architecture: string }; summary?: { vulnerabilities: Record<string, number> } }[] };
    assert.deepEqual(listing.manifests.map((m) => [m.platform.architecture, m.summary?.vulnerabilities.HIGH]), [['amd64', 0], ['arm64', 1]]);
    assert.equal((await get('prod/multi', 'v1')).status, 200, 'the index itself is served');
    assert.equal((await get('prod/multi', digests.clean!)).status, 200);
    assert.equal((await get('prod/multi', digests.vulnerable!)).status, 403);
    assert.equal((await tools.run('skopeo', ['inspect', '--override-arch', 'amd64', '--tls-verify=false', `docker://${server.host}/prod/multi:v1`])).code, 0);
    assert.match((await tools.run('skopeo', ['inspect', '--override-arch', 'arm64', '--tls-verify=false', `docker://${server.host}/prod/multi:v1`])).stderr, /GHSA-c2qf-rxjj-qqgw/);
  });

  test('the scan API is authorised like /v2/: without pull on NAME it reveals nothing', async () => {
    const dev = basic('dev', PASSWORDS.dev);
    await push(join(work, 'vulnerable'), 'v1', 'private/app:v1');
    assert.equal((await scan('private/app', digests.vulnerable!, ops)).status, 200, 'ops may pull private/app');
    // dev, and anonymous callers, get the same answer for a scanned image, an unknown digest and an unknown repository.
    const answers = [];
    for (const headers of [dev, {}]) {
      for (const [repo, digest] of [['private/app', digests.vulnerable!], ['private/app', `sha256:${'1'.repeat(64)}`], ['private/none', digests.vulnerable!]] as const) {
        const r = await scan(repo, digest, headers);
        const text = await r.text();
        assert.ok(!text.includes('GHSA') && !text.includes('scan'), text);
        answers.push(`${r.status} ${text.replace(/private\/(app|none)/g, 'NAME')}`);
      }
    }
    assert.deepEqual(new Set(answers.slice(0, 3)).size, 1, answers.join('\n'));
    assert.deepEqual(new Set(answers.slice(3)).size, 1, answers.join('\n'));
    assert.match(answers[0]!, /^403 /);
    assert.match(answers[3]!, /^401 /);
    // A digest held elsewhere is not reachable through a repository one may pull that does not hold it.
    await push(join(work, 'clean'), 'v1', 'public/app:v1');
    const elsewhere = await scan('public/app', digests.vulnerable!, dev);
    assert.equal(elsewhere.status, 404);
    const text = await elsewhere.text();
    assert.match(text, /MANIFEST_UNKNOWN/);
    assert.doesNotMatch(text, /GHSA|scan/);
  });

  test('a database update rescans what was scanned with the older one, without reading its layers again', async () => {
    const before = (await (await scan('prod/clean', digests.clean!)).json()) as ScanBody;
    assert.equal(before.summary.vulnerabilities.HIGH, 0);
    const npm = fixtureAdvisories().filter((r) => r.affected?.[0]?.package.ecosystem === 'npm');
    assert.ok(npm.some((r) => r.id === LATE_ADVISORY));
    writeFileSync(join(work, 'mirror', 'npm', 'all.zip'), await osvZip(npm));
    const after = await scanned('prod/clean', digests.clean!, (b) => (b.summary.vulnerabilities.HIGH ?? 0) > 0);
    assert.ok(after.report.results.some((r) => r.vulnerabilities.some((v) => v.id === LATE_ADVISORY && v.package.name === 'lodash.template')));
    assert.ok(after.database.changedAt! > before.database.changedAt!, 'made with the newer database');
    // The line is written after the result is stored, which the client may already have read.
    await until(() => server.logs.some((l) => l.msg === 'image scan done' && l.digest === digests.clean && l.outcome === 'rematched'), 'the rescan matched against the inventory kept');
    const r = await get('prod/clean', 'v1');
    assert.equal(r.status, 403, 'the cached verdict went with the rescan');
    assert.match(await r.text(), new RegExp(`${LATE_ADVISORY} in lodash.template 4.5.0 \\(HIGH\\), no fix yet`));
  });

  test('a server killed (SIGKILL) mid-scan finishes the scan after its restart', async () => {
    const dir = join(work, 'big');
    const big = await writeScanImage(dir, 'v1', [[], { 'etc/os-release': OS_RELEASE }], { rawLayers: { 0: await zeroFileLayer('data/zeros.bin', 256 << 20) } });
    await push(dir, 'v1', 'lax/big:v1');
    await until(async () => {
      const r = await scan('lax/big', big.digest);
      return r.status === 404 && (await r.text()).includes('its scan is running');
    }, 'the scan running', 90_000);
    server.process.kill('SIGKILL');
    await server.exited;
    if (TEST_BACKEND === 'embedded') {
      const db = new SQLite(join(server.dataDir, 'berth.db'), { readonly: true });
      try {
        assert.equal((db.prepare('SELECT count(*) AS n FROM scan_results WHERE digest = ?').get(big.digest) as { n: number }).n, 0, 'killed before the scan finished');
        assert.equal((db.prepare("SELECT state FROM jobs WHERE queue = 'scan' AND key = ?").get(big.digest) as { state: string }).state, 'running');
      } finally {
        db.close();
      }
    }
    server = await startBerth({ dataDir: server.dataDir, config });
    const body = await scanned('lax/big', big.digest);
    assert.equal(body.summary.complete, true);
    assert.equal(body.report.results.length, 0);
  });
});
