/**
 * undici, loaded on the first outgoing request. Loaded, it holds ~3.5 MB of
 * heap, which a `berth serve` with no proxy, replication or webhooks would
 * keep for nothing, and every live MB is marked again on each full
 * collection (docs/BENCHMARKS.md, "What starts the full collections").
 */
const load = () => import('undici');
let loaded: ReturnType<typeof load> | undefined;

export const undici = (): ReturnType<typeof load> => (loaded ??= load());
