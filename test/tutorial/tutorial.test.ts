import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BERTH_BIN, binNodeFlags, REPO_ROOT, startBerth, tempDir, type BerthServer } from '../helpers/berth.js';
import { consoleBlocks, rewriteSteps, yamlBlock, type Step } from './document.js';
import { compareForm, HashPairs } from './masking.js';

// docs/TUTORIAL.md, run as a reader would: every `$ ` line of every ```console block in a scratch HOME,
// against the registries the document names, its output compared with what the document shows.
const DOC = join(REPO_ROOT, 'docs/TUTORIAL.md');
// TUTORIAL_UPDATE=1 writes what the commands printed into the document instead of comparing (then read the diff).
const UPDATE = process.env.TUTORIAL_UPDATE === '1';

let servers: BerthServer[] = [];
let scratch = '';

before(async () => {
  scratch = tempDir('berth-tutorial-');
  mkdirSync(join(scratch, 'home'));
  mkdirSync(join(scratch, 'bin'));
  // `berth` on PATH, run as the installed command is.
  writeFileSync(join(scratch, 'bin/berth'), `#!/bin/sh\nexec ${process.execPath} ${binNodeFlags().join(' ')} ${BERTH_BIN} "$@"\n`);
  chmodSync(join(scratch, 'bin/berth'), 0o755);
  // The document's Setup makes this file with the same user and password.
  writeFileSync(join(scratch, 'htpasswd'), spawnSync('htpasswd', ['-Bbn', 'alice', 's3cret'], { encoding: 'utf8' }).stdout);
  const authConfig = yamlBlock(readFileSync(DOC, 'utf8'));
  servers = await Promise.all([startBerth(), startBerth(), startBerth({ config: authConfig, cwd: scratch })]);
});

after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

/** Runs one step in the scratch directory; returns its exit code and output as the document writes it. */
function run(step: Step, pairs: HashPairs): { status: number | null; output: string } {
  const hosts = servers.map((s, i) => [`localhost:${5000 + i}`, s.host] as const);
  let command = pairs.substitute(step.command);
  for (const [doc, real] of hosts) command = command.replaceAll(doc, real);
  const { TUTORIAL_UPDATE: _, ...inherited } = process.env;
  const home = join(scratch, 'home');
  const env = { ...inherited, HOME: home, BERTH_HOME: join(home, 'store'), DOCKER_CONFIG: join(home, '.docker'), PATH: `${join(scratch, 'bin')}:${process.env.PATH}`, NO_COLOR: '1' };
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', `exec 2>&1\n${command}`], { cwd: scratch, env, encoding: 'utf8', timeout: 120_000 });
  let output = r.stdout;
  for (const [doc, real] of hosts) output = output.replaceAll(real, doc).replaceAll(real.replace('127.0.0.1', 'localhost'), doc);
  return { status: r.status, output: output.replaceAll(scratch, '/home/me/tutorial') };
}

test('every command of docs/TUTORIAL.md prints what the document shows', { timeout: 240_000 }, () => {
  const pairs = new HashPairs();
  const ran = new Map<number, { command: string; output: string }>();
  for (const step of consoleBlocks(readFileSync(DOC, 'utf8')).flat()) {
    const { status, output } = run(step, pairs);
    const seen = compareForm(output, step.expected, pairs);
    if (UPDATE) {
      // Hashes typed into commands become this run's, so the rewritten document agrees with itself.
      ran.set(step.line, { command: pairs.substitute(step.command), output: output.trimEnd() });
      continue;
    }
    const where = `docs/TUTORIAL.md:${step.line}: $ ${step.command}`;
    assert.equal(status, 0, `${where}\nexited ${status}:\n${output}`);
    assert.equal(seen.real, seen.doc, `${where}\nprinted:\n${output}`);
  }
  if (UPDATE) writeFileSync(DOC, rewriteSteps(readFileSync(DOC, 'utf8'), ran));
});
