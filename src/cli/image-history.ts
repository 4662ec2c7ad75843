import type { Command } from 'commander';
import { imageFacts, type HistoryStep } from '../local/image-facts.js';
import { resolveLocal } from '../local/resolve.js';
import { LocalStore } from '../local/store.js';
import { hexOf, type Digest } from '../oci/digest.js';
import { humanSize, out, printJson, run, since, table } from './common.js';
import { compileTemplate } from './template.js';

interface HistoryRow {
  id: Digest | undefined;
  created?: string;
  createdBy: string;
  comment: string;
  /** Bytes of the layer this step made (as stored, compressed); 0 for a step that made none. */
  size: number;
  layer?: Digest;
}

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };
type Fields = Record<keyof typeof HEADERS, string>;

/** `berth image ...`: docker's management-command form; `history` is the one that needs it (see history.ts). */
export function registerImage(program: Command): void {
  const image = program.command('image').description('images of the local store (docker image ...)');
  image
    .command('history')
    .argument('<image>', 'a reference or image ID in the local store')
    .description("how the image was built, newest step first: the config's history with each step's layer size")
    .option('-q, --quiet', 'only the image ID')
    .option('--no-trunc', 'full IDs and commands')
    .option('--format <template>', 'Go-template-like: {{.ID}} {{.CreatedSince}} {{.CreatedAt}} {{.CreatedBy}} {{.Size}} {{.Comment}}; a leading "table" aligns and adds headers')
    .option('--json', 'machine-readable output')
    .action(
      run('image history', async (input: string, flags: { quiet?: boolean; trunc?: boolean; format?: string; json?: boolean }) => {
        const store = new LocalStore();
        const { images } = await resolveLocal(store, input);
        const facts = await imageFacts(store, images[0]!);
        const rows = historyRows(facts.id, facts.history, facts.layers);
        const trunc = flags.trunc !== false;
        if (flags.json) return void printJson(rows);
        if (flags.quiet) return void out(trunc ? hexOf(facts.id).slice(0, 12) : facts.id);
        const fields = rows.map((r): Fields => ({
          ID: r.id ? (trunc ? hexOf(r.id).slice(0, 12) : r.id) : '<missing>',
          CreatedSince: since(r.created),
          CreatedAt: r.created ?? 'N/A',
          CreatedBy: trunc && r.createdBy.length > 45 ? `${r.createdBy.slice(0, 44)}…` : r.createdBy,
          Size: humanSize(r.size),
          Comment: r.comment,
        }));
        if (flags.format) {
          const t = compileTemplate<Fields>(flags.format, HEADERS);
          const lines = [...(t.table ? [t.header()] : []), ...fields.map((f) => t.render(f))];
          return void out(t.table ? table(lines[0]!.split('\t'), lines.slice(1).map((l) => l.split('\t'))) : lines.join('\n'));
        }
        const cols: (keyof Fields)[] = ['ID', 'CreatedSince', 'CreatedBy', 'Size', 'Comment'];
        out(table(cols.map((c) => HEADERS[c]), fields.map((f) => cols.map((c) => f[c]))));
      }),
    );
}

/**
 * Steps newest first, each non-empty one given the next layer in order; a
 * config without history (umoci, crane append) gets one step per layer. The
 * newest step carries the image ID, the others `<missing>`, as docker shows
 * an image whose intermediate images are not in the store.
 */
export function historyRows(id: Digest, history: HistoryStep[], layers: { digest: Digest; size: number }[]): HistoryRow[] {
  const steps = history.length > 0 ? history : layers.map((): HistoryStep => ({}));
  let next = 0;
  const rows = steps.map((s): HistoryRow => {
    const layer = s.empty_layer ? undefined : layers[next++];
    return { id: undefined, ...(s.created ? { created: s.created } : {}), createdBy: s.created_by ?? '', comment: s.comment ?? '', size: layer?.size ?? 0, ...(layer ? { layer: layer.digest } : {}) };
  });
  rows.reverse();
  if (rows[0]) rows[0].id = id;
  return rows;
}
