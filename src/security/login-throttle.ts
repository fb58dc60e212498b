// Sign-in throttling, counted in the database (LoginAttempt) so every process and every restart sees the same counts.
// Slows guessing per IP and per account without letting anyone lock an owner out (docs/decisions/016): once an
// account has had too many failures, only IPs with no failures of their own, and browsers that signed in to it before
// (known-device.ts), may still try.
import { randomUUID } from 'node:crypto';
import type { RawSql } from '../db/client.ts';

export interface ThrottleLimits {
  /** Failures from one IP, on any accounts, before that IP is refused. */
  perIp: number;
  /** Failures on one account before it is guarded (and the limit for one known browser on it). */
  perAccount: number;
  windowMs: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = { perIp: 50, perAccount: 10, windowMs: 15 * 60_000 };

/** Failures in the window, this attempt excluded. */
export interface FailureCounts {
  ip: number;
  account: number;
  /** Failures on this account from this known browser (0 when the attempt has no device cookie). */
  device: number;
}

export type Bucket = 'ip' | 'account' | 'device';
export type Verdict = { allow: true } | { allow: false; bucket: Bucket };

/**
 * The rule, as a pure function. A known browser answers only for its own failures, so neither a busy IP (a shared
 * NAT) nor an attacked account keeps its owner out. Otherwise an IP over its limit is refused; an account over its
 * limit refuses any IP that has failed in the window, so a guesser gets one try per fresh address while the owner,
 * from an address with no failures, still signs in.
 */
export function decide(c: FailureCounts, limits: ThrottleLimits, knownDevice: boolean): Verdict {
  if (knownDevice) return c.device >= limits.perAccount ? { allow: false, bucket: 'device' } : { allow: true };
  if (c.ip >= limits.perIp) return { allow: false, bucket: 'ip' };
  if (c.account >= limits.perAccount && c.ip > 0) return { allow: false, bucket: 'account' };
  return { allow: true };
}

export interface Attempt {
  /** The email address as typed, trimmed and lower-cased. */
  account: string;
  ip: string;
  /** A known-browser id verified for this account, or null. */
  device: string | null;
}

export interface Admission {
  id: string;
  verdict: Verdict;
  counts: FailureCounts;
  /** When refused: seconds until the refusing count drops (the oldest failure in it leaves the window). */
  retryAfterSeconds: number;
}

interface CountRow {
  ip: number;
  account: number;
  device: number;
  ip_free: number | null;
  account_free: number | null;
  device_free: number | null;
}

export class LoginThrottle {
  constructor(
    private sql: RawSql,
    readonly limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  /**
   * Records the attempt first, then counts the others: of attempts racing on several processes, each one counts every
   * attempt recorded before it, so no more than the limit get through however many arrive at once. The row stays as
   * a failure unless succeeded() or refused() removes it.
   */
  async admit(a: Attempt): Promise<Admission> {
    const id = randomUUID();
    await this.sql.query('INSERT INTO "LoginAttempt" (id, account, ip, device) VALUES ($1, $2, $3, $4)', [
      id,
      a.account,
      a.ip,
      a.device,
    ]);
    const window = this.limits.windowMs / 1000;
    // *_free: seconds until the oldest failure of each bucket leaves the window (for Retry-After).
    const [row] = await this.sql.query<CountRow>(
      `SELECT count(*) FILTER (WHERE ip = $2)::int AS ip,
              count(*) FILTER (WHERE account = $3)::int AS account,
              count(*) FILTER (WHERE account = $3 AND device = $4)::int AS device,
              extract(epoch FROM min(at) FILTER (WHERE ip = $2) + make_interval(secs => $5) - now())::float AS ip_free,
              extract(epoch FROM min(at) FILTER (WHERE account = $3) + make_interval(secs => $5) - now())::float
                AS account_free,
              extract(epoch FROM min(at) FILTER (WHERE account = $3 AND device = $4) + make_interval(secs => $5) - now())::float
                AS device_free
         FROM "LoginAttempt"
        WHERE id <> $1 AND at > now() - make_interval(secs => $5) AND (ip = $2 OR account = $3)`,
      [id, a.ip, a.account, a.device, window],
    );
    const counts = { ip: Number(row.ip), account: Number(row.account), device: Number(row.device) };
    const verdict = decide(counts, this.limits, a.device !== null);
    const free = verdict.allow ? 0 : Number(row[`${verdict.bucket}_free`] ?? 0);
    return { id, verdict, counts, retryAfterSeconds: Math.max(1, Math.ceil(free)) };
  }

  /** The right password: the attempt was no failure. */
  async succeeded(id: string): Promise<void> {
    await this.sql.query('DELETE FROM "LoginAttempt" WHERE id = $1', [id]);
  }

  /**
   * Refused attempts are not failures (no password was checked): counting them would let a guesser who keeps
   * knocking keep the account guarded forever.
   */
  async refused(id: string): Promise<void> {
    await this.sql.query('DELETE FROM "LoginAttempt" WHERE id = $1', [id]);
  }
}
