import { z } from 'zod';
import { MIN_PART_SIZE } from '../store/s3-limits.js';
import type { S3StoreOptions } from '../store/s3.js';

/** `storage.s3`: blobs on S3 or an S3-compatible server. Credentials omitted means the standard AWS chain. */
export const S3ConfigSchema = z
  .object({
    bucket: z.string().min(3),
    region: z.string().default('us-east-1'),
    endpoint: z.url().optional(),
    forcePathStyle: z.boolean().default(false),
    accessKeyId: z.string().min(1).optional(),
    secretAccessKey: z.string().min(1).optional(),
    sessionToken: z.string().min(1).optional(),
    /** Key prefix inside the bucket, e.g. `berth/`. */
    prefix: z
      .string()
      .regex(/^([^/].*\/)?$/, 'empty, or a path ending in "/" (no leading "/")')
      .default(''),
    /** Same on every replica sharing the bucket; at least 5 MiB. Memory per in-flight chunk is about this much. */
    partSize: z.number().int().min(MIN_PART_SIZE).default(8 << 20),
    /** Blob GETs answer 307 to a presigned URL, so bytes flow from the bucket, not through Berth. */
    redirect: z.boolean().default(false),
    /** Endpoint clients use for redirects, when it differs from `endpoint` (a CDN, a public hostname). */
    publicEndpoint: z.url().optional(),
    redirectExpiry: z.number().int().positive().default(900),
    /**
     * Seconds an S3 request may take to connect, and then to be answered
     * (sending its body included: at most one part); the SDK makes three attempts. A bucket that hangs then
     * costs a request a 503, not a connection held for good.
     */
    timeout: z.number().positive().default(30),
  })
  .strict()
  .refine((c) => (c.accessKeyId === undefined) === (c.secretAccessKey === undefined), {
    message: 'set accessKeyId and secretAccessKey together, or neither to use the AWS credential chain',
  });

export type S3Config = z.output<typeof S3ConfigSchema>;

export function s3StoreOptions(c: S3Config): S3StoreOptions {
  return {
    bucket: c.bucket,
    region: c.region,
    endpoint: c.endpoint,
    forcePathStyle: c.forcePathStyle,
    credentials:
      c.accessKeyId && c.secretAccessKey ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } : undefined,
    prefix: c.prefix,
    partSize: c.partSize,
    redirect: c.redirect,
    publicEndpoint: c.publicEndpoint,
    redirectExpirySeconds: c.redirectExpiry,
    timeoutMs: c.timeout * 1000,
  };
}
