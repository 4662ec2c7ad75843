import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BerthServer } from '../helpers/berth.js';
import { writeLayoutImage } from '../helpers/layout-image.js';
import { blob, imageConfig, imageIndex } from '../helpers/oci.js';
import { must, readLayoutImage, umociImage, type LayoutImage, type Tools } from '../helpers/tools.js';
import { tempDir } from '../helpers/berth.js';

export interface UiImages {
  base: LayoutImage;
  app: LayoutImage;
  app2: LayoutImage;
  vault: LayoutImage;
  multi: { digest: string };
  xss: LayoutImage & { texts: string[] };
  big: { digest: string; layers: number; bytes: number };
  baseLayerSize: number;
}

/** What a hostile pusher writes where the UI shows text: a label, an environment variable, an annotation. */
const HOSTILE = {
  label: 'evil=<img src=x onerror="window.__xss=1">',
  env: 'GREETING=<b onmouseover=alert(1)>hi</b>',
  annotation: 'note=<script>window.__xss=2</script>',
};

/**
 * The images the UI tests browse, built offline with umoci and pushed by
 * skopeo: public/base, and dev/app and secret/vault built on it (they share
 * its layer); a two-platform index; an image whose labels, environment and
 * annotations are HTML; and a 4 MiB manifest (20,000 layers naming one blob),
 * pushed through the API since no tool makes one.
 */
export async function pushUiImages(tools: Tools, server: BerthServer, auth: Record<string, string>, creds: string): Promise<UiImages> {
  const layout = join(tempDir('berth-ui-images-'), 'layout');
  const base = await umociImage(layout, 'base', { 'etc/os-release': 'NAME=ui-test-os\n', 'usr/lib/libbase.so': Buffer.alloc(24_000, 7) });
  const app = await umociImage(layout, 'app', { 'app/main': '#!/bin/sh\necho app 1\n' }, { base: 'base', cmd: '/app/main' });
  const app2 = await umociImage(layout, 'app2', { 'app/main': '#!/bin/sh\necho app 2\n' }, { base: 'base', cmd: '/app/main' });
  const vault = await umociImage(layout, 'vault', { 'secret/key': 'not for dev\n' }, { base: 'base' });
  await umociImage(layout, 'xss', { 'x.html': '<script>window.__xss=4</script>' }, { base: 'base' });
  await must('umoci', ['config', '--image', `${layout}:xss`, '--config.label', HOSTILE.label, '--config.env', HOSTILE.env, '--manifest.annotation', HOSTILE.annotation]);
  const copy = (tag: string, ref: string, ...flags: string[]) =>
    tools.skopeo('copy', '--quiet', '--dest-tls-verify=false', '--dest-creds', creds, ...flags, `oci:${layout}:${tag}`, `docker://${server.host}/${ref}`);
  await copy('base', 'public/base:1');
  await copy('app', 'dev/app:1');
  await copy('app2', 'dev/app:2');
  await copy('vault', 'secret/vault:1');
  await copy('xss', 'dev/xss:1');
  const multi = await twoPlatformIndex(join(tempDir('berth-ui-index-'), 'layout'));
  await tools.skopeo('copy', '--quiet', '--all', '--dest-tls-verify=false', '--dest-creds', creds, `oci:${multi.layout}:multi`, `docker://${server.host}/public/multi:1`);
  const xssImage = { ...readLayoutImage(layout, 'xss'), texts: [HOSTILE.label.slice(5), HOSTILE.env.slice(9), HOSTILE.annotation.slice(5)] };
  return {
    base,
    app,
    app2,
    vault,
    multi: { digest: multi.digest },
    xss: xssImage,
    big: await pushBigManifest(server, auth),
    baseLayerSize: JSON.parse(base.manifest.toString()).layers[0].size as number,
  };
}

/** An OCI layout holding an index of a linux/amd64 and a linux/arm64 image under `multi`. */
async function twoPlatformIndex(layout: string): Promise<{ layout: string; digest: string }> {
  const amd = await writeLayoutImage(layout, 'amd64', [{ 'etc/arch': 'amd64\n' }], { arch: 'amd64' });
  const arm = await writeLayoutImage(layout, 'arm64', [{ 'etc/arch': 'arm64\n' }], { arch: 'arm64' });
  const index = imageIndex([
    { manifest: blob(amd.manifest), platform: { os: 'linux', architecture: 'amd64' } },
    { manifest: blob(arm.manifest), platform: { os: 'linux', architecture: 'arm64' } },
  ]);
  mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(layout, 'blobs', 'sha256', index.digest.slice(7)), index.bytes);
  const path = join(layout, 'index.json');
  const top = JSON.parse(readFileSync(path, 'utf8')) as { manifests: unknown[] };
  top.manifests.push({ mediaType: 'application/vnd.oci.image.index.v1+json', digest: index.digest, size: index.bytes.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
  writeFileSync(path, JSON.stringify(top));
  return { layout, digest: index.digest };
}

/** Just under the default 4 MiB manifest limit. */
const TARGET_BYTES = (4 << 20) - 4096;

/** A manifest of about 4 MiB: one small layer named some 20,000 times, each with an annotation. */
async function pushBigManifest(server: BerthServer, auth: Record<string, string>): Promise<{ digest: string; layers: number; bytes: number }> {
  const layer = blob('one small layer\n');
  const config = imageConfig();
  for (const b of [config, layer]) {
    const r = await fetch(`${server.url}/v2/dev/big/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.bytes as unknown as BodyInit, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
    if (r.status !== 201) throw new Error(`blob upload: ${r.status}`);
  }
  const descriptor = { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.bytes.length };
  const perLayer = JSON.stringify({ ...descriptor, annotations: { n: '000000' } }).length + 1;
  const layers = Math.floor((TARGET_BYTES - 400) / perLayer);
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.bytes.length },
      layers: Array.from({ length: layers }, (_, i) => ({ ...descriptor, annotations: { n: String(i).padStart(6, '0') } })),
    }),
  );
  const r = await fetch(`${server.url}/v2/dev/big/manifests/1`, { method: 'PUT', body: manifest.bytes as unknown as BodyInit, headers: { ...auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (r.status !== 201) throw new Error(`manifest push: ${r.status} ${await r.text()}`);
  return { digest: manifest.digest, layers, bytes: manifest.bytes.length };
}
