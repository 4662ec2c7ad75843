import type { Command } from 'commander';
import { clientOptions, run, UsageError } from './common.js';
import { editImage, editOptions, type EditFlags } from './edit.js';
import { collect, keyValues } from './options.js';

interface MutateFlags extends EditFlags {
  label?: string[];
  env?: string[];
  entrypoint?: string;
  cmd?: string;
  user?: string;
  workdir?: string;
  annotation?: string[];
}

export function registerMutate(program: Command): void {
  editOptions(clientOptions(program.command('mutate').argument('<ref>', 'the image to edit: REF (a registry), oci:DIR[:tag], local:REF, ...')))
    .description("edit an image's config without a rebuild (labels, env, entrypoint, cmd, user, workdir) or its manifest's annotations; prints the new digest")
    .option('-l, --label <key=value>', 'set a label (repeatable)', collect)
    .option('-e, --env <KEY=value>', 'set an environment variable, replacing one of that name (repeatable)', collect)
    .option('--entrypoint <json|word>', 'the entrypoint: a JSON array (\'["/app","-v"]\') or one word; "" clears it')
    .option('--cmd <json|word>', 'the default arguments, as --entrypoint')
    .option('-u, --user <user>', 'the user the process runs as')
    .option('-w, --workdir <dir>', 'the working directory')
    .option('-a, --annotation <key=value>', 'set a manifest annotation (repeatable)', collect)
    .action(
      run('mutate', async (input: string, flags: MutateFlags) => {
        const labels = keyValues(flags.label, '--label');
        const annotations = keyValues(flags.annotation, '--annotation');
        const env = (flags.env ?? []).map((e) => (/^[^=]+=/.test(e) ? e : fail(`--env ${e}: expected KEY=value`)));
        const entrypoint = flags.entrypoint === undefined ? undefined : argv(flags.entrypoint, '--entrypoint');
        const cmd = flags.cmd === undefined ? undefined : argv(flags.cmd, '--cmd');
        const changes = [flags.label, flags.env, flags.entrypoint, flags.cmd, flags.user, flags.workdir, flags.annotation].filter((c) => c !== undefined);
        if (changes.length === 0) throw new UsageError('nothing to change: give --label, --env, --entrypoint, --cmd, --user, --workdir or --annotation');
        await editImage(input, flags, (config, manifest) => {
          const rc = (config.config ??= {});
          if (Object.keys(labels).length) rc.Labels = { ...(rc.Labels as Record<string, string> | undefined), ...labels };
          if (env.length) rc.Env = mergeEnv((rc.Env as string[] | undefined) ?? [], env);
          if (entrypoint !== undefined) rc.Entrypoint = entrypoint;
          if (cmd !== undefined) rc.Cmd = cmd;
          if (flags.user !== undefined) rc.User = flags.user;
          if (flags.workdir !== undefined) rc.WorkingDir = flags.workdir;
          if (Object.keys(annotations).length) manifest.annotations = { ...manifest.annotations, ...annotations };
          return [];
        });
      }),
    );
}

const fail = (message: string): never => {
  throw new UsageError(message);
};

/** `["a","b"]` as JSON, `""` as none, anything else as one argument (no shell splitting guesses). */
function argv(value: string, flag: string): string[] | null {
  if (value === '') return null;
  if (!value.trimStart().startsWith('[')) return [value];
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (e) {
    return fail(`${flag} ${value}: not a JSON array: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) return fail(`${flag} ${value}: expected a JSON array of strings`);
  return parsed as string[];
}

/** Later values win by name; the order of the rest is kept. */
function mergeEnv(current: string[], set: string[]): string[] {
  const name = (e: string) => e.slice(0, e.indexOf('='));
  const replaced = new Set(set.map(name));
  return [...current.filter((e) => !replaced.has(name(e))), ...set];
}
