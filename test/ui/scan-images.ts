import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { BerthServer } from '../helpers/berth.js';
import { tempDir } from '../helpers/berth.js';
import { fixtureAdvisories, serveMirror, writeOsvMirror, type MirrorServer } from '../helpers/osv.js';
import { writeScanImage } from '../helpers/scan-image.js';
import type { Tools } from '../helpers/tools.js';
import { until } from '../helpers/wait.js';

/** The vulnerable image's finding, from the real advisories of test/fixtures/osv. */
export const SEMVER_ADVISORY = { id: 'GHSA-c2qf-rxjj-qqgw', package: 'semver', installed: '7.5.1', fixed: '7.5.2', severity: 'HIGH' };

const pkgJson = (name: string, version: string) => JSON.stringify({ name, version, license: 'MIT' });
const base32 = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');

export interface UiScanImages {
  /** semver 7.5.1 (one HIGH advisory) and an AWS access key id in layer 2. */
  vulnerable: { layout: string; digest: string; key: string };
  /** left-pad 1.3.0, which no advisory of the mirror names. */
  clean: { layout: string; digest: string };
}

/** Two images built offline, for the scan column and section: one vulnerable with a secret, one clean. */
export async function writeUiScanImages(): Promise<UiScanImages> {
  const dir = tempDir('berth-ui-scan-images-');
  const key = `AKIA${base32(16)}`;
  const vulnerable = await writeScanImage(join(dir, 'vulnerable'), 'v1', [
    { 'app/node_modules/semver/package.json': pkgJson(SEMVER_ADVISORY.package, SEMVER_ADVISORY.installed) },
    { 'root/.aws/credentials': `[default]\naws_access_key_id = ${key}\n` },
  ]);
  const clean = await writeScanImage(join(dir, 'clean'), 'v1', [{ 'app/node_modules/left-pad/package.json': pkgJson('left-pad', '1.3.0') }]);
  return { vulnerable: { layout: join(dir, 'vulnerable'), digest: vulnerable.digest, key }, clean: { layout: join(dir, 'clean'), digest: clean.digest } };
}

/** A loopback OSV mirror of the fixture advisories, and the `scan:` section that loads it. */
export async function scanMirror(): Promise<{ mirror: MirrorServer; config: string }> {
  const dir = tempDir('berth-ui-osv-');
  await writeOsvMirror(dir, fixtureAdvisories());
  const mirror = await serveMirror(dir);
  return { mirror, config: `scan:\n  db: { updateUrl: "${mirror.url}" }\n` };
}

export async function databaseLoaded(server: BerthServer): Promise<void> {
  // The import runs in a worker beside other suites on a 2-core CI: room, not a timing claim.
  await until(() => server.logs.some((l) => l.msg === 'vulnerability database updated'), 'the vulnerability database loaded from the mirror', 90_000);
}

export function pushLayout(tools: Tools, server: BerthServer, layout: string, ref: string, creds?: string): Promise<string> {
  return tools.skopeo('copy', '--quiet', '--dest-tls-verify=false', ...(creds ? ['--dest-creds', creds] : []), `oci:${layout}:v1`, `docker://${server.host}/${ref}`);
}
