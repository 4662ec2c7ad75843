import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import { parseReference } from '../oci/reference.js';
import { clientFor } from '../transport/location.js';
import { clientOptions, NotFoundError, out, printJson, run, UsageError, type ClientFlags } from './common.js';
import { context } from './context.js';

interface BlobFlags extends ClientFlags {
  output?: string;
}

export function registerBlob(program: Command): void {
  clientOptions(program.command('blob').argument('<ref@digest>', 'HOST/REPO@sha256:... (a layer, a config, any blob of the repository)'))
    .description('stream a blob from a registry to stdout or a file, verified against its digest')
    .option('-o, --output <file>', 'write to this file (it appears only once the digest is proven)')
    .action(
      run('blob', async (input: string, flags: BlobFlags) => {
        const ref = parseReference(input.replace(/^docker:\/\//, ''), { defaultTag: false });
        if (!ref.digest) throw new UsageError(`${input}: name the blob by digest, e.g. ${ref.registry}/${ref.repository}@sha256:<64 hex>`);
        const ctx = context(flags);
        try {
          const client = clientFor(ctx, ref.registry);
          const size = await client.blobSize(ref.repository, ref.digest);
          if (size === undefined) throw new NotFoundError(`blob ${ref.digest} not found in ${ref.registry}/${ref.repository}`);
          const stream = client.openBlob(ref.repository, { mediaType: 'application/octet-stream', digest: ref.digest, size });
          if (!flags.output) return void (await pipeline(stream, process.stdout, { end: false }));
          await toFile(stream, resolve(flags.output));
          if (flags.json) printJson({ digest: ref.digest, size, file: resolve(flags.output) });
          else out(`${ref.digest}: ${size} bytes written to ${flags.output}`);
        } finally {
          await ctx.http.close();
        }
      }),
    );
}

/** Into a temporary name beside the file, renamed once the stream proved the digest: a failure leaves the old file, if any, as it was. */
async function toFile(stream: NodeJS.ReadableStream, file: string): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.berth-${process.pid}`);
  try {
    await pipeline(stream, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}
