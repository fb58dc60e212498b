// In-memory state of the fake Google: clients, accounts, grants (consents), codes and tokens.
import { createHash, randomBytes } from 'node:crypto';
import type { AccessTokenCheck, FakeGoogleAccount, FakeGoogleClient } from './types.ts';
import { expandGranted } from './scopes.ts';

export const ACCESS_TOKEN_SECONDS = 3599;
const CODE_TTL_MS = 10 * 60_000;

export interface Account {
  email: string;
  emailVerified: boolean;
  name?: string;
  sub: string;
  picture?: string;
}

/** One user's consent to one client; revoking it kills every token minted from it. */
export interface Grant {
  email: string;
  clientId: string;
  scopes: string[];
  revoked: boolean;
}

export interface CodeRecord {
  grant: Grant;
  clientId: string;
  redirectUri: string;
  scopes: string[];
  challenge: string;
  issueRefresh: boolean;
  nonce?: string;
  expiresAt: number;
  used: boolean;
}

interface RefreshRecord {
  grant: Grant;
  scopes: string[];
  revoked: boolean;
}
interface AccessRecord {
  grant: Grant;
  scopes: string[];
  expiresAt: number;
}

export interface Minted {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

const random = (bytes: number): string => randomBytes(bytes).toString('base64url');
const key = (email: string): string => email.toLowerCase();

export class Store {
  readonly clients = new Map<string, FakeGoogleClient>();
  private readonly accounts = new Map<string, Account>();
  private readonly grants = new Map<string, Grant>();
  private readonly codes = new Map<string, CodeRecord>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly accessTokens = new Map<string, AccessRecord>();
  private offsetMs = 0;

  now(): number {
    return Date.now() + this.offsetMs;
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }

  addClient(c: FakeGoogleClient): void {
    this.clients.set(c.clientId, { ...c, redirectUris: [...c.redirectUris] });
  }

  addAccount(a: FakeGoogleAccount): Account {
    // Google subjects are 21-digit numbers starting with 1; derive a stable one from the email.
    const digits = BigInt(`0x${createHash('sha256').update(key(a.email)).digest('hex').slice(0, 16)}`).toString();
    const sub = a.sub ?? `1${digits.padStart(20, '0')}`;
    const account: Account = {
      email: a.email,
      emailVerified: a.emailVerified ?? true,
      name: a.name,
      sub,
      picture: a.picture,
    };
    this.accounts.set(key(a.email), account);
    return account;
  }

  account(email: string): Account | undefined {
    return this.accounts.get(key(email));
  }
  allAccounts(): Account[] {
    return [...this.accounts.values()];
  }

  activeGrant(email: string, clientId: string): Grant | undefined {
    return this.grants.get(`${clientId} ${key(email)}`);
  }

  /** Records consent; `first` tells whether this account had no live grant for the client. */
  consent(
    email: string,
    clientId: string,
    scopes: string[],
    includeGranted = false,
  ): { grant: Grant; first: boolean; scopes: string[] } {
    const existing = this.activeGrant(email, clientId);
    const granted = expandGranted(includeGranted && existing ? [...existing.scopes, ...scopes] : scopes);
    const grant = existing ?? { email: this.account(email)?.email ?? email, clientId, scopes: [], revoked: false };
    grant.scopes = expandGranted([...grant.scopes, ...granted]);
    this.grants.set(`${clientId} ${key(email)}`, grant);
    return { grant, first: !existing, scopes: granted };
  }

  createCode(rec: Omit<CodeRecord, 'expiresAt' | 'used'>): string {
    const code = `4/0A${random(54)}`;
    this.codes.set(code, { ...rec, expiresAt: this.now() + CODE_TTL_MS, used: false });
    return code;
  }

  /** A code that exists, is unused and unexpired; the caller marks it used on success. */
  liveCode(code: string): CodeRecord | undefined {
    const rec = this.codes.get(code);
    return rec && !rec.used && rec.expiresAt > this.now() && !rec.grant.revoked ? rec : undefined;
  }

  mint(grant: Grant, scopes: string[], withRefresh: boolean): Minted {
    const access_token = `ya29.a0${random(120)}`;
    this.accessTokens.set(access_token, { grant, scopes, expiresAt: this.now() + ACCESS_TOKEN_SECONDS * 1000 });
    const minted: Minted = { access_token, expires_in: ACCESS_TOKEN_SECONDS };
    if (withRefresh) {
      minted.refresh_token = `1//0g${random(75)}`;
      this.refreshTokens.set(minted.refresh_token, { grant, scopes, revoked: false });
    }
    return minted;
  }

  liveRefresh(token: string): RefreshRecord | undefined {
    const rec = this.refreshTokens.get(token);
    return rec && !rec.revoked && !rec.grant.revoked ? rec : undefined;
  }

  retireRefresh(token: string): void {
    const rec = this.refreshTokens.get(token);
    if (rec) rec.revoked = true;
  }

  verifyAccess(token: string): AccessTokenCheck {
    const rec = this.accessTokens.get(token);
    if (!rec) return { ok: false, reason: 'invalid' };
    if (rec.grant.revoked) return { ok: false, reason: 'revoked' };
    if (rec.expiresAt <= this.now()) return { ok: false, reason: 'expired' };
    return { ok: true, email: rec.grant.email, scopes: [...rec.scopes] };
  }

  /** A live access token's grant, scopes and expiry (what Google's tokeninfo reports); undefined otherwise. */
  liveAccess(token: string): { grant: Grant; scopes: string[]; expiresAt: number } | undefined {
    return this.verifyAccess(token).ok ? this.accessTokens.get(token) : undefined;
  }

  expireAccess(token: string): boolean {
    const rec = this.accessTokens.get(token);
    if (rec) rec.expiresAt = Math.min(rec.expiresAt, this.now());
    return !!rec;
  }

  /** Google's revoke: either token of a grant revokes the whole grant. */
  revokeToken(token: string): boolean {
    const refresh = this.liveRefresh(token);
    const access = this.verifyAccess(token).ok ? this.accessTokens.get(token) : undefined;
    const grant = refresh?.grant ?? access?.grant;
    if (!grant) return false;
    this.revokeGrant(grant);
    return true;
  }

  revokeAllFor(email: string): void {
    for (const grant of [...this.grants.values()]) if (key(grant.email) === key(email)) this.revokeGrant(grant);
  }

  private revokeGrant(grant: Grant): void {
    grant.revoked = true;
    this.grants.delete(`${grant.clientId} ${key(grant.email)}`);
  }
}
