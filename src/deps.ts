// The dependencies every feature receives, built once per process by compose.ts (config, database, logger, sealer,
// Google client, credentials providers, protocols, the job queue's producer side). Features import this
// type, never the composition root, so no feature depends on it.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import type { Sealer } from './security/secrets.ts';
import type { Jobs } from './jobs/boss.ts';
import type { GoogleClient } from './gmail/google-client.ts';
import type { MailboxTests, CheckSettings } from './checks/job.ts';
import type { CredentialProviders } from './mail/credentials.ts';
import type { ProtocolRegistry } from './mail/protocols.ts';
import type { SendSettings } from './emails/send-job.ts';

export interface LoginLimits {
  perIp?: number;
  perAccount?: number;
  windowMs?: number;
}

export interface AppDeps {
  config: Config;
  db: Database;
  logger: Logger;
  sealer: Sealer;
  /** Every call to Google's OAuth endpoints goes through this one client. */
  google: GoogleClient;
  /** One credentials provider per Authenticate Using value. */
  providers: CredentialProviders;
  /** The mail protocols: incoming by Server Type, outgoing SMTP. */
  protocols: ProtocolRegistry;
  /** Connection slots per profile (Maximum Concurrent Connections), counted in this process. */
  /** Test & Enable tuning, resolved from config (tests shorten timeouts and retry delays). */
  checks: CheckSettings;
  /** Outgoing email tuning (retries, backoff, timeouts); tests shorten it. */
  sends: SendSettings;
  /** The job queue, producer side: queues exist in every role; workers run where startWorkers ran. Absent: no jobs. */
  jobs?: Jobs;
  /** Queues Test & Enable runs; absent without jobs. */
  tests?: MailboxTests;
  limits?: { login?: LoginLimits };
  /** Extra CA for the mail servers' TLS (test servers, private CAs). */
  mailTlsCa?: string | Buffer;
  sessionCookieName: string;
}
