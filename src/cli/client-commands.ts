import type { Command } from 'commander';
import { registerAppend } from './append.js';
import { registerArtifact } from './artifact.js';
import { registerAttach } from './attach.js';
import { registerBlob } from './blob.js';
import { registerCatalog } from './catalog.js';
import { registerCopy } from './copy.js';
import { registerDelete } from './delete.js';
import { registerDf } from './df.js';
import { registerDigest } from './digest.js';
import { registerExport } from './export.js';
import { registerConfig } from './image-config.js';
import { registerImage } from './image-history.js';
import { registerImages } from './images.js';
import { registerInspect } from './inspect.js';
import { registerLoad } from './load.js';
import { registerLogin } from './login.js';
import { registerLogout } from './logout.js';
import { registerLs } from './ls.js';
import { registerManifest } from './manifest.js';
import { registerMutate } from './mutate.js';
import { registerPull } from './pull.js';
import { registerPrune } from './prune.js';
import { registerPush } from './push.js';
import { registerKey } from './key.js';
import { registerRef } from './ref.js';
import { registerReferrers } from './referrers.js';
import { registerRetag } from './retag.js';
import { registerRmi } from './rmi.js';
import { registerSign } from './sign.js';
import { registerSbom } from './sbom.js';
import { registerSave } from './save.js';
import { registerScan } from './scan.js';
import { registerDb } from './db.js';
import { registerStore } from './store.js';
import { registerSync } from './sync.js';
import { registerTag } from './tag.js';
import { registerUnpack } from './unpack.js';
import { registerVerify } from './verify.js';

/** The client verbs, in the order `berth --help` lists them. */
export function registerClientCommands(program: Command): void {
  for (const register of [
    registerPull, registerPush, registerCopy, registerSync, registerLogin, registerLogout, registerImages, registerImage, registerTag, registerRmi, registerPrune, registerUnpack, registerExport, registerSave, registerLoad,
    registerInspect, registerDigest, registerManifest, registerConfig, registerBlob, registerLs, registerCatalog, registerRetag, registerMutate, registerAppend, registerDelete, registerDf,
    registerStore, registerRef, registerKey, registerSign, registerVerify, registerAttach, registerReferrers, registerArtifact, registerSbom, registerScan,
    registerDb,
  ]) {
    register(program);
  }
}
