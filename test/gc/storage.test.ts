import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { blob, descriptor, imageConfig, imageIndex, imageManifest, randomBlob, type Blob } from '../helpers/oci.js';
import { errorCode, Raw } from '../helpers/registry-client.js';
import { berth, configFile, deleteManifest, makeImage, onFilesystem, pullAndVerify, pushLikeAClient, storageEnv } from './helpers.js';

interface RepoUsage {
  name: string;
  logicalBytes: number;
  storedBytes: number;
  uniqueBytes: number;
  sharedBytes: number;
  manifests: number;
  tags: number;
  images?: { digest: string; tags: string[]; logicalBytes: number; uniqueBytes: number; sharedBytes: number; lastPulled: string | null }[];
}
interface Usage {
  storedBytes: number;
  storedObjects: number;
  repositories: RepoUsage[];
}

let server: BerthServer;
let api: Raw;
let config: string;
let env: Record<string, string>;

before(async () => {
  config = configFile(
    [
      'gc:\n  interval: 0\n  grace: 1h',
      'immutableTags:\n  - repositories: "imm/**"\n    tags: ["v*"]',
      'retention:\n  - repositories: "ret/*"\n    keepLast: 2\n    keepTags: ["keep-*"]',
      'quotas:\n  small: 8KiB',
    ].join('\n'),
  );
  server = await startBerth({ args: ['--config', config] });
  api = new Raw(server.url);
  env = await storageEnv(server);
});
after(() => server.stop());

const blobFile = (digest: string) => join(server.dataDir, 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7));
const getJson = async <T>(path: string): Promise<T> => {
  const r = await api.fetch(path);
  assert.equal(r.status, 200, `${path}: ${r.status}`);
  return (await r.json()) as T;
};
/** `berth gc` beside the server; grace 0 so the test needs no waiting. */
const gcNow = (...args: string[]) => berth(['gc', '--config', config, '--data', server.dataDir, ...args], { ...env, BERTH_GC_GRACE: '0' });
const local = (...args: string[]) => berth([...args, '--config', config, '--data', server.dataDir], env);

describe('deleting an image whose layers are shared', () => {
  test('frees exactly its unique bytes, as --what-if-delete predicted, and the other images stay whole', async () => {
    const base = randomBlob(5000, 0.11);
    const a = makeImage('share/app1', 'a', [base, randomBlob(3000, 0.12)]);
    const b = makeImage('share/app2', 'b', [base, randomBlob(2000, 0.13)]);
    const c = makeImage('share/app1', 'c', [base, randomBlob(1000, 0.14)]);
    for (const img of [a, b, c]) await pushLikeAClient(api, img);

    const whatIf = await berth(['usage', 'share/app1', '--what-if-delete', 'a', '--registry', server.host, '--json']);
    assert.equal(whatIf.code, 0, whatIf.stderr);
    const predicted = JSON.parse(whatIf.stdout) as { digest: string; freedBytes: number; tagsRemoved: string[] };
    assert.equal(predicted.digest, a.manifest.digest);
    assert.deepEqual(predicted.tagsRemoved, ['a']);
    assert.equal(predicted.freedBytes, a.manifest.bytes.length + 3000, 'its manifest and its own layer; base and config are shared');

    assert.equal(await deleteManifest(api, 'share/app1', a.manifest.digest), 202);
    const gc = await gcNow('--json');
    assert.equal(gc.code, 0, gc.stderr);
    const swept = (JSON.parse(gc.stdout) as { blobs: { digest: string; size: number }[] }).blobs;
    const sweptDigests = swept.map((x) => x.digest);
    assert.ok(sweptDigests.includes(a.layers[1]!.digest) && sweptDigests.includes(a.manifest.digest));
    assert.ok(!sweptDigests.includes(base.digest) && !sweptDigests.includes(a.config.digest));
    const freedFromA = swept.filter((x) => [a.layers[1]!.digest, a.manifest.digest].includes(x.digest)).reduce((n, x) => n + x.size, 0);
    assert.equal(freedFromA, predicted.freedBytes);
    if (onFilesystem) assert.equal(existsSync(blobFile(a.layers[1]!.digest)), false, 'the bytes left the store');

    await pullAndVerify(api, b);
    await pullAndVerify(api, c);
    const app2 = await getJson<Usage>('/berth/v1/usage?repo=share/app2');
    assert.equal(typeof app2.repositories[0]!.images![0]!.lastPulled, 'string', 'the pull is recorded');
    assert.equal((await api.fetch(`/v2/share/app1/manifests/a`)).status, 404);
  });
});

