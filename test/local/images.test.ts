import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { cosignKeys } from '../helpers/signing.js';
import { must } from '../helpers/tools.js';

let server: BerthServer;
let src: string;
let old: BuiltImage;
let mid: BuiltImage;
let recent: BuiltImage;
/** A seeded store the tests that only read share. */
let shared: ReturnType<typeof newStore>;
const HOST = 'example.com';

const ok = (r: CliResult): CliResult => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
  return r;
};
const hex12 = (d: string) => d.slice(7, 19);
const newStore = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const index = (home: string) => (JSON.parse(readFileSync(join(home, 'index.json'), 'utf8')) as { manifests: { digest: string; annotations?: Record<string, string> }[] }).manifests;
const blobs = (home: string) => readdirSync(join(home, 'blobs', 'sha256'));
const lines = (s: string) => s.trimEnd().split('\n');

/** How the three images are built: the same bytes every time, so the same digests. */
const SPECS: Record<'old' | 'mid' | 'recent', { layers: Record<string, string | Buffer>[]; opts: Parameters<typeof writeLayoutImage>[3] }> = {
  old: { layers: [{ 'etc/os-release': 'ID=berth\n' }], opts: { created: '2023-05-01T00:00:00Z' } },
  mid: {
    layers: [{ 'etc/os-release': 'ID=berth\n' }, { 'app/main.js': Buffer.alloc(30_000, 1) }],
    opts: {
      created: '2024-05-01T00:00:00Z',
      history: [
        { created: '2023-05-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:os-release in /' },
        { created: '2024-05-01T00:00:00Z', created_by: '/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin:/bin', empty_layer: true },
        { created: '2024-05-01T00:00:00Z', created_by: 'COPY main.js /app/ # buildkit', comment: 'buildkit.dockerfile.v0' },
      ],
    },
  },
  recent: { layers: [{ 'usr/bin/tool': Buffer.alloc(20_000, 2) }], opts: { created: '2025-05-01T00:00:00Z' } },
};
const build = (dir: string, name: string, spec: keyof typeof SPECS) => writeLayoutImage(dir, name, SPECS[spec].layers, SPECS[spec].opts);

/**
 * A fresh store holding old as app:v1 and alpine:3, mid as app:v2, recent as
 * tools/recent:latest. The local store is an OCI layout naming images by full
 * reference, so they are written straight into it (what `berth copy` into
 * `local:` does is tested where it matters: moved tags, pushes).
 */
async function seeded(): Promise<ReturnType<typeof newStore>> {
  const e = newStore();
  await build(e.BERTH_HOME, `${HOST}/app:v1`, 'old');
  await build(e.BERTH_HOME, `${HOST}/app:v2`, 'mid');
  await build(e.BERTH_HOME, `${HOST}/tools/recent:latest`, 'recent');
  await build(e.BERTH_HOME, 'docker.io/library/alpine:3', 'old');
  return e;
}

before(async () => {
  server = await startBerth();
  src = tempDir('berth-src-');
  old = await build(src, 'old', 'old');
  mid = await build(src, 'mid', 'mid');
  recent = await build(src, 'recent', 'recent');
  shared = await seeded();
});
after(() => server.stop());

