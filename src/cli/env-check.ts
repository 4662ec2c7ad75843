import { closest, distance } from 'fastest-levenshtein';

/**
 * `BERTH_` variables that are not config keys: the client's own settings and
 * the test harness's. Config keys come from the config schema (`BERTH_HTTP_ADDR`
 * sets `http.addr`); anything else starting with `BERTH_` is most likely a typo.
 */
export const NON_CONFIG_VARIABLES: readonly string[] = [
  'BERTH_HOME', // the local store
  'BERTH_RETRIES', // client retries
  'BERTH_CHUNK_BYTES', // upload chunk size
  'BERTH_KEY_PASSWORD', // signing key passphrase
  'BERTH_GPG_PASSPHRASE', // GPG signing key passphrase
  'BERTH_VULNDB', // the vulnerability database of berth scan and berth db
  'BERTH_TEST_BACKEND', // which backends the test suite runs on
  'BERTH_TEST_S3', // which S3 implementation those backends use
  'BERTH_TEST_KEEP', // keep the test suite's temporary directories
];

/** Warns about each `BERTH_` variable berth does not read, naming the closest one it does. */
export async function warnUnknownEnv(env: NodeJS.ProcessEnv, warn: (message: string) => void): Promise<void> {
  const candidates = Object.keys(env).filter((k) => k.startsWith('BERTH_') && !NON_CONFIG_VARIABLES.includes(k));
  if (candidates.length === 0) return;
  // Loaded only when needed: the schema (zod) is not something every verb should pay for at start.
  const { configEnvNames } = await import('../config/config.js');
  const known = [...configEnvNames(), ...NON_CONFIG_VARIABLES];
  for (const name of candidates) {
    if (known.includes(name)) continue;
    const near = closest(name, known);
    const hint = distance(name, near) <= 3 ? ` (did you mean ${near}?)` : '';
    warn(`${name} is not a berth setting and is ignored${hint}`);
  }
}
