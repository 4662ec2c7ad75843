import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { calculateJwkThumbprint, exportJWK } from 'jose';

export type SigningAlg = 'ES256' | 'RS256';

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  alg: SigningAlg;
  kid: string;
}

/**
 * The token service's key: the configured PEM, or one generated on first
 * start (mode 0600). Replicas behind one name must share it: set `token.key`.
 */
export async function loadSigningKey(path: string, generate: SigningAlg | undefined): Promise<SigningKey> {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || !generate) throw new Error(`auth.token.key: cannot read ${path}: ${(e as Error).message}`);
    pem = createKeyFile(path, generate);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (e) {
    throw new Error(`auth.token.key: ${path} is not a PEM private key: ${(e as Error).message}`);
  }
  const alg = signingAlgOf(privateKey);
  if (!alg) throw new Error(`auth.token.key: ${path} must be an EC P-256 (ES256) or RSA (RS256) key`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, alg, kid: await calculateJwkThumbprint(await exportJWK(publicKey)) };
}

function createKeyFile(path: string, alg: SigningAlg): string {
  const pair = alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, pem, { flag: 'wx', mode: 0o600 });
    return pem;
  } catch (e) {
    // Another replica on the same data directory made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8');
    throw e;
  }
}

function signingAlgOf(key: KeyObject): SigningAlg | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** The key id libtrust (and so Distribution and docker_auth) give a public key: base32 of a truncated SPKI hash, in groups of four. */
export function libtrustKeyId(key: KeyObject): string {
  const der = key.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  return base32(hash).match(/.{4}/g)!.join(':');
}

function base32(bytes: Buffer): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}
