// `npm run secrets:rotate`: re-seals every stored secret with SECRETS_KEY, reading old values with SECRETS_OLD_KEYS, so
// the old keys can be removed afterwards. Same DATA_DIR / DATABASE_URL as the server; on PostgreSQL it runs while the
// app runs, on the embedded database the server must be stopped first. Procedure: README "Rotate the secrets key".
import { loadConfig, ConfigError } from '../config.ts';
import { openDatabase } from '../db/client.ts';
import { lockDataDir, DataDirLockedError } from '../db/lock.ts';
import { migrate } from '../db/migrate.ts';
import { createSealer } from '../security/secrets.ts';
import { rotateSecrets, type ColumnReport } from '../security/rotate.ts';

function line(r: ColumnReport): string {
  let text = `  ${r.field}: ${r.resealed} re-sealed, ${r.current} on the current key`;
  if (r.changedMeanwhile) text += `, ${r.changedMeanwhile} changed by the app meanwhile (its value kept)`;
  if (r.remaining) text += `, ${r.remaining} NOT on the current key`;
  if (r.unreadable) text += ` (${r.unreadable} open with no configured key)`;
  return text;
}

async function main(): Promise<number> {
  const config = loadConfig();
  const release = config.databaseUrl ? () => undefined : lockDataDir(config.dataDir);
  const db = await openDatabase(config);
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => stop.abort());
  try {
    await migrate(db);
    const sealer = createSealer(config.secretsKeys.current, config.secretsKeys.old);
    console.log(`Re-sealing stored secrets with SECRETS_KEY (key id ${sealer.keyId})…`);
    const reports = await rotateSecrets(db.raw, sealer, {
      signal: stop.signal,
      onBatch: (field, r) => process.stderr.write(`  ${field}: ${r.resealed} re-sealed so far\n`),
    });
    for (const r of reports) console.log(line(r));
    const resealed = reports.reduce((n, r) => n + r.resealed, 0);
    const remaining = reports.reduce((n, r) => n + r.remaining, 0);
    const unreadable = reports.reduce((n, r) => n + r.unreadable, 0);
    if (stop.signal.aborted) {
      console.log(`Stopped after ${resealed} re-sealed. Run it again to finish.`);
      return 130;
    }
    if (unreadable) {
      console.log(
        `${unreadable} value(s) open with neither SECRETS_KEY nor SECRETS_OLD_KEYS: add the key they were sealed with to SECRETS_OLD_KEYS and run again, or enter those secrets again. Keep the old keys until then.`,
      );
      return 1;
    }
    if (remaining) {
      console.log(
        `${remaining} value(s) were written with an older key during the run: a process still runs with the old SECRETS_KEY. Restart every process with the new key, then run this again.`,
      );
      return 1;
    }
    console.log(
      `Done: ${resealed} re-sealed; every stored secret opens with SECRETS_KEY alone. Remove SECRETS_OLD_KEYS and restart.`,
    );
    return 0;
  } finally {
    await db.close();
    release();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    if (e instanceof DataDirLockedError) {
      console.error(`mailroom: ${e.message} Stop the server, then run npm run secrets:rotate again.`);
      process.exit(1);
    }
    if (e instanceof ConfigError) {
      console.error(`mailroom: ${e.message}`);
      process.exit(1);
    }
    console.error(e);
    process.exit(1);
  },
);
