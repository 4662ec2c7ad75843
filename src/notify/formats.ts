import { createHmac } from 'node:crypto';
import type { EndpointConfig } from '../config/notifications.js';
import { EVENTS_MEDIA_TYPE, type OutboxEntry } from './event-record.js';

/** The signature header: `sha256=` and the HMAC-SHA256 of the exact body bytes, hex (as GitHub's X-Hub-Signature-256). */
export const SIGNATURE_HEADER = 'X-Berth-Signature-256';

export interface Delivery {
  body: Buffer;
  contentType: string;
}

/**
 * What one event looks like on the wire. Distribution: an envelope of one
 * event. CloudEvents 1.0, structured mode: the same event record as `data`,
 * so both formats carry the same facts.
 */
export function render(format: EndpointConfig['format'], { kind, event }: OutboxEntry): Delivery {
  if (format === 'distribution') return { body: Buffer.from(JSON.stringify({ events: [event] }, null, 3)), contentType: EVENTS_MEDIA_TYPE };
  const t = event.target;
  const subject = t.tag !== undefined ? `${t.repository}:${t.tag}` : `${t.repository}@${t.digest}`;
  const cloudEvent = {
    specversion: '1.0',
    id: event.id,
    source: `//${event.source.addr}`,
    type: `io.berth.registry.${kind}.${event.action}`,
    time: event.timestamp,
    subject,
    datacontenttype: 'application/json',
    data: event,
  };
  return { body: Buffer.from(JSON.stringify(cloudEvent)), contentType: 'application/cloudevents+json' };
}

export function signature(secret: string, body: Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