describe('berth images', () => {
  test('IMAGE ID is the config digest, newest first; one row per name', async () => {
    const e = shared;
    const out = lines(ok(await berth(['images'], e)).stdout);
    assert.match(out[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
    const rows = out.slice(1).map((l) => l.split(/\s{3,}/).slice(0, 3));
    assert.deepEqual(rows, [
      [`${HOST}/tools/recent`, 'latest', hex12(recent.configDigest)],
      [`${HOST}/app`, 'v2', hex12(mid.configDigest)],
      ['alpine', '3', hex12(old.configDigest)],
      [`${HOST}/app`, 'v1', hex12(old.configDigest)],
    ]);
    const json = JSON.parse(ok(await berth(['images', '--json'], e)).stdout) as { id: string; digest: string }[];
    assert.deepEqual(json.map((i) => [i.id, i.digest]), [[recent.configDigest, recent.manifestDigest], [mid.configDigest, mid.manifestDigest], [old.configDigest, old.manifestDigest], [old.configDigest, old.manifestDigest]]);
  });

  test('REPO[:TAG], -q, --digests, --no-trunc and --format', async () => {
    const e = shared;
    const repo = lines(ok(await berth(['images', `${HOST}/app`], e)).stdout).slice(1);
    assert.deepEqual(repo.map((l) => l.split(/\s{3,}/)[1]), ['v2', 'v1']);
    assert.equal(lines(ok(await berth(['images', `${HOST}/app:v1`], e)).stdout).length, 2);
    // The familiar name and the normalised one are the same image; globs stop at `/` as docker's path.Match does.
    for (const arg of ['alpine', 'docker.io/library/alpine:3', 'alp*:3']) assert.match(ok(await berth(['images', arg], e)).stdout, /^alpine\s+3\s/m, arg);
    assert.equal(lines(ok(await berth(['images', `${HOST}/*`], e)).stdout).length, 3, 'app:v1 and app:v2, not tools/recent');

    assert.deepEqual(lines(ok(await berth(['images', '-q'], e)).stdout), [recent, mid, old].map((i) => hex12(i.configDigest)), 'each ID once');
    assert.deepEqual(lines(ok(await berth(['images', '-q', '--no-trunc', `${HOST}/app:v2`], e)).stdout), [mid.configDigest]);
    const digests = lines(ok(await berth(['images', '--digests', `${HOST}/app:v2`], e)).stdout);
    assert.match(digests[0]!, /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
    assert.ok(digests[1]!.includes(mid.manifestDigest), digests[1]);

    const plain = ok(await berth(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}} {{.CreatedAt}}', `${HOST}/app:v2`], e)).stdout;
    assert.equal(plain, `${HOST}/app:v2 ${hex12(mid.configDigest)} ${mid.manifestDigest} 2024-05-01 00:00:00 +0000 UTC\n`);
    const t = lines(ok(await berth(['images', '--format', 'table {{.Repository}}\\t{{.Size}}\\t{{.CreatedSince}}', `${HOST}/tools/*`], e)).stdout);
    assert.match(t[0]!, /^REPOSITORY\s{3,}SIZE\s{3,}CREATED$/);
    assert.match(t[1]!, new RegExp(`^${HOST}/tools/recent\\s{3,}\\d+(\\.\\d+)?k?B\\s{3,}\\d+ (month|year)s? ago$`));
    const json = JSON.parse(ok(await berth(['images', '--format', '{{json .}}', `${HOST}/app:v2`], e)).stdout) as Record<string, string>;
    assert.equal(json.ID, hex12(mid.configDigest));

    const bad = await berth(['images', '--format', '{{.Nope}}'], e);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^berth images: --format: cannot use \{\{\.Nope\}\}; the fields are \{\{\.Repository\}\}/);
  });

  test('--filter reference=, before=, since=, dangling=; a bad filter is a usage error', async () => {
    const e = shared;
    const repos = async (...f: string[]) => lines(ok(await berth(['images', '--format', '{{.Repository}}:{{.Tag}}', ...f.flatMap((x) => ['--filter', x])], e)).stdout).filter(Boolean);
    assert.deepEqual(await repos('reference=*/app:v*'), [`${HOST}/app:v2`, `${HOST}/app:v1`]);
    assert.deepEqual(await repos('reference=alpine', 'reference=*/tools/*'), [`${HOST}/tools/recent:latest`, 'alpine:3'], 'values of one key are alternatives');
    assert.deepEqual(await repos(`before=${HOST}/app:v2`), ['alpine:3', `${HOST}/app:v1`]);
    assert.deepEqual(await repos(`since=${hex12(old.configDigest)}`), [`${HOST}/tools/recent:latest`, `${HOST}/app:v2`]);
    assert.deepEqual(await repos(`since=${hex12(old.configDigest)}`, 'reference=*/app:*'), [`${HOST}/app:v2`], 'keys combine');
    assert.deepEqual(await repos('dangling=true'), []);
    for (const f of ['colour=red', 'dangling=maybe', 'nokey']) {
      const r = await berth(['images', '--filter', f], e);
      assert.equal(r.code, 2, f);
      assert.match(r.stderr, /^berth images: --filter /, f);
    }
  });
});

describe('image IDs wherever docker takes them', () => {
  test('inspect, tag, copy and push take an ID prefix; skopeo reads what was pushed', async () => {
    const e = await seeded();
    const id = hex12(mid.configDigest);
    assert.match(ok(await berth(['inspect', id], e)).stdout, new RegExp(`^Digest:\\s+${mid.manifestDigest}$`, 'm'));
    assert.match(ok(await berth(['inspect', mid.configDigest], e)).stdout, new RegExp(`^Digest:\\s+${mid.manifestDigest}$`, 'm'), 'sha256:<id>');
    ok(await berth(['tag', id.slice(0, 6), `${server.host}/ids/app:v2`], e));
    const pushed = ok(await berth(['push', '--json', `${server.host}/ids/app:v2`], e));
    assert.equal((JSON.parse(pushed.stdout) as { digest: string }).digest, mid.manifestDigest);
    const seen = JSON.parse(await must('skopeo', ['inspect', '--tls-verify=false', `docker://${server.host}/ids/app:v2`])) as { Digest: string };
    assert.equal(seen.Digest, mid.manifestDigest);
    // One name: push by ID goes to that name. Several: say which.
    ok(await berth(['copy', `oci:${src}:recent`, `local:${server.host}/ids/recent:v1`], newStore()));
    const one = newStore();
    ok(await berth(['copy', `oci:${src}:recent`, `local:${server.host}/ids/recent:v1`], one));
    assert.match(ok(await berth(['push', hex12(recent.configDigest)], one)).stdout, new RegExp(`^v1: digest: ${recent.manifestDigest}`, 'm'));
    const many = await berth(['push', hex12(old.configDigest)], e);
    assert.equal(many.code, 2);
    assert.match(many.stderr, /has 2 names \(.*alpine:3.*\); push one of them by name/);

    const dir = join(tempDir('berth-oci-'), 'out');
    ok(await berth(['copy', `local:${id}`, `oci:${dir}:x`], e));
    assert.equal(JSON.parse(await must('skopeo', ['inspect', '--raw', `oci:${dir}:x`])).config.digest, mid.configDigest);
  });

  test('an ambiguous prefix lists the candidates and changes nothing; an unknown ID is not found', async () => {
    const e = newStore();
    // Images until two IDs share their first hex digit (pigeonhole: at most 17).
    const firsts = new Map<string, BuiltImage>();
    let pair: [BuiltImage, BuiltImage] | undefined;
    for (let i = 0; !pair; i++) {
      const img = await writeLayoutImage(e.BERTH_HOME, `${HOST}/amb:i${i}`, [{ n: String(i) }]);
      const seen = firsts.get(img.configDigest[7]!);
      if (seen) pair = [seen, img];
      else firsts.set(img.configDigest[7]!, img);
    }
    const before = readFileSync(join(e.BERTH_HOME, 'index.json'), 'utf8');
    for (const args of [['rmi', pair[0].configDigest[7]!], ['inspect', `sha256:${pair[0].configDigest[7]!}`], ['tag', pair[0].configDigest[7]!, 'x:y']]) {
      const r = await berth(args, e);
      assert.equal(r.code, 2, args.join(' '));
      for (const p of pair) assert.ok(r.stderr.includes(p.configDigest), `${args.join(' ')} lists ${p.configDigest}: ${r.stderr}`);
      assert.match(r.stderr, /give more of the ID/);
    }
    assert.equal(readFileSync(join(e.BERTH_HOME, 'index.json'), 'utf8'), before);
    const unknown = await berth(['rmi', 'sha256:0000000000000000'], e);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /^berth rmi: no image sha256:0000000000000000 in the local store/);
  });

  test('rmi by ID: one name goes; several need --force, which removes them all and every blob', async () => {
    const e = await seeded();
    const refused = await berth(['rmi', hex12(old.configDigest)], e);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /has 2 names \(.*\); remove them by name, or all at once with --force/);
    const forced = JSON.parse(ok(await berth(['rmi', '--json', '-f', hex12(old.configDigest)], e)).stdout) as { untagged: string[]; deleted: string[] }[];
    assert.deepEqual(forced[0]!.untagged.sort(), ['docker.io/library/alpine:3', `${HOST}/app:v1`]);
    assert.ok(forced[0]!.deleted.includes(old.manifestDigest) && forced[0]!.deleted.includes(old.configDigest));
    const r = ok(await berth(['rmi', hex12(recent.configDigest)], e)).stdout;
    assert.match(r, new RegExp(`^Untagged: ${HOST}/tools/recent:latest$`, 'm'));
    assert.match(r, new RegExp(`^Deleted: ${recent.layers[0]!.digest}$`, 'm'));
    assert.deepEqual(lines(ok(await berth(['images', '-q'], e)).stdout), [hex12(mid.configDigest)]);
  });
});

