// doveadm against one test instance: mailbox commands as the mail user, kick and who through its anvil.
import { execFile } from 'node:child_process';
import { z } from 'zod';
import { DOVEADM } from './process.ts';

export class DoveadmError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(message);
  }
}

export interface Doveadm {
  /** Runs `doveadm -c <config> ...args`; resolves with stdout. */
  run(args: string[], o?: { okCodes?: number[] }): Promise<string>;
  /** Runs with `-f json` and parses the rows. */
  json<T>(args: string[], row: z.ZodType<T>): Promise<T[]>;
}

export function doveadmFor(config: string, timeoutMs = 30_000): Doveadm {
  const run: Doveadm['run'] = (args, o = {}) =>
    new Promise((resolve, reject) => {
      // TZ=UTC: doveadm prints dates in local time without a zone.
      const options = { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, TZ: 'UTC' } };
      const child = execFile(DOVEADM, ['-c', config, ...args], options, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        if (!err || (code !== null && o.okCodes?.includes(code))) return resolve(stdout);
        const why = `doveadm ${args.join(' ')} failed (${code ?? err.message}): ${stderr.trim()}`;
        reject(new DoveadmError(why, code, stderr));
      });
      child.stdin?.end(); // nothing to read: doveadm must not wait for input
    });
  return {
    run,
    async json(args, row) {
      const out = await run(['-f', 'json', ...args]);
      return z.array(row).parse(JSON.parse(out.trim() || '[]'));
    },
  };
}

/** doveadm's exit code when nothing matched (EX_NOUSER), e.g. `kick` of a user with no connection. */
export const DOVEADM_NOTHING = 68;
