import type { FastifyInstance } from 'fastify';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { header, type Reply, type Req } from '../server/http.js';

/** Where `vite build` (run by `npm ci` and `npm run build`) writes the UI: dist/ui beside dist/src. */
export const BUILT_UI = resolve(import.meta.dirname, '../../ui');

/** No inline script or style, nothing from elsewhere, no framing: the UI's pages run only the registry's own files. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const PAGE_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

const gzipped = promisify(gzip);

interface Asset {
  body: Buffer;
  /** Compressed on first request, in libuv's pool: compressing the whole build at every start cost a quarter second of CPU. */
  gzip?: Promise<Buffer>;
  type: string;
  /** Vite puts a content hash in every name under assets/: those never change. */
  immutable: boolean;
}

/**
 * Serves the built UI under `prefix`: `index.html` at the prefix itself and
 * the files beside it. The build is a few hundred kilobytes, read once at
 * start and compressed once, when first asked for. Without a build, the prefix explains how to make one.
 */
export function registerAssets(app: FastifyInstance, prefix: string, dir = BUILT_UI): void {
  const assets = loadAssets(dir);
  const send = async (req: Req, reply: Reply, asset: Asset | undefined): Promise<Reply> => {
    if (!asset) return reply.code(404).headers(PAGE_HEADERS).type('text/plain; charset=utf-8').send('not found');
    const gzip = /\bgzip\b/.test(header(req, 'accept-encoding') ?? '');
    reply.headers(PAGE_HEADERS).header('Cache-Control', asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache').header('Vary', 'Accept-Encoding');
    if (gzip) reply.header('Content-Encoding', 'gzip');
    return reply.code(200).type(asset.type).send(gzip ? await (asset.gzip ??= gzipped(asset.body, { level: 9 })) : asset.body);
  };
  const index = assets.get('index.html');
  app.get(prefix, (req, reply) => (index ? send(req, reply, index) : notBuilt(reply)));
  if (prefix !== '/') app.get(prefix.slice(0, -1), (_req, reply) => reply.redirect(prefix, 301));
  // Only the build's own names: any other path keeps the registry's usual 404.
  app.get(`${prefix}assets/*`, (req, reply) => send(req, reply, assets.get(req.url.split('?', 1)[0]!.slice(prefix.length))));
  for (const [path, asset] of assets) if (!path.includes('/') && path !== 'index.html') app.get(`${prefix}${path}`, (req, reply) => send(req, reply, asset));
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!existsSync(dir)) return assets;
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const file = join(d, name);
      if (statSync(file).isDirectory()) {
        walk(file);
        continue;
      }
      const path = relative(dir, file).split('\\').join('/');
      const body = readFileSync(file);
      assets.set(path, { body, type: TYPES[extname(name)] ?? 'application/octet-stream', immutable: path.startsWith('assets/') });
    }
  };
  walk(dir);
  return assets;
}

function notBuilt(reply: Reply): Reply {
  return reply
    .code(503)
    .headers(PAGE_HEADERS)
    .type('text/plain; charset=utf-8')
    .send(`The web UI has not been built: run "npm run build" (npm ci does it too), then restart berth serve.\nLooked in ${BUILT_UI}.\n`);
}
