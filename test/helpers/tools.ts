import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './berth.js';

/** Running real tools (skopeo, podman, buildah, umoci, ctr, docker) as subprocesses, each with private state. */

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
  timeoutMs?: number;
}

/** Runs `cmd args` and resolves with its exit code and output; never rejects on a non-zero exit. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL', maxBuffer: 64 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          // Spawn failures and timeouts: the tool never gave an answer.
          if (err.code === 'ENOENT') return reject(new Error(`${cmd} is not installed`));
          return reject(new Error(`${cmd} ${args.join(' ')}: ${err.killed ? 'timed out' : err.message}\n${stderr}`));
        }
        resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    // A tool that exits without reading its input must not fail the test with EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

/** Runs `cmd args` and returns stdout; rejects with the tool's own words when it fails. */
export async function must(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Runs `cmd args` and returns its stdout as bytes (for tools that print blobs). */
export function mustBytes(cmd: string, args: string[], opts: RunOptions = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL', maxBuffer: 256 << 20, encoding: 'buffer' }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr.toString()}`)) : resolve(stdout),
    );
  });
}

/** Why `tools` cannot run here, or undefined when they all can: for `test(..., { skip })`. */
export function missingTools(...tools: string[]): string | undefined {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  return missing.length ? `not installed: ${missing.join(', ')} (run test/setup.sh)` : undefined;
}

/**
 * skopeo, podman and buildah share one blob-info cache (as root,
 * /var/lib/containers/cache/blob-info-cache-v1.boltdb) and use it to try mounts
 * and reuse blobs they saw in earlier runs. Each `Tools` gets its own, starting
 * empty: as root by binding a private directory over that one in a private
 * mount namespace (other processes keep theirs), otherwise through XDG_DATA_HOME.
 */
