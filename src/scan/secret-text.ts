import type { SecretFinding } from './inventory.js';

/** Where a secret is, the point no other scanner makes: a file deleted later is still in the layer that added it. */
export function secretWhere(s: SecretFinding): string {
  if (s.layer === undefined) return `${s.target} (downloaded with every pull)`;
  if (s.present) return `${s.target}:${s.line}, layer ${s.layer}`;
  return `${s.target}:${s.line}: removed in layer ${s.removedIn}, still downloadable in layer ${s.layer}`;
}
