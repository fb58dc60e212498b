// Environment → typed config, validated by zod. Fails fast naming the bad variable; in embedded mode
// missing keys are generated once into DATA_DIR (mode 0600).
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { isIP } from 'node:net';
import { z } from 'zod';

const GOOGLE = {
  GOOGLE_AUTHORIZATION_URL: 'https://accounts.google.com/o/oauth2/v2/auth',
  GOOGLE_TOKEN_URL: 'https://oauth2.googleapis.com/token',
  GOOGLE_USERINFO_URL: 'https://openidconnect.googleapis.com/v1/userinfo',
  GOOGLE_REVOKE_URL: 'https://oauth2.googleapis.com/revoke',
} as const;

const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/** all: pages and jobs in one process (the default); web: pages only, jobs are queued; worker: jobs only, HTTP /healthz. */
export const ROLES = ['all', 'web', 'worker'] as const;
export type ProcessRole = (typeof ROLES)[number];

const EnvSchema = z.object({
  NODE_ENV: z.preprocess(emptyToUndefined, z.enum(['development', 'production', 'test']).default('production')),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(65535).default(3000)),
  HOST: z.preprocess(emptyToUndefined, z.string().default('0.0.0.0')),
  PUBLIC_URL: z.preprocess(emptyToUndefined, httpUrl.optional()),
  DATA_DIR: z.preprocess(emptyToUndefined, z.string().default('./data')),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' }).optional(),
  ),
  DATABASE_POOL_SIZE: z.preprocess(emptyToUndefined, z.coerce.number().int().min(2).max(1000).default(20)),
  SECRETS_KEY: optionalString,
  SECRETS_KEY_FILE: optionalString,
  SECRETS_OLD_KEYS: optionalString,
  SESSION_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
  SESSION_IDLE_MINUTES: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(60),
  ),
  SESSION_MAX_HOURS: z.preprocess(
    emptyToUndefined,
    z.coerce
      .number()
      .int()
      .min(1)
      .max(24 * 90)
      .default(12),
  ),
  SESSION_CACHE_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(10_000).default(1_000)),
  TRUST_PROXY: z.preprocess(emptyToUndefined, z.string().default('loopback')),
  LOG_LEVEL: z.preprocess(
    emptyToUndefined,
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  GOOGLE_AUTHORIZATION_URL: z.preprocess(emptyToUndefined, httpUrl.default(GOOGLE.GOOGLE_AUTHORIZATION_URL)),
  GOOGLE_TOKEN_URL: z.preprocess(emptyToUndefined, httpUrl.default(GOOGLE.GOOGLE_TOKEN_URL)),
  GOOGLE_USERINFO_URL: z.preprocess(emptyToUndefined, httpUrl.default(GOOGLE.GOOGLE_USERINFO_URL)),
  GOOGLE_REVOKE_URL: z.preprocess(emptyToUndefined, httpUrl.default(GOOGLE.GOOGLE_REVOKE_URL)),
  MAIL_TLS_CA_FILE: optionalString,
  CHECK_CONCURRENCY: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(1000).default(50)),
  CHECK_RETRY_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(20).default(3)),
  API_RATE_LIMIT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(100_000).default(600)),
  MAILROOM_ROLE: z.preprocess(
    emptyToUndefined,
    z.enum(ROLES, { error: `must be one of ${ROLES.join(', ')}` }).default('all'),
  ),
  // Synchronization timers for tests and the sandbox (decision 013): POP3 polling interval instead of the profile's
  // Minimum Polling Interval, and the IMAP safety check by UID.
  SYNC_POLL_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(86_400).optional()),
  SYNC_SAFETY_CHECK_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(3_600).optional()),
  SYNC: z.preprocess(emptyToUndefined, z.enum(['on', 'off']).default('on')),
  PGLITE_VACUUM_SECONDS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).max(86_400).default(60)),
});

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  dataDir: string;
  databaseUrl?: string;
  /** PostgreSQL connections of this process (half at most for synchronization's bulk writes). */
  databasePoolSize: number;
  secretsKeys: { current: Buffer; old: Buffer[] };
  sessionSecret: string;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  /**
   * How long a session read from the database answers this process's next requests (SESSION_CACHE_MS, default 1 s;
   * 0: read every time). Another process's sign-out or disable of a user is seen here within it (decision 033).
   */
  sessionCacheMs: number;
  /** Express's `trust proxy`: which peers' X-Forwarded-For is believed (false: none; n: that many hops; addresses). */
  trustProxy: false | number | string[];
  logLevel: string;
  google: { authorizationUrl: string; tokenUrl: string; userinfoUrl: string; revokeUrl: string };
  mailTlsCa?: string;
  checks: { globalConcurrency: number; retryLimit: number };
  /** API requests one token may send in a minute (API_RATE_LIMIT, default 600); more answer 429. */
  apiRateLimitPerMinute: number;
  role: ProcessRole;
  /** Overrides of the synchronization engine's timers (SYNC_POLL_SECONDS, SYNC_SAFETY_CHECK_SECONDS). */
  sync: { pollMs?: number; safetyCheckMs?: number };
  /** SYNC=off: this worker runs jobs (Test & Enable, sending) but synchronizes no mailbox. Default on. */
  syncEnabled: boolean;
  /** Embedded database: how often its tables are checked for VACUUM/ANALYZE (PGLITE_VACUUM_SECONDS; 0: never). */
  pgliteVacuumMs: number;
  generatedKeys: string[];
}

