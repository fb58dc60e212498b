// The shared "mail world" of the Gmail fakes: accounts, server modes, credential checks and SASL payload decoding.
export const MAIL_SCOPE = 'https://mail.google.com/';

export interface MailAccountBehaviour {
  imapEnabled?: boolean; // default true
  popEnabled?: boolean; // default true
  adminPolicyBlocked?: boolean; // Workspace admin turned IMAP/POP off for the domain
  tooManyConnections?: boolean; // force Gmail's "Too many simultaneous connections"
  password?: string; // for credential (app password) logins
  messages?: number; // INBOX size shown by SELECT / STAT, default 0
}

/** 'silent' accepts TCP and never answers (no TLS handshake, no greeting). */
export type ServerMode = 'normal' | 'silent' | 'badCert' | 'wrongHost';

export type VerifyBearer = (user: string, token: string) => boolean | Promise<boolean>;

export interface FakeMailOptions {
  verifyBearer: VerifyBearer;
  accounts: Map<string, MailAccountBehaviour>; // tests may mutate it while the server runs
  mode?: ServerMode;
  delayMs?: number; // wait before every response
  port?: number; // default: any free port on 127.0.0.1
}

export interface FakeMailServer {
  host: '127.0.0.1';
  port: number;
  close(): Promise<void>;
  stats(): ServerStats;
  setMode(mode: ServerMode): void;
  setDelay(ms: number): void;
}

export interface ServerStats {
  connections: number;
  concurrent: number;
  maxConcurrent: number;
  logins: number;
  failedLogins: number;
  /** Commands received, by name (the IMAP fake). */
  commands?: Record<string, number>;
}

export type AccessTokenInfo = { ok: true; email: string; scopes: string[] } | { ok: false };

/** Adapts the Google fake's verifyAccessToken into a VerifyBearer: token ok, same account, mail scope granted. */
export function bearerVerifierFrom(
  verifyAccessToken: (token: string) => AccessTokenInfo | Promise<AccessTokenInfo>,
): VerifyBearer {
  return async (user, token) => {
    const info = await verifyAccessToken(token);
    return info.ok && info.email.toLowerCase() === user.toLowerCase() && info.scopes.includes(MAIL_SCOPE);
  };
}

/** Gmail's XOAUTH2 / OAUTHBEARER failure challenge: base64 of {"status":"400","schemes":"Bearer","scope":…}. */
export const OAUTH_FAILURE_CHALLENGE = Buffer.from(
  JSON.stringify({ status: '400', schemes: 'Bearer', scope: MAIL_SCOPE }),
).toString('base64');

export type Credentials =
  | { kind: 'bearer'; user: string; token: string }
  | { kind: 'password'; user: string; password: string };

const decode = (b64: string): string => Buffer.from(b64.trim(), 'base64').toString('utf8');

/** XOAUTH2: "user=<u>\x01auth=Bearer <t>\x01\x01". */
export function decodeXoauth2(b64: string): Credentials | null {
  let user = '';
  let token = '';
  for (const field of decode(b64).split('\x01')) {
    const eq = field.indexOf('=');
    const key = field.slice(0, eq).toLowerCase();
    const value = field.slice(eq + 1);
    if (key === 'user') user = value;
    if (key === 'auth') token = value.replace(/^bearer\s+/i, '');
  }
  return user && token ? { kind: 'bearer', user, token } : null;
}

/** OAUTHBEARER (RFC 7628): "n,a=<u>,\x01host=…\x01port=…\x01auth=Bearer <t>\x01\x01". */
export function decodeOauthbearer(b64: string): Credentials | null {
  const [gs2 = '', ...fields] = decode(b64).split('\x01');
  const user = /(?:^|,)a=([^,]*)/.exec(gs2)?.[1]?.replace(/=2C/g, ',').replace(/=3D/g, '=') ?? '';
  const auth = fields.find((f) => f.toLowerCase().startsWith('auth='));
  const token = auth ? auth.slice(5).replace(/^bearer\s+/i, '') : '';
  return user && token ? { kind: 'bearer', user, token } : null;
}

/** PLAIN: "[authzid]\0authcid\0password". */
export function decodePlain(b64: string): Credentials | null {
  const parts = decode(b64).split('\x00');
  if (parts.length !== 3 || !parts[1]) return null;
  return { kind: 'password', user: parts[1], password: parts[2] ?? '' };
}

export function decodeSasl(mechanism: string, b64: string): Credentials | null {
  switch (mechanism.toUpperCase()) {
    case 'XOAUTH2':
      return decodeXoauth2(b64);
    case 'OAUTHBEARER':
      return decodeOauthbearer(b64);
    case 'PLAIN':
      return decodePlain(b64);
    default:
      return null;
  }
}

export type LoginVerdict =
  | { ok: true; user: string; account: MailAccountBehaviour }
  | { ok: false; reason: 'badCredentials' | 'adminPolicy' | 'tooManyConnections' };

export interface LoginContext {
  verifyBearer: VerifyBearer;
  accounts: Map<string, MailAccountBehaviour>;
  activeSessions(user: string): number;
  maxConnectionsPerUser?: number;
}

/** Gmail's order: credentials first, then the domain policy, then the connection limit. Disabled IMAP/POP is per protocol. */
export async function checkLogin(ctx: LoginContext, creds: Credentials | null): Promise<LoginVerdict> {
  if (!creds) return { ok: false, reason: 'badCredentials' };
  const key = [...ctx.accounts.keys()].find((k) => k.toLowerCase() === creds.user.toLowerCase());
  const account = key === undefined ? undefined : ctx.accounts.get(key);
  if (creds.kind === 'bearer') {
    let valid = false;
    try {
      valid = await ctx.verifyBearer(creds.user, creds.token);
    } catch {
      valid = false;
    }
    if (!valid) return { ok: false, reason: 'badCredentials' };
  } else if (!account || account.password === undefined || account.password !== creds.password) {
    return { ok: false, reason: 'badCredentials' };
  }
  const behaviour = account ?? {};
  if (behaviour.adminPolicyBlocked) return { ok: false, reason: 'adminPolicy' };
  const limit = ctx.maxConnectionsPerUser ?? Infinity;
  if (behaviour.tooManyConnections || ctx.activeSessions(creds.user) >= limit)
    return { ok: false, reason: 'tooManyConnections' };
  return { ok: true, user: creds.user, account: behaviour };
}
