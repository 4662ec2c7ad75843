import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, createWriteStream, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { createGzip, gzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { tempDir } from '../helpers/berth.js';
import { berth } from '../helpers/cli.js';
import { sha256 } from '../helpers/layout-image.js';
import { tarBytes, writeScanImage } from '../helpers/scan-image.js';
import { missingTools } from '../helpers/tools.js';

const env = () => ({ BERTH_HOME: tempDir('berth-home-') });

/** A ustar header for an empty regular file (the fastest way to write a million entries). */
function emptyFileHeader(name: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write('00000000000\0', 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

describe('bad input: clear errors or skipped entries with warnings, memory bounded', () => {
  const work = tempDir('berth-bad-');

  test('a truncated layer is a clear error naming the layer', async () => {
    const dir = join(work, 'truncated');
    const good = gzipSync(await tarBytes({ 'etc/os-release': 'ID=debian\nVERSION_ID=12\n', 'var/lib/dpkg/status': readFileSync('/var/lib/dpkg/status') }));
    const cut = good.subarray(0, Math.floor(good.length / 2));
    const { layers } = await writeScanImage(dir, 'v1', [{}, {}], { rawLayers: { 1: { bytes: cut, diffId: sha256('unknown') } } });
    const r = await berth(['sbom', `oci:${dir}:v1`], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`layer 2 of 2 \\(${layers[1]}\\): gzip stream is corrupt or truncated`));
    assert.equal(r.stdout, '', 'no partial SBOM is printed');
  });

  test('a layer whose bytes do not match its digest is refused', async () => {
    const dir = join(work, 'mismatch');
    const { layers } = await writeScanImage(dir, 'v1', [{ 'a.txt': 'original' }]);
    writeFileSync(join(dir, 'blobs', 'sha256', layers[0]!.slice(7)), gzipSync(await tarBytes({ 'a.txt': 'tampered' })));
    const r = await berth(['sbom', `oci:${dir}:v1`], env());
    assert.equal(r.code, 1);
    assert.match(r.stderr, /layer 1 of 1 .*its bytes do not match sha256:/);
  });

  test('a tar bomb of a million entries is cut off at the entry limit with a warning, in bounded memory', async () => {
    const dir = join(work, 'bomb');
    mkdirSync(dir, { recursive: true });
    const layerFile = join(work, 'bomb-layer.tar.gz');
    // Headers in 1 MiB batches: a million tiny chunks through gzip would take minutes.
    const entries = (function* () {
      for (let i = 0; i < 1_000_000; i += 2048) {
        const batch: Buffer[] = [];
        for (let j = i; j < Math.min(i + 2048, 1_000_000); j++) batch.push(emptyFileHeader(`d${j % 1000}/f${j}`));
        yield Buffer.concat(batch);
      }
      yield Buffer.alloc(1024);
    })();
    await pipeline(Readable.from(entries), createGzip({ level: 1 }), createWriteStream(layerFile));
    const bytes = readFileSync(layerFile);
    await writeScanImage(dir, 'v1', [{}, { 'etc/os-release': 'ID=alpine\nVERSION_ID=3.19.0\n' }], { rawLayers: { 0: { bytes, diffId: sha256('bomb') } } });
    const r = await berth(['sbom', `oci:${dir}:v1`, '--max-files', '200000'], env(), { measure: true });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /layer 1: the entry limit was reached \(a tar bomb\?\); the scan stopped there \(1 later layer not read\), so its results are incomplete/);
    assert.ok(r.peakRss! < 400 * 2 ** 20, `peak RSS ${Math.round(r.peakRss! / 2 ** 20)} MiB`);
  });

  test('a huge sparse file (1 TiB, GNU tar --sparse) is passed over without reading a terabyte', { skip: missingTools('tar', 'truncate') }, async () => {
    const src = join(work, 'sparse-src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'os-release'), 'ID=debian\nVERSION_ID=12\n');
    closeSync(openSync(join(src, 'huge.img'), 'w'));
    execFileSync('truncate', ['-s', '1T', join(src, 'huge.img')]);
    execFileSync('tar', ['--sparse', '-czf', join(work, 'sparse.tar.gz'), '-C', src, 'etc', 'huge.img']);
    const dir = join(work, 'sparse');
    await writeScanImage(dir, 'v1', [{}], { rawLayers: { 0: { bytes: readFileSync(join(work, 'sparse.tar.gz')), diffId: sha256('sparse') } } });
    const r = await berth(['sbom', `oci:${dir}:v1`], env(), { measure: true });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { components: { type: string; name: string }[] }).components.find((c) => c.type === 'operating-system')?.name, 'debian');
    assert.ok(r.peakRss! < 400 * 2 ** 20);
  });

  test('a decompression bomb is cut off at the byte limit with a warning', async () => {
    const dir = join(work, 'zeros');
    const zeros = Buffer.alloc(64 << 20);
    await writeScanImage(dir, 'v1', [[{ name: 'zeros.bin', content: zeros }, { name: 'etc/os-release', content: 'ID=debian\nVERSION_ID=12\n' }]]);
    const r = await berth(['sbom', `oci:${dir}:v1`, '--max-bytes', '16MiB'], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /the byte limit was reached at zeros\.bin/);
  });

  test('a symlink out of the rootfs is never followed: the host\'s own os-release is not read', async () => {
    const dir = join(work, 'symlink');
    await writeScanImage(dir, 'v1', [[{ name: 'etc/os-release', symlink: '../../../../../../../../etc/os-release' }, { name: 'app/a.txt', content: 'x' }]]);
    const r = await berth(['sbom', `oci:${dir}:v1`], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /symlink etc\/os-release -> \.\.\/\.\.\/.* points outside the image root; it is not followed/);
    const doc = JSON.parse(r.stdout) as { components: { type: string }[] };
    assert.ok(!doc.components.some((c) => c.type === 'operating-system'), 'no OS: the image has none, whatever the host has');
  });

  test('a corrupt dpkg status costs only the broken records, each named in a warning', async () => {
    const status = readFileSync('/var/lib/dpkg/status', 'utf8');
    const stanzas = status.split('\n\n');
    const broken = [stanzas[0], '\u0000\u0001garbage without a colon\nPackage: half', stanzas[1], 'Package: noversion\nStatus: install ok installed', ...stanzas.slice(2)].join('\n\n');
    const dir = join(work, 'corrupt');
    await writeScanImage(dir, 'v1', [{ 'etc/os-release': 'ID=debian\nVERSION_ID=12\n', 'var/lib/dpkg/status': broken }]);
    const r = await berth(['sbom', `oci:${dir}:v1`], env());
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /var\/lib\/dpkg\/status \(layer 1\): line \d+ is not a control field; its package record was skipped/);
    assert.match(r.stderr, /the record at line \d+ has no Version field; skipped/);
    const debs = (JSON.parse(r.stdout) as { components: { purl?: string }[] }).components.filter((c) => c.purl?.startsWith('pkg:deb/'));
    const installed = execFileSync('dpkg-query', ['-W', '-f', '${db:Status-Status}\n'], { encoding: 'utf8' }).split('\n').filter((l) => l === 'installed').length;
    assert.equal(debs.length, installed, 'every intact record is still read');
  });
});
