/**
 * Exit codes scripts can rely on. docs/CLIENT.md prints this table and
 * test/client/exit-codes.test.ts checks that the two agree.
 */
export const Exit = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  auth: 4,
  network: 5,
  integrity: 6,
  /** `berth verify`: no signature at all. */
  unsigned: 7,
  /** `berth verify`: signatures, none of which verifies with the keys given. */
  untrusted: 8,
  /** `berth verify`: a signature verifies, but names another image or identity. */
  mismatch: 9,
  /** stdout was closed (`berth inspect REF | head`): stopped quietly, as a process killed by SIGPIPE reports. */
  closedOutput: 141,
} as const;

/** What the command names does not exist (exit 3). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** The command line itself is wrong (a bad flag value, a missing confirmation): exit 2, nothing was done. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
