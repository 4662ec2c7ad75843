import { Command } from 'commander';
import { registerServe } from './serve.js';

const program = new Command();
program.name('berth').description('An OCI container registry and image toolkit').version('0.1.0');
registerServe(program);

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`berth: ${(e as Error).message}\n`);
  process.exit(1);
});
