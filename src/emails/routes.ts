// Emails pages: the list, the email record, New email / Reply (queued through ./send-service.ts, which the JSON API
// calls too) and the statuses the pages poll. Who sees what is in ./access.ts.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser } from '../auth/guards.ts';
import { actorOf } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { loadEmailForUser } from './access.ts';
import { emailList, emailListPage } from './list.ts';
import { bodyViewParam, emailRecordPage } from './record.ts';
import { composeSchema, composeValues } from './compose-form.ts';
import { composePage } from './compose-page.ts';
import { ComposeError, newEmailValues, queueEmail } from './send-service.ts';
import { emailIds, emailStatuses } from './send-status.ts';

const param = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

export function emailRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  const renderCompose = async (req: Request, res: Response, values: Record<string, string>, errors: FieldErrors) =>
    res
      .status(Object.keys(errors).length ? 422 : 200)
      .render('emails/new', await composePage(prisma, currentUser(req), values, errors));

  r.get('/', async (req, res) => {
    res.render('emails/list', await emailListPage(deps.db, currentUser(req), emailList.parse(req.query)));
  });

  r.get('/new', async (req, res) => {
    const values = await newEmailValues(prisma, currentUser(req), {
      mailboxId: param(req.query.mailbox),
      replyToId: param(req.query.reply),
    });
    await renderCompose(req, res, values, {});
  });

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, unknown>;
    const parsed = composeSchema.safeParse(body);
    if (!parsed.success) return renderCompose(req, res, composeValues(body), fieldErrors(parsed.error));
    try {
      const q = await queueEmail({ prisma, jobs: deps.jobs }, currentUser(req), parsed.data, actorOf(req));
      flash(
        req,
        'success',
        q.duplicate
          ? 'This email was already sent from this form: it is not sent twice.'
          : 'Email queued (Pending Send). Its status changes here when the server accepts it.',
      );
      res.redirect(303, `/emails/${q.id}`);
    } catch (e) {
      if (!(e instanceof ComposeError)) throw e;
      await renderCompose(req, res, composeValues(body), e.errors);
    }
  });

  r.get('/status.json', async (req, res) => {
    const parsed = emailIds.safeParse(req.query.ids);
    if (!parsed.success) return res.status(400).json({ error: 'ids must be email ids separated by commas' });
    res
      .set('Cache-Control', 'no-store')
      .json({ emails: await emailStatuses(prisma, currentUser(req), parsed.data, deps.sends.retryLimit) });
  });

  r.get('/:id', async (req, res) => {
    const email = await loadEmailForUser(prisma, currentUser(req), req.params.id);
    res.render(
      'emails/show',
      emailRecordPage(email, bodyViewParam(req.query.view), { retryLimit: deps.sends.retryLimit }),
    );
  });

  return r;
}
