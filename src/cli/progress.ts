import type { CopyEvent } from '../transport/copy.js';
import { humanSize, out, shortId } from './common.js';

const INTERVAL_MS = 1000;

/**
 * docker's line-per-status progress (what it prints when stdout is not a
 * terminal): Waiting, Downloading x/y, Verifying Checksum, Pull complete.
 */
export function pullProgress(): (e: CopyEvent) => void {
  const last = new Map<string, number>();
  return (e) => {
    // docker shows layers only; the config blob travels silently.
    if (e.type !== 'blob' || e.desc.mediaType.includes('config')) return;
    const id = shortId(e.desc.digest);
    switch (e.status) {
      case 'waiting':
        return void out(`${id}: Waiting`);
      case 'exists':
        return void out(`${id}: Already exists`);
      case 'transferring': {
        const now = Date.now();
        if (now - (last.get(id) ?? 0) < INTERVAL_MS && e.transferred !== e.desc.size) return;
        last.set(id, now);
        out(`${id}: Downloading ${humanSize(e.transferred ?? 0)}/${humanSize(e.desc.size)}`);
        if (e.transferred === e.desc.size) out(`${id}: Verifying Checksum`);
        return;
      }
      default:
        return void out(`${id}: Pull complete`);
    }
  };
}

/** docker push wording: Preparing, Layer already exists, Mounted from, Pushed. */
export function pushProgress(): (e: CopyEvent) => void {
  return (e) => {
    if (e.type !== 'blob') return;
    const id = shortId(e.desc.digest);
    if (e.status === 'waiting') out(`${id}: Preparing`);
    else if (e.status === 'exists') out(`${id}: Layer already exists`);
    else if (e.status === 'mounted') out(`${id}: Mounted from another repository`);
    else if (e.status === 'done') out(`${id}: Pushed`);
  };
}

/** skopeo copy's wording: a line when each blob is done, skipped or mounted. */
export function copyProgress(): (e: CopyEvent) => void {
  return (e) => {
    if (e.type !== 'blob') return;
    if (e.status === 'exists') out(`Copying blob ${shortId(e.desc.digest)} skipped: already exists`);
    else if (e.status === 'done' || e.status === 'mounted') out(`Copying blob ${shortId(e.desc.digest)} ${e.status === 'mounted' ? 'mounted' : 'done'}`);
  };
}
