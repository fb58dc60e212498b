// Structured logs (pino) with one redaction list: no header, cookie, password, token or secret is ever written.
// On a terminal the lines are made readable (pino-pretty); piped or collected, they stay JSON, one object a line.
import { pino, type Logger, type DestinationStream } from 'pino';
import { isColorSupported, prettyFactory } from 'pino-pretty';

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
  '*.code',
  '*.code_verifier',
  '*.clientSecret',
  '*.oauthClientSecret',
  '*.client_secret',
  '*.secret',
  '*._csrf',
  'password',
  'token',
  'accessToken',
  'refreshToken',
  'secret',
  'clientSecret',
];

export interface LogFormat {
  /** Readable lines instead of JSON. Default: when logging to stdout and stdout is a terminal. */
  pretty?: boolean;
}

export function createLogger(level: string, destination?: DestinationStream, format: LogFormat = {}): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { app: 'mailroom' } };
  const pretty = format.pretty ?? (destination === undefined && process.stdout.isTTY === true);
  if (!pretty) return pino(options, destination);
  // pino redacts while it serializes, so what reaches the prettifier is the redacted JSON line: one list, both formats.
  return pino(options, prettyLines(destination ?? process.stdout, destination === undefined && isColorSupported));
}

/** A synchronous pretty destination: each JSON line out as one readable line, so nothing is lost at process exit. */
function prettyLines(out: { write(line: string): unknown }, colorize: boolean): DestinationStream {
  const format = prettyFactory({
    colorize,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,app',
  });
  return {
    write: (line: string) => {
      out.write(format(line));
    },
  };
}

export type { Logger };
