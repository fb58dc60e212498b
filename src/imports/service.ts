// Mailbox imports: an upload is read, checked and stored with its rows (the preview); Import queues one job with the
// import's id; the job creates each valid row's mailbox through the mailbox service, the mailbox and its row's new
// status in one transaction, so a crash leaves every row either imported or still to do, never half (decision 019).
import { fromPrisma, type PgBoss } from 'pg-boss';
import type { PrismaClient } from '../generated/prisma/client.ts';
import type { AppDeps } from '../deps.ts';
import type { PublicUser } from '../auth/users.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { TX_OPTIONS } from '../mailboxes/capacity.ts';
import { createMailboxIn, MailboxFormError } from '../mailboxes/service.ts';
import { audit } from '../security/audit.ts';
import { readCsv, type CsvRow } from './csv.ts';
import { checkRows, rowInput, type Lookup } from './validate.ts';

export const IMPORT_QUEUE = 'mailbox-import';
type Actor = Pick<PublicUser, 'id' | 'email' | 'role'>;
type Deps = Pick<AppDeps, 'db' | 'sealer' | 'logger'>;

/** What the database holds that the rows are checked against (only what the rows name). */
export async function lookupFor(prisma: PrismaClient, rows: CsvRow[]): Promise<Lookup> {
  const lower = (k: keyof CsvRow) => [...new Set(rows.map((r) => String(r[k]).toLowerCase()).filter(Boolean))];
  const [owners, profiles, existing] = await Promise.all([
    prisma.user.findMany({
      where: { email: { in: lower('ownerEmail'), mode: 'insensitive' }, disabledAt: null },
      select: { id: true, email: true },
    }),
    prisma.emailServerProfile.findMany({
      select: { id: true, name: true, authenticateUsing: true, _count: { select: { mailboxes: true } } },
    }),
    prisma.mailbox.findMany({ where: { emailAddress: { in: lower('emailAddress') } }, select: { emailAddress: true } }),
  ]);
  return {
    owners: new Map(owners.map((u) => [u.email.toLowerCase(), u.id])),
    profiles: new Map(
      profiles.map((p) => [
        p.name.toLowerCase(),
        {
          id: p.id,
          name: p.name,
          capacity: authMethod(p).mailboxCapacity,
          used: p._count.mailboxes,
          method: authMethod(p).label,
        },
      ]),
    ),
    existing: new Set(existing.map((m) => m.emailAddress.toLowerCase())),
  };
}

/** Reads and checks an uploaded file and stores it with its rows; throws CsvFileError for an unusable file. */
export async function createImport(deps: Deps, actor: Actor, file: { name: string; bytes: Buffer }) {
  const { prisma } = deps.db;
  const rows = readCsv(file.bytes);
  const checked = checkRows(rows, await lookupFor(prisma, rows));
  const imp = await prisma.mailboxImport.create({
    data: { fileName: file.name.slice(0, 200) || 'upload.csv', createdById: actor.id, createdByEmail: actor.email },
  });
  for (let i = 0; i < checked.length; i += 1000)
    await prisma.mailboxImportRow.createMany({
      data: checked.slice(i, i + 1000).map((r) => ({ ...r, importId: imp.id })),
    });
  await audit(prisma, {
    action: 'mailbox.import.upload',
    targetType: 'MailboxImport',
    targetId: imp.id,
    actor,
    details: {
      fileName: imp.fileName,
      rows: checked.length,
      valid: checked.filter((r) => r.status === 'PENDING').length,
    },
  });
  return imp;
}

/** Import clicked: PREVIEW → QUEUED and the job, in one transaction (a second click finds it queued and does nothing). */
export async function startImport(deps: Deps, boss: PgBoss, actor: Actor, importId: string): Promise<boolean> {
  return deps.db.prisma.$transaction(async (tx) => {
    const { count } = await tx.mailboxImport.updateMany({
      where: { id: importId, status: 'PREVIEW' },
      data: { status: 'QUEUED' },
    });
    if (!count) return false;
    await boss.send(IMPORT_QUEUE, { importId }, { db: fromPrisma(tx) });
    await audit(tx, { action: 'mailbox.import.start', targetType: 'MailboxImport', targetId: importId, actor });
    return true;
  }, TX_OPTIONS);
}

