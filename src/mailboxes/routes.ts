// Mailbox pages: list, new, view, edit, delete, Approve Email / Reject Email. Rules live in ./service.ts, the
// pages' locals in ./pages.ts.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin } from '../auth/guards.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { flash } from '../web/flash.ts';
import { WITHOUT_WITH } from '../web/views.ts';
import { loadMailboxFor, type MailboxDetail } from './access.ts';
import { mailboxFormSchema, formValues } from './form.ts';
import { createMailbox, deleteMailbox, setApproval, updateMailbox, MailboxFormError } from './service.ts';
import { mailboxList, mailboxListPage } from './list.ts';
import { editValues } from './view-model.ts';
import { deletePage, formPage, newValues, showPage } from './pages.ts';

export function mailboxRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  const renderForm = async (
    req: Request,
    res: Response,
    o: { status?: number; mailbox?: MailboxDetail; values: Record<string, string>; errors: FieldErrors },
  ) => res.status(o.status ?? 200).render('mailboxes/form', await formPage(deps, currentUser(req), o));

  r.get('/', async (req, res) => {
    const page = await mailboxListPage(deps.db, currentUser(req), mailboxList.parse(req.query));
    res.render('mailboxes/list', { ...page, ...WITHOUT_WITH });
  });

  r.get('/new', async (req, res) => {
    await renderForm(req, res, { errors: {}, values: await newValues(deps, currentUser(req)) });
  });

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const parsed = mailboxFormSchema.safeParse(body);
    if (!parsed.success)
      return renderForm(req, res, { status: 422, values: formValues(body), errors: fieldErrors(parsed.error) });
    try {
      const mailbox = await createMailbox(deps, currentUser(req), parsed.data, { ip: req.ip });
      flash(
        req,
        'success',
        `Mailbox ${mailbox.emailAddress} created. An administrator must approve its email address before it can be enabled.`,
      );
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    } catch (e) {
      if (!(e instanceof MailboxFormError)) throw e;
      await renderForm(req, res, { status: 422, values: formValues(body), errors: e.errors });
    }
  });

  r.get('/:id', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    res.render('mailboxes/show', await showPage(deps, mailbox));
  });

  r.get('/:id/edit', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    await renderForm(req, res, { mailbox, values: editValues(mailbox), errors: {} });
  });

  r.post('/:id/edit', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const body = req.body as Record<string, unknown>;
    const parsed = mailboxFormSchema.safeParse(body);
    if (!parsed.success)
      return renderForm(req, res, {
        status: 422,
        mailbox,
        values: formValues(body),
        errors: fieldErrors(parsed.error),
      });
    try {
      const { reset, grantDropped } = await updateMailbox(deps, currentUser(req), mailbox, parsed.data, { ip: req.ip });
      flash(req, 'success', `Mailbox ${parsed.data.emailAddress} saved.`);
      if (reset) {
        flash(
          req,
          'warning',
          `The email address or server profile changed, so the approval is back to Pending and the test results were reset${grantDropped ? ', and the Gmail sign-in was removed: Sign in to Gmail again' : ''}.`,
        );
      }
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    } catch (e) {
      if (!(e instanceof MailboxFormError)) throw e;
      await renderForm(req, res, { status: 422, mailbox, values: formValues(body), errors: e.errors });
    }
  });

  r.get('/:id/delete', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    res.render('mailboxes/delete', deletePage(mailbox));
  });

  r.post('/:id/delete', async (req, res) => {
    const mailbox = await loadMailboxFor(prisma, req, req.params.id);
    const released = await deleteMailbox(deps, currentUser(req), mailbox, { ip: req.ip });
    flash(
      req,
      released.outcome === 'failed' ? 'warning' : 'success',
      `Mailbox ${mailbox.emailAddress} deleted.${released.note}`,
    );
    res.redirect(303, '/mailboxes');
  });

  for (const [action, decision] of [
    ['approve', 'APPROVED'],
    ['reject', 'REJECTED'],
  ] as const) {
    r.post(`/:id/${action}`, requireAdmin, async (req, res) => {
      const mailbox = await loadMailboxFor(prisma, req, req.params.id);
      await setApproval(deps, currentUser(req), mailbox, decision, { ip: req.ip });
      flash(
        req,
        'success',
        `Email address ${mailbox.emailAddress} ${decision === 'APPROVED' ? 'approved' : 'rejected'}.`,
      );
      res.redirect(303, `/mailboxes/${mailbox.id}`);
    });
  }

  return r;
}
