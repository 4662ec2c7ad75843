import { Command, CommanderError } from 'commander';
import { registerMigrate } from './migrate.js';
import { registerServe } from './serve.js';
import { registerGc } from './gc.js';
import { registerFsck } from './fsck.js';
import { registerUsage } from './usage.js';
import { registerHistory } from './history.js';
import { registerClientCommands } from './client-commands.js';
import { registerUser } from './user.js';
import { registerNotifications } from './notifications.js';
import { reportError } from './common.js';
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
registerServe(program);
registerGc(program);
registerFsck(program);
registerUsage(program);
registerHistory(program);
registerMigrate(program);
registerUser(program);
registerNotifications(program);
registerClientCommands(program);
await warnUnknownEnv(process.env, (m) => process.stderr.write(`berth: warning: ${m}\n`));

program.parseAsync(process.argv).catch((e: unknown) => {
  // commander has already printed its message (and the help where it applies).
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? Exit.ok : Exit.usage);
  crash(e);
});
