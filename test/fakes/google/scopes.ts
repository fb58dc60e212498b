// Google's scope rules as the fake needs them: which scopes exist, how a grant is spelled back.

export const MAIL_SCOPE = 'https://mail.google.com/';
const USERINFO_EMAIL = 'https://www.googleapis.com/auth/userinfo.email';
const USERINFO_PROFILE = 'https://www.googleapis.com/auth/userinfo.profile';
const ALIASES: Record<string, string> = { email: USERINFO_EMAIL, profile: USERINFO_PROFILE };
/** Identity scopes cannot be unticked on Google's consent screen. */
const BASIC = new Set(['openid', 'email', 'profile', USERINFO_EMAIL, USERINFO_PROFILE]);

const LABELS: Record<string, string> = {
  [MAIL_SCOPE]: 'Read, compose, send, and permanently delete all your email from Gmail',
  email: 'See your primary Google Account email address',
  [USERINFO_EMAIL]: 'See your primary Google Account email address',
  profile: 'See your personal info, including any personal info you’ve made publicly available',
  [USERINFO_PROFILE]: 'See your personal info, including any personal info you’ve made publicly available',
  openid: 'Associate you with your personal info on Google',
};

/** Splits a space-separated scope parameter (Google does not accept commas). */
export function splitScope(raw: string): { scopes: string[]; invalid: string[] } {
  const scopes = [...new Set(raw.split(' ').filter(Boolean))];
  return { scopes, invalid: scopes.filter((s) => !isKnownScope(s)) };
}

function isKnownScope(s: string): boolean {
  return BASIC.has(s) || s === MAIL_SCOPE || /^https:\/\/www\.googleapis\.com\/auth\/[a-z0-9._-]+$/i.test(s);
}

export function isBasicScope(s: string): boolean {
  return BASIC.has(s);
}

export function scopeLabel(s: string): string {
  return LABELS[s] ?? s;
}

/**
 * The granted list as Google reports it: the requested names sorted, then the URL forms of the
 * `email`/`profile` aliases, e.g. "email https://mail.google.com/ openid https://www.googleapis.com/auth/userinfo.email".
 */
export function expandGranted(scopes: Iterable<string>): string[] {
  const base = [...new Set(scopes)].sort();
  const extra = base.map((s) => ALIASES[s]).filter((s): s is string => !!s && !base.includes(s));
  return [...base, ...[...new Set(extra)]];
}

export function hasEmailScope(scopes: string[]): boolean {
  return scopes.includes('email') || scopes.includes(USERINFO_EMAIL);
}

export function hasProfileScope(scopes: string[]): boolean {
  return scopes.includes('profile') || scopes.includes(USERINFO_PROFILE);
}

export function hasOpenId(scopes: string[]): boolean {
  return scopes.includes('openid');
}
