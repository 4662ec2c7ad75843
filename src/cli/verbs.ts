import type { Command } from 'commander';

type Register = (program: Command) => void;

/**
 * Every top-level command, in the order `berth --help` lists them, with the module that declares it.
 * Loading a module loads what its action needs (the server, the scanner, the HTTP client...), so a run loads only
 * the module of the verb it names: `berth tag` starts without reading the code of `berth serve`.
 */
const VERBS: [names: string[], load: () => Promise<Register>][] = [
  [['serve'], async () => (await import('./serve.js')).registerServe],
  [['gc'], async () => (await import('./gc.js')).registerGc],
  [['fsck'], async () => (await import('./fsck.js')).registerFsck],
  [['usage'], async () => (await import('./usage.js')).registerUsage],
  [['proxy'], async () => (await import('./proxy.js')).registerProxy],
  [['tag-history', 'history'], async () => (await import('./history.js')).registerHistory],
  [['replication'], async () => (await import('./replication.js')).registerReplication],
  [['migrate'], async () => (await import('./migrate.js')).registerMigrate],
  [['user'], async () => (await import('./user.js')).registerUser],
  [['notifications'], async () => (await import('./notifications.js')).registerNotifications],
  [['pull'], async () => (await import('./pull.js')).registerPull],
  [['push'], async () => (await import('./push.js')).registerPush],
  [['copy'], async () => (await import('./copy.js')).registerCopy],
  [['sync'], async () => (await import('./sync.js')).registerSync],
  [['login'], async () => (await import('./login.js')).registerLogin],
  [['logout'], async () => (await import('./logout.js')).registerLogout],
  [['images'], async () => (await import('./images.js')).registerImages],
  [['image'], async () => (await import('./image-history.js')).registerImage],
  [['tag'], async () => (await import('./tag.js')).registerTag],
  [['rmi'], async () => (await import('./rmi.js')).registerRmi],
  [['prune'], async () => (await import('./prune.js')).registerPrune],
  [['unpack'], async () => (await import('./unpack.js')).registerUnpack],
  [['export'], async () => (await import('./export.js')).registerExport],
  [['save'], async () => (await import('./save.js')).registerSave],
  [['load'], async () => (await import('./load.js')).registerLoad],
  [['inspect'], async () => (await import('./inspect.js')).registerInspect],
  [['digest'], async () => (await import('./digest.js')).registerDigest],
  [['manifest'], async () => (await import('./manifest.js')).registerManifest],
  [['config'], async () => (await import('./image-config.js')).registerConfig],
  [['blob'], async () => (await import('./blob.js')).registerBlob],
  [['ls', 'tags'], async () => (await import('./ls.js')).registerLs],
  [['catalog'], async () => (await import('./catalog.js')).registerCatalog],
  [['retag'], async () => (await import('./retag.js')).registerRetag],
  [['mutate'], async () => (await import('./mutate.js')).registerMutate],
  [['append'], async () => (await import('./append.js')).registerAppend],
  [['delete'], async () => (await import('./delete.js')).registerDelete],
  [['df'], async () => (await import('./df.js')).registerDf],
  [['store'], async () => (await import('./store.js')).registerStore],
  [['ref'], async () => (await import('./ref.js')).registerRef],
  [['key'], async () => (await import('./key.js')).registerKey],
  [['sign'], async () => (await import('./sign.js')).registerSign],
  [['verify'], async () => (await import('./verify.js')).registerVerify],
  [['attach'], async () => (await import('./attach.js')).registerAttach],
  [['referrers'], async () => (await import('./referrers.js')).registerReferrers],
  [['artifact'], async () => (await import('./artifact.js')).registerArtifact],
  [['sbom'], async () => (await import('./sbom.js')).registerSbom],
  [['scan'], async () => (await import('./scan.js')).registerScan],
  [['db'], async () => (await import('./db.js')).registerDb],
];

/** The verb a command line names: its first word that is not one of the program's own options. */
export function verbOf(args: readonly string[]): string | undefined {
  return args.find((a) => !a.startsWith('-'));
}

/**
 * Declares the named verb only, or every verb when the line names none or one that does not exist: help, and
 * commander's "did you mean", need them all. `--version` needs none.
 */
export async function registerVerbs(program: Command, args: readonly string[]): Promise<void> {
  const verb = verbOf(args);
  if (verb === undefined && args.some((a) => a === '-V' || a === '--version')) return;
  const named = VERBS.filter(([names]) => verb !== undefined && names.includes(verb));
  for (const [, load] of named.length > 0 ? named : VERBS) (await load())(program);
}