describe('storage accounting', () => {
  test('usage equals a brute-force recomputation after random pushes, mounts and deletes', async (t) => {
    const repos = ['acct/one', 'acct/two', 'acct/three'];
    const pool = Array.from({ length: 8 }, (_, i) => randomBlob(700 + i * 333, 0.2 + i / 100));
    const config = imageConfig('arm64');
    // The model: what each repository links, and its manifests with the blobs they name.
    const links = new Map(repos.map((r) => [r, new Set<string>()]));
    const manifests = new Map(repos.map((r) => [r, new Map<string, { blob: Blob; refs: Blob[]; tags: Set<string> }>()]));
    const sizes = new Map<string, number>([[config.digest, config.bytes.length], ...pool.map((b) => [b.digest, b.bytes.length] as [string, number])]);
    let seed = 7;
    const rand = (n: number) => Math.floor(((seed = (seed * 16807) % 2147483647) / 2147483647) * n);

    const done = { push: 0, mount: 0, deleteManifest: 0, deleteTag: 0 };
    for (let step = 0; step < 80; step++) {
      const repo = repos[rand(repos.length)]!;
      const op = rand(10);
      if (op < 5) {
        const layers = [...new Set(Array.from({ length: 1 + rand(3) }, () => pool[rand(pool.length)]!))];
        const tag = `t${rand(4)}`;
        const m = imageManifest(config, layers);
        await api.pushImage(repo, tag, [config, ...layers], m);
        for (const b of [config, ...layers]) links.get(repo)!.add(b.digest);
        sizes.set(m.digest, m.bytes.length);
        for (const entry of manifests.get(repo)!.values()) entry.tags.delete(tag);
        const entry = manifests.get(repo)!.get(m.digest) ?? { blob: m, refs: [config, ...layers], tags: new Set<string>() };
        entry.tags.add(tag);
        manifests.get(repo)!.set(m.digest, entry);
        done.push++;
      } else if (op < 7) {
        const from = repos[rand(repos.length)]!;
        const candidates = [...links.get(from)!];
        if (from === repo || candidates.length === 0) continue;
        const digest = candidates[rand(candidates.length)]!;
        const r = await api.fetch(`/v2/${repo}/blobs/uploads/?mount=${digest}&from=${from}`, { method: 'POST' });
        assert.equal(r.status, 201, `mount ${digest} from ${from} into ${repo}`);
        links.get(repo)!.add(digest);
        done.mount++;
      } else if (op < 8) {
        const present = [...manifests.get(repo)!.keys()];
        if (present.length === 0) continue;
        const digest = present[rand(present.length)]!;
        assert.equal(await deleteManifest(api, repo, digest), 202);
        manifests.get(repo)!.delete(digest);
        done.deleteManifest++;
      } else {
        const tagged = [...manifests.get(repo)!.values()].filter((e) => e.tags.size > 0);
        if (tagged.length === 0) continue;
        const entry = tagged[rand(tagged.length)]!;
        const tag = [...entry.tags][0]!;
        assert.equal(await deleteManifest(api, repo, tag), 202);
        entry.tags.delete(tag);
        done.deleteTag++;
      }
    }
    t.diagnostic(JSON.stringify(done));

    const held = (repo: string) => {
      const set = new Set(links.get(repo));
      for (const [digest, e] of manifests.get(repo)!) {
        set.add(digest);
        for (const r of e.refs) set.add(r.digest);
      }
      return set;
    };
    const sum = (digests: Iterable<string>) => [...digests].reduce((n, d) => n + sizes.get(d)!, 0);
    for (const repo of repos) {
      const report = await getJson<Usage>(`/berth/v1/usage?repo=${repo}`);
      const got = report.repositories[0]!;
      const mine = held(repo);
      const elsewhere = new Set(repos.filter((r) => r !== repo).flatMap((r) => [...held(r)]));
      const entries = [...manifests.get(repo)!.values()];
      const expected = {
        logicalBytes: entries.reduce((n, e) => n + e.blob.bytes.length + sum(e.refs.map((r) => r.digest)), 0),
        storedBytes: sum(mine),
        uniqueBytes: sum([...mine].filter((d) => !elsewhere.has(d))),
        manifests: entries.length,
        tags: entries.reduce((n, e) => n + e.tags.size, 0),
      };
      const { logicalBytes, storedBytes, uniqueBytes, manifests: count, tags } = got;
      assert.deepEqual({ logicalBytes, storedBytes, uniqueBytes, manifests: count, tags }, expected, repo);
      assert.equal(got.sharedBytes, storedBytes - uniqueBytes);
      for (const image of got.images!) {
        const e = manifests.get(repo)!.get(image.digest)!;
        const refsElsewhere = repos.flatMap((r) => [...manifests.get(r)!].filter(([d]) => r !== repo || d !== image.digest).flatMap(([, x]) => x.refs.map((b) => b.digest)));
        const inOtherRepos = repos.some((r) => r !== repo && manifests.get(r)!.has(image.digest));
        const unique = (inOtherRepos ? 0 : e.blob.bytes.length) + sum(e.refs.map((r) => r.digest).filter((d) => !refsElsewhere.includes(d)));
        assert.deepEqual(
          { tags: image.tags, logicalBytes: image.logicalBytes, uniqueBytes: image.uniqueBytes },
          { tags: [...e.tags].sort(), logicalBytes: e.blob.bytes.length + sum(e.refs.map((r) => r.digest)), uniqueBytes: unique },
          `${repo}@${image.digest}`,
        );
      }
    }
    // Registry-wide stored bytes against the files actually in the store.
    const walk = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((n, d) => n + (d.isDirectory() ? walk(join(dir, d.name)) : statSync(join(dir, d.name)).size), 0);
    const total = await getJson<Usage>('/berth/v1/usage');
    if (onFilesystem) assert.equal(total.storedBytes, walk(join(server.dataDir, 'blobs')));
  });
});

