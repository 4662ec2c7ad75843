import type { PushRuleConfig, SyncRuleConfig } from '../config/replication.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { matchesAny } from '../registry/policy.js';
import { isAttachmentTag } from '../sign/tags.js';
import type { JobHandler } from '../jobs/runner.js';

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

/** Replication work is ordered per rule and retries on the rule's own terms. */
export function retryPolicy(config: { attempts: number; maxBackoff: number }): Pick<JobHandler, 'ordered' | 'maxAttempts' | 'backoffMs'> {
  return {
    ordered: true,
    maxAttempts: config.attempts,
    // Doubling from 2 s up to the rule's cap, with jitter so targets coming back are not hit in lockstep.
    backoffMs: (attempts) => Math.min(config.maxBackoff, 2000 * 2 ** (attempts - 1)) * (0.75 + Math.random() / 2),
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
