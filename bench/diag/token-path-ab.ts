// Diagnostic (decision 044): a token refresh's two costs, before and after decision 044, alternated in one process so
// that both sides see the same machine. `PART=http`: N token POSTs, C at a time, to the bench world's HTTPS token
// endpoint (TLS terminator behind the 20 ms delaying proxy, in its own process), through undici's fetch (before) or
// the Google client's keep-alive node:https (after); prints the main thread's CPU and the world's per request and the
// connections the world saw. `PART=db`: a refresh's statements for N expired grants, C at a time, with the token
// itself stubbed — before: the grant read (Prisma), the claim ($queryRaw), the token write with the claim's release
// ($executeRawUnsafe); after: readAndClaim and storeRefreshed (driver handle; decision 044's figures were taken while
// these also committed unflushed, since dropped). Prints wall, main-thread and process CPU (PGlite's thread) per refresh.
// `PART=http|db ENGINE=pglite|postgres N=1000 C=50 ROUNDS=3 npx tsx bench/diag/token-path-ab.ts`
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { rerunWithBenchCa } from '../ca-rerun.ts';

rerunWithBenchCa('tokenab');

const PART = process.env.PART ?? 'http';
const ENGINE = (process.env.ENGINE ?? 'pglite') as 'pglite' | 'postgres';
const [N, C, ROUNDS] = [process.env.N ?? 1000, process.env.C ?? 50, process.env.ROUNDS ?? 3].map(Number);

const { createGoogleClient } = await import('../../src/gmail/google-client.ts');
const { readAndClaim, storeRefreshed } = await import('../../src/gmail/provider.ts');
const { createSealer, SEALED } = await import('../../src/security/secrets.ts');
const { startRemoteWorld } = await import('../world.ts');
const { resetForRun } = await import('../seed.ts');
const { median, now, round, procCpuSeconds } = await import('../util.ts');
const { openFreshDatabase, seedScaleWithoutWorld } = await import('./seeded.ts');

