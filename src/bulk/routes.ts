// Bulk actions on the mailbox list: the list's form → a confirmation naming the count (POST /mailboxes/bulk/confirm)
// → the action (POST /mailboxes/bulk/:action) → a result page (GET /mailboxes/bulk/result; Test & Enable goes back to
// the list, whose statuses update live). Admins only, except Test & Enable, which a user may run on their own.
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin } from '../auth/guards.ts';
import { actorOf, audit } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';
import { BULK_ACTIONS, isBulkAction, runBulk, type BulkAction, type BulkResult } from './actions.ts';
import {
  MAX_BULK,
  parseSelection,
  previewSelection,
  selectedIds,
  selectionFields,
  selectionLabel,
  type Selection,
} from './selection.ts';
import { profileChoices } from './profiles.ts';

const RESULT_KEY = 'bulkResult';
const MAX_LISTED = 500;

/** The action a request names; admin-only actions refuse users (403) as every admin page does. */
function actionOf(req: Request, res: Response, next: NextFunction): void {
  const action = req.params.action ?? (req.body as Record<string, unknown>).action;
  if (!isBulkAction(action)) return next(new HttpError(404, 'There is no such bulk action.'));
  res.locals.action = action;
  if (BULK_ACTIONS[action].adminOnly) return requireAdmin(req, res, next);
  next();
}

function nothingSelected(req: Request, res: Response): void {
  flash(req, 'error', 'Select one or more mailboxes first.');
  res.redirect(303, '/mailboxes');
}

export function bulkRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  const confirm = async (
    req: Request,
    res: Response,
    action: BulkAction,
    s: Selection,
    o: { status?: number; notice?: string; errors?: Record<string, string>; profileId?: string } = {},
  ) => {
    const { count, mailboxes } = await previewSelection(prisma, currentUser(req), s);
    res.status(o.status ?? 200).render('bulk/confirm', {
      title: `${BULK_ACTIONS[action].label}: ${count} mailbox${count === 1 ? '' : 'es'}`,
      action,
      spec: BULK_ACTIONS[action],
      count,
      mailboxes,
      tooMany: count > MAX_BULK,
      max: MAX_BULK,
      fields: selectionFields(s),
      label: selectionLabel(s),
      profiles: action === 'profile' ? await profileChoices(prisma) : [],
      profileId: o.profileId ?? '',
      notice: o.notice ?? null,
      errors: o.errors ?? {},
    });
  };

  r.post('/confirm', actionOf, async (req, res) => {
    const s = parseSelection(req.body as Record<string, unknown>);
    if (!s) return nothingSelected(req, res);
    await confirm(req, res, res.locals.action as BulkAction, s);
  });

  r.post('/:action', actionOf, async (req: Request<{ action: string }>, res: Response) => {
    const action = res.locals.action as BulkAction;
    const body = req.body as Record<string, unknown>;
    const s = parseSelection(body);
    if (!s) return nothingSelected(req, res);
    const user = currentUser(req);
    const profileId = typeof body.profileId === 'string' ? body.profileId : '';
    if (action === 'profile' && !(await profileChoices(prisma)).some((p) => p.id === profileId))
      return confirm(req, res, action, s, { status: 422, errors: { profileId: 'Choose an email server profile' } });
    const ids = await selectedIds(prisma, user, s);
    if (!ids.length) return nothingSelected(req, res);
    // "All matching" is read again now: if the filter matches other mailboxes than the page named, ask again.
    if (ids.length > MAX_BULK || (s.all && String(ids.length) !== String(body.expected)))
      return confirm(req, res, action, s, {
        status: 409,
        profileId,
        notice: `The mailboxes matching this filter changed since you chose: ${ids.length > MAX_BULK ? `more than ${MAX_BULK}` : ids.length} match now. Check the list below and confirm again.`,
      });
    const who = actorOf(req);
    const result = await runBulk(deps, user, action, ids, { profileId, who });
    await audit(prisma, {
      action: `mailbox.bulk.${action}`, // the mailboxes have their own entries; this one records the selection
      ...who,
      result: result.failed.length ? 'FAILURE' : 'SUCCESS',
      details: {
        selection: selectionLabel(s),
        count: ids.length,
        done: result.done.length,
        skipped: result.skipped.length,
        failed: result.failed.length,
        ...(action === 'profile' ? { profileId } : {}),
      },
    });
    if (action === 'test') {
      const n = result.done.length;
      flash(
        req,
        'success',
        `Test & Enable Mailbox queued for ${n} mailbox${n === 1 ? '' : 'es'}` +
          (result.skipped.length ? ` (${result.skipped.length} already running: not queued again)` : '') +
          '. Statuses update on the list as each finishes.',
      );
      return res.redirect(303, `/mailboxes?tested=${n}`);
    }
    const kept: BulkResult = {
      ...result,
      done: result.done.slice(0, MAX_LISTED),
      skipped: result.skipped.slice(0, MAX_LISTED),
      failed: result.failed.slice(0, MAX_LISTED),
    };
    req.session[RESULT_KEY] = {
      ...kept,
      counts: { done: result.done.length, skipped: result.skipped.length, failed: result.failed.length },
    };
    res.redirect(303, '/mailboxes/bulk/result');
  });

  r.get('/result', (req, res) => {
    const result = req.session[RESULT_KEY] as
      | (BulkResult & { counts: { done: number; skipped: number; failed: number } })
      | undefined;
    if (!result) return res.redirect(303, '/mailboxes');
    res.render('bulk/result', {
      title: `${BULK_ACTIONS[result.action].label}: result`,
      result,
      spec: BULK_ACTIONS[result.action],
    });
  });

  return r;
}
