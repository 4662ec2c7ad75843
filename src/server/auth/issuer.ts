import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { SigningKey } from './keys.js';
import type { Grant } from './scope.js';

/**
 * Signs the built-in service's tokens. Refresh (identity) tokens carry a
 * different audience, so one can never be used as an access token, and the
 * fingerprint of the user's password hash, so changing or removing the
 * password revokes them.
 */
export class TokenIssuer {
  constructor(
    private readonly key: SigningKey,
    readonly issuer: string,
    readonly service: string,
    private readonly expiryS: number,
    private readonly refreshExpiryS: number,
  ) {}

  get refreshAudience(): string {
    return `${this.service}#refresh`;
  }

  async accessToken(subject: string | null, access: Grant[]): Promise<{ token: string; expiresIn: number; issuedAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const token = await this.sign({ access }, subject ?? '', this.service, now, this.expiryS);
    return { token, expiresIn: this.expiryS, issuedAt: new Date(now * 1000) };
  }

  refreshToken(subject: string, fingerprint: string): Promise<string> {
    return this.sign({ fp: fingerprint }, subject, this.refreshAudience, Math.floor(Date.now() / 1000), this.refreshExpiryS);
  }

  /** The user and password fingerprint a refresh token was issued for, or undefined when it is not valid. */
  async readRefreshToken(token: string): Promise<{ subject: string; fingerprint: string } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.key.publicKey, { issuer: this.issuer, audience: this.refreshAudience, algorithms: [this.key.alg] });
      if (typeof payload.sub !== 'string' || typeof payload.fp !== 'string') return undefined;
      return { subject: payload.sub, fingerprint: payload.fp };
    } catch {
      return undefined;
    }
  }

  private sign(claims: Record<string, unknown>, subject: string, audience: string, now: number, lifetimeS: number): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setSubject(subject)
      .setAudience(audience)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetimeS)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
  }
}
