import { join, resolve } from 'node:path';
import { UploadSessions } from '../client/upload-sessions.js';
import { parseReference, type Reference } from '../oci/reference.js';
import type { Http } from '../client/http.js';
import { RegistryClient } from '../client/registry.js';
import { OciLayout } from '../local/layout.js';
import type { LocalStore } from '../local/store.js';
import { DockerArchiveSink, DockerArchiveSource } from './docker-archive.js';
import type { ImageSink, ImageSource } from './image.js';
import { LayoutSink, LayoutSource } from './layout.js';
import { LocalSource, localSink } from './local.js';
import { OciArchiveSink, OciArchiveSource } from './oci-archive.js';
import { RemoteSink, RemoteSource } from './remote.js';

/** Where an image is, as written on the command line (skopeo's transport names). */
export type Location =
  | { kind: 'remote'; ref: Reference }
  | { kind: 'local'; ref: Reference }
  | { kind: 'oci'; dir: string; name?: string }
  | { kind: 'oci-archive'; file: string; name?: string }
  | { kind: 'docker-archive'; file: string; ref?: string };

/** `docker://REF`, `local:REF`, `oci:DIR[:tag]`, `oci-archive:FILE[:tag]`, `docker-archive:FILE[:ref]`; a bare REF is `bare`. */
export function parseLocation(input: string, bare: 'remote' | 'local'): Location {
  const prefixed = (p: string) => (input.startsWith(p) ? input.slice(p.length) : undefined);
  const splitPath = (rest: string): [string, string | undefined] => {
    const i = rest.indexOf(':');
    if (rest.length === 0) throw new Error(`"${input}" needs a path`);
    return i < 0 ? [resolve(rest), undefined] : [resolve(rest.slice(0, i)), rest.slice(i + 1) || undefined];
  };
  let rest: string | undefined;
  if ((rest = prefixed('docker://')) !== undefined) return { kind: 'remote', ref: parseReference(rest) };
  if ((rest = prefixed('local:')) !== undefined) return { kind: 'local', ref: parseReference(rest) };
  if ((rest = prefixed('oci-archive:')) !== undefined) return withName({ kind: 'oci-archive', file: '' }, splitPath(rest));
  if ((rest = prefixed('oci:')) !== undefined) return withName({ kind: 'oci', dir: '' }, splitPath(rest));
  if ((rest = prefixed('docker-archive:')) !== undefined) {
    const [file, ref] = splitPath(rest);
    return ref ? { kind: 'docker-archive', file, ref } : { kind: 'docker-archive', file };
  }
  return { kind: bare, ref: parseReference(input) };
}

function withName<T extends { kind: 'oci'; dir: string } | { kind: 'oci-archive'; file: string }>(loc: T, [path, name]: [string, string | undefined]): Location {
  const out = loc.kind === 'oci' ? { kind: 'oci' as const, dir: path } : { kind: 'oci-archive' as const, file: path };
  return name ? { ...out, name } : out;
}

export interface TransportContext {
  http: Http;
  store: LocalStore;
  insecure?: boolean;
}

const clients = new WeakMap<TransportContext, Map<string, RegistryClient>>();

/** One client per registry per command, so tokens and the scheme are learned once. */
export function clientFor(ctx: TransportContext, registry: string): RegistryClient {
  let byHost = clients.get(ctx);
  if (!byHost) clients.set(ctx, (byHost = new Map()));
  let c = byHost.get(registry);
  if (!c) {
    const sessions = new UploadSessions(join(ctx.store.home, 'uploads'));
    byHost.set(registry, (c = new RegistryClient(registry, { http: ctx.http, insecure: ctx.insecure ?? false, sessions })));
  }
  return c;
}

export async function openSource(ctx: TransportContext, loc: Location): Promise<ImageSource> {
  switch (loc.kind) {
    case 'remote':
      return new RemoteSource(clientFor(ctx, loc.ref.registry), loc.ref, ctx.store);
    case 'local':
      return LocalSource.find(ctx.store, loc.ref);
    case 'oci':
      return LayoutSource.open(new OciLayout(loc.dir), loc.name, `oci:${loc.dir}`);
    case 'oci-archive':
      return OciArchiveSource.open(loc.file, loc.name);
    case 'docker-archive':
      return DockerArchiveSource.open(loc.file, loc.ref);
  }
}

/** `nameHint` names a docker-archive image when the destination does not (the source's reference). */
export async function openSink(ctx: TransportContext, loc: Location, nameHint?: string): Promise<ImageSink> {
  switch (loc.kind) {
    case 'remote':
      return new RemoteSink(clientFor(ctx, loc.ref.registry), loc.ref);
    case 'local':
      return localSink(ctx.store, loc.ref);
    case 'oci':
      return new LayoutSink(new OciLayout(loc.dir), loc.name ? { refName: loc.name } : {}, `oci:${loc.dir}`);
    case 'oci-archive':
      return OciArchiveSink.create(loc.file, loc.name);
    case 'docker-archive':
      return DockerArchiveSink.create(loc.file, loc.ref ?? nameHint);
  }
}
