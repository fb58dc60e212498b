// The profiles a bulk Change Server Profile offers, each with its usage ("98 of 100 mailboxes") so a full one is seen
// before choosing it.
import type { PrismaClient } from '../generated/prisma/client.ts';
import { authMethod } from '../mail/auth-methods.ts';

export async function profileChoices(prisma: PrismaClient) {
  const rows = await prisma.emailServerProfile.findMany({
    orderBy: { name: 'asc' },
    select: { id: true, name: true, authenticateUsing: true, _count: { select: { mailboxes: true } } },
  });
  return rows.map((p) => {
    const cap = authMethod(p).mailboxCapacity;
    const used = p._count.mailboxes;
    return {
      id: p.id,
      name: p.name,
      usage: cap === null ? `${used} mailbox${used === 1 ? '' : 'es'}` : `${used} of ${cap} mailboxes`,
      full: cap !== null && used >= cap,
    };
  });
}
