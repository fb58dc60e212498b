// The bulk actions of the mailbox list, each through the same service as its one-mailbox page (no rule exists twice):
// Approve Email, Reject Email, change Server Profile (the capacity rule per mailbox), Test & Enable Mailbox (one run per
// mailbox: running ones are reported, not queued again) and Delete. Each returns what was done, skipped and refused.
import type { AppDeps } from '../deps.ts';
import type { PublicUser } from '../auth/users.ts';
import { loadMailboxForUser } from '../mailboxes/access.ts';
import { mailboxFormSchema } from '../mailboxes/form.ts';
import { deleteMailbox, MailboxFormError, setApprovalMany, updateMailbox } from '../mailboxes/service.ts';
import { editValues } from '../mailboxes/view-model.ts';
import type { Requester } from '../checks/job.ts';
import { HttpError } from '../web/errors.ts';

export const BULK_ACTIONS = {
  approve: { label: 'Approve Email', done: 'approved', adminOnly: true },
  reject: { label: 'Reject Email', done: 'rejected', adminOnly: true },
  profile: { label: 'Change Server Profile', done: 'moved to the new profile', adminOnly: true },
  test: { label: 'Test & Enable Mailbox', done: 'queued for Test & Enable', adminOnly: false },
  delete: { label: 'Delete', done: 'deleted', adminOnly: true },
} as const;
export type BulkAction = keyof typeof BULK_ACTIONS;

export const isBulkAction = (v: unknown): v is BulkAction => typeof v === 'string' && Object.hasOwn(BULK_ACTIONS, v);

export interface Outcome {
  id: string;
  name: string;
  emailAddress: string;
  reason?: string;
}

export interface BulkResult {
  action: BulkAction;
  done: Outcome[];
  skipped: Outcome[];
  failed: Outcome[];
}

type Actor = Pick<PublicUser, 'id' | 'email' | 'role'>;
type Deps = Pick<AppDeps, 'db' | 'sealer' | 'providers' | 'tests' | 'logger'>;
const outcome = (m: { id: string; name: string; emailAddress: string }, reason?: string): Outcome => ({
  id: m.id,
  name: m.name,
  emailAddress: m.emailAddress,
  ...(reason ? { reason } : {}),
});

async function approval(deps: Deps, actor: Actor, ids: string[], decision: 'APPROVED' | 'REJECTED', who: Requester) {
  const { changed, unchanged } = await setApprovalMany(deps, actor, ids, decision, { ip: who.ip });
  const already = decision === 'APPROVED' ? 'Already approved.' : 'Already rejected.';
  return { done: changed.map((m) => outcome(m)), skipped: unchanged.map((m) => outcome(m, already)), failed: [] };
}

/** One mailbox at a time through updateMailbox: the capacity lock, the reset and the sign-in release per mailbox. */
async function changeProfile(deps: Deps, actor: Actor, ids: string[], profileId: string, who: Requester) {
  const r: Omit<BulkResult, 'action'> = { done: [], skipped: [], failed: [] };
  for (const id of ids) {
    const m = await loadMailboxForUser(deps.db.prisma, actor, id).catch(() => null);
    if (!m) continue; // deleted meanwhile
    if (m.profileId === profileId) {
      r.skipped.push(outcome(m, 'Already on this profile.'));
      continue;
    }
    const input = mailboxFormSchema.safeParse({ ...editValues(m), profileId });
    if (!input.success) {
      r.failed.push(outcome(m, 'The mailbox has values the form no longer accepts: edit it on its own page.'));
      continue;
    }
    try {
      await updateMailbox(deps, actor, m, input.data, { ip: who.ip });
      r.done.push(outcome(m));
    } catch (e) {
      if (!(e instanceof MailboxFormError)) throw e;
      const reason = e.errors.profileId ?? e.errors._form ?? Object.values(e.errors)[0];
      r.failed.push(outcome(m, reason));
    }
  }
  return r;
}

async function remove(deps: Deps, actor: Actor, ids: string[], who: Requester) {
  const r: Omit<BulkResult, 'action'> = { done: [], skipped: [], failed: [] };
  for (const id of ids) {
    const m = await loadMailboxForUser(deps.db.prisma, actor, id).catch(() => null);
    if (!m) continue;
    const released = await deleteMailbox(deps, actor, m, { ip: who.ip });
    r.done.push(outcome(m, released.outcome === 'failed' ? released.note.trim() : undefined));
  }
  return r;
}

async function test(deps: Deps, actor: Actor, ids: string[], who: Requester) {
  if (!deps.tests) throw new HttpError(503, 'Background jobs are not running on this server.');
  const q = await deps.tests.request(ids, actor.id, who);
  const rows = await deps.db.prisma.mailbox.findMany({
    where: { id: { in: ids } },
    select: { id: true, name: true, emailAddress: true },
  });
  const byId = new Map(rows.map((m) => [m.id, m]));
  const named = (list: string[], reason?: string) =>
    list.flatMap((id) => (byId.has(id) ? [outcome(byId.get(id)!, reason)] : []));
  return {
    done: named(q.queued),
    skipped: named([...new Set(q.alreadyQueued)], 'Already running: not queued again.'),
    failed: [],
  };
}

export async function runBulk(
  deps: Deps,
  actor: Actor,
  action: BulkAction,
  ids: string[],
  o: { profileId?: string; who: Requester },
): Promise<BulkResult> {
  const run = {
    approve: () => approval(deps, actor, ids, 'APPROVED', o.who),
    reject: () => approval(deps, actor, ids, 'REJECTED', o.who),
    profile: () => changeProfile(deps, actor, ids, o.profileId!, o.who),
    test: () => test(deps, actor, ids, o.who),
    delete: () => remove(deps, actor, ids, o.who),
  }[action];
  return { action, ...(await run()) };
}
