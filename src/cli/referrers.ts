import type { Command } from 'commander';
import { parseManifest } from '../oci/manifest.js';
import { classicSignatures } from '../sign/cosign-classic.js';
import { findAttached, type AttachedTree } from '../transport/referrers.js';
import { clientOptions, out, printJson, run, type ClientFlags } from './common.js';
import { context } from './context.js';
import { openTarget } from './target.js';

interface Node {
  digest: string;
  mediaType: string;
  artifactType?: string;
  size: number;
  /** Where it was found: the referrers list, or a cosign tag. */
  via: string;
  annotations?: Record<string, string>;
  children: Node[];
}

export function registerReferrers(program: Command): void {
  clientOptions(program.command('referrers').argument('<ref>', 'REF (a registry), local:REF or oci:DIR[:tag]'))
    .description('show what is attached to an image: signatures, SBOMs, attestations, and what is attached to those')
    .action(
      run('referrers', async (input: string, flags: ClientFlags) => {
        const ctx = context(flags);
        const target = await openTarget(ctx, input);
        try {
          const tree = await findAttached(target.store, target.subject);
          const nodes = toNodes(tree);
          if (flags.json) return void printJson({ reference: input, digest: target.subject.digest, attached: nodes, simpleSignatures: tree.simpleSignatures.length });
          out(`${input}@${target.subject.digest}`);
          const top = [...nodes.map((n) => ({ text: describe(n), node: n as Node | undefined }))];
          if (tree.simpleSignatures.length) top.push({ text: `${tree.simpleSignatures.length} simple signing signature(s) (signature extension)`, node: undefined });
          print(top, '');
          if (top.length === 0) out('(nothing attached)');
        } finally {
          await target.close();
          await ctx.http.close();
        }
      }),
    );
}

function toNodes(tree: AttachedTree): Node[] {
  const tags: Node[] = tree.tags.map(({ tag, manifest }) => ({
    digest: manifest.digest,
    mediaType: manifest.mediaType,
    size: manifest.bytes.length,
    via: `tag ${tag}`,
    artifactType: tag.endsWith('.sig') ? `cosign signatures (${classicSignatures(manifest.bytes).total})` : tag.endsWith('.att') ? 'cosign attestations' : `cosign SBOM (${parseManifest(manifest.bytes, manifest.mediaType).layers[0]?.mediaType ?? '?'})`,
    children: [],
  }));
  const referrers: Node[] = tree.referrers.map((r) => {
    const n: Node = { digest: r.subject.digest, mediaType: r.subject.mediaType, size: r.subject.size, via: 'referrer', children: toNodes(r) };
    if (r.subject.artifactType) n.artifactType = r.subject.artifactType;
    if (r.subject.annotations) n.annotations = r.subject.annotations;
    return n;
  });
  return [...referrers, ...tags];
}

const describe = (n: Node) => `${n.artifactType ?? n.mediaType}  ${n.digest}  (${n.via})`;

function print(items: { text: string; node: Node | undefined }[], prefix: string): void {
  items.forEach((item, i) => {
    const last = i === items.length - 1;
    out(`${prefix}${last ? '└── ' : '├── '}${item.text}`);
    if (item.node?.children.length) print(item.node.children.map((c) => ({ text: describe(c), node: c })), `${prefix}${last ? '    ' : '│   '}`);
  });
}
