import type { RegistryClient } from '../client/registry.js';
import type { PushRuleConfig, RemoteConfig, SyncRuleConfig } from '../config/replication.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { matchesAny } from '../registry/policy.js';
import { isAttachmentTag } from '../sign/tags.js';
import type { JobHandler } from '../jobs/runner.js';
import { openRemote } from './remote.js';

export interface PushRule {
  name: string;
  /** The rule's one ordered job queue: moves of a tag reach the target in the order they happened here. */
  queue: string;
  config: PushRuleConfig;
}

export interface SyncRule {
  name: string;
  queue: string;
  config: SyncRuleConfig;
}

const JOB_LEASE_MS = 15_000;

/**
 * A rule's job handler: one job at a time in enqueue order, retried on the
 * rule's own terms, each run with a fresh client for the rule's registry.
 */
export function remoteJobs<J>(rule: PushRule | SyncRule, remote: RemoteConfig, run: (job: J, client: RegistryClient) => Promise<void>): JobHandler {
  const { attempts, maxBackoff } = rule.config;
  return {
    queue: rule.queue,
    ordered: true,
    // Renewed every few seconds while a copy runs; after a kill -9 the restarted server takes the job over this soon.
    leaseMs: JOB_LEASE_MS,
    maxAttempts: attempts,
    // Doubling from 2 s up to the rule's cap, with jitter so targets coming back are not hit in lockstep.
    backoffMs: (n) => Math.min(maxBackoff, 2000 * 2 ** (n - 1)) * (0.75 + Math.random() / 2),
    async run(payload) {
      const { client, http } = await openRemote(remote);
      try {
        await run(payload as J, client);
      } finally {
        await http.close();
      }
    },
  };
}

/** Whether a tag names an image the rule copies (attachment tags travel with their subject instead). */
export const copiesTag = (rule: { tags: string[] }, tag: string): boolean => !isAttachmentTag(tag) && matchesAny(tag, rule.tags);

/** The subject an attachment tag (`sha256-<hex>`, `sha256-<hex>.sig`) belongs to. */
export function attachmentSubject(tag: string): Digest | undefined {
  if (!isAttachmentTag(tag)) return undefined;
  const [alg, rest] = tag.split('-', 2) as [string, string];
  const digest = `${alg}:${rest.replace(/\..*$/, '')}`;
  return isDigest(digest) ? digest : undefined;
}
