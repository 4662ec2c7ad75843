import { Command } from 'commander';
import { registerMigrate } from './migrate.js';
import { registerServe } from './serve.js';
import { registerGc } from './gc.js';
import { registerFsck } from './fsck.js';
import { registerUsage } from './usage.js';
import { registerHistory } from './history.js';
import { registerClientCommands } from './client-commands.js';
import { registerUser } from './user.js';
import { registerNotifications } from './notifications.js';

const program = new Command();
program.name('berth').description('An OCI container registry and image toolkit').version('0.1.0');
registerServe(program);
registerGc(program);
registerFsck(program);
registerUsage(program);
registerHistory(program);
registerMigrate(program);
registerUser(program);
registerNotifications(program);
registerClientCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`berth: ${(e as Error).message}\n`);
  process.exit(1);
});
