import { createHash, randomUUID, type Hash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { mkdir, open, rename } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';

/**
 * The push ceiling: the least a registry can do for the bench's uploads on
 * this machine and still be durable. It takes monolithic (POST + PUT) and
 * chunked (POST, PATCH..., PUT) uploads, hashes each body with sha256 while
 * writing it to a file, and on the closing PUT fsyncs the data, renames the
 * file under its digest and fsyncs that directory, as Berth does, before it
 * answers 201. No metadata, no auth, no validation beyond the digest: what
 * Berth does beyond this is what its ratio to this server costs.
 *
 * `node dist/bench/ceiling-server.js PORT DIR`
 */

interface Upload {
  path: string;
  size: number;
  hash: Hash;
}

const [port, root] = [Number(process.argv[2]), process.argv[3]!];
const uploadsDir = join(root, 'uploads');
const blobsDir = join(root, 'blobs');
mkdirSync(uploadsDir, { recursive: true });
const uploads = new Map<string, Upload>();

const UPLOAD_PATH = /^\/v2\/(.+)\/blobs\/uploads\/([0-9a-f-]{36})?$/;

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/v2/') return reply(res, 200);
  const m = UPLOAD_PATH.exec(url.pathname);
  if (!m) return reply(res, 404, req);
  const [, repo, id] = m;
  if (req.method === 'POST' && !id) {
    const uuid = randomUUID();
    const path = join(uploadsDir, uuid);
    await (await open(path, 'w')).close();
    uploads.set(uuid, { path, size: 0, hash: createHash('sha256') });
    res.setHeader('Location', `/v2/${repo}/blobs/uploads/${uuid}`);
    return reply(res, 202, req);
  }
  const upload = id ? uploads.get(id) : undefined;
  if (!upload) return reply(res, 404, req);
  await append(upload, req);
  if (req.method === 'PATCH') {
    res.setHeader('Location', `/v2/${repo}/blobs/uploads/${id}`);
    res.setHeader('Range', `0-${upload.size - 1}`);
    return reply(res, 202);
  }
  const digest = url.searchParams.get('digest') ?? '';
  const hex = upload.hash.digest('hex');
  uploads.delete(id!);
  if (digest !== `sha256:${hex}`) return reply(res, 400);
  await commit(upload, hex);
  return reply(res, 201);
}

/** Writes the body at the upload's end, hashing as it goes, with Berth's 1 MiB write buffer. */
async function append(upload: Upload, body: IncomingMessage): Promise<void> {
  const file = await open(upload.path, 'r+');
  const out = file.createWriteStream({ start: upload.size, highWaterMark: 1 << 20 });
  await new Promise<void>((resolve, reject) => {
    body.on('data', (chunk: Buffer) => {
      upload.hash.update(chunk);
      upload.size += chunk.length;
      if (!out.write(chunk)) {
        body.pause();
        out.once('drain', () => body.resume());
      }
    });
    body.once('end', () => out.end());
    body.once('error', reject);
    out.once('error', reject);
    out.once('close', resolve);
  });
}

async function commit(upload: Upload, hex: string): Promise<void> {
  const file = await open(upload.path, 'r+');
  try {
    await file.sync();
  } finally {
    await file.close();
  }
  const dir = join(blobsDir, hex.slice(0, 2));
  await mkdir(dir, { recursive: true });
  await rename(upload.path, join(dir, hex));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

function reply(res: ServerResponse, status: number, unread?: IncomingMessage): void {
  unread?.resume();
  res.statusCode = status;
  res.setHeader('Content-Length', '0');
  res.end();
}

createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
  handle(req, res).catch((e: unknown) => {
    process.stderr.write(`ceiling: ${(e as Error).message}\n`);
    if (!res.headersSent) reply(res, 500, req);
  });
}).listen(port, '127.0.0.1');
