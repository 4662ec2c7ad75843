import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import type * as openpgp from 'openpgp';
import { decryptPrivateKey, readPublicKey, requireP256 } from '../sign/cosign-key.js';
import { readGpgPrivateKey, readGpgPublicKeys } from '../sign/gpg.js';
import type { TrustedKeys } from '../sign/verify.js';
import { keyPassword } from './password.js';

export interface CosignSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

async function read(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export async function loadCosignSigner(file: string): Promise<CosignSigner> {
  const privateKey = requireP256(await decryptPrivateKey((await read(file)).toString('utf8'), await keyPassword({ confirm: false }), file), file);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export async function loadGpgSigner(file: string): Promise<openpgp.PrivateKey> {
  return readGpgPrivateKey(await read(file), file, process.env.BERTH_GPG_PASSPHRASE);
}

/** The public keys a verification trusts: cosign PEM files and OpenPGP key files. */
export async function loadTrustedKeys(cosign: string[], gpg: string[]): Promise<TrustedKeys> {
  const keys: TrustedKeys = { cosign: [], gpg: [] };
  for (const f of cosign) keys.cosign.push(requireP256(readPublicKey((await read(f)).toString('utf8'), f), f));
  for (const f of gpg) keys.gpg.push(...(await readGpgPublicKeys(await read(f), f)));
  return keys;
}
