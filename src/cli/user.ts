import { hashSync } from '@node-rs/bcrypt';
import type { Command } from 'commander';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { isValidUsername, parseHtpasswd } from '../server/auth/htpasswd.js';
import { NotFoundError, run, UsageError } from './common.js';

interface FileFlags {
  file?: string;
  config?: string;
}

/** `berth user add/del/list`: the htpasswd file `berth serve` reads (it picks up changes without a restart). */
export function registerUser(program: Command): void {
  const user = program.command('user').description('manage the users of the htpasswd file (auth.htpasswd)');
  const fileOptions = (c: Command) =>
    c.option('-f, --file <htpasswd>', 'the htpasswd file').option('-c, --config <file>', 'take the file from auth.htpasswd of this berth config');

  fileOptions(user.command('add').argument('<name>', 'user name'))
    .description('add a user, or set the password of an existing one (bcrypt, as `htpasswd -B` writes it)')
    .option('-p, --password <password>', 'the password (prefer --password-stdin: argv is visible to other users)')
    .option('--password-stdin', 'read the password from stdin')
    .option('--cost <n>', 'bcrypt cost', '10')
    .action(run('user add', async (name: string, flags: FileFlags & { password?: string; passwordStdin?: boolean; cost: string }) => {
      if (!isValidUsername(name)) usage(`invalid user name "${name}": no colons or spaces`);
      const password = flags.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : flags.password;
      if (!password) usage('give the password with --password-stdin (or -p)');
      const cost = Number(flags.cost);
      if (!Number.isInteger(cost) || cost < 4 || cost > 31) usage('--cost must be an integer from 4 to 31');
      // `$2y$` is what Apache writes and what every htpasswd reader accepts; the hash itself is identical to `$2b$`.
      const hash = hashSync(password!, cost).replace(/^\$2[ab]\$/, '$2y$');
      const existed = await edit(await fileOf(flags), (lines) => {
        const i = lines.findIndex((l) => l.startsWith(`${name}:`));
        if (i >= 0) lines[i] = `${name}:${hash}`;
        else lines.push(`${name}:${hash}`);
        return i >= 0;
      });
      process.stdout.write(existed ? `password of ${name} changed\n` : `added ${name}\n`);
    }));

  fileOptions(user.command('del').alias('rm').argument('<name>', 'user name'))
    .description('remove a user (their refresh tokens stop working at once)')
    .action(run('user del', async (name: string, flags: FileFlags) => {
      const found = await edit(await fileOf(flags), (lines) => {
        const i = lines.findIndex((l) => l.startsWith(`${name}:`));
        if (i >= 0) lines.splice(i, 1);
        return i >= 0;
      });
      if (!found) throw new NotFoundError(`no user "${name}" in ${await fileOf(flags)}`);
      process.stdout.write(`removed ${name}\n`);
    }));

  fileOptions(user.command('list').alias('ls'))
    .description('list the users')
    .option('--json', 'a JSON array')
    .action(run('user list', async (flags: FileFlags & { json?: boolean }) => {
      const path = await fileOf(flags);
      const names = existsSync(path) ? [...parseHtpasswd(readFileSync(path, 'utf8'), path).keys()] : [];
      process.stdout.write(flags.json ? `${JSON.stringify(names)}\n` : names.map((n) => `${n}\n`).join(''));
    }));
}

async function fileOf(flags: FileFlags): Promise<string> {
  if (flags.file) return resolve(flags.file);
  if (flags.config) {
    // Loaded on demand: the config schema (zod, YAML) is not needed by the other verbs.
    const { loadConfig } = await import('../config/config.js');
    const path = loadConfig({ file: flags.config }).auth?.htpasswd;
    if (!path) usage(`${flags.config} has no auth.htpasswd`);
    return resolve(path!);
  }
  return usage('name the htpasswd file: --file FILE, or --config berth.yaml');
}

/** Changes the file's lines under a lock and replaces it atomically, so a running server never reads half a file. */
async function edit(path: string, change: (lines: string[]) => boolean): Promise<boolean> {
  if (!existsSync(path)) writeFileSync(path, '', { flag: 'a', mode: 0o600 });
  const release = await lockfile.lock(path, { retries: { retries: 20, minTimeout: 50, maxTimeout: 500 } });
  try {
    const text = readFileSync(path, 'utf8');
    parseHtpasswd(text, path);
    const lines = text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);
    const result = change(lines);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, lines.length ? `${lines.join('\n')}\n` : '', { mode: statSync(path).mode & 0o777 });
    renameSync(tmp, path);
    return result;
  } finally {
    await release();
  }
}

async function readStdin(): Promise<string> {
  let s = '';
  for await (const c of process.stdin) s += (c as Buffer).toString();
  return s;
}

function usage(message: string): never {
  throw new UsageError(message);
}
