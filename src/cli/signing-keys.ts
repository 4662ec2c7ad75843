import type { KeyObject } from 'node:crypto';
import { createPublicKey } from 'node:crypto';
import type * as openpgp from 'openpgp';
import { decryptPrivateKey, requireP256 } from '../sign/cosign-key.js';
import { readGpgPrivateKey } from '../sign/gpg.js';
import { readKeyFile } from '../sign/trusted-keys.js';
import { keyPassword } from './password.js';

export interface CosignSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
}


export async function loadCosignSigner(file: string): Promise<CosignSigner> {
  const privateKey = requireP256(await decryptPrivateKey((await readKeyFile(file)).toString('utf8'), await keyPassword({ confirm: false }), file), file);
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

export async function loadGpgSigner(file: string): Promise<openpgp.PrivateKey> {
  return readGpgPrivateKey(await readKeyFile(file), file, process.env.BERTH_GPG_PASSPHRASE);
}
