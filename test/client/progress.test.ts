import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { berth, type CliResult } from '../helpers/cli.js';
import { writeLayoutImage, type BuiltImage } from '../helpers/layout-image.js';
import { Terminal } from '../helpers/terminal.js';

let server: BerthServer;
let image: BuiltImage;
/** Only in a layout: a push of it uploads every layer (none can be mounted). */
let fresh: BuiltImage;
let src: string;
let ref: string;
const LAYERS = 4;
const CHUNK = 1024 * 1024;

const env = () => ({ BERTH_HOME: tempDir('berth-home-'), DOCKER_CONFIG: tempDir('berth-dc-') });
const ok = (r: CliResult) => assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}${r.stdout}`);
const id = (digest: string) => digest.slice(7, 19);
const layers = () => image.layers.map((l) => l.digest);

before(async () => {
  server = await startBerth();
  src = tempDir('berth-src-');
  // Incompressible, so each gzip layer is as big as its file: ~3 MB, several reads and several upload chunks each.
  const files = () => Array.from({ length: LAYERS }, (_, i) => ({ [`data/${i}.bin`]: randomBytes(3 * CHUNK + i * 1000) }));
  image = await writeLayoutImage(src, 'v1', files());
  fresh = await writeLayoutImage(src, 'fresh', files());
  ref = `${server.host}/prog/app:v1`;
  ok(await berth(['copy', '-q', `oci:${src}:v1`, ref], env()));
});
after(() => server.stop());

describe('transfer progress', () => {
  test('on a terminal, a pull draws one line per layer with a bar and a summary, rewritten in place', async () => {
    const term = new Terminal(['pull', ref], env());
    let screen: string;
    try {
      screen = await term.waitFor(/EXIT=\d+/, 60_000);
    } finally {
      term.close();
    }
    const lines = screen.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    for (const d of layers()) {
      const mine = lines.filter((l) => l.includes(id(d)));
      assert.equal(mine.length, 1, `one line for layer ${id(d)} (no line left behind by a redraw):\n${screen}`);
      assert.match(mine[0]!, new RegExp(`^${id(d)}: Pull complete +\\[=+\\] (\\S+)/\\1$`), screen);
    }
    assert.deepEqual(lines.filter((l) => l.startsWith('Total ')).length, 1, screen);
    assert.match(screen, new RegExp(`^Total ${LAYERS}/${LAYERS} layers \\[=+\\] (\\S+)/\\1`, 'm'));
    // The header, a line per layer, the summary, docker's three closing lines and the shell's EXIT: nothing else.
    assert.deepEqual(lines.filter((l) => !layers().some((d) => l.includes(id(d))) && !l.startsWith('Total ')), [
      'v1: Pulling from prog/app',
      `Digest: ${image.manifestDigest}`,
      `Status: Downloaded newer image for ${ref}`,
      ref,
      'EXIT=0',
    ]);
  });

  test('a terminal with fewer rows than layers: the layers that do not fit count in the summary, no line repeats', async () => {
    const term = new Terminal(['pull', ref], env(), { columns: 120, rows: 5 });
    let history: string;
    try {
      await term.waitFor(/EXIT=\d+/, 60_000);
      history = term.history();
    } finally {
      term.close();
    }
    const lines = history.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '');
    const drawn = layers().filter((d) => lines.some((l) => l.includes(id(d))));
    assert.equal(drawn.length, 5 - 3, `bars for the rows left over by the header, the summary and the prompt:\n${history}`);
    for (const d of drawn) assert.equal(lines.filter((l) => l.includes(id(d))).length, 1, history);
    assert.deepEqual(lines.filter((l) => l.startsWith('Total ')).map((l) => l.split(' [')[0]), [`Total ${LAYERS}/${LAYERS} layers`], history);
  });

  test('--progress plain prints docker\'s lines; --quiet prints only the reference', async () => {
    const plain = await berth(['pull', '--progress', 'plain', ref], env());
    ok(plain);
    const lines = plain.stdout.trimEnd().split('\n');
    // A layer's intermediate byte counts depend on the network's chunking; every other line is fixed.
    const fixed = lines.filter((l) => !/: Downloading /.test(l) || /: Downloading (\S+)\/\1$/.test(l));
    const expected = layers().flatMap((d) => [`${id(d)}: Waiting`, `${id(d)}: Downloading ${size(image, d)}/${size(image, d)}`, `${id(d)}: Verifying Checksum`, `${id(d)}: Pull complete`]);
    assert.equal(fixed[0], 'v1: Pulling from prog/app');
    assert.deepEqual(fixed.slice(1, -3).sort(), expected.sort());
    assert.deepEqual(fixed.slice(-3), [`Digest: ${image.manifestDigest}`, `Status: Downloaded newer image for ${ref}`, ref]);
    for (const d of layers()) assert.ok(lines.indexOf(`${id(d)}: Waiting`) < lines.indexOf(`${id(d)}: Pull complete`));

    const quiet = await berth(['pull', '-q', ref], env());
    ok(quiet);
    assert.equal(quiet.stdout, `${ref}\n`);
  });

  test('--progress json: one event per line, the result last', async () => {
    const r = await berth(['pull', '--progress', 'json', ref], env());
    ok(r);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const result = events.pop()!;
    assert.deepEqual({ type: result.type, digest: result.digest, reference: result.reference }, { type: 'result', digest: image.manifestDigest, reference: ref });
    const blobs = [image.configDigest, ...layers()];
    const settled = events.filter((e) => e.status !== 'transferring').map((e) => `${e.type} ${e.digest} ${e.status ?? e.root}`);
    assert.deepEqual(settled.sort(), [...blobs.flatMap((d) => [`blob ${d} waiting`, `blob ${d} done`]), `manifest ${image.manifestDigest} true`].sort());
    for (const d of layers()) {
      const moving = events.filter((e) => e.digest === d && e.status === 'transferring');
      assert.equal(moving.at(-1)?.transferred, image.layers.find((l) => l.digest === d)!.size, 'the last byte count is the whole layer');
    }
  });

  test('push reports bytes as they leave, chunk by chunk; -q prints the digest', async () => {
    const e = { ...env(), BERTH_CHUNK_BYTES: String(CHUNK) };
    const pushed = `${server.host}/prog/pushed:v1`;
    ok(await berth(['copy', '-q', `oci:${src}:fresh`, `local:${pushed}`], e));
    const r = await berth(['push', '--progress', 'json', pushed], e);
    ok(r);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { digest?: string; status?: string; transferred?: number });
    for (const { digest, size } of fresh.layers) {
      const counts = events.filter((x) => x.digest === digest && x.status === 'transferring').map((x) => x.transferred);
      // The upload's own count: a whole chunk acknowledged by the registry, not the 64 KiB reads that fill it.
      assert.equal(counts[0], CHUNK, `first byte count of ${id(digest)}: ${counts.join(',')}`);
      assert.equal(counts.at(-1), size);
    }
    const again = await berth(['push', '-q', pushed], e);
    ok(again);
    assert.equal(again.stdout, `${fresh.manifestDigest}\n`);
  });

  test('copy: -q prints the digest; --json and --quiet together are refused', async () => {
    const e = env();
    const q = await berth(['copy', '-q', ref, `${server.host}/prog/copied:v1`], e);
    ok(q);
    assert.equal(q.stdout, `${image.manifestDigest}\n`);
    const both = await berth(['copy', '--json', '-q', ref, `${server.host}/prog/copied:v2`], e);
    assert.equal(both.code, 2);
    assert.equal(both.stdout, '');
    assert.match(both.stderr, /--json and --quiet contradict each other/);
  });
});

function size(img: BuiltImage, digest: string): string {
  const bytes = img.layers.find((l) => l.digest === digest)!.size;
  return `${(bytes / 1e6).toFixed(2)}MB`;
}
