import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, type BerthServer } from './berth.js';
import { berth, type CliResult } from './cli.js';
import { writeLayoutImage } from './layout-image.js';
import { blob } from './oci.js';
import { Raw } from './registry-client.js';
import { must, run } from './tools.js';

/** A GPG key in a private GNUPGHOME (never the machine's keyring), exported for skopeo, policy.json and berth. */
export interface GpgKey {
  home: string;
  fingerprint: string;
  publicKey: string;
  privateKey: string;
  close(): Promise<void>;
}

export async function gpgKey(name = 'Berth Test'): Promise<GpgKey> {
  const home = tempDir('berth-gpg-');
  const env = { GNUPGHOME: home };
  const params = join(home, 'params');
  writeFileSync(params, `%no-protection\nKey-Type: RSA\nKey-Length: 2048\nName-Real: ${name}\nName-Email: test@berth.invalid\nExpire-Date: 0\n%commit\n`);
  await must('gpg', ['--batch', '--gen-key', params], { env });
  const colons = await must('gpg', ['--batch', '--with-colons', '--list-secret-keys'], { env });
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(colons)![1]!;
  const publicKey = join(home, 'pub.gpg');
  const privateKey = join(home, 'priv.asc');
  writeFileSync(publicKey, await must('gpg', ['--batch', '--export', '--armor', fingerprint], { env }));
  writeFileSync(privateKey, await must('gpg', ['--batch', '--export-secret-keys', '--armor', fingerprint], { env }));
  return { home, fingerprint, publicKey, privateKey, close: async () => void (await run('gpgconf', ['--kill', 'gpg-agent'], { env })) };
}

/** A cosign key pair made by `berth key generate` in `dir`; its password is `password`. */
export async function cosignKeys(dir: string, prefix = 'cosign', password = 'test-password'): Promise<{ key: string; pub: string; password: string }> {
  mkdirSync(dir, { recursive: true });
  const r = await berth(['key', 'generate', '--output-prefix', join(dir, prefix)], { BERTH_KEY_PASSWORD: password });
  if (r.code !== 0) throw new Error(`berth key generate: ${r.stderr}`);
  return { key: join(dir, `${prefix}.key`), pub: join(dir, `${prefix}.pub`), password };
}

/** The same image pushed with `berth copy`, for registries without monolithic uploads (Distribution 2.8). */
export async function copyImageIn(server: { host: string }, ref: string, content: string, env: Record<string, string>): Promise<string> {
  const layout = join(tempDir('berth-img-'), 'layout');
  const built = await writeLayoutImage(layout, 'v', [{ 'etc/content': content }]);
  const r = await berth(['copy', `oci:${layout}:v`, `${server.host}/${ref}`], env);
  if (r.code !== 0) throw new Error(`berth copy: ${r.stderr}`);
  return built.manifestDigest;
}

/** Builds a one-layer image offline (a real gzip'd tar layer and config) and pushes it over HTTP; resolves to its digest. */
export async function pushImage(server: { url: string }, ref: string, content: string): Promise<string> {
  const layout = join(tempDir('berth-img-'), 'layout');
  const built = await writeLayoutImage(layout, 'v', [{ 'etc/content': content }]);
  const file = (d: string) => blob(readFileSync(join(layout, 'blobs', 'sha256', d.slice(7))));
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(':')), ref.slice(ref.lastIndexOf(':') + 1)];
  await new Raw(server.url).pushImage(repo, tag, [file(built.configDigest), ...built.layers.map((l) => file(l.digest))], blob(built.manifest));
  return built.manifestDigest;
}

/** A containers policy.json: images from `host` need a GPG signature by `publicKey`, everything else is accepted. */
export function signedByPolicy(dir: string, host: string, publicKey: string): string {
  const file = join(dir, 'policy.json');
  const accept = [{ type: 'insecureAcceptAnything' }];
  writeFileSync(file, JSON.stringify({ default: accept, transports: { docker: { [host]: [{ type: 'signedBy', keyType: 'GPGKeys', keyPath: publicKey }] } } }));
  return file;
}

/** Private client state for berth (its local store and docker config). */
export function berthEnv(): Record<string, string> {
  const home = tempDir('berth-home-');
  return { BERTH_HOME: join(home, 'store'), DOCKER_CONFIG: join(home, 'docker') };
}

export const output = (r: CliResult) => `exit ${r.code}\n${r.stdout}${r.stderr}`;
export type { BerthServer };
