import type { Readable } from 'node:stream';
import { RegistryError } from '../oci/errors.js';

/**
 * Reads a request body of at most `max` bytes into memory, refusing with 413
 * before buffering anything when Content-Length already says it is larger,
 * and as soon as the stream passes `max` otherwise (chunked bodies).
 */
export async function readBounded(body: Readable, declaredLength: number | undefined, max: number, what: string): Promise<Buffer> {
  const tooBig = () => new RegistryError('SIZE_INVALID', `${what} exceeds the ${max} byte limit`, { status: 413, detail: { limit: max } });
  if (declaredLength !== undefined && declaredLength > max) {
    body.resume();
    throw tooBig();
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      throw tooBig();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
