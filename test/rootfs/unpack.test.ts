import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { before, describe, test } from 'node:test';
import tar from 'tar-stream';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { layoutWriter, sha256 } from '../helpers/layout-image.js';
import { must } from '../helpers/tools.js';

type Entry = Partial<tar.Header> & { name: string; content?: string };

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
};
const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const T = new Date('2024-01-02T03:04:05Z');

async function layer(entries: Entry[]): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack();
  for (const { content, ...h } of entries) pack.entry({ mtime: T, uid: 0, gid: 0, ...h }, content ?? '');
  pack.finalize();
  const parts: Buffer[] = [];
  for await (const d of pack) parts.push(d as Buffer);
  const plain = Buffer.concat(parts);
  return { gz: gzipSync(plain), diffId: sha256(plain) };
}

/** An OCI layout whose image has the given layers (tar entries with full headers). */
async function layoutOf(dir: string, layers: Entry[][]): Promise<void> {
  const put = layoutWriter(dir);
  const built = [];
  for (const l of layers) built.push(await layer(l));
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: built.map((l) => l.diffId) } })));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: built.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...put(l.gz) })),
      }),
    ),
  );
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'v1' } }] }));
}

/** Every path under root with what a user compares: type, mode, owner, size, content hash or link target, mtime of files. */
function tree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const s = lstatSync(join(root, p));
      const kind = s.isSymbolicLink() ? `link->${readlinkSync(join(root, p))}` : s.isDirectory() ? 'dir' : `file ${createHash('sha256').update(readFileSync(join(root, p))).digest('hex').slice(0, 16)} ${s.size} nlink=${s.nlink}`;
      out[p] = `${kind} mode=${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid}${s.isFile() ? ` mtime=${s.mtimeMs}` : ''}`;
      if (s.isDirectory()) walk(p);
    }
  };
  walk('');
  return out;
}

let layout: string;

before(async () => {
  layout = tempDir('berth-unpack-');
  await layoutOf(layout, [
    [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/passwd', mode: 0o644, content: 'root:x:0:0::/root:/bin/sh\n' },
      { name: 'opt/', type: 'directory', mode: 0o755 },
      { name: 'opt/old-1', mode: 0o644, content: 'one' },
      { name: 'opt/old-2', mode: 0o644, content: 'two' },
      { name: 'gone', mode: 0o644, content: 'deleted by layer 2' },
      { name: 'usr/bin/', type: 'directory', mode: 0o755 },
      { name: 'usr/bin/su', mode: 0o4755, content: '#!/bin/true\n' },
      { name: 'home/app/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000 },
      { name: 'home/app/.profile', mode: 0o600, uid: 1000, gid: 1000, content: 'export A=1\n' },
    ],
    [
      { name: 'opt/.wh..wh..opq', content: '' },
      { name: 'opt/new', mode: 0o640, content: 'new in layer 2' },
      { name: '.wh.gone', content: '' },
      { name: 'etc/passwd', mode: 0o600, content: 'root:x:0:0::/root:/bin/bash\n' },
      { name: 'bin', type: 'symlink', linkname: 'usr/bin', mode: 0o777 },
      { name: 'usr/bin/sudo', type: 'link', linkname: 'usr/bin/su', mode: 0o4755 },
      { name: 'escape', type: 'symlink', linkname: '/etc', mode: 0o777 },
    ],
    // Through the absolute symlink `escape -> /etc`: must land in DIR/etc, never in the host's /etc.
    [{ name: 'escape/berth-test-marker', mode: 0o644, content: 'inside' }],
  ]);
});

describe('berth unpack and export', () => {
  test('unpack: the same tree as umoci unpack (whiteouts, opaque dirs, links, setuid, owners, times)', async () => {
    const dir = join(tempDir('berth-rootfs-'), 'rootfs');
    const r = ok(await berth(['unpack', `oci:${layout}:v1`, dir], env()));
    assert.match(r.stdout, /^Unpacked oci:.* \(sha256:[a-f0-9]{64}, 3 layers\) into /);
    const bundle = join(tempDir('berth-umoci-'), 'bundle');
    await must('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    assert.deepEqual(tree(dir), tree(join(bundle, 'rootfs')));
    // What the comparison stands for, spelled out.
    assert.deepEqual(readdirSync(join(dir, 'opt')), ['new'], 'the opaque directory hides the lower layer');
    assert.equal(existsSync(join(dir, 'gone')), false);
    assert.equal(readFileSync(join(dir, 'etc/berth-test-marker'), 'utf8'), 'inside');
    assert.equal(existsSync('/etc/berth-test-marker'), false);
    assert.equal(lstatSync(join(dir, 'usr/bin/su')).mode & 0o7777, 0o4755);
    if (process.getuid?.() === 0) assert.equal(lstatSync(join(dir, 'home/app/.profile')).uid, 1000);
  });

  test('unpack refuses an entry that climbs out of DIR, and writes nothing outside', async () => {
    const bad = tempDir('berth-bad-');
    await layoutOf(bad, [[{ name: 'ok', content: 'x' }, { name: '../../outside-berth-test', content: 'escaped' }]]);
    const parent = tempDir('berth-rootfs-');
    const r = await berth(['unpack', `oci:${bad}:v1`, join(parent, 'a', 'rootfs')], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^berth unpack: layer sha256:[a-f0-9]{64}: entry "\.\.\/\.\.\/outside-berth-test" climbs out of the root; stopped there$/m);
    assert.equal(existsSync(join(parent, 'outside-berth-test')), false);
    assert.equal(existsSync(join(parent, 'a', 'outside-berth-test')), false);
  });

  test('export: one flat tar of the final filesystem, the paths and bytes unpack gives', async () => {
    const e = env();
    ok(await berth(['copy', `oci:${layout}:v1`, 'local:example.com/rootfs:v1'], e));
    const file = join(tempDir('berth-export-'), 'fs.tar');
    ok(await berth(['export', 'example.com/rootfs:v1', file], e));
    const listed = (await must('tar', ['-tvf', file])).trim().split('\n');
    const names = listed.map((l) => l.split(/\s+/).slice(5).join(' ')).map((n) => n.replace(/\/$/, '').replace(/ -> .*| link to .*/, '')).sort();
    const dir = join(tempDir('berth-rootfs-'), 'rootfs');
    ok(await berth(['unpack', 'example.com/rootfs:v1', dir], e));
    // Parent directories no layer has an entry for are implied, as in crane export.
    const withParents = new Set(names.flatMap((n) => n.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    assert.deepEqual([...withParents].sort(), Object.keys(tree(dir)).sort());
    assert.ok(names.includes('etc/berth-test-marker') && !names.includes('escape/berth-test-marker'), 'written where the symlink leads inside the image, never through it');
    const extracted = tempDir('berth-x-');
    await must('tar', ['-xpf', file, '-C', extracted]);
    assert.equal(readFileSync(join(extracted, 'etc/passwd'), 'utf8'), 'root:x:0:0::/root:/bin/bash\n', 'the newest version of a file');
    assert.equal(readFileSync(join(extracted, 'usr/bin/sudo'), 'utf8'), '#!/bin/true\n');
  });
});