function cpu(): { main: number; all: number } {
  const read = (path: string) => {
    const raw = readFileSync(path, 'utf8');
    const f = raw.slice(raw.lastIndexOf(') ') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  return { main: read(`/proc/self/task/${process.pid}/stat`), all: read('/proc/self/stat') };
}

async function atOnce(n: number, c: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const out: Record<string, Record<string, number[]>> = {};
const record = (variant: string, values: Record<string, number>) => {
  const o = (out[variant] ??= {});
  for (const [k, v] of Object.entries(values)) (o[k] ??= []).push(v);
  console.log(
    JSON.stringify({
      part: PART,
      engine: PART === 'db' ? ENGINE : undefined,
      variant,
      load: round(loadavg()[0], 1),
      ...values,
    }),
  );
};

if (PART === 'http') {
  const world = await startRemoteWorld(20);
  try {
    const emails = Array.from({ length: N }, (_, i) => `tok-${i}@bench.test`);
    const tokens = await world.addAccounts(emails);
    const url = world.googleEnv.GOOGLE_TOKEN_URL;
    const creds = { clientId: world.clientId, clientSecret: world.clientSecret };
    const form = (refresh: string) =>
      new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refresh,
        client_id: creds.clientId,
        client_secret: creds.clientSecret,
      }).toString();
    // Before: the client's call as it was (undici's fetch, the answer read as text and parsed).
    const viaFetch = async (refresh: string) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form(refresh),
        redirect: 'error',
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`token ${res.status}`);
      JSON.parse(text);
    };
    for (let r = 0; r < ROUNDS * 2; r++) {
      const variant = r % 2 === 0 ? 'fetch' : 'https-keepalive';
      // A new client per round (its own connections), as each process has one.
      const client = createGoogleClient({
        authorizationUrl: url,
        tokenUrl: url,
        userinfoUrl: url,
        revokeUrl: url,
      });
      const s0 = await world.stats();
      const w0 = procCpuSeconds(world.pid);
      const c0 = cpu();
      const t0 = now();
      await atOnce(N, C, (i) =>
        variant === 'fetch'
          ? viaFetch(tokens[i].refresh_token)
          : client.refreshAccessToken(creds, tokens[i].refresh_token),
      );
      const wall = now() - t0;
      const c1 = cpu();
      const w1 = procCpuSeconds(world.pid);
      const s1 = await world.stats();
      record(variant, {
        wallMs: round(wall),
        mainCpuMsPerRequest: round(((c1.main - c0.main) * 1000) / N, 3),
        worldCpuMsPerRequest: round(((w1 - w0) * 1000) / N, 3),
        connections: s1.proxied.google - s0.proxied.google,
      });
      await new Promise((res) => setTimeout(res, 500));
    }
  } finally {
    await world.close();
  }
} else {
  const { db, config, close } = await openFreshDatabase(ENGINE, 'tokenab');
  try {
    const { prisma } = db;
    const sealer = createSealer(config.secretsKeys.current);
    const seed = await seedScaleWithoutWorld(prisma, sealer, N);
    const token = sealer.seal('access', SEALED.grantAccessToken);
    /** As at main (cda1c80): Prisma's read, the claim, the write that releases it; every commit flushed. */
    const before = async (mailboxId: string) => {
      const grant = await prisma.gmailGrant.findUnique({ where: { mailboxId } });
      if (!grant) throw new Error('no grant');
      const claimId = randomUUID();
      const rows = await prisma.$queryRaw<Array<{ accessToken: string }>>`UPDATE "GmailGrant"
        SET "refreshClaimedUntil" = now() + make_interval(secs => ${30}::double precision), "refreshClaimedBy" = ${claimId}
        WHERE "mailboxId" = ${mailboxId} AND ("refreshClaimedUntil" IS NULL OR "refreshClaimedUntil" < now())
        RETURNING "accessToken"`;
      if (rows[0]?.accessToken !== grant.accessToken) throw new Error('not claimed');
      const at = new Date();
      const n = await prisma.$executeRawUnsafe(
        `UPDATE "GmailGrant" SET "accessToken" = $2, "accessTokenExpiresAt" = $3::timestamp(3),
           "refreshedAt" = $4::timestamp(3), "grantedScopes" = $5,
           "refreshToken" = COALESCE($6::text, "refreshToken"),
           "refreshTokenIssuedAt" = CASE WHEN $6::text IS NULL THEN "refreshTokenIssuedAt" ELSE $4::timestamptz END,
           "refreshClaimedUntil" = CASE WHEN "refreshClaimedBy" = $7::text THEN NULL ELSE "refreshClaimedUntil" END,
           "refreshClaimedBy" = CASE WHEN "refreshClaimedBy" = $7::text THEN NULL ELSE "refreshClaimedBy" END
         WHERE "mailboxId" = $1`,
        mailboxId,
        token,
        new Date(at.getTime() + 3600_000).toISOString(),
        at.toISOString(),
        'https://mail.google.com/',
        null,
        claimId,
      );
      if (n !== 1) throw new Error('not stored');
    };
    /** This branch: the read with the claim, then the write that releases it (the provider's own functions). */
    const after = async (mailboxId: string) => {
      const claimId = randomUUID();
      const r = await readAndClaim(db.raw, mailboxId, claimId, new Date(Date.now() + 60_000), false);
      if (!r || r.claimedToken !== r.grant.accessToken) throw new Error('not claimed');
      const at = new Date();
      await storeRefreshed(
        db.raw,
        mailboxId,
        { id: claimId, held: true },
        {
          accessToken: token,
          expiresAt: new Date(at.getTime() + 3600_000),
          at,
          scopes: 'https://mail.google.com/',
          refreshToken: null,
        },
      );
    };
    for (let r = 0; r < ROUNDS * 2; r++) {
      const variant = r % 2 === 0 ? 'before' : 'after';
      await resetForRun(prisma, seed.mailboxIds); // every token expired again
      const c0 = cpu();
      const t0 = now();
      await atOnce(N, C, (i) => (variant === 'before' ? before : after)(seed.mailboxIds[i]));
      const wall = now() - t0;
      const c1 = cpu();
      record(variant, {
        wallMsPerRefresh: round(wall / N, 3),
        mainCpuMsPerRefresh: round(((c1.main - c0.main) * 1000) / N, 3),
        processCpuMsPerRefresh: round(((c1.all - c0.all) * 1000) / N, 3),
      });
    }
  } finally {
    await close();
  }
}
console.log(
  JSON.stringify({
    part: PART,
    n: N,
    c: C,
    medians: Object.fromEntries(
      Object.entries(out).map(([v, o]) => [v, Object.fromEntries(Object.entries(o).map(([k, xs]) => [k, median(xs)]))]),
    ),
  }),
);
