import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, scrypt, type KeyObject } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';

/**
 * cosign's key files: `cosign.pub` is a PEM "PUBLIC KEY" (PKIX); `cosign.key`
 * is PKCS#8 encrypted the way go-securesystemslib's `encrypted` package does
 * it (scrypt-derived key, NaCl secretbox, JSON), inside a PEM block typed
 * "ENCRYPTED SIGSTORE PRIVATE KEY" (older cosign: "ENCRYPTED COSIGN PRIVATE KEY").
 */
export const SIGSTORE_KEY_PEM = 'ENCRYPTED SIGSTORE PRIVATE KEY';
const COSIGN_KEY_PEM = 'ENCRYPTED COSIGN PRIVATE KEY';

/** The scrypt strengths go-securesystemslib writes (legacy, standard, OWASP); anything else is refused, as it does. */
const SCRYPT_PARAMS = [
  { N: 32768, r: 8, p: 1 },
  { N: 65536, r: 8, p: 1 },
  { N: 131072, r: 8, p: 1 },
] as const;
const WRITE_PARAMS = SCRYPT_PARAMS[1];
const SALT_BYTES = 32;
const NONCE_BYTES = 24;
const KEY_BYTES = 32;

export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

interface EncryptedKey {
  kdf: { name: string; params: { N: number; r: number; p: number }; salt: string };
  cipher: { name: string; nonce: string };
  ciphertext: string;
}

export interface KeyPairFiles {
  privatePem: string;
  publicPem: string;
}

/** A new ECDSA P-256 pair, the private half encrypted with `password` (cosign generate-key-pair). */
export async function generateKeyPair(password: string): Promise<KeyPairFiles> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privatePem: await encryptPrivateKey(privateKey, password), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export async function encryptPrivateKey(key: KeyObject, password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const secret = await deriveKey(password, salt, WRITE_PARAMS);
  const plaintext = key.export({ type: 'pkcs8', format: 'der' });
  const body: EncryptedKey = {
    kdf: { name: 'scrypt', params: { ...WRITE_PARAMS }, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(xsalsa20poly1305(secret, nonce).encrypt(plaintext)).toString('base64'),
  };
  return pem(SIGSTORE_KEY_PEM, Buffer.from(JSON.stringify(body)));
}

/** Decrypts a cosign private key file; a wrong password is a KeyFileError saying so. */
export async function decryptPrivateKey(text: string, password: string, source: string): Promise<KeyObject> {
  const block = unpem(text, source);
  if (block.type !== SIGSTORE_KEY_PEM && block.type !== COSIGN_KEY_PEM) {
    throw new KeyFileError(`${source} is a PEM "${block.type}", not a cosign private key ("${SIGSTORE_KEY_PEM}"); make one with \`berth key generate\` (or \`cosign generate-key-pair\`)`);
  }
  const enc = parseEncrypted(block.bytes, source);
  const params = SCRYPT_PARAMS.find((p) => p.N === enc.kdf.params.N && p.r === enc.kdf.params.r && p.p === enc.kdf.params.p);
  if (!params) throw new KeyFileError(`${source}: unsupported scrypt parameters ${JSON.stringify(enc.kdf.params)}`);
  const nonce = Buffer.from(enc.cipher.nonce, 'base64');
  if (nonce.length !== NONCE_BYTES) throw new KeyFileError(`${source}: the secretbox nonce must be ${NONCE_BYTES} bytes`);
  const secret = await deriveKey(password, Buffer.from(enc.kdf.salt, 'base64'), params);
  let der: Uint8Array;
  try {
    der = xsalsa20poly1305(secret, nonce).decrypt(Buffer.from(enc.ciphertext, 'base64'));
  } catch {
    throw new KeyFileError(`${source}: wrong password (or the key file is damaged); set BERTH_KEY_PASSWORD or COSIGN_PASSWORD to the password it was made with`);
  }
  try {
    return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  } catch (e) {
    throw new KeyFileError(`${source}: decrypted, but the content is not a PKCS#8 private key: ${(e as Error).message}`);
  }
}

/** A PEM public key (PKIX), as `cosign.pub` holds it. */
export function readPublicKey(text: string, source: string): KeyObject {
  const block = unpem(text, source);
  if (block.type !== 'PUBLIC KEY') throw new KeyFileError(`${source} is a PEM "${block.type}", expected a "PUBLIC KEY" such as cosign.pub`);
  try {
    return createPublicKey({ key: block.bytes, format: 'der', type: 'spki' });
  } catch (e) {
    throw new KeyFileError(`${source}: not a valid public key: ${(e as Error).message}`);
  }
}

/** cosign signs with ECDSA over SHA-256; Berth takes P-256 keys only and says so for any other. */
export function requireP256(key: KeyObject, source: string): KeyObject {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'ec' || (curve !== 'prime256v1' && curve !== 'P-256')) {
    const what = key.asymmetricKeyType === 'ec' ? `an ECDSA ${curve} key` : `an ${key.asymmetricKeyType?.toUpperCase() ?? 'unknown'} key`;
    throw new KeyFileError(`${source} is ${what}; Berth signs and verifies cosign signatures with ECDSA P-256 keys (what \`berth key generate\` and \`cosign generate-key-pair\` make)`);
  }
  return key;
}

/** The key id sigstore bundles carry as a hint: base64 of the SHA-256 of the DER public key. */
export function keyHint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
}

/** A short fingerprint for humans: `SHA256:` and the hex of the same hash, as ssh prints keys. */
export function keyFingerprint(publicKey: KeyObject): string {
  return `SHA256:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)}`;
}

function deriveKey(password: string, salt: Buffer, p: { N: number; r: number; p: number }): Promise<Uint8Array> {
  // node's scrypt runs on the libuv pool; 128·N·r bytes is what it needs.
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, { N: p.N, r: p.r, p: p.p, maxmem: 256 * p.N * p.r }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

function parseEncrypted(bytes: Buffer, source: string): EncryptedKey {
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new KeyFileError(`${source}: the encrypted key is not JSON; the file is damaged`);
  }
  const e = json as Partial<EncryptedKey>;
  if (e.kdf?.name !== 'scrypt' || e.cipher?.name !== 'nacl/secretbox' || typeof e.ciphertext !== 'string' || typeof e.kdf.salt !== 'string' || typeof e.cipher.nonce !== 'string' || !e.kdf.params) {
    throw new KeyFileError(`${source}: expected scrypt + nacl/secretbox encryption, found ${JSON.stringify({ kdf: e.kdf?.name, cipher: e.cipher?.name })}`);
  }
  return e as EncryptedKey;
}

function pem(type: string, bytes: Buffer): string {
  const lines = bytes.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

function unpem(text: string, source: string): { type: string; bytes: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END \1-----/.exec(text);
  if (!m) throw new KeyFileError(`${source} is not a PEM file`);
  return { type: m[1]!, bytes: Buffer.from(m[2]!.replace(/\s+/g, ''), 'base64') };
}