describe('tag history', () => {
  test('records every move with its digests; a digest keeps naming the same bytes', async () => {
    const one = makeImage('hist/app', 'latest', [randomBlob(300, 0.31)]);
    const two = makeImage('hist/app', 'latest', [randomBlob(300, 0.32)]);
    await pushLikeAClient(api, one);
    await pushLikeAClient(api, two);
    await pushLikeAClient(api, one);
    assert.equal(await deleteManifest(api, 'hist/app', 'latest'), 202);

    const h = await getJson<{ current: string | null; moves: { from: string | null; to: string | null }[] }>('/berth/v1/repositories/hist/app/tags/latest/history');
    const [m1, m2] = [one.manifest.digest, two.manifest.digest];
    assert.deepEqual(
      h.moves.map((m) => [m.from, m.to]),
      [
        [null, m1],
        [m1, m2],
        [m2, m1],
        [m1, null],
      ],
    );
    assert.equal(h.current, null);
    const byDigest = await api.fetch(`/v2/hist/app/manifests/${m2}`);
    assert.deepEqual(Buffer.from(await byDigest.arrayBuffer()), two.manifest.bytes);

    const cli = await berth(['tag-history', 'hist/app:latest', '--registry', server.host]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /now deleted/);
    assert.equal(cli.stdout.split(m2).length - 1, 2, 'm2 appears as the target of one move and the source of the next');
    const unknown = await berth(['tag-history', 'hist/app:never', '--registry', server.host]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /tag "never" has never existed/);
  });
});

