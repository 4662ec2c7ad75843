/** A version string its ecosystem's grammar does not allow; the advisory range it appears in is skipped. */
export class VersionError extends Error {
  override readonly name = 'VersionError';
}
