import type { Command } from 'commander';
import { LocalStore } from '../local/store.js';
import { hexOf } from '../oci/digest.js';
import { familiarName } from '../oci/reference.js';
import { collect } from './options.js';
import { humanSize, out, printJson, run, since, table } from './common.js';
import { imageFilter, listImages, referenceFilter, type ImageRow } from './image-list.js';
import { compileTemplate } from './template.js';

interface ImagesFlags {
  json?: boolean;
  quiet?: boolean;
  digests?: boolean;
  trunc?: boolean;
  format?: string;
  filter?: string[];
}

const HEADERS = { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' };
type Fields = Record<keyof typeof HEADERS, string>;

export function registerImages(program: Command): void {
  program
    .command('images')
    .argument('[repository[:tag]]', 'only images of this repository (and tag); globs as in --filter reference=')
    .description('list the images in the local store, newest first; IMAGE ID is the config digest, as docker shows it')
    .option('-q, --quiet', 'only image IDs, each once')
    .option('--digests', 'show the registry digest too')
    .option('--no-trunc', 'full image IDs')
    .option('--format <template>', 'Go-template-like: {{.Repository}} {{.Tag}} {{.ID}} {{.Digest}} {{.Size}} {{.CreatedSince}} {{.CreatedAt}}; a leading "table" aligns and adds headers')
    .option('-f, --filter <key=value>', 'dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE (repeatable)', collect)
    .option('--json', 'machine-readable output')
    .action(
      run('images', async (pattern: string | undefined, flags: ImagesFlags) => {
        const store = new LocalStore();
        const keep = await imageFilter(store, flags.filter ?? []);
        const match = pattern === undefined ? () => true : referenceFilter(pattern);
        const rows = (await listImages(store)).filter((r) => keep(r) && match(r));
        if (flags.json) return void printJson(rows.map(jsonRow));
        const fields = rows.map((r) => fieldsOf(r, flags.trunc !== false));
        if (flags.quiet) return void [...new Set(fields.map((f) => f.ID))].forEach((id) => out(id));
        if (flags.format) {
          const t = compileTemplate<Fields>(flags.format, HEADERS);
          if (!t.table) return void fields.forEach((f) => out(t.render(f)));
          const lines = [t.header(), ...fields.map((f) => t.render(f))].map((l) => l.split('\t'));
          return void out(table(lines[0]!, lines.slice(1)));
        }
        const cols: (keyof Fields)[] = ['Repository', 'Tag', ...(flags.digests ? (['Digest'] as const) : []), 'ID', 'CreatedSince', 'Size'];
        out(table(cols.map((c) => HEADERS[c]), fields.map((f) => cols.map((c) => f[c]))));
      }),
    );
}

function fieldsOf(r: ImageRow, trunc: boolean): Fields {
  const { image } = r;
  return {
    Repository: image.untagged ? '<none>' : familiarName(image.ref),
    Tag: image.untagged ? '<none>' : (image.ref.tag ?? '<none>'),
    ID: trunc ? hexOf(r.id).slice(0, 12) : r.id,
    Digest: image.repoDigest,
    CreatedSince: since(r.created),
    CreatedAt: r.created ? dockerTime(r.created) : 'N/A',
    Size: humanSize(r.size),
  };
}

/** `2024-01-02 03:04:05 +0000 UTC`, Go's default time format, as docker prints CreatedAt. */
const dockerTime = (iso: string): string => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
};

const jsonRow = (r: ImageRow) => {
  const f = fieldsOf(r, false);
  return { repository: f.Repository, tag: f.Tag, ...(r.image.untagged ? { dangling: true, untaggedFrom: r.image.name } : {}), id: r.id, digest: r.image.repoDigest, created: r.created, size: r.size };
};
