// The dependencies every feature receives: built once per process (config, database, logger, sealer, Google
// client, jobs…). Features import this type, never the app, so no feature depends on the composition root.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import type { Sealer } from './security/secrets.ts';
import type { Jobs } from './jobs/boss.ts';
import type { GoogleClient } from './gmail/google-client.ts';
import type { MailboxTests, CheckSettings } from './checks/job.ts';
import type { CredentialProviders } from './mail/credentials.ts';

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  sealer: Sealer;
  jobs?: Jobs;
  limits?: { login?: { perIp?: number; perAccount?: number; windowMs?: number } };
  /** Extra CA for the mail servers' TLS (test servers, private CAs). */
  mailTlsCa?: string | Buffer;
  sessionCookieName: string;
  /** Test & Enable tuning (tests shorten timeouts and retry delays). */
  checks?: Partial<CheckSettings & { connectTimeoutMs: number; totalTimeoutMs: number }>;
  /** Set by createApp when jobs are available. */
  tests?: MailboxTests;
  /** Every call to Google's OAuth endpoints goes through this one client. */
  google: GoogleClient;
  /** One credentials provider per Authenticate Using value. */
  providers: CredentialProviders;
}

export type AppOptions = Omit<AppDeps, 'sessionCookieName' | 'tests' | 'google' | 'providers'> & { google?: GoogleClient };
