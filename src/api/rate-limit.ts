// Requests per API token in a sliding minute, counted in the database (ApiRequest) like the sign-in throttle, so every
// web process and every restart sees the same counts. Refused requests are not counted: a client that keeps knocking
// is let in again as soon as its older requests leave the window.
import { randomUUID } from 'node:crypto';
import type { RawSql } from '../db/client.ts';

export interface RateVerdict {
  allow: boolean;
  limit: number;
  remaining: number;
  /** When refused: seconds until the oldest counted request leaves the window. */
  retryAfterSeconds: number;
}

export class TokenRateLimit {
  constructor(
    private sql: RawSql,
    readonly limit: number,
    readonly windowMs = 60_000,
  ) {}

  /** Records the request first, then counts: of requests racing on several processes, no more than `limit` pass. */
  async admit(tokenId: string): Promise<RateVerdict> {
    const id = randomUUID();
    const window = this.windowMs / 1000;
    await this.sql.query('INSERT INTO "ApiRequest" (id, "tokenId") VALUES ($1, $2)', [id, tokenId]);
    const [row] = await this.sql.query<{ n: number; free: number | null }>(
      `SELECT count(*)::int AS n,
              extract(epoch FROM min(at) + make_interval(secs => $3) - now())::float AS free
         FROM "ApiRequest"
        WHERE "tokenId" = $1 AND id <> $2 AND at > now() - make_interval(secs => $3)`,
      [tokenId, id, window],
    );
    const before = Number(row.n);
    // The token's own rows that left the window: each request tidies its token, so the table stays one window deep.
    await this.sql.query(`DELETE FROM "ApiRequest" WHERE "tokenId" = $1 AND at <= now() - make_interval(secs => $2)`, [
      tokenId,
      window,
    ]);
    if (before < this.limit)
      return { allow: true, limit: this.limit, remaining: this.limit - before - 1, retryAfterSeconds: 0 };
    await this.sql.query('DELETE FROM "ApiRequest" WHERE id = $1', [id]);
    return {
      allow: false,
      limit: this.limit,
      remaining: 0,
      retryAfterSeconds: Math.max(1, Math.ceil(Number(row.free ?? window))),
    };
  }
}
