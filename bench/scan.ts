import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import yazl from 'yazl';
import { round } from './measure.js';
import { writeScanImage } from '../test/helpers/scan-image.js';

const BERTH = resolve(import.meta.dirname, '../../bin/berth.js');
const ECOSYSTEMS: [string, number][] = [['Debian:12', 0.4], ['npm', 0.3], ['PyPI', 0.15], ['Go', 0.1], ['Alpine:v3.19', 0.05]];

export interface ScanBenchResult {
  advisories: number;
  packages: number;
  importSeconds: number;
  scanSeconds: number[];
  findings: number;
}

/**
 * `berth scan` of an image with `packages` packages (the host's dpkg
 * records, npm and Python packages) against a database of `advisories`
 * OSV records, most for other packages and a few for each of the image's,
 * as in the real database. Times are whole CLI runs (node start included),
 * after one warm-up; the database is built once with `berth db update`.
 */
export async function scanBench(advisories: number, packages: number): Promise<ScanBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-scan-'));
  try {
    const debs = readFileSync('/var/lib/dpkg/status', 'utf8').split('\n\n').filter((s) => /^Status: install ok installed$/m.test(s));
    const nDeb = Math.min(debs.length, Math.round(packages * 0.6));
    const nNpm = Math.round((packages - nDeb) * 0.75);
    const nPy = packages - nDeb - nNpm;
    const layer: Record<string, string> = { 'etc/os-release': 'ID=debian\nVERSION_ID=12\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n', 'var/lib/dpkg/status': debs.slice(0, nDeb).join('\n\n') + '\n' };
    for (let i = 0; i < nNpm; i++) layer[`app/node_modules/bench-pkg-${i}/package.json`] = JSON.stringify({ name: `bench-pkg-${i}`, version: `1.${i % 10}.0`, license: 'MIT' });
    for (let i = 0; i < nPy; i++) layer[`usr/lib/python3/dist-packages/bench_py_${i}-2.0.${i}.dist-info/METADATA`] = `Metadata-Version: 2.1\nName: bench-py-${i}\nVersion: 2.0.${i}\n\n`;
    await writeScanImage(join(dir, 'img'), 'v1', [layer]);

    const sources = debs.slice(0, nDeb).map((s) => /^Source: (\S+)/m.exec(s)?.[1] ?? /^Package: (\S+)/m.exec(s)![1]!);
    const ours = { 'Debian:12': sources, npm: [...Array(nNpm).keys()].map((i) => `bench-pkg-${i}`), PyPI: [...Array(nPy).keys()].map((i) => `bench-py-${i}`) } as Record<string, string[]>;
    // Entries stored, not deflated: yazl deflates every buffer at once, and 200,000 of them in flight exhaust memory.
    const zip = new yazl.ZipFile();
    const written = pipeline(zip.outputStream, createWriteStream(join(dir, 'all.zip')));
    let n = 0;
    for (const [eco, share] of ECOSYSTEMS) {
      const count = Math.round(advisories * share);
      for (let i = 0; i < count; i++, n++) {
        const mine = ours[eco];
        // One advisory in 200 names a package of the image (a few per package, as for a real Debian image); the rest name others.
        const name = mine && i % 200 === 0 ? mine[(i / 200) % mine.length]! : `other-${eco}-${i}`;
        const fixed = eco.startsWith('Debian') ? '99:1.0-1' : eco === 'Alpine:v3.19' ? '99.0-r0' : '99.0.0';
        const record = {
          id: `BENCH-${n}`,
          modified: '2026-01-01T00:00:00Z',
          summary: `synthetic advisory ${n}`,
          severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N' }],
          affected: [{ package: { ecosystem: eco, name }, ranges: [{ type: eco === 'npm' || eco === 'Go' ? 'SEMVER' : 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
        };
        zip.addBuffer(Buffer.from(JSON.stringify(record)), `BENCH-${n}.json`, { compress: false });
      }
    }
    zip.end();
    await written;

    const db = join(dir, 'osv.db');
    const env = { ...process.env, BERTH_HOME: join(dir, 'home') };
    const t0 = process.hrtime.bigint();
    const update = spawnSync(process.execPath, [BERTH, 'db', 'update', '--from', join(dir, 'all.zip'), '--db', db], { env, encoding: 'utf8' });
    if (update.status !== 0) throw new Error(`db update failed: ${update.stderr}`);
    const importSeconds = Number(process.hrtime.bigint() - t0) / 1e9;

    const scanOnce = () => {
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [BERTH, 'scan', `oci:${join(dir, 'img')}:v1`, '--db', db, '--format', 'json'], { env, encoding: 'utf8', maxBuffer: 256 << 20 });
      if (r.status !== 0) throw new Error(`scan failed: ${r.stderr}`);
      return { seconds: Number(process.hrtime.bigint() - start) / 1e9, report: JSON.parse(r.stdout) as { results: { vulnerabilities: unknown[] }[] } };
    };
    if (process.env.BENCH_SCAN_KEEP) process.stderr.write(`kept ${dir}\n`);
    const warm = scanOnce();
    const scanSeconds = [scanOnce(), scanOnce(), scanOnce()].map((s) => round(s.seconds, 2));
    return { advisories: n, packages, importSeconds: round(importSeconds, 1), scanSeconds, findings: warm.report.results.reduce((a, r) => a + r.vulnerabilities.length, 0) };
  } finally {
    if (!process.env.BENCH_SCAN_KEEP) rmSync(dir, { recursive: true, force: true });
  }
}

/** `node dist/bench/scan.js [ADVISORIES] [PACKAGES]` runs it alone. */
if (process.argv[1] === import.meta.filename) {
  const [advisories = 200_000, packages = 500] = process.argv.slice(2).map(Number);
  const r = await scanBench(advisories, packages);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
