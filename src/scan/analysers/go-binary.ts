import { found, nothing, type Analysis, type StreamingAnalyser, type StreamReader } from '../analyser.js';
import type { FoundPackage } from '../package.js';

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
/** The 14 bytes that open the `.go.buildinfo` section (Go's debug/buildinfo). */
const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_BYTES = 32;
/** Go 1.18+ stores the version and module strings inline after the header, each with a varint length. */
const FLAG_INLINE = 0x2;
const MAX_MODINFO = 4 << 20;

/**
 * Go executables: the module list the linker embeds (what `go version -m`
 * prints). The file streams past; only the bytes after the build-info
 * magic are kept, so a 100 MB binary costs a few KB of memory.
 */
export const goBinary: StreamingAnalyser = {
  name: 'gobinary',
  kind: 'stream',
  required: (_path, size, mode) => (mode & 0o111) !== 0 && size > 1024,
  open: () => new BuildInfoReader(),
};

class BuildInfoReader implements StreamReader {
  private seen = 0;
  private tail = Buffer.alloc(0);
  private info?: Buffer;
  private done = false;

  write(chunk: Buffer): boolean {
    if (this.seen === 0 && !chunk.subarray(0, 4).equals(ELF_MAGIC)) return false;
    this.seen += chunk.length;
    if (this.info) {
      this.info = Buffer.concat([this.info, chunk]);
    } else {
      const window = Buffer.concat([this.tail, chunk]);
      const at = window.indexOf(BUILDINFO_MAGIC);
      if (at < 0) {
        this.tail = window.subarray(Math.max(0, window.length - BUILDINFO_MAGIC.length + 1));
        return true;
      }
      this.info = window.subarray(at);
    }
    this.done = inlineComplete(this.info) || this.info.length > MAX_MODINFO;
    return !this.done;
  }

  end(): Analysis {
    if (!this.info) return nothing();
    const parsed = parseBuildInfo(this.info);
    if ('unsupported' in parsed) return { ...nothing(), warnings: [parsed.unsupported] };
    return found({ type: 'packages', target: 'gobinary', packages: modulesOf(parsed.version, parsed.modinfo) });
  }
}

interface BuildInfo {
  /** `go1.19.8` */
  version: string;
  modinfo: string;
}

/** Parses the section from its magic on; Go < 1.18 binaries point into the data segment instead and are not read. */
function parseBuildInfo(data: Buffer): BuildInfo | { unsupported: string } {
  if (data.length < HEADER_BYTES) return { unsupported: 'Go build info is cut short' };
  if ((data[15]! & FLAG_INLINE) === 0) return { unsupported: 'a Go binary built before Go 1.18; its module list is not read' };
  const version = readString(data, HEADER_BYTES);
  const mod = version && readString(data, version.next);
  if (!version || !mod) return { unsupported: 'Go build info is cut short' };
  let modinfo = mod.value;
  // The linker wraps modinfo in 16-byte sentinels (debug/buildinfo strips them the same way).
  if (modinfo.length >= 33 && modinfo[modinfo.length - 17] === '\n') modinfo = modinfo.slice(16, -16);
  return { version: version.value, modinfo };
}

function inlineComplete(data: Buffer): boolean {
  if (data.length < HEADER_BYTES) return false;
  if ((data[15]! & FLAG_INLINE) === 0) return true;
  const version = readString(data, HEADER_BYTES);
  return version !== undefined && readString(data, version.next) !== undefined;
}

function readString(data: Buffer, at: number): { value: string; next: number } | undefined {
  let length = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= data.length || shift > 28) return undefined;
    const b = data[i++]!;
    length |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (i + length > data.length) return undefined;
  return { value: data.toString('utf8', i, i + length), next: i + length };
}

/**
 * `path`, `mod` (the main module), `dep` and `=>` (its replacement) lines,
 * tab separated, as `go version -m` prints them; plus the standard library
 * at the toolchain's version, which Go advisories name `stdlib`.
 */
function modulesOf(goVersion: string, modinfo: string): FoundPackage[] {
  const packages: FoundPackage[] = [];
  const std = /^go(\d+\.\d+(?:\.\d+)?)/.exec(goVersion);
  if (std) packages.push({ type: 'golang', name: 'stdlib', version: `v${std[1]}`, licenses: [] });
  for (const line of modinfo.split('\n')) {
    const [kind, path, version] = line.split('\t');
    // A main module built from a checkout has no version ("(devel)"): nothing to match or cite.
    if ((kind === 'mod' || kind === 'dep') && path && version && version !== '(devel)') packages.push(goModule(path, version));
  }
  return packages;
}

function goModule(path: string, version: string): FoundPackage {
  const slash = path.lastIndexOf('/');
  return slash > 0
    ? { type: 'golang', namespace: path.slice(0, slash), name: path.slice(slash + 1), version, licenses: [] }
    : { type: 'golang', name: path, version, licenses: [] };
}
