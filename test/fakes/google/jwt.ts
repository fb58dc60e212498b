// id_token for the fake: an HS256 JWT keyed with the client secret (tests do not verify it).
import { createHmac } from 'node:crypto';
import type { Account } from './store.ts';
import { hasEmailScope, hasProfileScope } from './scopes.ts';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

export function idToken(o: {
  account: Account;
  clientId: string;
  secret: string;
  scopes: string[];
  nonce?: string;
  nowMs: number;
}): string {
  const iat = Math.floor(o.nowMs / 1000);
  const claims: Record<string, unknown> = {
    iss: 'https://accounts.google.com',
    azp: o.clientId,
    aud: o.clientId,
    sub: o.account.sub,
  };
  if (hasEmailScope(o.scopes))
    Object.assign(claims, { email: o.account.email, email_verified: o.account.emailVerified });
  if (o.nonce) claims.nonce = o.nonce;
  if (hasProfileScope(o.scopes)) Object.assign(claims, profileClaims(o.account));
  Object.assign(claims, { iat, exp: iat + 3600 });
  const signingInput = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${signingInput}.${createHmac('sha256', o.secret).update(signingInput).digest('base64url')}`;
}

/** name / given_name / family_name / picture, as in Google's id_token and v3 userinfo. */
export function profileClaims(a: Account): Record<string, string> {
  const out: Record<string, string> = {};
  if (a.name) {
    const [given, ...rest] = a.name.split(' ');
    out.name = a.name;
    if (given) out.given_name = given;
    if (rest.length) out.family_name = rest.join(' ');
  }
  if (a.picture) out.picture = a.picture;
  return out;
}
