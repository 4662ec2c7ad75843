import { found, nothing, type Analysis, type FileVersion, type WholeFileAnalyser } from '../analyser.js';
import { findSecrets } from '../secrets/rules.js';

const MAX_BYTES = 1 << 20;
/** Documentation, manuals, translations, headers, time zones: distribution files, never a deployment's secrets. */
const SKIP = /^(?:usr\/share\/(?:doc|man|info|locale|zoneinfo|i18n)\/|usr\/include\/)/;

/** Every text file up to 1 MiB, in every layer, deleted or not: the secrets rules (secrets/rules.ts). */
export const secrets: WholeFileAnalyser = {
  name: 'secrets',
  kind: 'whole',
  maxBytes: MAX_BYTES,
  required: (path, size) => size > 0 && size <= MAX_BYTES && !SKIP.test(path),
  async analyse(file: FileVersion, content: Buffer): Promise<Analysis> {
    // Binary files (a NUL in the first 8 KiB, as git decides) hold no text to match.
    if (content.subarray(0, 8192).includes(0)) return nothing();
    const matches = await findSecrets(content.toString('utf8'), file.path);
    return matches.length ? found({ type: 'secrets', matches }) : nothing();
  },
};
