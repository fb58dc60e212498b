// Stored secrets in every sealed field, for the key-rotation tests: seeded with one key, then opened with another.
import type { Database } from '../../src/db/client.ts';
import { SEALED, type Sealer } from '../../src/security/secrets.ts';
import { SEALED_COLUMNS } from '../../src/security/sealed-columns.ts';
import { issueSetupToken } from '../../src/auth/setup.ts';
import { createEnabledMailboxes, createSyncProfile } from './sync-fixtures.ts';

const keyOf = (sealed: string) => sealed.split('.')[1];

export interface Seeded {
  profiles: string[];
  mailboxes: string[];
  grants: string[];
  setupToken: string;
}

/** 3 profile secrets, 12 mailbox passwords, 12 grants (access + refresh tokens, one without refresh), a setup token. */
export async function seedSecrets(db: Database, sealer: Sealer): Promise<Seeded> {
  const { prisma } = db;
  const profiles: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { profile } = await createSyncProfile(prisma);
    await prisma.emailServerProfile.update({
      where: { id: profile.id },
      data: { oauthClientSecret: sealer.seal(`client-secret-${i}`, SEALED.profileClientSecret) },
    });
    profiles.push(profile.id);
  }
  const { ids } = await createEnabledMailboxes(prisma, 12);
  for (const [i, id] of ids.entries()) {
    await prisma.mailbox.update({
      where: { id },
      data: { credentialPassword: sealer.seal(`password-${i}`, SEALED.mailboxPassword) },
    });
    await prisma.gmailGrant.create({
      data: {
        mailboxId: id,
        googleEmail: `mb${i}@gmail.test`,
        grantedScopes: 'https://mail.google.com/',
        accessToken: sealer.seal(`access-${i}`, SEALED.grantAccessToken),
        accessTokenExpiresAt: new Date(Date.now() + 3_600_000),
        refreshToken: i === 0 ? null : sealer.seal(`refresh-${i}`, SEALED.grantRefreshToken),
      },
    });
  }
  const grants = (await prisma.gmailGrant.findMany({ select: { id: true } })).map((g) => g.id);
  return { profiles, mailboxes: ids, grants, setupToken: await issueSetupToken(prisma, sealer) };
}

/** Every sealed value, opened with `sealer` (throws if one does not open), with its key id. */
export async function openAll(db: Database, sealer: Sealer): Promise<Map<string, { plain: string; keyId: string }>> {
  const out = new Map<string, { plain: string; keyId: string }>();
  for (const c of Object.values(SEALED_COLUMNS)) {
    const rows = await db.raw.query<{ k: string; v: string | null }>(
      `SELECT "${c.key}" AS k, "${c.column}" AS v FROM "${c.table}"${c.where ? ` WHERE ${c.where}` : ''}`,
    );
    for (const r of rows)
      if (r.v !== null)
        out.set(`${c.table}.${c.column}:${r.k}`, { plain: sealer.open(r.v, c.context), keyId: keyOf(r.v) });
  }
  return out;
}
