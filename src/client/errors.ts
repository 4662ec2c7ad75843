/** A registry answered with an error: the HTTP status and, when it sent one, the OCI error code. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** The registry deletes manifests by digest only: removing one tag would take every other tag with it. */
export class TagDeleteUnsupportedError extends RemoteError {}

/** The registry could not be reached, or the connection broke: nothing the registry said. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
}

/** Bytes received did not hash to the digest that was asked for. */
export class DigestMismatchError extends Error {
  override readonly name = 'DigestMismatchError';
}

/** Reads the OCI error body (if any) into a RemoteError that says what was asked. */
export async function remoteError(res: { status: number; text(): Promise<string> }, what: string): Promise<RemoteError> {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const body = JSON.parse(await res.text()) as { errors?: { code?: string; message?: string }[] };
    code = body.errors?.[0]?.code;
    message = body.errors?.[0]?.message;
  } catch {
    // not an OCI error body
  }
  const detail = [code, message].filter(Boolean).join(': ');
  return new RemoteError(`${what}: HTTP ${res.status}${detail ? ` ${detail}` : ''}`, res.status, code);
}
