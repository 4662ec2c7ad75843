/**
 * S3 refuses multipart parts under 5 MiB (all but the last). Kept apart from
 * the driver so validating a config does not load the AWS SDK.
 */
export const MIN_PART_SIZE = 5 << 20;
