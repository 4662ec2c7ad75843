import type { ImageConfig } from '../image-input.js';
import type { SecretFinding } from '../inventory.js';
import { findSecrets } from './rules.js';

/**
 * Secrets in the image config: `Env` values and the `created_by` lines of
 * its history, where `ARG`/`--build-arg` values and inline exports end up.
 * Every pull downloads the config, so these are never "removed".
 */
export async function configSecrets(config: ImageConfig): Promise<SecretFinding[]> {
  const texts: { where: string; text: string }[] = [
    ...(config.config?.Env ?? []).map((e, i) => ({ where: `Env[${i}]`, text: e })),
    ...(config.history ?? []).flatMap((h, i) => (h.created_by ? [{ where: `history[${i}].created_by`, text: h.created_by }] : [])),
  ];
  const out: SecretFinding[] = [];
  for (const { where, text } of texts) {
    for (const m of await findSecrets(text, 'config')) out.push({ ...m, target: `image config ${where}`, present: true });
  }
  return out;
}
