import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { REPO_ROOT, startBerth, tempDir } from '../helpers/berth.js';
import { sha256 } from '../helpers/layout-image.js';
import { tarBytes } from '../helpers/scan-image.js';
import { berth } from '../helpers/cli.js';
import { missingTools } from '../helpers/tools.js';
import { writeScanImage, type LayerEntry } from '../helpers/scan-image.js';

interface CdxComponent {
  type: string;
  name: string;
  group?: string;
  version: string;
  purl?: string;
  licenses?: { license?: { id?: string; name?: string }; expression?: string }[];
  properties?: { name: string; value: string }[];
}
interface Cdx {
  specVersion: string;
  components: CdxComponent[];
}

const prop = (c: CdxComponent, name: string) => c.properties?.find((p) => p.name === name)?.value;
const env = () => ({ BERTH_HOME: tempDir('berth-home-') });

/** Every file under `dir`, as layer entries below `prefix`. */
function treeEntries(dir: string, prefix: string, keep: (path: string) => boolean): LayerEntry[] {
  const out: LayerEntry[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const abs = join(e.parentPath, e.name);
    const rel = relative(dir, abs);
    if (keep(rel)) out.push({ name: `${prefix}/${rel}`, content: readFileSync(abs) });
  }
  return out;
}

async function sbom(image: string, ...args: string[]): Promise<Cdx> {
  const r = await berth(['sbom', image, ...args], env());
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Cdx;
}

