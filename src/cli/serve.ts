import cluster from 'node:cluster';
import type { Command } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config/config.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the registry (default: localhost:5000, data under ./berth-data)')
    .option('-c, --config <file>', 'YAML config file')
    .option('--addr <host:port>', 'listen address (http.addr)')
    .option('--data <dir>', 'data directory for the embedded storage (data)')
    .option('--workers <n>', 'processes serving the API on the one listener (workers.processes)', (v) => Number(v))
    .option('--log-format <format>', 'json or pretty (log.format)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent (log.level)')
    .action(async (opts: { config?: string; addr?: string; data?: string; workers?: number; logFormat?: string; logLevel?: string }) => {
      let config;
      try {
        config = loadConfig({
          file: opts.config,
          overrides: { 'http.addr': opts.addr, data: opts.data, 'workers.processes': opts.workers, 'log.format': opts.logFormat, 'log.level': opts.logLevel },
        });
      } catch (e) {
        if (e instanceof ConfigError) {
          process.stderr.write(`berth serve: ${e.message}\n`);
          process.exit(2);
        }
        throw e;
      }
      if (config.workers.processes > 1 && cluster.isPrimary) await supervise(config);
      else await serveHere(config);
    });
}

async function supervise(config: Config): Promise<void> {
  const [{ superviseWorkers }, { makeLogger }] = await Promise.all([import('../server/cluster.js'), import('../server/serve.js')]);
  process.exit(await superviseWorkers(config, makeLogger(config)));
}

async function serveHere(config: Config): Promise<void> {
  // Loaded on demand: the client verbs should not pay for Fastify, SQLite and S3 at startup.
  const { serve } = await import('../server/serve.js');
  const server = await serve(config);
  let stopping = false;
  const stop = (signal: string) => {
    // A second signal means "now": the operator has given up waiting.
    if (stopping) process.exit(130);
    stopping = true;
    server.logger.info({ signal }, 'shutting down: finishing in-flight requests');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        server.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  // A worker process leaves Ctrl-C to its supervisor, which stops every worker once (the terminal signals them all).
  process.on('SIGINT', () => (cluster.isWorker ? undefined : stop('SIGINT')));
}
