// Mailbox pages: list, new, view, edit, delete, Approve Email / Reject Email. Rules live in ./service.ts.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin } from '../auth/guards.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { flash } from '../web/flash.ts';
import { profileClient } from '../gmail/credentials.ts';
import { revokeNote } from '../gmail/grants.ts';
import { loadMailboxFor } from './access.ts';
import { mailboxFormSchema, formValues } from './form.ts';
import { createMailbox, deleteMailbox, setApproval, updateMailbox, MailboxFormError } from './service.ts';
import { mailboxList, mailboxListPage } from './list.ts';
import { labels } from './labels.ts';
import { editValues, mailboxView } from './view-model.ts';
import { GMAIL_PROFILE_CAPACITY } from './capacity.ts';
import { loadReport } from '../checks/report.ts';

export function mailboxRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  async function renderForm(req: Request, res: Response, o: { status?: number; mailbox?: Awaited<ReturnType<typeof loadMailboxFor>>; values: Record<string, string>; errors: FieldErrors }) {
    const user = currentUser(req);
    const [profiles, users] = await Promise.all([
      prisma.emailServerProfile.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true, authenticateUsing: true, _count: { select: { mailboxes: true } } } }),
      // the current owner stays listed even when disabled, so saving does not silently change the owner
      user.role === 'ADMIN' ? prisma.user.findMany({ where: { OR: [{ disabledAt: null }, ...(o.values.ownerId ? [{ id: o.values.ownerId }] : [])] }, orderBy: { email: 'asc' }, select: { id: true, name: true, email: true } }) : [],
    ]);
    res.status(o.status ?? 200).render('mailboxes/form', {
      title: o.mailbox ? `Edit ${o.mailbox.name}` : 'New mailbox', mailbox: o.mailbox ? mailboxView(o.mailbox) : null,
      values: o.values, errors: o.errors, profiles, users, capacity: GMAIL_PROFILE_CAPACITY, labels,
    });
  }

  r.get('/', async (req, res) => {
    res.render('mailboxes/list', await mailboxListPage(prisma, currentUser(req), mailboxList.parse(req.query)));
  });

  r.get('/new', async (req, res) => {
    const user = currentUser(req);
    const def = await prisma.emailServerProfile.findFirst({ where: { isDefaultGmail: true }, select: { id: true } });
    const mine = user.role !== 'ADMIN';
    await renderForm(req, res, { errors: {}, values: {
      name: mine ? user.name : '', emailAddress: mine ? user.email : '', ownerId: user.id, profileId: def?.id ?? '',
      incomingEmail: 'SERVER_SIDE_SYNC', outgoingEmail: 'SERVER_SIDE_SYNC', credentialUsername: '',
    } });
  });

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const parsed = mailboxFormSchema.safeParse(body);
    if (!parsed.success) return renderForm(req, res, { status: 422, values: formValues(body), errors: fieldErrors(parsed.error) });
    try {
      const mailbox = await createMailbox(deps, currentUser(req), parsed.data, { ip: req.ip });
      flash(req, 'success', `Mailbox ${mailbox.emailAddress} created. An administrator must approve its email address before it can be enabled.`);
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    } catch (e) {
      if (!(e instanceof MailboxFormError)) throw e;
      await renderForm(req, res, { status: 422, values: formValues(body), errors: e.errors });
    }
  });

  r.get('/:id', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const client = mailbox.profile?.authenticateUsing === 'GMAIL_OAUTH' ? profileClient(deps.sealer, mailbox.profile) : null;
    res.render('mailboxes/show', { title: mailbox.name, mailbox: mailboxView(mailbox), gmailProblem: client && !client.ok ? client.problem : null, labels,
      report: await loadReport(prisma, mailbox.id) });
  });

  r.get('/:id/edit', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    await renderForm(req, res, { mailbox, values: editValues(mailbox), errors: {} });
  });

  r.post('/:id/edit', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const body = req.body as Record<string, unknown>;
    const parsed = mailboxFormSchema.safeParse(body);
    if (!parsed.success) return renderForm(req, res, { status: 422, mailbox, values: formValues(body), errors: fieldErrors(parsed.error) });
    try {
      const { reset, grantDropped } = await updateMailbox(deps, currentUser(req), mailbox, parsed.data, { ip: req.ip });
      flash(req, 'success', `Mailbox ${parsed.data.emailAddress} saved.`);
      if (reset) {
        flash(req, 'warning', `The email address or server profile changed, so the approval is back to Pending and the test results were reset${grantDropped ? ', and the Gmail sign-in was removed: Sign in to Gmail again' : ''}.`);
      }
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    } catch (e) {
      if (!(e instanceof MailboxFormError)) throw e;
      await renderForm(req, res, { status: 422, mailbox, values: formValues(body), errors: e.errors });
    }
  });

  r.get('/:id/delete', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    res.render('mailboxes/delete', { title: `Delete ${mailbox.name}`, mailbox: mailboxView(mailbox) });
  });

  r.post('/:id/delete', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const revoked = await deleteMailbox(deps, currentUser(req), mailbox, { ip: req.ip });
    flash(req, revoked === 'failed' ? 'warning' : 'success', `Mailbox ${mailbox.emailAddress} deleted.${revokeNote(revoked)}`);
    res.redirect(303, '/mailboxes');
  });

  for (const [action, decision] of [['approve', 'APPROVED'], ['reject', 'REJECTED']] as const) {
    r.post(`/:id/${action}`, requireAdmin, async (req, res) => {
      const mailbox = await loadMailboxFor(prisma, req, req.params.id);
      await setApproval(deps, currentUser(req), mailbox, decision, { ip: req.ip });
      flash(req, 'success', `Email address ${mailbox.emailAddress} ${decision === 'APPROVED' ? 'approved' : 'rejected'}.`);
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    });
  }

  return r;
}