describe('dangling images and prune', () => {
  test('a moved tag leaves the old image dangling; prune removes it and says what it freed', async () => {
    const e = await seeded();
    ok(await berth(['copy', `oci:${src}:recent`, `local:${HOST}/app:v2`], e));
    const dangling = lines(ok(await berth(['images', '--filter', 'dangling=true'], e)).stdout).slice(1);
    assert.equal(dangling.length, 1);
    assert.match(dangling[0]!, new RegExp(`^<none>\\s+<none>\\s+${hex12(mid.configDigest)}\\s`));
    assert.deepEqual(lines(ok(await berth(['images', '--format', '{{.Repository}}:{{.Tag}}', '-f', 'dangling=false'], e)).stdout), [`${HOST}/app:v2`, `${HOST}/tools/recent:latest`, 'alpine:3', `${HOST}/app:v1`]);
    // Its second layer is its alone: the old name's other image (app:v1) keeps the shared base.
    const own = mid.layers[1]!;
    const blobsBefore = blobs(e.BERTH_HOME);
    assert.ok(blobsBefore.includes(own.digest.slice(7)));
    const prune = ok(await berth(['prune'], e)).stdout;
    assert.match(prune, new RegExp(`^deleted: ${mid.manifestDigest} \\(untagged, was ${HOST}/app:v2\\)$`, 'm'));
    assert.match(prune, new RegExp(`^deleted: ${own.digest}$`, 'm'));
    const freed = blobsBefore.filter((b) => !blobs(e.BERTH_HOME).includes(b));
    assert.deepEqual(freed.sort(), [mid.manifestDigest, mid.configDigest, own.digest].map((d) => d.slice(7)).sort());
    assert.match(prune, /^Total reclaimed space: \d+(\.\d+)?kB$/m);
    assert.equal(lines(ok(await berth(['images', '-f', 'dangling=true', '-q'], e)).stdout).filter(Boolean).length, 0);
    assert.equal(ok(await berth(['prune'], e)).stdout, 'Total reclaimed space: 0B\n');
    // Pulling the same content under a tag again folds a dangling copy into the name instead of keeping both.
    ok(await berth(['copy', `oci:${src}:mid`, `local:${HOST}/app:v2`], e));
    ok(await berth(['copy', `oci:${src}:mid`, `local:${HOST}/app:v2`], e));
    assert.equal(index(e.BERTH_HOME).filter((m) => m.digest === mid.manifestDigest).length, 1);
  });

  test('prune --all also takes images no tag names', async () => {
    const e = await seeded();
    ok(await berth(['copy', `oci:${src}:mid`, `local:${HOST}/bydigest@${mid.manifestDigest}`], e));
    ok(await berth(['prune'], e));
    assert.ok(index(e.BERTH_HOME).some((m) => m.annotations?.['org.opencontainers.image.ref.name']?.includes('bydigest')), 'a digest name is no dangling image');
    const all = JSON.parse(ok(await berth(['prune', '--all', '--json'], e)).stdout) as { images: { name: string }[]; reclaimed: number };
    assert.deepEqual(all.images.map((i) => i.name), [`${HOST}/bydigest@${mid.manifestDigest}`]);
    assert.equal(all.reclaimed, 0, 'app:v2 still needs every blob of it');
  });
});

