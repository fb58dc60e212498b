// The composition root: builds a process's dependencies once from config and an open database. The web app
// (app.ts), the workers (workers.ts) and tests all take what this returns; every role gets the same deps.
import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import type { Logger } from './logger.ts';
import type { AppDeps, LoginLimits } from './deps.ts';
import { createSealer, type Sealer } from './security/secrets.ts';
import { createJobs } from './jobs/boss.ts';
import { createGoogleClient, type GoogleClient } from './gmail/google-client.ts';
import { gmailProvider } from './gmail/provider.ts';
import { mailboxCredentialsProvider } from './mail/mailbox-credentials.ts';
import type { CredentialProviders } from './mail/credentials.ts';
import { mailProtocols } from './mail/protocols.ts';
import { mailboxTests, testEnableQueues, type CheckSettings } from './checks/job.ts';
import { sessionSweeperQueues } from './auth/session-sweeper.ts';
import { testingSweepQueues } from './gmail/testing-sweep.ts';
import { DEFAULT_SEND_SETTINGS, sendQueues, type SendSettings } from './emails/send-job.ts';
import { importQueues } from './imports/job.ts';

export interface DepsOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** Default: from config's secrets keys. */
  sealer?: Sealer;
  /** Default: Google's endpoints from config. */
  google?: GoogleClient;
  /** Start the job queue (default true). HTTP tests that never queue leave it off. */
  jobs?: boolean;
  limits?: { login?: LoginLimits };
  mailTlsCa?: string | Buffer;
  checks?: Partial<CheckSettings>;
  sends?: Partial<SendSettings>;
}

export function buildDeps(o: DepsOptions): AppDeps {
  const { config, db, logger } = o;
  const sealer = o.sealer ?? createSealer(config.secretsKeys.current, config.secretsKeys.old);
  const google = o.google ?? createGoogleClient(config.google);
  // The registry of credentials providers, one per Authenticate Using value (a missing one is a type error).
  const providers: CredentialProviders = {
    GMAIL_OAUTH: gmailProvider({ prisma: db.prisma, sql: db.raw, sealer, google, logger }),
    CREDENTIALS_PER_MAILBOX: mailboxCredentialsProvider({ sealer }),
  };
  const overrides = Object.fromEntries(Object.entries(o.checks ?? {}).filter(([, v]) => v !== undefined));
  const checks: CheckSettings = {
    retryLimit: config.checks.retryLimit,
    retryBaseMs: 5_000,
    expireInSeconds: 120,
    workers: config.checks.globalConcurrency,
    pollingIntervalSeconds: 1,
    ...overrides,
  };
  const sends: SendSettings = {
    ...DEFAULT_SEND_SETTINGS,
    ...Object.fromEntries(Object.entries(o.sends ?? {}).filter(([, v]) => v !== undefined)),
  };
  const jobs =
    o.jobs === false
      ? undefined
      : createJobs(db, logger, {
          queues: [
            ...sessionSweeperQueues,
            ...testingSweepQueues,
            ...testEnableQueues(checks),
            ...importQueues,
            ...sendQueues(sends),
          ],
          supervise: config.role !== 'web',
        });
  return {
    config,
    db,
    logger,
    sealer,
    google,
    providers,
    protocols: mailProtocols,
    checks,
    sends,
    jobs,
    tests: jobs && mailboxTests({ prisma: db.prisma, jobs, settings: checks }),
    limits: o.limits,
    mailTlsCa: o.mailTlsCa ?? config.mailTlsCa,
    sessionCookieName: config.publicUrl.startsWith('https://') ? '__Host-mailroom.sid' : 'mailroom.sid',
  };
}
