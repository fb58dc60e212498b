// The audit log's one writer. Records who did what to which target, and the result; never a secret.
import type { Request } from 'express';
import type { PrismaClient } from '../generated/prisma/client.ts';

export interface AuditEntry {
  action: string;
  targetType?: string;
  targetId?: string;
  result?: 'SUCCESS' | 'FAILURE' | 'DENIED';
  details?: Record<string, unknown>;
  actor?: { id?: string | null; email?: string | null } | null;
  ip?: string | null;
}

type AuditWriter = Pick<PrismaClient, 'auditEvent'>;

const SECRETISH = /secret|password|token|code_verifier|authorization/i;

function scrub(details: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(details).map(([k, v]) => [k, SECRETISH.test(k) && typeof v === 'string' ? '[redacted]' : v]),
  );
}

/** The row an entry is stored as (scrubbed details): for a writer that inserts it in its own SQL statement. */
export const auditRow = (e: AuditEntry) => ({
  action: e.action,
  targetType: e.targetType,
  targetId: e.targetId,
  result: e.result ?? 'SUCCESS',
  details: scrub(e.details ?? {}) as object,
  actorId: e.actor?.id ?? null,
  actorEmail: e.actor?.email ?? null,
  ip: e.ip ?? null,
});

export async function audit(db: AuditWriter, e: AuditEntry): Promise<void> {
  await db.auditEvent.create({ data: auditRow(e) });
}

/** Many entries in one statement (a Test & Enable request for hundreds of mailboxes). */
export async function auditMany(db: AuditWriter, entries: AuditEntry[]): Promise<void> {
  if (entries.length) await db.auditEvent.createMany({ data: entries.map(auditRow) });
}

/** The actor and IP of a request, for audit entries. */
export function actorOf(req: Request): Pick<AuditEntry, 'actor' | 'ip'> {
  const u = req.user as { id: string; email: string } | undefined;
  return { actor: u ? { id: u.id, email: u.email } : null, ip: req.ip ?? null };
}
