import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from './berth.js';
import { must, mustBytes } from './tools.js';

export interface Containerd {
  ctr: (...args: string[]) => Promise<string>;
  /** The bytes containerd's content store holds under a digest. */
  content: (digest: string) => Promise<Buffer>;
  stop: () => Promise<void>;
}

/** A containerd of its own: config, content, state and socket all under one temp dir. */
export async function startContainerd(): Promise<Containerd> {
  const dir = tempDir('berth-ctd-');
  const socket = join(dir, 'containerd.sock');
  writeFileSync(
    join(dir, 'config.toml'),
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      `[grpc]\n  address = "${socket}"`,
      `[ttrpc]\n  address = "${socket}.ttrpc"`,
      `[plugins."io.containerd.internal.v1.opt"]\n  path = "${dir}/opt"`,
    ].join('\n'),
  );
  const child: ChildProcess = spawn('containerd', ['--config', join(dir, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-8000)));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const ctr = (...args: string[]) => must('ctr', ['--address', socket, ...args], { timeoutMs: 60_000 });
  for (let i = 0; !existsSync(socket) || !(await ctr('version').then(() => true, () => false)); i++) {
    if (child.exitCode !== null || i > 200) throw new Error(`containerd did not start:\n${log}`);
    await sleep(50);
  }
  return {
    ctr,
    content: (digest) => mustBytes('ctr', ['--address', socket, 'content', 'get', digest]),
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
