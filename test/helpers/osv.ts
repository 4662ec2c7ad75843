import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, resolve } from 'node:path';
import yazl from 'yazl';
import { REPO_ROOT } from './berth.js';

export interface OsvRecord {
  id: string;
  modified: string;
  affected?: { package: { ecosystem: string; name: string } }[];
  [k: string]: unknown;
}

/** The real advisories of test/fixtures/osv (see its README). */
export function fixtureAdvisories(): OsvRecord[] {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'test/fixtures/osv/advisories.json'), 'utf8')) as OsvRecord[];
}

/** A zip of `<ID>.json` entries, as osv.dev's all.zip holds them; `names` overrides an entry's name. */
export async function osvZip(records: OsvRecord[], names: Record<string, string> = {}): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  // yazl refuses unsafe names; a same-length placeholder is swapped in afterwards (names are not covered by the CRC).
  const swaps: [Buffer, Buffer][] = [];
  for (const r of records) {
    const wanted = names[r.id] ?? `${r.id}.json`;
    const placeholder = wanted.replace(/\.\./g, 'xx').replace(/^\//, 'x');
    if (placeholder !== wanted) swaps.push([Buffer.from(placeholder), Buffer.from(wanted)]);
    zip.addBuffer(Buffer.from(JSON.stringify(r)), placeholder, { mtime: new Date(0) });
  }
  zip.end();
  const parts: Buffer[] = [];
  for await (const c of zip.outputStream) parts.push(c as Buffer);
  let bytes = Buffer.concat(parts);
  for (const [from, to] of swaps) {
    for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + to.length)) to.copy(bytes, at);
  }
  return bytes;
}

/** Writes `<dir>/<Ecosystem>/all.zip` per ecosystem (Debian:12 goes to Debian), the layout of osv.dev's export. */
export async function writeOsvMirror(dir: string, records: OsvRecord[]): Promise<void> {
  const byEcosystem = new Map<string, OsvRecord[]>();
  for (const r of records) {
    const eco = (r.affected?.[0]?.package.ecosystem ?? 'unknown').split(':')[0]!;
    byEcosystem.set(eco, [...(byEcosystem.get(eco) ?? []), r]);
  }
  for (const [eco, list] of byEcosystem) {
    mkdirSync(join(dir, eco), { recursive: true });
    writeFileSync(join(dir, eco, 'all.zip'), await osvZip(list));
  }
}

export interface MirrorServer {
  url: string;
  /** Paths requested with a 200 answer (a full download). */
  downloads: string[];
  close(): Promise<void>;
}

/** Serves a directory over loopback HTTP with ETags, answering If-None-Match with 304, as a bucket does. */
export async function serveMirror(dir: string): Promise<MirrorServer> {
  const downloads: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = resolve(dir, `.${decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)}`);
    if (!path.startsWith(resolve(dir))) return void res.writeHead(403).end();
    let body: Buffer;
    try {
      body = readFileSync(path);
    } catch {
      return void res.writeHead(404).end();
    }
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 16)}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { ETag: etag }).end();
    downloads.push(req.url ?? '');
    res.writeHead(200, { ETag: etag, 'Content-Type': 'application/zip', 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, downloads, close: () => new Promise((r) => server.close(() => r())) };
}
