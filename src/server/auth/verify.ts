import { X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { ExternalConfig } from '../../config/auth.js';
import { libtrustKeyId, type SigningKey } from './keys.js';
import { type Grant } from './scope.js';

export interface VerifiedToken {
  subject: string | null;
  access: Grant[];
}

export class InvalidTokenError extends Error {}

/** Clock skew tolerated between the token issuer and this server. */
const CLOCK_TOLERANCE_S = 30;

type KeyLookup = (header: JWTHeaderParameters) => Promise<KeyObject | CryptoKey>;

interface Trust {
  issuer: string;
  audience: string;
  algorithms: string[];
  key: KeyLookup;
}

/**
 * Verifies registry tokens against configured keys only. The `iss` picks the
 * trust (built-in or external); the key comes from that trust by `kid`, never
 * from the token itself: an embedded `jwk` is ignored and an `x5c` chain counts
 * only when it ends at a configured root certificate.
 */
export class TokenVerifier {
  private readonly trusts: Trust[] = [];

  addBuiltin(issuer: string, audience: string, key: SigningKey): void {
    this.trusts.push({
      issuer,
      audience,
      algorithms: [key.alg],
      key: async (h) => {
        if (h.kid !== key.kid) throw new InvalidTokenError('signed by an unknown key');
        return key.publicKey;
      },
    });
  }

  addExternal(ext: ExternalConfig): void {
    const roots = ext.certs ? readCertificates(ext.certs) : [];
    const byKid = new Map(roots.map((c) => [libtrustKeyId(c.publicKey), c.publicKey]));
    const jwks = ext.jwks ? jwksFrom(ext.jwks) : undefined;
    this.trusts.push({
      issuer: ext.issuer,
      audience: ext.service,
      algorithms: ext.algorithms,
      key: async (h) => {
        if (h.x5c) return chainedKey(h.x5c, roots);
        const known = h.kid ? byKid.get(h.kid) : undefined;
        if (known) return known;
        if (jwks) return jwks(h);
        if (!h.kid && roots.length === 1) return roots[0]!.publicKey;
        throw new InvalidTokenError('signed by an unknown key');
      },
    });
  }

  async verify(token: string): Promise<VerifiedToken> {
    let claims: JWTPayload;
    try {
      claims = decodeJwt(token);
    } catch {
      throw new InvalidTokenError('not a JWT');
    }
    const trust = this.trusts.find((t) => t.issuer === claims.iss);
    if (!trust) throw new InvalidTokenError('issued by an untrusted issuer');
    try {
      const { payload } = await jwtVerify(token, (h) => trust.key(h), {
        issuer: trust.issuer,
        audience: trust.audience,
        algorithms: trust.algorithms,
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['exp'],
      });
      return { subject: typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : null, access: grantsOf(payload.access) };
    } catch (e) {
      throw new InvalidTokenError(reason(e));
    }
  }
}

function reason(e: unknown): string {
  if (e instanceof InvalidTokenError) return e.message;
  if (e instanceof errors.JWTExpired) return 'expired';
  if (e instanceof errors.JWTClaimValidationFailed) return e.claim === 'nbf' ? 'not valid yet' : `wrong ${e.claim}`;
  if (e instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (e instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  return 'malformed';
}

/** The `access` claim, keeping only well-formed entries. */
function grantsOf(access: unknown): Grant[] {
  if (!Array.isArray(access)) return [];
  return access.flatMap((a: unknown) => {
    const e = a as { type?: unknown; name?: unknown; actions?: unknown };
    if (typeof e?.type !== 'string' || typeof e.name !== 'string' || !Array.isArray(e.actions)) return [];
    return [{ type: e.type, name: e.name, actions: e.actions.filter((x): x is string => typeof x === 'string') }];
  });
}

function jwksFrom(source: string) {
  if (/^https?:\/\//.test(source)) return createRemoteJWKSet(new URL(source));
  return createLocalJWKSet(JSON.parse(readFileSync(source, 'utf8')));
}

function readCertificates(path: string): X509Certificate[] {
  const pems = readFileSync(path, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new Error(`auth.external.certs: no PEM certificate in ${path}`);
  return pems.map((p) => new X509Certificate(p));
}

/** The leaf key of an `x5c` chain, if every link is signed by the next and the last by (or is) a configured root. */
function chainedKey(x5c: string[], roots: X509Certificate[]): KeyObject {
  if (roots.length === 0) throw new InvalidTokenError('x5c chains are not trusted without configured certs');
  let chain: X509Certificate[];
  try {
    chain = x5c.map((c) => new X509Certificate(Buffer.from(c, 'base64')));
  } catch {
    throw new InvalidTokenError('malformed x5c');
  }
  const now = Date.now();
  if (chain.some((c) => Date.parse(c.validFrom) > now || Date.parse(c.validTo) < now)) throw new InvalidTokenError('x5c certificate outside its validity');
  const linked = chain.every((c, i) => i === chain.length - 1 || (c.checkIssued(chain[i + 1]!) && c.verify(chain[i + 1]!.publicKey)));
  const last = chain[chain.length - 1]!;
  const anchored = roots.some((r) => r.raw.equals(last.raw) || (last.checkIssued(r) && last.verify(r.publicKey)));
  if (!linked || !anchored) throw new InvalidTokenError('x5c does not chain to a configured certificate');
  return chain[0]!.publicKey;
}
