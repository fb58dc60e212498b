// Test & Enable Mailbox pages: one mailbox, a selection (with confirmation), all of a profile, and the
// JSON the list polls for live statuses. Access: admins any mailbox, users their own (others are 404).
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin, requireLogin } from '../auth/guards.ts';
import { loadMailboxFor } from '../mailboxes/access.ts';
import { flash } from '../web/flash.ts';
import { actorOf } from '../security/audit.ts';
import { HttpError } from '../web/errors.ts';
import { liveStatuses, mailboxIds, profileWithMailboxes, selectedMailboxes } from './selection.ts';
import type { RequestResult } from './job.ts';

const MAX_CONFIRM_LIST = 200;

const queuedMessage = (q: RequestResult) =>
  `Test & Enable Mailbox queued for ${q.queued.length} mailbox${q.queued.length === 1 ? '' : 'es'}` +
  (q.alreadyQueued.length ? ` (${q.alreadyQueued.length} already running: not queued again)` : '') +
  '. Statuses update on the list as each finishes.';

type Listed = Awaited<ReturnType<typeof selectedMailboxes>>;
const confirmPage = (title: string, mailboxes: Listed, ids: string[], action: string, back: string) => ({
  title,
  mailboxes: mailboxes.slice(0, MAX_CONFIRM_LIST),
  count: mailboxes.length,
  ids,
  action,
  back,
});

/** The "Send a test message to myself" checkbox of the Test & Enable forms. */
const wantsTestMessage = (req: Request) => (req.body as Record<string, unknown>).sendTestMessage === 'on';

/** Nothing (visible) was selected: back to the list with a message. */
function nothingSelected(req: Request, res: Response): void {
  flash(req, 'error', 'Select one or more mailboxes first.');
  res.redirect(303, '/mailboxes');
}

export function checkRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(['/mailboxes', '/profiles'], requireLogin);
  const tests = () => {
    if (!deps.tests) throw new HttpError(503, 'Background jobs are not running on this server.');
    return deps.tests;
  };

  r.get('/mailboxes/status.json', async (req, res) => {
    const parsed = mailboxIds.safeParse(req.query.ids);
    if (!parsed.success) return res.status(400).json({ error: 'ids must be mailbox ids separated by commas' });
    res.set('Cache-Control', 'no-store').json({ mailboxes: await liveStatuses(prisma, currentUser(req), parsed.data) });
  });

  r.post('/mailboxes/test/confirm', async (req, res) => {
    const selected = await selectedMailboxes(prisma, currentUser(req), req.body.ids);
    if (!selected.length) return nothingSelected(req, res);
    res.render(
      'checks/confirm',
      confirmPage(
        'Test & Enable Mailbox',
        selected,
        selected.map((m) => m.id),
        '/mailboxes/test',
        '/mailboxes',
      ),
    );
  });

  r.post('/mailboxes/test', async (req, res) => {
    const selected = await selectedMailboxes(prisma, currentUser(req), req.body.ids);
    if (!selected.length) return nothingSelected(req, res);
    const q = await tests().request(
      selected.map((m) => m.id),
      currentUser(req).id,
      actorOf(req),
      { sendTestMessage: wantsTestMessage(req) },
    );
    flash(req, 'success', queuedMessage(q));
    res.redirect(303, `/mailboxes?tested=${q.queued.length}`);
  });

  r.post('/mailboxes/:id/test', async (req: Request<{ id: string }>, res: Response) => {
    const mb = await loadMailboxFor(prisma, req, req.params.id);
    const q = await tests().request([mb.id], currentUser(req).id, actorOf(req), {
      sendTestMessage: wantsTestMessage(req),
    });
    flash(
      req,
      q.queued.length ? 'success' : 'info',
      q.queued.length
        ? 'Test & Enable Mailbox queued. The result appears here in a few seconds.'
        : 'Test & Enable Mailbox is already running for this mailbox: its result appears here when it finishes.',
      { until: `tested:${mb.id}` }, // live-status.js removes it when the result arrives
    );
    res.redirect(303, `/mailboxes/${mb.id}`);
  });

  r.get('/profiles/:id/test-all', requireAdmin, async (req: Request<{ id: string }>, res: Response) => {
    const { profile, mailboxes } = await profileWithMailboxes(prisma, req.params.id);
    res.render(
      'checks/confirm',
      confirmPage(
        `Test & Enable all mailboxes on ${profile.name}`,
        mailboxes,
        [],
        `/profiles/${profile.id}/test-all`,
        `/profiles/${profile.id}`,
      ),
    );
  });

  r.post('/profiles/:id/test-all', requireAdmin, async (req: Request<{ id: string }>, res: Response) => {
    const { profile, mailboxes } = await profileWithMailboxes(prisma, req.params.id);
    const q = await tests().request(
      mailboxes.map((m) => m.id),
      currentUser(req).id,
      actorOf(req),
    );
    flash(req, 'success', queuedMessage(q));
    res.redirect(303, `/mailboxes?profile=${profile.id}`);
  });

  return r;
}