const SYSTEM_CACHE = '/var/lib/containers/cache';
const isRoot = process.getuid?.() === 0;
let namespaceWorks: boolean | undefined;
function privateCacheByNamespace(): boolean {
  if (namespaceWorks === undefined) {
    if (isRoot) mkdirSync(SYSTEM_CACHE, { recursive: true });
    namespaceWorks = isRoot && spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs tmpfs ${SYSTEM_CACHE}`]).status === 0;
  }
  return namespaceWorks;
}

function withPrivateCache(cacheDir: string, cmd: string, args: string[]): [string, string[]] {
  if (privateCacheByNamespace()) return ['unshare', ['-m', 'sh', '-c', `mount --bind ${cacheDir} ${SYSTEM_CACHE} && exec "$0" "$@"`, cmd, ...args]];
  // Root without namespaces: the shared cache is all there is, so start each run from none.
  if (isRoot) rmSync(join(SYSTEM_CACHE, 'blob-info-cache-v1.boltdb'), { force: true });
  return [cmd, args];
}

/** Private state for the containers tools (skopeo, podman, buildah) and the docker CLI, under one temp dir. */
export class Tools {
  readonly dir = tempDir('berth-tools-');
  readonly env: Record<string, string> = {
    REGISTRY_AUTH_FILE: join(this.dir, 'auth.json'),
    DOCKER_CONFIG: join(this.dir, 'docker'),
    XDG_DATA_HOME: join(this.dir, 'data'),
    XDG_RUNTIME_DIR: join(this.dir, 'runtime'),
    XDG_CONFIG_HOME: join(this.dir, 'config'),
    TMPDIR: join(this.dir, 'tmp'),
  };

  constructor() {
    for (const d of ['docker', 'data', 'runtime', 'config', 'tmp', 'blob-info-cache']) mkdirSync(join(this.dir, d), { recursive: true });
    writeFileSync(this.env.REGISTRY_AUTH_FILE!, '{"auths":{}}');
  }

  run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const [c, a] = withPrivateCache(join(this.dir, 'blob-info-cache'), cmd, args);
    return run(c, a, { ...opts, env: { ...this.env, ...opts.env } });
  }

  must(cmd: string, args: string[], opts: RunOptions = {}): Promise<string> {
    const [c, a] = withPrivateCache(join(this.dir, 'blob-info-cache'), cmd, args);
    return must(c, a, { ...opts, env: { ...this.env, ...opts.env } });
  }

  skopeo(...args: string[]): Promise<string> {
    return this.must('skopeo', args);
  }

  /** podman/buildah flags that keep images, containers and locks inside this temp dir. */
  storageFlags(tool: 'podman' | 'buildah'): string[] {
    const root = join(this.dir, tool);
    const flags = ['--root', join(root, 'root'), '--runroot', join(root, 'run'), '--storage-driver', 'vfs'];
    return tool === 'podman' ? [...flags, '--tmpdir', join(root, 'tmp'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'none'] : flags;
  }

  podman(...args: string[]): Promise<string> {
    return this.must('podman', [...this.storageFlags('podman'), ...args]);
  }

  buildah(...args: string[]): Promise<string> {
    return this.must('buildah', [...this.storageFlags('buildah'), ...args]);
  }
}

/** What an OCI layout holds under a tag: the manifest bytes and the digests a registry must reproduce. */
export interface LayoutImage {
  digest: string;
  mediaType: string;
  manifest: Buffer;
  /** Config and layer digests (for an image), or child manifest digests (for an index). */
  config?: string;
  layers: string[];
  children: string[];
}

export function readLayoutImage(layout: string, tag: string): LayoutImage {
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { digest: string; mediaType: string; annotations?: Record<string, string> }[] };
  const entry = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (!entry) throw new Error(`${layout} has no image tagged ${tag}`);
  const manifest = readFileSync(join(layout, 'blobs', ...entry.digest.split(':')));
  const parsed = JSON.parse(manifest.toString()) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
  return {
    digest: entry.digest,
    mediaType: entry.mediaType,
    manifest,
    config: parsed.config?.digest,
    layers: (parsed.layers ?? []).map((l) => l.digest),
    children: (parsed.manifests ?? []).map((m) => m.digest),
  };
}

/**
 * Builds an image offline with umoci: `tag` gets one layer holding `files`, on
 * top of `base` (a tag in the same layout) when given, so a second call makes a
 * two-layer image that shares the first layer.
 */
export async function umociImage(layout: string, tag: string, files: Record<string, string | Buffer>, opts: { base?: string; cmd?: string; label?: string } = {}): Promise<LayoutImage> {
  const rootless = isRoot ? [] : ['--rootless'];
  if (!opts.base) {
    await must('umoci', ['init', '--layout', layout]).catch((e: Error) => {
      if (!/already exists/.test(e.message)) throw e;
    });
    await must('umoci', ['new', '--image', `${layout}:${tag}`]);
  }
  const bundle = join(tempDir('berth-umoci-'), 'bundle');
  await must('umoci', ['unpack', ...rootless, '--image', `${layout}:${opts.base ?? tag}`, bundle]);
  for (const [path, content] of Object.entries(files)) {
    const file = join(bundle, 'rootfs', path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  await must('umoci', ['repack', '--image', `${layout}:${tag}`, bundle]);
  rmSync(dirname(bundle), { recursive: true, force: true });
  const config = [...(opts.cmd ? ['--config.cmd', opts.cmd] : []), ...(opts.label ? ['--config.label', opts.label] : [])];
  if (config.length) await must('umoci', ['config', '--image', `${layout}:${tag}`, ...config]);
  return readLayoutImage(layout, tag);
}

/**
 * A multi-arch image index (amd64 + arm64, one small file each) in an OCI
 * layout under `tag`, made with buildah the way users make one:
 * `manifest create`, `manifest add`, `manifest push --all --format oci`.
 */
export async function buildahIndex(tools: Tools, layout: string, tag: string, archs = ['amd64', 'arm64']): Promise<LayoutImage> {
  const name = `localhost/berth-test-${Math.random().toString(36).slice(2)}`;
  await tools.buildah('manifest', 'create', `${name}:multi`);
  for (const arch of archs) {
    const file = join(tools.dir, `arch-${arch}`);
    writeFileSync(file, `built for ${arch}\n`);
    const c = (await tools.buildah('from', '--quiet', 'scratch')).trim();
    await tools.buildah('copy', '--quiet', c, file, `/etc/arch`);
    await tools.buildah('config', '--arch', arch, '--os', 'linux', c);
    await tools.buildah('commit', '--quiet', c, `${name}:${arch}`);
    await tools.buildah('rm', c);
    await tools.buildah('manifest', 'add', `${name}:multi`, `${name}:${arch}`);
  }
  await tools.buildah('manifest', 'push', '--quiet', '--all', '--format', 'oci', `${name}:multi`, `oci:${layout}:${tag}`);
  return readLayoutImage(layout, tag);
}
