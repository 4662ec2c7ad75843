import type * as OpenPgp from 'openpgp';

// Loaded on first use: it is the largest module of the client, and most commands never sign.
const load = () => import('openpgp');

/**
 * containers/image's "simple signing" with OpenPGP (what `skopeo copy
 * --sign-by` and `podman push --sign-by` write): the signature is one
 * OpenPGP *signed message* (RFC 4880 11.3) that carries the JSON payload
 * itself, not a detached signature.
 */

export class GpgError extends Error {
  override readonly name = 'GpgError';
}

/** A simple signature is a few hundred bytes; anything past this is refused before it is parsed. */
export const MAX_SIMPLE_SIGNATURE_BYTES = 16 * 1024;

export interface GpgVerified {
  payload: Buffer;
  /** The signing key's fingerprint, upper-case hex, as gpg prints it. */
  fingerprint: string;
  created: Date | null;
}

const armored = (bytes: Buffer) => bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN PGP');

/** Public keys from a file `gpg --export [--armor]` wrote (one or several). */
export async function readGpgPublicKeys(bytes: Buffer, source: string): Promise<OpenPgp.Key[]> {
  const openpgp = await load();
  try {
    return armored(bytes) ? await openpgp.readKeys({ armoredKeys: bytes.toString('utf8') }) : await openpgp.readKeys({ binaryKeys: bytes });
  } catch (e) {
    throw new GpgError(`${source} is not an OpenPGP public key (export one with \`gpg --export --armor FINGERPRINT\`): ${(e as Error).message}`);
  }
}

/** A private key from `gpg --export-secret-keys [--armor]`, unlocked with `passphrase` when it is protected. */
export async function readGpgPrivateKey(bytes: Buffer, source: string, passphrase: string | undefined): Promise<OpenPgp.PrivateKey> {
  const openpgp = await load();
  let key: OpenPgp.PrivateKey;
  try {
    key = armored(bytes) ? await openpgp.readPrivateKey({ armoredKey: bytes.toString('utf8') }) : await openpgp.readPrivateKey({ binaryKey: bytes });
  } catch (e) {
    throw new GpgError(`${source} is not an OpenPGP private key (export one with \`gpg --export-secret-keys --armor FINGERPRINT\`): ${(e as Error).message}`);
  }
  if (key.isDecrypted()) return key;
  if (passphrase === undefined) throw new GpgError(`${source} is protected by a passphrase: set BERTH_GPG_PASSPHRASE`);
  try {
    return await openpgp.decryptKey({ privateKey: key, passphrase });
  } catch {
    throw new GpgError(`${source}: wrong passphrase (BERTH_GPG_PASSPHRASE)`);
  }
}

export async function gpgSign(payload: Buffer, key: OpenPgp.PrivateKey): Promise<Buffer> {
  const openpgp = await load();
  const message = await openpgp.createMessage({ binary: payload });
  return Buffer.from(await openpgp.sign({ message, signingKeys: key, format: 'binary' }));
}

/**
 * Verifies a signed message against `keys` and returns the payload it
 * authenticates. Throws GpgError when it is no signed message, is not signed
 * by one of the keys, does not verify, or has expired.
 */
export async function gpgVerify(signature: Buffer, keys: OpenPgp.Key[]): Promise<GpgVerified> {
  if (signature.length > MAX_SIMPLE_SIGNATURE_BYTES) throw new GpgError(`signature of ${signature.length} bytes exceeds ${MAX_SIMPLE_SIGNATURE_BYTES}`);
  const openpgp = await load();
  let message;
  try {
    message = await openpgp.readMessage({ binaryMessage: signature });
  } catch (e) {
    throw new GpgError(`not an OpenPGP message: ${(e as Error).message}`);
  }
  try {
    const result = await openpgp.verify({ message, verificationKeys: keys, expectSigned: true, format: 'binary' });
    const first = result.signatures[0]!;
    await first.verified;
    const signer = keys.find((k) => k.getKeys(first.keyID).length > 0);
    const sig = await first.signature;
    return {
      payload: Buffer.from(result.data),
      fingerprint: (signer?.getFingerprint() ?? first.keyID.toHex()).toUpperCase(),
      created: sig.packets[0]?.created ?? null,
    };
  } catch (e) {
    throw new GpgError(`the signature does not verify with the given key(s): ${(e as Error).message}`);
  }
}

export const gpgFingerprint = (key: OpenPgp.Key): string => key.getFingerprint().toUpperCase();

/** Whether `bytes` parse as an OpenPGP message at all (what the signature extension accepts). */
export async function isOpenPgpMessage(bytes: Buffer): Promise<boolean> {
  const openpgp = await load();
  return openpgp.readMessage({ binaryMessage: bytes }).then(
    () => true,
    () => false,
  );
}