describe('berth sbom on images made of this machine\'s real package data', () => {
  const work = tempDir('berth-sbom-');

  test('the host dpkg status: the package list equals dpkg-query -W, with purls, source packages and the layer', async () => {
    const dir = join(work, 'dpkg');
    await writeScanImage(dir, 'v1', [{ 'etc/os-release': readFileSync('/etc/os-release') }, { 'var/lib/dpkg/status': readFileSync('/var/lib/dpkg/status') }]);
    const doc = await sbom(`oci:${dir}:v1`);
    assert.equal(doc.specVersion, '1.6');
    const debs = doc.components.filter((c) => c.purl?.startsWith('pkg:deb/'));
    const ours = debs.map((c) => `${c.name} ${c.version}`).sort();
    const installed = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status} ${Package} ${Version}\n'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('installed '))
      .map((l) => l.slice('installed '.length));
    assert.deepEqual(ours, [...new Set(installed)].sort());
    const libc = debs.find((c) => c.name === 'libc6')!;
    const version = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'libc6'], { encoding: 'utf8' });
    const purl = /^pkg:deb\/debian\/libc6@([^?]+)\?(.*)$/.exec(libc.purl ?? '');
    assert.equal(decodeURIComponent(purl?.[1] ?? ''), version, libc.purl);
    assert.equal(purl?.[2], 'arch=amd64&distro=debian-12&upstream=glibc');
    assert.equal(prop(libc, 'berth:layer'), '2');
    assert.equal(doc.components.find((c) => c.type === 'operating-system')?.name, 'debian');
  });

  test('the project\'s own node_modules: the package set equals npm ls --all --json', async () => {
    const dir = join(work, 'npm');
    const entries = treeEntries(join(REPO_ROOT, 'node_modules'), 'app/node_modules', (p) => p.endsWith('package.json'));
    await writeScanImage(dir, 'v1', [[...entries, { name: 'app/package-lock.json', content: readFileSync(join(REPO_ROOT, 'package-lock.json')) }]]);
    const doc = await sbom(`oci:${dir}:v1`);
    const ours = new Set(doc.components.filter((c) => c.purl?.startsWith('pkg:npm/') && c.properties?.some((p) => p.name === 'berth:target' && p.value === 'Node.js')).map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`));
    const tree = JSON.parse(execFileSync('npm', ['ls', '--all', '--json'], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 << 20 })) as { dependencies?: Record<string, NpmNode> };
    const expected = new Set<string>();
    const walk = (deps: Record<string, NpmNode> | undefined) => {
      for (const [name, d] of Object.entries(deps ?? {})) {
        if (d.version && !d.extraneous) expected.add(`${name}@${d.version}`);
        walk(d.dependencies);
      }
    };
    walk(tree.dependencies);
    const missing = [...expected].filter((x) => !ours.has(x));
    assert.deepEqual(missing, [], 'every package npm ls lists is in the SBOM');
    const semver = doc.components.find((c) => c.name === 'semver' && c.purl === `pkg:npm/semver@${JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules/semver/package.json'), 'utf8')).version}`);
    assert.equal(semver?.licenses?.[0]?.license?.id, 'ISC');
    assert.ok(doc.components.some((c) => c.properties?.some((p) => p.value === 'app/package-lock.json')), 'the lock file is its own target');
  });

  test('host Python dist-info directories: the names and versions importlib.metadata reads', { skip: missingTools('python3') }, async () => {
    const site = '/usr/lib/python3/dist-packages';
    const dir = join(work, 'python');
    await writeScanImage(dir, 'v1', [treeEntries(site, 'usr/lib/python3/dist-packages', (p) => /\.dist-info\/METADATA$|\.egg-info\/PKG-INFO$|\.egg-info$/.test(p))]);
    const doc = await sbom(`oci:${dir}:v1`);
    const ours = doc.components.filter((c) => c.purl?.startsWith('pkg:pypi/')).map((c) => `${c.name.toLowerCase()} ${c.version}`).sort();
    const script = `import importlib.metadata as m\nfor d in m.distributions(path=['${site}']): print(d.metadata['Name'].lower(), d.version)`;
    const expected = [...new Set(execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim().split('\n'))].sort();
    assert.ok(expected.length > 3, 'the host has Python packages');
    assert.deepEqual(ours, expected);
  });

  test('a Go binary built in module mode: its module list equals go version -m', { skip: missingTools('go') }, async () => {
    const src = join(work, 'gosrc');
    mkdirSync(join(src, 'app'), { recursive: true });
    mkdirSync(join(src, 'lib'), { recursive: true });
    writeFileSync(join(src, 'lib', 'go.mod'), 'module example.com/lib\n\ngo 1.19\n');
    writeFileSync(join(src, 'lib', 'lib.go'), 'package lib\n\nfunc Hello() string { return "hello" }\n');
    writeFileSync(join(src, 'app', 'go.mod'), 'module example.com/app\n\ngo 1.19\n\nrequire example.com/lib v1.2.3\n\nreplace example.com/lib v1.2.3 => ../lib\n');
    writeFileSync(join(src, 'app', 'main.go'), 'package main\n\nimport (\n\t"fmt"\n\t"example.com/lib"\n)\n\nfunc main() { fmt.Println(lib.Hello()) }\n');
    const goEnv = { ...process.env, GOFLAGS: '-mod=mod', GOPROXY: 'off', GOCACHE: join(work, 'gocache'), GOPATH: join(work, 'gopath'), CGO_ENABLED: '0' };
    execFileSync('go', ['build', '-o', join(src, 'app-bin'), '.'], { cwd: join(src, 'app'), env: goEnv });
    const printed = execFileSync('go', ['version', '-m', join(src, 'app-bin')], { encoding: 'utf8', env: goEnv });
    const expected = printed
      .split('\n')
      .map((l) => l.trim().split('\t'))
      .filter(([kind, , version]) => (kind === 'dep' || kind === 'mod') && version !== '(devel)')
      .map(([, path, version]) => `${path}@${version}`);
    const goVersion = /: go(\S+)/.exec(printed)![1]!;
    assert.ok(expected.includes('example.com/lib@v1.2.3'), printed);

    const dir = join(work, 'go');
    await writeScanImage(dir, 'v1', [[{ name: 'usr/local/bin/app', content: readFileSync(join(src, 'app-bin')), mode: 0o755 }]]);
    const doc = await sbom(`oci:${dir}:v1`);
    const modules = doc.components.filter((c) => c.purl?.startsWith('pkg:golang/'));
    assert.deepEqual(modules.filter((c) => c.name !== 'stdlib').map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`).sort(), expected.sort());
    assert.equal(modules.find((c) => c.name === 'stdlib')?.version, `v${goVersion}`);
    assert.equal(prop(modules[0]!, 'berth:path'), 'usr/local/bin/app');
    assert.ok(statSync(join(src, 'app-bin')).size > 1 << 20, 'a real binary, megabytes long, streamed through');
  });

  test('an Alpine installed database and whiteouts: the final filesystem only, each package with the layer that added it', async () => {
    const dir = join(work, 'alpine');
    const db = (pkgs: [string, string, string][]) => pkgs.map(([p, v, l]) => `C:Q1abc=\nP:${p}\nV:${v}\nA:x86_64\nL:${l}\no:${p}\nF:usr/lib\n`).join('\n');
    await writeScanImage(dir, 'v1', [
      { 'etc/os-release': 'ID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n', 'lib/apk/db/installed': db([['musl', '1.2.4_git20230717-r4', 'MIT'], ['busybox', '1.36.1-r15', 'GPL-2.0-only']]), 'app/node_modules/left-pad/package.json': '{"name":"left-pad","version":"1.3.0","license":"WTFPL"}', 'opt/tool/node_modules/chalk/package.json': '{"name":"chalk","version":"5.3.0"}' },
      { 'lib/apk/db/installed': db([['musl', '1.2.4_git20230717-r4', 'MIT'], ['busybox', '1.36.1-r15', 'GPL-2.0-only'], ['curl', '8.5.0-r0', 'curl']]), 'app/.wh.node_modules': '' },
      [{ name: 'opt/tool/.wh..wh..opq', content: '' }, { name: 'opt/tool/README', content: 'kept' }],
    ]);
    const doc = await sbom(`oci:${dir}:v1`);
    const apks = Object.fromEntries(doc.components.filter((c) => c.purl?.startsWith('pkg:apk/')).map((c) => [c.name, prop(c, 'berth:layer')]));
    assert.deepEqual(apks, { busybox: '1', curl: '2', musl: '1' });
    assert.equal(doc.components.find((c) => c.name === 'curl')?.purl, 'pkg:apk/alpine/curl@8.5.0-r0?arch=x86_64&distro=alpine-3.19.1');
    assert.ok(!doc.components.some((c) => c.name === 'left-pad'), 'a directory deleted by a whiteout is not in the final filesystem');
    assert.ok(!doc.components.some((c) => c.name === 'chalk'), 'an opaque directory hides what lower layers put under it');

    const spdx = JSON.parse((await berth(['sbom', `oci:${dir}:v1`, '--format', 'spdx'], env())).stdout) as SpdxDoc;
    assert.equal(spdx.spdxVersion, 'SPDX-2.3');
    const ids = new Set(spdx.packages.map((p) => p.SPDXID));
    assert.equal(ids.size, spdx.packages.length, 'SPDXIDs are unique');
    for (const r of spdx.relationships) assert.ok(r.spdxElementId === 'SPDXRef-DOCUMENT' || ids.has(r.spdxElementId), r.spdxElementId);
    const curl = spdx.packages.find((p) => p.name === 'curl')!;
    assert.equal(curl.externalRefs?.[0]?.referenceLocator, 'pkg:apk/alpine/curl@8.5.0-r0?arch=x86_64&distro=alpine-3.19.1');
    assert.equal(curl.licenseDeclared, 'curl');
    assert.match(curl.sourceInfo ?? '', /^lib\/apk\/db\/installed in layer 2 \(sha256:/);
  });

  test('a zstd-compressed layer is read (fzstd, since Node 20 has no zstd)', { skip: missingTools('zstd') }, async () => {
    const plain = await tarBytes({ 'etc/os-release': 'ID=alpine\nVERSION_ID=3.19.1\n', 'lib/apk/db/installed': 'P:zlib\nV:1.3.1-r0\nA:x86_64\nL:Zlib\no:zlib\n\n' });
    const zst = execFileSync('zstd', ['-q', '-c'], { input: plain });
    const dir = join(work, 'zstd');
    await writeScanImage(dir, 'v1', [{}], { rawLayers: { 0: { bytes: zst, diffId: sha256(plain) } } });
    const doc = await sbom(`oci:${dir}:v1`);
    assert.ok(doc.components.some((c) => c.purl === 'pkg:apk/alpine/zlib@1.3.1-r0?arch=x86_64&distro=alpine-3.19.1'), JSON.stringify(doc.components));
  });

  test('--attach pushes the SBOM as a referrer of the image, listed by the registry under its artifactType', async () => {
    const server = await startBerth();
    try {
      const e = env();
      const ref = `${server.host}/team/alpine:v1`;
      const copy = await berth(['copy', `oci:${join(work, 'alpine')}:v1`, ref], e);
      assert.equal(copy.code, 0, copy.stderr);
      for (const format of ['cyclonedx', 'spdx']) {
        const r = await berth(['sbom', ref, '--format', format, '--attach'], e);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, new RegExp(`attached ${format} SBOM to ${server.host}/team/alpine:v1@sha256:`));
      }
      const digest = (await berth(['digest', `docker://${ref}`], e)).stdout.trim();
      const referrers = (await (await fetch(`${server.url}/v2/team/alpine/referrers/${digest}`)).json()) as { manifests: { artifactType: string; digest: string }[] };
      assert.deepEqual(referrers.manifests.map((m) => m.artifactType).sort(), ['application/spdx+json', 'application/vnd.cyclonedx+json']);
      const cdx = referrers.manifests.find((m) => m.artifactType === 'application/vnd.cyclonedx+json')!;
      const manifest = (await (await fetch(`${server.url}/v2/team/alpine/manifests/${cdx.digest}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } })).json()) as { subject: { digest: string }; layers: { digest: string }[] };
      assert.equal(manifest.subject.digest, digest);
      const doc = (await (await fetch(`${server.url}/v2/team/alpine/blobs/${manifest.layers[0]!.digest}`)).json()) as Cdx;
      assert.ok(doc.components.some((c) => c.name === 'curl'), 'the attached document is the SBOM of that image');
    } finally {
      await server.stop();
    }
  });

  test('CycloneDX output passes the CycloneDX library\'s own JSON schema validation', async () => {
    const dir = join(work, 'alpine');
    const r = await berth(['sbom', `oci:${dir}:v1`], env());
    const CDX = await import('@cyclonedx/cyclonedx-library');
    const errors = await new CDX.Validation.JsonStrictValidator(CDX.Spec.Version.v1dot6).validate(r.stdout);
    assert.equal(errors, null, JSON.stringify(errors));
  });
});

interface NpmNode {
  version?: string;
  extraneous?: boolean;
  dependencies?: Record<string, NpmNode>;
}

interface SpdxDoc {
  spdxVersion: string;
  packages: { SPDXID: string; name: string; licenseDeclared: string; sourceInfo?: string; externalRefs?: { referenceLocator: string }[] }[];
  relationships: { spdxElementId: string; relatedSpdxElement: string }[];
}
