import { Command } from 'commander';
import { registerMigrate } from './migrate.js';
import { registerServe } from './serve.js';
import { registerClientCommands } from './client-commands.js';

const program = new Command();
program.name('berth').description('An OCI container registry and image toolkit').version('0.1.0');
registerServe(program);
registerMigrate(program);
registerClientCommands(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`berth: ${(e as Error).message}\n`);
  process.exit(1);
});
