import { Http } from '../client/http.js';
import { LocalStore } from '../local/store.js';
import type { TransportContext } from '../transport/location.js';
import type { ClientFlags } from './common.js';

/** What a verb that talks to registries works with; apart from common.ts so local-only verbs never load the HTTP client. */
export function context(flags: ClientFlags): TransportContext {
  const http = new Http({
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    skipTlsVerify: flags.insecure ?? false,
    onNotice: (m) => process.stderr.write(`${m}\n`),
  });
  return { http, store: new LocalStore(), insecure: flags.insecure ?? false };
}
