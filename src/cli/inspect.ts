import type { Command } from 'commander';
import { parseManifest } from '../oci/manifest.js';
import { isIndexType } from '../oci/mediatypes.js';
import { formatPlatform } from '../transport/platform.js';
import { clientOptions, humanSize, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { sourceAnywhere } from './lookup.js';

interface ImageConfig {
  created?: string;
  author?: string;
  architecture?: string;
  os?: string;
  variant?: string;
  config?: RunConfig;
}

/** The part of an image config `docker inspect` users look at first. */
interface RunConfig {
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  User?: string;
  Env?: string[] | null;
  ExposedPorts?: Record<string, unknown> | null;
  Labels?: Record<string, string> | null;
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
          if (config.author) out(`Author:     ${config.author}`);
          if (facts.config) out(`Config:     ${facts.config.digest} (${humanSize(facts.config.size)})`);
          runConfig(config.config ?? {});
          out(`Layers:     ${facts.layers.length} (${humanSize(size)})`);
          for (const l of facts.layers) out(`  ${l.digest}   ${humanSize(l.size).padStart(8)}   ${l.mediaType}`);
        } finally {
          await src.close();
          await ctx.http.close();
        }
      }),
    );
}

/** Entrypoint, Cmd, WorkingDir, User, Env, ExposedPorts and Labels, each only when set. */
function runConfig(c: RunConfig): void {
  const list = (label: string, items: string[]) => {
    if (items.length === 0) return;
    out(`${label}:`);
    for (const i of items) out(`  ${i}`);
  };
  if (c.Entrypoint?.length) out(`Entrypoint: ${JSON.stringify(c.Entrypoint)}`);
  if (c.Cmd?.length) out(`Cmd:        ${JSON.stringify(c.Cmd)}`);
  if (c.WorkingDir) out(`WorkingDir: ${c.WorkingDir}`);
  if (c.User) out(`User:       ${c.User}`);
  list('Env', c.Env ?? []);
  const ports = Object.keys(c.ExposedPorts ?? {});
  if (ports.length) out(`ExposedPorts: ${ports.join(', ')}`);
  list('Labels', Object.entries(c.Labels ?? {}).map(([k, v]) => `${k}=${v}`));
}

async function readAll(stream: AsyncIterable<Buffer | string>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  return Buffer.concat(parts);
}
