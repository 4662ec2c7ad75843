import { Pool } from 'undici';
import { BenchClient } from '../client.js';
import { round } from '../measure.js';
import { pushSmallImage } from '../scenarios.js';
import type { BenchServer } from '../servers.js';
import { smallImages, OCI_MANIFEST, type SmallImage } from '../workload.js';
import { SEED_TAGS_REPOSITORY, seedRepositoryName } from '../../src/meta/seed.js';
import { Latencies, timed } from './latency.js';
import type { ScaleSize } from './sizes.js';

/** One kind of request, measured one at a time (no concurrency: the figure is the cost of one). */
export interface RequestOp {
  id: string;
  title: string;
  /** Requests per round: pushes cost ten times a GET. */
  perRound: number;
  send(t: ScaleTarget): Promise<void>;
}

/** A seeded registry being measured. */
export interface ScaleTarget {
  registry: 'Berth' | 'Distribution';
  size: ScaleSize;
  server: BenchServer;
  pool: Pool;
  client: BenchClient;
  /** Images not yet pushed (each push takes one). */
  images: SmallImage[];
}

export interface RequestFigures {
  medianMs: number;
  p99Ms: number;
  /** Server CPU per request (all its processes). */
  cpuMs: number;
  requests: number;
}

const ROUNDS = 10;
const MANIFEST_ACCEPT = `${OCI_MANIFEST}, application/vnd.oci.image.index.v1+json`;

async function get(t: ScaleTarget, path: string, headers: Record<string, string> = {}): Promise<void> {
  const res = await t.pool.request({ method: 'GET', path, headers });
  await res.body.dump();
  if (res.statusCode !== 200) throw new Error(`${t.registry} ${t.size.name}: GET ${path}: HTTP ${res.statusCode}`);
}

const middle = (n: number) => Math.floor(n / 2);

export const REQUEST_OPS: RequestOp[] = [
  { id: 'catalog-start', title: 'catalog page (n=100), first', perRound: 30, send: (t) => get(t, '/v2/_catalog?n=100') },
  { id: 'catalog-middle', title: 'catalog page (n=100), middle', perRound: 30, send: (t) => get(t, `/v2/_catalog?n=100&last=${seedRepositoryName(middle(t.size.repositories))}`) },
  { id: 'tags-list', title: 'tags/list page (n=100), first', perRound: 30, send: (t) => get(t, `/v2/${SEED_TAGS_REPOSITORY}/tags/list?n=100`) },
  { id: 'tags-list-middle', title: 'tags/list page (n=100), middle', perRound: 30, send: (t) => get(t, `/v2/${SEED_TAGS_REPOSITORY}/tags/list?n=100&last=v${String(middle(t.size.tags)).padStart(6, '0')}`) },
  { id: 'manifest-get', title: 'manifest GET by tag', perRound: 30, send: (t) => get(t, `/v2/${seedRepositoryName(middle(t.size.repositories))}/manifests/latest`, { accept: MANIFEST_ACCEPT }) },
  {
    id: 'push-small-image',
    title: 'push one small image (HEAD, upload, manifest)',
    perRound: 3,
    send: (t) => pushSmallImage(t.client, 'bench/push', t.images.pop()!),
  },
];

/** Small images enough for every push of a run, with its warm-up round. */
export const pushImages = (): SmallImage[] => smallImages((ROUNDS + 1) * REQUEST_OPS.find((o) => o.id === 'push-small-image')!.perRound, 4096, 1024);

/**
 * Every operation against every registry, in interleaved rounds (round 1:
 * each registry and size, each operation; round 2: again...), so load from the
 * rest of the machine falls on all of them alike. The first round warms caches
 * and JIT and is not counted. Figures are medians over all counted requests.
 */
export async function measureRequests(targets: ScaleTarget[]): Promise<Map<ScaleTarget, Map<string, RequestFigures>>> {
  const samples = new Map(targets.map((t) => [t, new Map(REQUEST_OPS.map((o) => [o.id, { lat: new Latencies(), cpu: 0 }]))]));
  for (let r = 0; r <= ROUNDS; r++) {
    for (const t of targets) {
      for (const op of REQUEST_OPS) {
        const s = samples.get(t)!.get(op.id)!;
        const cpu0 = t.server.cpuSeconds();
        for (let i = 0; i < op.perRound; i++) {
          const ms = await timed(() => op.send(t));
          if (r > 0) s.lat.add(ms);
        }
        if (r > 0) s.cpu += t.server.cpuSeconds() - cpu0;
      }
    }
  }
  return new Map(
    [...samples].map(([t, ops]) => [
      t,
      new Map([...ops].map(([id, s]) => [id, { medianMs: s.lat.quantile(0.5), p99Ms: s.lat.quantile(0.99), cpuMs: round((s.cpu * 1000) / s.lat.count, 3), requests: s.lat.count }])),
    ]),
  );
}
