// Test & Enable Mailbox pages: one mailbox, a selection (with confirmation), all of a profile, and the
// JSON the list polls for live statuses. Access: admins any mailbox, users their own (others are 404).
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin, requireLogin } from '../auth/guards.ts';
import { loadMailboxFor, visibleMailboxesWhere } from '../mailboxes/access.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';
import { liveStatus, statusSelect } from './report.ts';
import { getProfile } from '../profiles/service.ts';

const ids = z.preprocess((v) => (v === undefined ? [] : Array.isArray(v) ? v : String(v).split(',')), z.array(z.uuid()).max(1000));
const MAX_CONFIRM_LIST = 200;

export function checkRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(['/mailboxes', '/profiles'], requireLogin);
  const tests = () => {
    if (!deps.tests) throw new HttpError(503, 'Background jobs are not running on this server.');
    return deps.tests;
  };

  const profileOr404 = async (id: string) => {
    const profile = await getProfile(prisma, id);
    if (!profile) throw new HttpError(404, 'No such email server profile.');
    return profile;
  };

  /** The selected ids the user may see (others are silently dropped: they would be 404s). */
  const visible = async (req: Request, wanted: string[]) =>
    prisma.mailbox.findMany({ where: { id: { in: wanted }, ...visibleMailboxesWhere(currentUser(req)) }, select: { id: true, name: true, emailAddress: true, profile: { select: { name: true } } }, orderBy: { name: 'asc' } });

  const queuedMessage = (q: { queued: string[]; alreadyQueued: string[] }) =>
    `Test & Enable Mailbox queued for ${q.queued.length} mailbox${q.queued.length === 1 ? '' : 'es'}` +
    (q.alreadyQueued.length ? ` (${q.alreadyQueued.length} already queued or running)` : '') + '. Statuses update on the list as each finishes.';

  r.get('/mailboxes/status.json', async (req, res) => {
    const parsed = ids.safeParse(req.query.ids);
    if (!parsed.success) return res.status(400).json({ error: 'ids must be mailbox ids separated by commas' });
    const rows = await prisma.mailbox.findMany({ where: { id: { in: parsed.data }, ...visibleMailboxesWhere(currentUser(req)) }, select: statusSelect });
    res.set('Cache-Control', 'no-store').json({ mailboxes: rows.map(liveStatus) });
  });

  /** The mailboxes selected on the list (form field ids); none → back to the list with a message. */
  const selection = async (req: Request, res: Response) => {
    const parsed = ids.safeParse(req.body.ids);
    const selected = parsed.success ? await visible(req, parsed.data) : [];
    if (!selected.length) {
      flash(req, 'error', 'Select one or more mailboxes first.');
      res.redirect(303, '/mailboxes');
    }
    return selected;
  };

  r.post('/mailboxes/test/confirm', async (req, res) => {
    const selected = await selection(req, res);
    if (!selected.length) return;
    res.render('checks/confirm', { title: 'Test & Enable Mailbox', mailboxes: selected.slice(0, MAX_CONFIRM_LIST), count: selected.length, ids: selected.map((m) => m.id), action: '/mailboxes/test', back: '/mailboxes' });
  });

  r.post('/mailboxes/test', async (req, res) => {
    const selected = await selection(req, res);
    if (!selected.length) return;
    const q = await tests().request(selected.map((m) => m.id), currentUser(req).id);
    flash(req, 'success', queuedMessage(q));
    res.redirect(303, `/mailboxes?tested=${q.queued.length}`);
  });

  r.post('/mailboxes/:id/test', async (req: Request<{ id: string }>, res: Response) => {
    const mb = await loadMailboxFor(prisma, req, req.params.id);
    const q = await tests().request([mb.id], currentUser(req).id);
    flash(req, q.queued.length ? 'success' : 'info', q.queued.length ? 'Test & Enable Mailbox queued. The result appears here in a few seconds.' : 'A test of this mailbox is already queued or running.');
    res.redirect(303, `/mailboxes/${mb.id}`);
  });

  r.get('/profiles/:id/test-all', requireAdmin, async (req: Request<{ id: string }>, res: Response) => {
    const profile = await profileOr404(req.params.id);
    const mailboxes = await prisma.mailbox.findMany({ where: { profileId: profile.id }, select: { id: true, name: true, emailAddress: true, profile: { select: { name: true } } }, orderBy: { name: 'asc' } });
    res.render('checks/confirm', { title: `Test & Enable all mailboxes on ${profile.name}`, mailboxes: mailboxes.slice(0, MAX_CONFIRM_LIST), count: mailboxes.length, ids: [], action: `/profiles/${profile.id}/test-all`, back: `/profiles/${profile.id}` });
  });

  r.post('/profiles/:id/test-all', requireAdmin, async (req: Request<{ id: string }>, res: Response) => {
    const profile = await profileOr404(req.params.id);
    const all = await prisma.mailbox.findMany({ where: { profileId: profile.id }, select: { id: true } });
    const q = await tests().request(all.map((m) => m.id), currentUser(req).id);
    flash(req, 'success', queuedMessage(q));
    res.redirect(303, `/mailboxes?profile=${profile.id}`);
  });

  return r;
}
