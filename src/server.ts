// Process entry: start Mailroom, stop it cleanly on SIGTERM/SIGINT, exit 1 with a readable message on bad config.
import { loadConfig, ConfigError } from './config.ts';
import { startRuntime } from './runtime.ts';
import { DataDirLockedError } from './db/lock.ts';
import { MigrationError } from './db/migrate.ts';

try {
  const config = loadConfig();
  const rt = await startRuntime(config);
  const shutdown = (signal: string) => {
    rt.logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    rt.stop().then(() => process.exit(0), (err) => { rt.logger.error({ err }, 'shutdown failed'); process.exit(1); });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
} catch (e) {
  if (e instanceof ConfigError || e instanceof DataDirLockedError || e instanceof MigrationError) {
    process.stderr.write(`mailroom: ${e.message}\n`);
    process.exit(1);
  }
  throw e;
}
