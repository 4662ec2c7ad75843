import type { Command } from 'commander';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import { formatPlatform } from '../transport/platform.js';
import { clientOptions, context, humanSize, out, printJson, run, type ClientFlags } from './common.js';
import { sourceAnywhere } from './lookup.js';

interface ImageConfig {
  created?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: Record<string, unknown>;
}

export function registerInspect(program: Command): void {
  clientOptions(program.command('inspect').argument('<ref>', 'REF (local store, else its registry), docker://REF, oci:DIR[:tag], ...'))
    .description('show an image: manifest, config, platform, layers with sizes')
    .action(
      run('inspect', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        const src = await sourceAnywhere(ctx, input);
        try {
          const root = await src.root();
          const facts = parseManifest(root.bytes, root.mediaType);
          const manifest = JSON.parse(root.bytes.toString('utf8')) as unknown;
          if (isIndexType(root.mediaType)) {
            if (flags.json) return void printJson({ name: src.description, digest: root.digest, mediaType: root.mediaType, manifest });
            out(`Name:       ${src.description}`);
            out(`Digest:     ${root.digest}`);
            out(`MediaType:  ${root.mediaType}`);
            out('Manifests:');
            for (const m of facts.manifests) out(`  ${m.digest}   ${m.platform ? formatPlatform(m.platform) : 'unknown'}   ${humanSize(m.size)}`);
            return;
          }
          const config = facts.config ? (JSON.parse((await readAll(await src.blob(facts.config))).toString('utf8')) as ImageConfig) : {};
          const size = facts.layers.reduce((a, l) => a + l.size, 0);
          if (flags.json) return void printJson({ name: src.description, digest: root.digest, mediaType: root.mediaType, manifest, config, size });
          out(`Name:       ${src.description}`);
          out(`Digest:     ${root.digest}`);
          out(`MediaType:  ${root.mediaType}`);
          out(`Platform:   ${[config.os, config.architecture, config.variant].filter(Boolean).join('/') || 'unknown'}`);
          out(`Created:    ${config.created ?? 'unknown'}`);
          if (facts.config) out(`Config:     ${facts.config.digest} (${humanSize(facts.config.size)})`);
          out(`Layers:     ${facts.layers.length} (${humanSize(size)})`);
          for (const l of facts.layers) out(`  ${l.digest}   ${humanSize(l.size).padStart(8)}   ${l.mediaType}`);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}