export async function importProgress(prisma: PrismaClient, importId: string) {
  const [imp, groups] = await Promise.all([
    prisma.mailboxImport.findUnique({ where: { id: importId } }),
    prisma.mailboxImportRow.groupBy({ by: ['status'], where: { importId }, _count: { _all: true } }),
  ]);
  if (!imp) return null;
  const n = (s: string) => groups.find((g) => g.status === s)?._count._all ?? 0;
  const counts = {
    pending: n('PENDING'),
    created: n('CREATED'),
    exists: n('EXISTS'),
    invalid: n('INVALID'),
    failed: n('FAILED'),
  };
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  // The bar counts the rows the job works on: the valid ones at upload.
  const toImport = counts.pending + counts.created + counts.failed;
  return { imp, counts, total, toImport, done: counts.created + counts.failed };
}

class RowRefused extends Error {}

/** One row: checked again now (owners, profiles and addresses may have changed), created with its status, or refused. */
async function importRow(deps: Deps, actor: Actor, rowId: string): Promise<void> {
  const { prisma } = deps.db;
  try {
    await prisma.$transaction(async (tx) => {
      const [row] = await tx.$queryRaw<CsvRow[] & { status: string }[]>`
        SELECT line, name, "emailAddress", "ownerEmail", "profileName", "incomingEmail", "outgoingEmail", status
        FROM "MailboxImportRow" WHERE id = ${rowId} FOR UPDATE`;
      if (row?.status !== 'PENDING') return; // another run of the job took it
      const lookup = await lookupFor(tx as unknown as PrismaClient, [row]);
      const r = rowInput(row, lookup);
      if ('reason' in r) throw new RowRefused(r.reason);
      const existing = await tx.mailbox.findUnique({
        where: { emailAddress: r.input.emailAddress },
        select: { id: true },
      });
      if (existing) {
        await tx.mailboxImportRow.update({
          where: { id: rowId },
          data: {
            status: 'EXISTS',
            reason: 'A mailbox with this email address already exists: skipped.',
            mailboxId: existing.id,
          },
        });
        return;
      }
      const mailbox = await createMailboxIn(tx, deps, actor, r.ownerId, r.input);
      await tx.mailboxImportRow.update({ where: { id: rowId }, data: { status: 'CREATED', mailboxId: mailbox.id } });
    }, TX_OPTIONS);
  } catch (e) {
    const reason =
      e instanceof RowRefused
        ? e.message
        : e instanceof MailboxFormError
          ? (e.errors.profileId ?? e.errors.emailAddress ?? e.errors._form ?? Object.values(e.errors)[0])
          : null;
    if (reason === null) throw e; // not the row's fault (the database went away): the job fails and runs again
    await prisma.mailboxImportRow.updateMany({
      where: { id: rowId, status: 'PENDING' },
      data: { status: 'FAILED', reason: reason.replace(/^This mailbox was not saved\. /, '') },
    });
  }
}

/** The job: every row still PENDING, in file order; then DONE. Safe to run again after a crash, or twice at once. */
export async function runImport(deps: Deps, importId: string): Promise<void> {
  const { prisma } = deps.db;
  const imp = await prisma.mailboxImport.findUnique({ where: { id: importId } });
  if (!imp || imp.status === 'DONE' || imp.status === 'PREVIEW') return;
  await prisma.mailboxImport.updateMany({
    where: { id: importId, status: 'QUEUED' },
    data: { status: 'RUNNING', startedAt: new Date() },
  });
  const actor: Actor = { id: imp.createdById ?? '', email: imp.createdByEmail ?? '', role: 'ADMIN' };
  // The job acts for the admin who clicked Import: one who lost the role (or was disabled) since imports nothing.
  const admin = imp.createdById ? await prisma.user.findUnique({ where: { id: imp.createdById } }) : null;
  if (admin?.role !== 'ADMIN' || admin.disabledAt)
    await prisma.mailboxImportRow.updateMany({
      where: { importId, status: 'PENDING' },
      data: { status: 'FAILED', reason: 'The administrator who started this import is no longer an administrator.' },
    });
  for (;;) {
    const batch = await prisma.mailboxImportRow.findMany({
      where: { importId, status: 'PENDING' },
      orderBy: { line: 'asc' },
      select: { id: true },
      take: 100,
    });
    if (!batch.length) break;
    for (const row of batch) await importRow(deps, actor, row.id);
  }
  const { count } = await prisma.mailboxImport.updateMany({
    where: { id: importId, status: { not: 'DONE' } },
    data: { status: 'DONE', finishedAt: new Date() },
  });
  if (!count) return;
  const p = await importProgress(prisma, importId);
  await audit(prisma, {
    action: 'mailbox.import',
    targetType: 'MailboxImport',
    targetId: importId,
    actor: { id: imp.createdById, email: imp.createdByEmail },
    result: p?.counts.failed ? 'FAILURE' : 'SUCCESS',
    details: { fileName: imp.fileName, ...p?.counts },
  });
  deps.logger.info({ importId, ...p?.counts }, 'mailbox import finished');
}
