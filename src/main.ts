// A Mailroom process for the given environment: start it, stop it cleanly on SIGTERM/SIGINT, exit 1 with a readable
// message on bad config. Entries: server.ts (npm start: MAILROOM_ROLE, default all) and worker.ts (npm run worker).
import { loadConfig, ConfigError } from './config.ts';
import type { Runtime } from './runtime.ts';
import { DataDirLockedError } from './db/lock.ts';
import { startOpening } from './db/pglite-open.ts';
import { MigrationError } from './db/migrate.ts';
import { startMemoryTrim, type MemoryTrim } from './malloc-trim.ts';

export async function main(env: NodeJS.ProcessEnv): Promise<void> {
  let runtime: Runtime | undefined;
  let trim: MemoryTrim | undefined;
  let stopRequested: string | undefined;
  let stopping = false;

  function shutdown(signal: string): void {
    if (!runtime) {
      stopRequested ??= signal;
      return;
    } // still starting: stop as soon as it is up
    if (stopping) return; // a repeated signal (see below) must not cut the shutdown short
    stopping = true;
    runtime.logger.info({ signal }, 'shutting down');
    trim?.stop();
    const force = setTimeout(() => process.exit(1), 20_000);
    force.unref();
    runtime.stop().then(
      () => {
        runtime!.logger.info('stopped'); // the database is closed: nothing is lost if the process is killed now
        process.exit(0);
      },
      (err) => {
        runtime!.logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  }
  // Installed before start-up so a signal during start still stops cleanly (releasing the data-dir lock). `on`, not
  // `once`: Ctrl-C and service managers signal the whole process group, and a launcher in it (npm) forwards the signal
  // again, so the same signal arrives twice or more; with no listener left, the second one would kill the process
  // halfway through closing the embedded database.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => shutdown(signal));

  try {
    const config = loadConfig(env);
    // The embedded database opens in its thread while the app's modules load (decision 029: cold start).
    const starting = startOpening(config);
    const { startRuntime } = await import('./runtime.ts');
    runtime = await startRuntime(config, undefined, {}, starting);
    // Start-up's freed compile memory back to the OS, then after bursts of work (decision 046).
    trim = startMemoryTrim(runtime.logger);
    if (stopRequested) shutdown(stopRequested);
  } catch (e) {
    if (e instanceof ConfigError || e instanceof DataDirLockedError || e instanceof MigrationError) {
      process.stderr.write(`mailroom: ${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
}