describe('attachments in the local store', () => {
  test('signatures and referrers are never images, never dangling, and go with their image', async () => {
    const e = await seeded();
    const keys = await cosignKeys(tempDir('berth-keys-'));
    const env = { ...e, BERTH_KEY_PASSWORD: keys.password };
    ok(await berth(['sign', '--key', keys.key, `local:${HOST}/tools/recent`], env));
    const sbom = join(tempDir('berth-sbom-'), 'sbom.json');
    writeFileSync(sbom, '{"spdxVersion":"SPDX-2.3"}');
    ok(await berth(['attach', '--artifact-type', 'application/spdx+json', `local:${HOST}/tools/recent`, sbom], env));
    const names = index(e.BERTH_HOME).map((m) => m.annotations?.['org.opencontainers.image.ref.name'] ?? '');
    const stem = `${HOST}/tools/recent:sha256-${recent.manifestDigest.slice(7)}`;
    assert.ok(names.includes(`${stem}.sig`) && names.includes(stem), names.join('\n'));
    const listed = JSON.parse(ok(await berth(['images', '--json'], e)).stdout) as { repository: string; tag: string }[];
    assert.equal(listed.length, 4, 'the four images, nothing attached to them');
    assert.equal(ok(await berth(['images', '-f', 'dangling=true', '-q'], e)).stdout, '');
    assert.equal(ok(await berth(['prune'], e)).stdout, 'Total reclaimed space: 0B\n');

    const unreferenced = async () => (JSON.parse(ok(await berth(['df', '--json'], e)).stdout) as { unreferenced: { count: number } }).unreferenced.count;
    // Signing then attaching rewrites the fallback tag's index: the first version is all that no entry references.
    assert.equal(await unreferenced(), 1);
    const rmi = ok(await berth(['rmi', `${HOST}/tools/recent`], e)).stdout;
    assert.match(rmi, new RegExp(`^Untagged: ${stem.replace(/\./g, '\\.')}\\.sig \\(attached to it\\)$`, 'm'));
    assert.deepEqual(index(e.BERTH_HOME).filter((m) => m.annotations?.['org.opencontainers.image.ref.name']?.includes('tools/recent')), []);
    // Nothing of the image or its attachments is left: the store holds the three other images' blobs only.
    const left = new Set(blobs(e.BERTH_HOME));
    for (const d of [recent.manifestDigest, recent.configDigest, recent.layers[0]!.digest]) assert.ok(!left.has(d.slice(7)), d);
    const verify = ok(await berth(['store', 'verify', '--json'], e));
    assert.deepEqual((JSON.parse(verify.stdout) as { missing: unknown[] }).missing, []);
    assert.equal(await unreferenced(), 1, 'no blob of the signature or the SBOM was left behind');
  });
});

