import { readFileSync } from 'node:fs';

/**
 * Prints the functions with the most self time in V8 `.cpuprofile` files:
 * `node dist/bench/profile-top.js FILE... [--top N] [--by-module]`. `--by-module` adds the time up per
 * package, Berth folder or Node subsystem instead (native frames stay by name), for where the many small
 * frames of a streaming path go together.
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const args = process.argv.slice(2);
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args.splice(topIdx, 2)[1]) : 30;
const byModuleIdx = args.indexOf('--by-module');
const byModule = byModuleIdx >= 0 && args.splice(byModuleIdx, 1).length > 0;

function keyOf(f: ProfileNode['callFrame']): string {
  if (byModule) {
    if (!f.url) return f.functionName || '(anonymous)';
    return f.url
      .replace(/^file:\/\/.*?\/(node_modules\/(?:@[^/]+\/)?[^/]+|dist\/src\/[^/]+)\/.*/, '$1')
      .replace(/^(node:internal\/[^/:]+).*/, '$1')
      .replace(/^(node:(?!internal\/)[a-z_]+).*/, '$1');
  }
  const where = f.url ? `${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
}

const self = new Map<string, number>();
let total = 0;
for (const file of args) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  p.samples.forEach((id, i) => {
    const key = keyOf(byId.get(id)!.callFrame);
    const dt = p.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
process.stdout.write(`total sampled ${(total / 1e6).toFixed(1)} s\n`);
for (const [k, us] of rows) process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(7)} ms  ${k}\n`);
