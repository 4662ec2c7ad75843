import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { TlsConfig } from '../config/tls.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/** Reads the PEM pair and proves it loads (a key that does not match the cert fails here, not at the first handshake). */
export function readTls(tls: TlsConfig): TlsFiles {
  const read = (what: string, path: string) => {
    try {
      return readFileSync(path);
    } catch (e) {
      throw new Error(`tls.${what}: cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const files = { cert: read('cert', tls.cert), key: read('key', tls.key) };
  try {
    createSecureContext(files);
  } catch (e) {
    throw new Error(`tls: ${tls.cert} and ${tls.key} do not make a usable certificate: ${(e as Error).message}`);
  }
  return files;
}

/** Loopback addresses, where plain HTTP never leaves the machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || /^::ffff:127\./.test(host);
}