describe('berth image history and tag-history', () => {
  test("image history: the config's steps newest first, each with its layer's size", async () => {
    const e = shared;
    const out = lines(ok(await berth(['image', 'history', `${HOST}/app:v2`], e)).stdout);
    assert.match(out[0]!, /^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
    const rows = out.slice(1).map((l) => l.split(/\s{3,}/));
    assert.deepEqual(rows.map((r) => r[0]), [hex12(mid.configDigest), '<missing>', '<missing>']);
    assert.deepEqual(rows.map((r) => r[2]), ['COPY main.js /app/ # buildkit', '/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/…', '/bin/sh -c #(nop) ADD file:os-release in /']);
    assert.equal(rows[1]![3], '0B');
    const json = JSON.parse(ok(await berth(['image', 'history', '--json', hex12(mid.configDigest)], e)).stdout) as { size: number; layer?: string; comment: string }[];
    assert.deepEqual(json.map((r) => [r.layer, r.size]), [[mid.layers[1]!.digest, mid.layers[1]!.size], [undefined, 0], [mid.layers[0]!.digest, mid.layers[0]!.size]]);
    assert.equal(json[0]!.comment, 'buildkit.dockerfile.v0');
    assert.equal(ok(await berth(['image', 'history', '--no-trunc', '--format', '{{.CreatedBy}}', `${HOST}/app:v2`], e)).stdout.split('\n')[1], '/bin/sh -c #(nop)  ENV PATH=/usr/local/bin:/usr/bin:/bin');
    // Without history in the config (umoci, crane append), a step per layer.
    assert.equal(lines(ok(await berth(['image', 'history', '-q', `${HOST}/tools/recent`], e)).stdout).join(), hex12(recent.configDigest));
    assert.equal(lines(ok(await berth(['image', 'history', `${HOST}/tools/recent`], e)).stdout).length, 2);
  });

  test('tag-history asks the registry; history still works for a release and says so', async () => {
    const e = newStore();
    ok(await berth(['copy', `oci:${src}:old`, `${server.host}/th/app:v1`], e));
    const th = ok(await berth(['tag-history', `${server.host}/th/app:v1`], e));
    assert.match(th.stdout, new RegExp(`^th/app:v1: now ${old.manifestDigest}$`, 'm'));
    assert.equal(th.stderr, '');
    const legacy = ok(await berth(['history', `${server.host}/th/app:v1`], e));
    assert.equal(legacy.stdout, th.stdout);
    assert.match(legacy.stderr, /^berth history: deprecated, use `berth tag-history`/);
  });
});