describe('immutable tags', () => {
  test('an immutable tag cannot be moved or deleted; other tags can', async () => {
    const one = makeImage('imm/app', 'v1', [randomBlob(300, 0.41)]);
    const two = makeImage('imm/app', 'v1', [randomBlob(300, 0.42)]);
    await pushLikeAClient(api, one);
    await pushLikeAClient(api, one); // the same digest again is not a move

    await api.pushBlob('imm/app', two.config);
    await api.pushBlob('imm/app', two.layers[0]!);
    const moved = await api.pushManifest('imm/app', 'v1', two.manifest);
    assert.equal(moved.status, 403);
    const body = (await moved.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /tag "v1" in "imm\/app" is immutable/);

    for (const ref of ['v1', one.manifest.digest]) {
      const del = await api.fetch(`/v2/imm/app/manifests/${ref}`, { method: 'DELETE' });
      assert.equal(del.status, 403, `DELETE ${ref}`);
      assert.equal(await errorCode(del), 'DENIED');
    }
    await pullAndVerify(api, one);
    assert.equal((await api.pushManifest('imm/app', 'latest', one.manifest)).status, 201);
    assert.equal((await api.pushManifest('imm/app', 'latest', two.manifest)).status, 201, 'latest is not immutable');
  });
});

describe('retention', () => {
  test('a dry run lists the tags a real run then deletes', async () => {
    const tags = ['t1', 't2', 'keep-me', 't3', 't4'];
    const images = tags.map((t, i) => makeImage('ret/app', t, [randomBlob(256, 0.5 + i / 100)]));
    for (const img of images) {
      await pushLikeAClient(api, img);
      await new Promise((r) => setTimeout(r, 5));
    }
    const list = async () => ((await getJson<{ tags: string[] }>('/v2/ret/app/tags/list')).tags ?? []).sort();

    const dry = await local('gc', '--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /would delete tag ret\/app:t1 /);
    assert.match(dry.stdout, /would delete tag ret\/app:t2 /);
    assert.doesNotMatch(dry.stdout, /ret\/app:(t3|t4|keep-me) /);
    assert.deepEqual(await list(), [...tags].sort(), 'a dry run changes nothing');

    assert.equal((await api.fetch('/v2/ret/app/manifests/t1', { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 200, 'served (and now cached) before the real run');
    // A signature-like artifact attached to t1's image goes with the image.
    const empty = blob('{}');
    assert.equal((await api.pushBlob('ret/app', empty)).status, 201);
    const attached = imageManifest(empty, [], { artifactType: 'application/vnd.example.sig', subject: descriptor(images[0]!.manifest, 'application/vnd.oci.image.manifest.v1+json') });
    assert.equal((await api.pushManifest('ret/app', attached.digest, attached)).status, 201);
    const real = await gcNow();
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /deleted tag ret\/app:t1 /);
    // `berth gc` is another process: the server learns of its writes before its next lookup, not a poll later.
    assert.deepEqual(await list(), ['keep-me', 't3', 't4']);
    assert.equal((await api.fetch('/v2/ret/app/manifests/t1', { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).status, 404);
    assert.equal((await api.fetch(`/v2/ret/app/manifests/${images[0]!.manifest.digest}`)).status, 404, 'the image went with its last tag');
    assert.equal((await api.fetch(`/v2/ret/app/manifests/${attached.digest}`)).status, 404, 'and what was attached to it');
    await pullAndVerify(api, images[3]!);
    const h = await getJson<{ moves: { actor: string | null }[] }>('/berth/v1/repositories/ret/app/tags/t1/history');
    assert.equal(h.moves.at(-1)!.actor, 'berth-retention');
  });
});

describe('quotas', () => {
  test('a push over the namespace quota is refused, naming the quota, and stores nothing', async () => {
    const fits = randomBlob(7000, 0.61);
    assert.equal((await api.pushBlob('small/app', fits)).status, 201);

    const over = randomBlob(2000, 0.62);
    const r = await api.pushBlob('small/app', over);
    assert.equal(r.status, 403);
    const body = (await r.json()) as { errors: { code: string; message: string }[] };
    assert.equal(body.errors[0]!.code, 'DENIED');
    assert.match(body.errors[0]!.message, /quota exceeded: namespace "small" may store 8.0 KiB, holds 6.8 KiB, and this 2.0 KiB write would make 8.8 KiB/);
    assert.equal((await api.fetch(`/v2/small/app/blobs/${over.digest}`, { method: 'HEAD' })).status, 404);
    // A chunked upload does not say its size up front: refused when it completes, its bytes discarded.
    const location = await api.startUpload('small/app');
    assert.equal((await api.fetch(location, { method: 'PATCH', body: over.bytes, headers: { 'Content-Type': 'application/octet-stream' } })).status, 202);
    const done = await api.fetch(`${location}?digest=${over.digest}`, { method: 'PUT' });
    assert.equal(done.status, 403);
    assert.equal(await errorCode(done), 'DENIED');
    assert.equal((await api.fetch(location)).status, 404, 'the upload session is gone');
    assert.equal((await api.fetch(`/v2/small/app/blobs/${over.digest}`, { method: 'HEAD' })).status, 404);
    if (onFilesystem) {
      assert.equal(existsSync(blobFile(over.digest)), false, 'no bytes kept');
      assert.deepEqual(readdirSync(join(server.dataDir, 'uploads')).filter((f) => !f.startsWith('put-')), [], 'no upload left behind');
    }

    // The manifest is the write that crosses the line: refused at PUT, no tag, no manifest bytes.
    const cfg = imageConfig('s390x');
    assert.equal((await api.pushBlob('small/app', cfg)).status, 201);
    const big = imageManifest(cfg, [fits], { annotations: { pad: 'x'.repeat(1200) } });
    const put = await api.pushManifest('small/app', 'v1', big);
    assert.equal(put.status, 403);
    assert.match(((await put.json()) as { errors: { message: string }[] }).errors[0]!.message, /namespace "small"/);
    assert.equal((await api.fetch('/v2/small/app/manifests/v1')).status, 404);
    if (onFilesystem) assert.equal(existsSync(blobFile(big.digest)), false);

    const usage = await getJson<Usage>('/berth/v1/usage?repo=small/app');
    assert.equal(usage.repositories[0]!.storedBytes, fits.bytes.length + cfg.bytes.length);
    assert.equal((await api.pushBlob('other/app', over)).status, 201, 'other namespaces are not limited');
  });
});

describe('fsck', () => {
  test('finds a blob whose bytes were flipped, and --repair lets a re-push heal it', { skip: !onFilesystem && 'flips a byte in a file on disk' }, async () => {
    const img = makeImage('fsck/app', 'v1', [randomBlob(4096, 0.71)]);
    await pushLikeAClient(api, img);
    const layer = img.layers[0]!;
    const file = blobFile(layer.digest);
    const bytes = readFileSync(file);
    bytes.writeUInt8(bytes.readUInt8(100) ^ 0xff, 100);
    writeFileSync(file, bytes);
    // And a file the index does not know, from before the grace period (a crash between write and commit).
    const orphan = randomBlob(333, 0.72);
    mkdirSync(dirname(blobFile(orphan.digest)), { recursive: true });
    writeFileSync(blobFile(orphan.digest), orphan.bytes);
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(blobFile(orphan.digest), twoHoursAgo, twoHoursAgo);
    // A stray file under a digest's name that holds something else: orphaned too, not corrupt (nothing uses it).
    const stray = randomBlob(100, 0.73).digest;
    mkdirSync(dirname(blobFile(stray)), { recursive: true });
    writeFileSync(blobFile(stray), 'copied here by hand');
    utimesSync(blobFile(stray), twoHoursAgo, twoHoursAgo);
    // Bytes lost from under a pushed image: missing at once, grace period or not.
    const lostImg = makeImage('fsck/lost', 'v1', [randomBlob(555, 0.74)]);
    await pushLikeAClient(api, lostImg);
    const lost = lostImg.layers[0]!;
    rmSync(blobFile(lost.digest));
    // A commit cut short between its claim and the rename (what Metadata.commitBlob leaves after a crash there): pending, not missing.
    const claimed = randomBlob(222, 0.75);
    const db = new Database(join(server.dataDir, 'berth.db'));
    db.prepare('INSERT INTO blobs (digest, size, created_at, linked_at) VALUES (?, ?, ?, ?)').run(claimed.digest, claimed.bytes.length, Date.now(), Date.now());
    db.close();

    const check = await local('fsck');
    assert.equal(check.code, 6, check.stderr);
    assert.equal(check.stderr, '');
    assert.match(check.stdout, new RegExp(`corrupt ${layer.digest}: content hashes to sha256:[0-9a-f]{64}; used by fsck/app@${img.manifest.digest}`));
    assert.match(check.stdout, new RegExp(`orphaned ${orphan.digest}: in the store but not in the index`));
    assert.match(check.stdout, new RegExp(`^orphaned ${stray}: in the store but not in the index$`, 'm'));
    assert.match(check.stdout, new RegExp(`^missing ${lost.digest}: in the index but not in the store; used by fsck/lost@${lostImg.manifest.digest}$`, 'm'));
    assert.doesNotMatch(check.stdout, new RegExp(claimed.digest));
    assert.match(check.stdout, /^1 blob\(s\) claimed by a commit but not stored yet/m);
    assert.match(check.stdout, /: 4 problem\(s\)/);
    assert.equal((await api.pushBlob('fsck/lost', lost)).status, 201, 'a re-push of the missing blob');

    const quarantine = tempDir('berth-quarantine-');
    const repair = await local('fsck', '--repair', '--quarantine', quarantine);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    const kept = readdirSync(quarantine).sort();
    assert.equal(kept.length, 3);
    const corruptCopy = kept.find((f) => f.startsWith(layer.digest.replace(':', '-')))!;
    assert.deepEqual(readFileSync(join(quarantine, corruptCopy)), bytes, 'the corrupt bytes are kept for inspection');
    assert.equal(existsSync(blobFile(orphan.digest)), false, 'the orphan left the store');
    assert.equal((await api.fetch(`/v2/fsck/app/blobs/${layer.digest}`, { method: 'HEAD' })).status, 404, 'clients will upload it again');

    await pushLikeAClient(api, img);
    await pullAndVerify(api, img);
    const clean = await local('fsck');
    assert.equal(clean.code, 0, clean.stdout);
    assert.match(clean.stdout, / 0 problem\(s\)/);
  });
});

describe('untagged manifests (gc.deleteUntagged)', () => {
  test('go unless an index or a tag names them; referrers stay while their subject does', async () => {
    const repo = 'untagged/app';
    const tagged = makeImage(repo, 'v1', [randomBlob(300, 0.81)]);
    const loose = makeImage(repo, 'v2', [randomBlob(300, 0.82)]);
    const child = makeImage(repo, 'child', [randomBlob(300, 0.83)]);
    for (const img of [tagged, loose, child]) {
      await pushLikeAClient(api, img);
    }
    const index = imageIndex([{ manifest: child.manifest, platform: { os: 'linux', architecture: 'amd64' } }]);
    assert.equal((await api.pushManifest(repo, 'multi', index, 'application/vnd.oci.image.index.v1+json')).status, 201);
    const sig = imageManifest(child.config, [], { artifactType: 'application/vnd.example.sig', subject: descriptor(tagged.manifest, 'application/vnd.oci.image.manifest.v1+json') });
    assert.equal((await api.pushManifest(repo, sig.digest, sig)).status, 201);
    for (const tag of ['v2', 'child']) assert.equal(await deleteManifest(api, repo, tag), 202);

    const status = async (digest: string) => (await api.fetch(`/v2/${repo}/manifests/${digest}`, { method: 'HEAD' })).status;
    const collect = () => berth(['gc', '--config', config, '--data', server.dataDir], { ...env, BERTH_GC_GRACE: '0', BERTH_GC_DELETE_UNTAGGED: 'true' });
    assert.equal((await collect()).code, 0);
    assert.equal(await status(loose.manifest.digest), 404, 'untagged and unreferenced: collected');
    assert.equal(await status(child.manifest.digest), 200, 'an index names it');
    assert.equal(await status(sig.digest), 200, 'a referrer of a present subject');
    await pullAndVerify(api, tagged);

    assert.equal(await deleteManifest(api, repo, 'multi'), 202);
    assert.equal(await deleteManifest(api, repo, tagged.manifest.digest), 202);
    assert.equal((await collect()).code, 0);
    for (const d of [index.digest, child.manifest.digest, sig.digest]) assert.equal(await status(d), 404, d);
    assert.equal((await api.fetch(`/v2/${repo}/blobs/${child.layers[0]!.digest}`, { method: 'HEAD' })).status, 404, 'and their blobs');
  });
});
