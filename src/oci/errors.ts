/**
 * The error codes of the OCI distribution spec (plus TOOMANYREQUESTS, UNKNOWN
 * and UNAVAILABLE, which Distribution sends and Docker clients understand). Each code carries the HTTP status Distribution
 * uses for it, so every layer can throw a `RegistryError` and only the HTTP
 * adapter turns it into a response.
 */
export const ERROR_STATUS = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 415,
  TOOMANYREQUESTS: 429,
  /** Distribution's codes for a server-side failure and for a registry that cannot serve right now. */
  UNKNOWN: 500,
  UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class RegistryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers the error needs (e.g. `Range` on a 416). */
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { status?: number; detail?: unknown; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? ERROR_STATUS[code];
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
  }

  toBody(): { errors: { code: ErrorCode; message: string; detail?: unknown }[] } {
    const entry: { code: ErrorCode; message: string; detail?: unknown } = { code: this.code, message: this.message };
    if (this.detail !== undefined) entry.detail = this.detail;
    return { errors: [entry] };
  }
}

export const isRegistryError = (e: unknown): e is RegistryError => e instanceof RegistryError;
