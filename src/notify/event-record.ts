import { randomUUID } from 'node:crypto';
import type { RegistryEvent } from '../registry/events.js';

/** The media type of Distribution's event envelope (Distribution 2.x; consumers check it). */
export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

/** The registry instance events come from, as Distribution's `source` names it. */
export interface SourceRecord {
  /** `hostname:port` of this process. */
  addr: string;
  /** New on every start. */
  instanceID: string;
}

/**
 * One event exactly as Distribution's notifications serialise it (its
 * `omitempty` fields left out when empty), so existing consumers read Berth's
 * unchanged. It is what the outbox stores and what every format sends.
 */
export interface EventRecord {
  id: string;
  timestamp: string;
  action: RegistryEvent['action'];
  target: {
    mediaType?: string;
    size?: number;
    digest?: string;
    length?: number;
    repository?: string;
    fromRepository?: string;
    url?: string;
    tag?: string;
  };
  request: { id: string; addr?: string; host?: string; method: string; useragent: string };
  actor: { name?: string };
  source: SourceRecord;
}

/** What the outbox keeps per delivery: the event, and what it is about (a tag delete names no digest). */
export interface OutboxEntry {
  kind: 'manifest' | 'blob' | 'tag';
  event: EventRecord;
}

export function outboxEntry(e: RegistryEvent, source: SourceRecord): OutboxEntry {
  const kind = e.target === 'blob' ? 'blob' : e.action === 'delete' && e.tag !== undefined ? 'tag' : 'manifest';
  return { kind, event: eventRecord(e, source) };
}

/**
 * Distribution's targets: a push, pull or mount describes the content (with
 * a link to it); a manifest or blob delete names only the digest, a tag delete
 * only the tag.
 */
function eventRecord(e: RegistryEvent, source: SourceRecord): EventRecord {
  const request = e.request;
  const record: EventRecord = {
    id: randomUUID(),
    timestamp: new Date(e.at).toISOString(),
    action: e.action,
    target: target(e),
    request: request
      ? { id: request.id, ...omitEmpty({ addr: request.addr, host: request.host }), method: request.method, useragent: request.useragent }
      : { id: '', method: '', useragent: '' },
    actor: e.actor ? { name: e.actor } : {},
    source,
  };
  return record;
}

function target(e: RegistryEvent): EventRecord['target'] {
  if (e.action === 'delete') {
    if (e.target === 'manifest' && e.tag !== undefined) return { repository: e.repository, tag: e.tag };
    return { digest: e.digest, repository: e.repository };
  }
  const kind = e.target === 'manifest' ? 'manifests' : 'blobs';
  return {
    mediaType: e.mediaType,
    ...(e.size > 0 ? { size: e.size } : {}),
    digest: e.digest,
    ...(e.size > 0 ? { length: e.size } : {}),
    repository: e.repository,
    ...(e.fromRepository ? { fromRepository: e.fromRepository } : {}),
    ...(e.request ? { url: `${e.request.baseUrl}/v2/${e.repository}/${kind}/${e.digest}` } : {}),
    ...(e.tag !== undefined ? { tag: e.tag } : {}),
  };
}

function omitEmpty(fields: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
}