export class ConfigError extends Error {}

export function parseKey(value: string, name: string): Buffer {
  const v = value.trim();
  const buf = /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (buf.length !== 32) throw new ConfigError(`${name} must be 32 bytes, as 64 hex characters or base64`);
  return buf;
}

interface GeneratedKeys {
  secretsKey: string;
  sessionSecret: string;
}

function loadOrCreateKeys(dataDir: string): { keys: GeneratedKeys; created: boolean } {
  const file = join(dataDir, 'keys.json');
  if (existsSync(file)) return { keys: JSON.parse(readFileSync(file, 'utf8')) as GeneratedKeys, created: false };
  mkdirSync(dataDir, { recursive: true });
  const keys = { secretsKey: randomBytes(32).toString('base64'), sessionSecret: randomBytes(48).toString('base64url') };
  writeFileSync(file, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { keys, created: true };
}

const PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];

/** An address or CIDR range (IPv4 or IPv6) with a prefix length that fits it. */
function isAddressOrRange(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * TRUST_PROXY → Express's `trust proxy`: `false` (or 0) trusts no proxy; a number of hops in front of Mailroom; or a
 * comma-separated list of addresses, CIDR ranges and Express's names (loopback, linklocal, uniquelocal). `true` is
 * refused: it believes X-Forwarded-For from anyone, so every client could pick its own address.
 */
export function parseTrustProxy(value: string): false | number | string[] {
  const v = value.trim();
  if (v === 'false' || v === '0') return false;
  if (v === 'true')
    throw new ConfigError(
      'Invalid environment variable TRUST_PROXY: true would believe X-Forwarded-For from any client; give the number of proxies in front of Mailroom (e.g. 1) or their addresses',
    );
  if (/^\d+$/.test(v)) return Number(v);
  const items = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.find((i) => !PROXY_PRESETS.includes(i) && !isAddressOrRange(i));
  if (!items.length || bad !== undefined)
    throw new ConfigError(
      `Invalid environment variable TRUST_PROXY: ${bad === undefined ? 'empty' : `"${bad}"`} is not false, a number of proxies, an address, a CIDR range or one of ${PROXY_PRESETS.join(', ')}`,
    );
  return items;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`Invalid environment variable ${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  if (e.MAILROOM_ROLE !== 'all' && !e.DATABASE_URL) {
    // One process per embedded database (lock file): that process must serve pages and run jobs.
    throw new ConfigError(
      `Invalid environment variable MAILROOM_ROLE: ${e.MAILROOM_ROLE} needs DATABASE_URL (PostgreSQL). The embedded database serves one process, which does everything (MAILROOM_ROLE=all, the default).`,
    );
  }
  const dataDir = resolve(e.DATA_DIR);
  const generatedKeys: string[] = [];

  let secretsKey = e.SECRETS_KEY;
  if (!secretsKey && e.SECRETS_KEY_FILE) {
    try {
      secretsKey = readFileSync(e.SECRETS_KEY_FILE, 'utf8');
    } catch {
      throw new ConfigError(`Invalid environment variable SECRETS_KEY_FILE: cannot read ${e.SECRETS_KEY_FILE}`);
    }
  }
  let sessionSecret = e.SESSION_SECRET;
  if (!secretsKey || !sessionSecret) {
    if (e.DATABASE_URL) {
      throw new ConfigError(
        `Missing environment variable ${!secretsKey ? 'SECRETS_KEY (or SECRETS_KEY_FILE)' : 'SESSION_SECRET'}: required when DATABASE_URL is set`,
      );
    }
    const { keys, created } = loadOrCreateKeys(dataDir);
    if (!secretsKey) {
      secretsKey = keys.secretsKey;
      if (created) generatedKeys.push('SECRETS_KEY');
    }
    if (!sessionSecret) {
      sessionSecret = keys.sessionSecret;
      if (created) generatedKeys.push('SESSION_SECRET');
    }
  }
  const current = parseKey(
    secretsKey,
    e.SECRETS_KEY ? 'SECRETS_KEY' : e.SECRETS_KEY_FILE ? 'SECRETS_KEY_FILE' : 'SECRETS_KEY',
  );
  const old = (e.SECRETS_OLD_KEYS ?? '')
    .split(',')
    .filter((s) => s.trim())
    .map((k) => parseKey(k, 'SECRETS_OLD_KEYS'));

  let mailTlsCa: string | undefined;
  if (e.MAIL_TLS_CA_FILE) {
    try {
      mailTlsCa = readFileSync(e.MAIL_TLS_CA_FILE, 'utf8');
    } catch {
      throw new ConfigError(`Invalid environment variable MAIL_TLS_CA_FILE: cannot read ${e.MAIL_TLS_CA_FILE}`);
    }
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    secretsKeys: { current, old },
    sessionSecret,
    sessionIdleMinutes: e.SESSION_IDLE_MINUTES,
    sessionMaxHours: e.SESSION_MAX_HOURS,
    sessionCacheMs: e.SESSION_CACHE_MS,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    logLevel: e.LOG_LEVEL,
    google: {
      authorizationUrl: e.GOOGLE_AUTHORIZATION_URL,
      tokenUrl: e.GOOGLE_TOKEN_URL,
      userinfoUrl: e.GOOGLE_USERINFO_URL,
      revokeUrl: e.GOOGLE_REVOKE_URL,
    },
    mailTlsCa,
    checks: { globalConcurrency: e.CHECK_CONCURRENCY, retryLimit: e.CHECK_RETRY_LIMIT },
    apiRateLimitPerMinute: e.API_RATE_LIMIT,
    role: e.MAILROOM_ROLE,
    sync: {
      ...(e.SYNC_POLL_SECONDS ? { pollMs: e.SYNC_POLL_SECONDS * 1000 } : {}),
      ...(e.SYNC_SAFETY_CHECK_SECONDS ? { safetyCheckMs: e.SYNC_SAFETY_CHECK_SECONDS * 1000 } : {}),
    },
    syncEnabled: e.SYNC === 'on',
    pgliteVacuumMs: e.PGLITE_VACUUM_SECONDS * 1000,
    generatedKeys,
  };
}
