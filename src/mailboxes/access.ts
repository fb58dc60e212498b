// Who may see which mailbox: an admin any, a mailbox user only their own. Anything else is a 404, so a user
// cannot tell another user's mailbox from one that does not exist.
import type { Request } from 'express';
import { z } from 'zod';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import type { PublicUser } from '../auth/users.ts';
import { HttpError } from '../web/errors.ts';
import { markDenied } from '../security/denials.ts';

export const mailboxInclude = {
  profile: true,
  grant: true,
  owner: { select: { id: true, name: true, email: true } },
} as const satisfies Prisma.MailboxInclude;

export type MailboxDetail = Prisma.MailboxGetPayload<{ include: typeof mailboxInclude }>;

const idParam = z.uuid();

/** The mailboxes a user may see, as a where clause (lists, bulk actions). */
export function visibleMailboxesWhere(user: Pick<PublicUser, 'id' | 'role'>): Prisma.MailboxWhereInput {
  return user.role === 'ADMIN' ? {} : { ownerId: user.id };
}

export function mailboxNotFound(): HttpError {
  return new HttpError(404, 'There is nothing at this address, or you do not have access to it.');
}

/** Loads a mailbox (with profile, grant and owner) the user may see; throws HttpError 404 otherwise. */
export async function loadMailboxForUser(
  prisma: PrismaClient,
  user: Pick<PublicUser, 'id' | 'role'>,
  id: unknown,
): Promise<MailboxDetail> {
  const parsed = idParam.safeParse(id);
  const mailbox = parsed.success
    ? await prisma.mailbox.findFirst({
        where: { id: parsed.data, ...visibleMailboxesWhere(user) },
        include: mailboxInclude,
      })
    : null;
  if (!mailbox) throw mailboxNotFound();
  return mailbox;
}

/** Route helper: the signed-in user's view of mailbox `id` (admin: any; user: own only; else 404). */
export async function loadMailboxFor(prisma: PrismaClient, req: Request, id: unknown): Promise<MailboxDetail> {
  const user = req.user as PublicUser | undefined;
  if (!user) throw mailboxNotFound();
  try {
    return await loadMailboxForUser(prisma, user, id);
  } catch (e) {
    // Someone else's mailbox: the user sees the same 404 as for none at all, the audit log sees the attempt.
    const parsed = idParam.safeParse(id);
    if (e instanceof HttpError && parsed.success && (await prisma.mailbox.count({ where: { id: parsed.data } })))
      markDenied(req.res, { reason: "another user's mailbox", targetType: 'Mailbox', targetId: parsed.data });
    throw e;
  }
}
