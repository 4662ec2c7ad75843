import { Command, CommanderError } from 'commander';
import { reportError } from './common.js';
import { registerVerbs } from './verbs.js';
import { Exit } from './exit.js';
import { warnUnknownEnv } from './env-check.js';

// `berth inspect REF | head -3`: the reader is gone, so there is nobody left to tell.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(Exit.closedOutput);
  throw e;
});
// Whatever escapes a command's own handling is still one line, and still follows the exit-code table.
const crash = (e: unknown) => {
  reportError('berth', e);
  process.exit(Exit.failure);
};
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);

const program = new Command();
program
  .name('berth')
  .description('An OCI container registry and image toolkit')
  .version('0.1.0')
  .option('--debug', 'print the stack trace of an error, too')
  // Set before any subcommand exists, so every subcommand inherits it: usage errors exit 2, not commander's 1.
  .exitOverride();
await registerVerbs(program, process.argv.slice(2));
await warnUnknownEnv(process.env, (m) => process.stderr.write(`berth: warning: ${m}\n`));

program.parseAsync(process.argv).catch((e: unknown) => {
  // commander has already printed its message (and the help where it applies).
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? Exit.ok : Exit.usage);
  crash(e);
});
