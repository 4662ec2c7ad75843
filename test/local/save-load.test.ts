import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { tempDir } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { must } from '../helpers/tools.js';

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
};
const newStore = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });

let src: string;
let app: BuiltImage;
let tool: BuiltImage;
const BASE = { 'etc/os-release': 'ID=berth\n', 'bin/sh': Buffer.alloc(40_000, 7) };

before(async () => {
  src = tempDir('berth-src-');
  app = await writeLayoutImage(src, 'app', [BASE, { 'app/main.js': 'console.log(1)\n' }]);
  tool = await writeLayoutImage(src, 'tool', [BASE, { 'usr/bin/tool': Buffer.alloc(20_000, 2) }]);
});

describe('berth save and load', () => {
  test('several images in one archive, the shared layer once; skopeo reads each; load brings them all back', async () => {
    const e = newStore();
    ok(await berth(['copy', `oci:${src}:app`, 'local:example.com/app:v1'], e));
    ok(await berth(['copy', `oci:${src}:tool`, 'local:example.com/tool:v1'], e));
    ok(await berth(['tag', 'example.com/app:v1', 'example.com/app:latest'], e));
    const file = join(tempDir('berth-save-'), 'images.tar');
    const saved = ok(await berth(['save', '-o', file, app.configDigest.slice(7, 19), 'example.com/tool:v1'], e));
    assert.equal(saved.stdout, `Saved 2 images (3 layers) to ${file}\n`, 'two images, the base layer stored once');
    const names = (await must('tar', ['-tf', file])).trim().split('\n').sort();
    assert.equal(names.filter((n) => n.endsWith('.tar')).length, 3);
    const manifest = JSON.parse(await must('tar', ['-xOf', file, 'manifest.json'])) as { RepoTags: string[]; Layers: string[] }[];
    assert.deepEqual(manifest.map((m) => m.RepoTags.sort()), [['example.com/app:latest', 'example.com/app:v1'], ['example.com/tool:v1']]);
    assert.equal(manifest[0]!.Layers[0], manifest[1]!.Layers[0], 'both entries name the one base layer file');
    for (const [ref, img] of [['example.com/app:v1', app], ['example.com/tool:v1', tool]] as const) {
      const raw = JSON.parse(await must('skopeo', ['inspect', '--config', '--raw', `docker-archive:${file}:${ref}`])) as { rootfs: { diff_ids: string[] } };
      const original = JSON.parse(await must('skopeo', ['inspect', '--config', '--raw', `oci:${src}:${ref.includes('app') ? 'app' : 'tool'}`])) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(raw, original, `${ref}: the config as it was (${img.configDigest})`);
    }

    const fresh = newStore();
    const loaded = ok(await berth(['load', '-i', file], fresh));
    assert.deepEqual(loaded.stdout.trim().split('\n').sort(), ['Loaded image: example.com/app:latest', 'Loaded image: example.com/app:v1', 'Loaded image: example.com/tool:v1']);
    const ids = JSON.parse(ok(await berth(['images', '--json'], fresh)).stdout) as { repository: string; tag: string; id: string }[];
    assert.deepEqual(ids.map((i) => `${i.repository}:${i.tag} ${i.id}`).sort(), [`example.com/app:latest ${app.configDigest}`, `example.com/app:v1 ${app.configDigest}`, `example.com/tool:v1 ${tool.configDigest}`]);
  });

  test("load reads skopeo's docker-archive; a file that is none is a clear error", async () => {
    const file = join(tempDir('berth-sk-'), 'sk.tar');
    await must('skopeo', ['copy', `oci:${src}:tool`, `docker-archive:${file}:example.com/from-skopeo:v2`]);
    const e = newStore();
    assert.equal(ok(await berth(['load', file], e)).stdout, 'Loaded image: example.com/from-skopeo:v2\n');
    assert.match(ok(await berth(['images', '-q', '--no-trunc', 'example.com/from-skopeo'], e)).stdout, new RegExp(`^${tool.configDigest}$`, 'm'));
    const notArchive = join(tempDir('berth-bad-'), 'x.tar');
    await must('tar', ['-cf', notArchive, '-C', src, 'oci-layout']);
    const bad = await berth(['load', notArchive], e);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^berth load: .*x\.tar is not a docker-archive: it has no manifest\.json$/m);
  });
});
