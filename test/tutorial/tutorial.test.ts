import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BERTH_BIN, binNodeFlags, REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { consoleBlocks, rewriteSteps, yamlBlock } from './document.js';
import { compareForm, HashPairs } from './masking.js';

// docs/TUTORIAL.md, run as a reader would: every `$ ` line of every ```console block in a scratch HOME,
// against the registries the document names, its output compared with what the document shows.
const DOC = join(REPO_ROOT, 'docs/TUTORIAL.md');
const PASSWORD_FILE = { user: 'alice', password: 's3cret' };

let servers: BerthServer[] = [];
let scratch = '';

before(async () => {
  scratch = tempDir('berth-tutorial-');
  mkdirSync(join(scratch, 'home'));
  mkdirSync(join(scratch, 'bin'));
  writeFileSync(join(scratch, 'bin/berth'), `#!/bin/sh\nexec ${process.execPath} ${binNodeFlags().join(' ')} ${BERTH_BIN} "$@"\n`);
  chmodSync(join(scratch, 'bin/berth'), 0o755);
  const htpasswd = spawnSync('htpasswd', ['-Bbn', PASSWORD_FILE.user, PASSWORD_FILE.password], { encoding: 'utf8' });
  writeFileSync(join(scratch, 'htpasswd'), htpasswd.stdout);
  const authConfig = yamlBlock(readFileSync(DOC, 'utf8'));
  servers = await Promise.all([startBerth(), startBerth(), startBerth({ config: authConfig, cwd: scratch })]);
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

test('every command of docs/TUTORIAL.md prints what the document shows', { timeout: 240_000 }, () => {
  const hosts: [string, string][] = servers.map((s, i) => [`localhost:${5000 + i}`, s.host]);
  const pairs = new HashPairs();
  const { TUTORIAL_UPDATE: _, ...inherited } = process.env;
  const env = { ...inherited, HOME: join(scratch, 'home'), BERTH_HOME: join(scratch, 'home/store'), DOCKER_CONFIG: join(scratch, 'home/.docker'), PATH: `${join(scratch, 'bin')}:${process.env.PATH}`, NO_COLOR: '1', COLUMNS: '200' };
  // TUTORIAL_UPDATE=1 writes what the commands printed into the document instead of comparing (then read the diff).
  const update = process.env.TUTORIAL_UPDATE === '1';
  const ran = new Map<number, { command: string; output: string }>();
  for (const block of consoleBlocks(readFileSync(DOC, 'utf8'))) {
    for (const step of block) {
      let command = pairs.substitute(step.command);
      for (const [doc, real] of hosts) command = command.replaceAll(doc, real);
      const r = spawnSync('bash', ['-o', 'pipefail', '-c', `exec 2>&1\n${command}`], { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });
      let actual = r.stdout;
      for (const [doc, real] of hosts) actual = actual.replaceAll(real, doc).replaceAll(real.replace('127.0.0.1', 'localhost'), doc);
      actual = actual.replaceAll(scratch, '/home/me/tutorial');
      const where = `docs/TUTORIAL.md:${step.line}: $ ${step.command}`;
      const seen = compareForm(actual, step.expected, pairs);
      if (update) {
        // The hashes typed into commands become this run's, so the document stays consistent with its outputs.
        ran.set(step.line, { command: pairs.substitute(step.command), output: actual.trimEnd() });
        continue;
      }
      assert.equal(r.status, 0, `${where}\nexited ${r.status}:\n${actual}`);
      assert.equal(seen.real, seen.doc, `${where}\nprinted:\n${actual}`);
    }
  }
  if (update) writeFileSync(DOC, rewriteSteps(readFileSync(DOC, 'utf8'), ran));
});
