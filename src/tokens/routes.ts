// API token pages: a user's own tokens under the account menu (/account/tokens: list, create, revoke), and every
// token for administrators (/admin/tokens). A new token is shown once, on the page that answers its creation.
import { Router, type Request, type Response } from 'express';
import type { AppDeps } from '../deps.ts';
import { currentUser, requireAdmin } from '../auth/guards.ts';
import { actorOf } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { fieldErrors, type FieldErrors } from '../web/forms.ts';
import { HttpError } from '../web/errors.ts';
import { newTokenSchema, toNewToken, TOKEN_EXPIRY_DAYS } from './form.ts';
import { createToken, listTokens, revokeToken, tokenState } from './service.ts';

const TITLE = 'API tokens';

export function tokenRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();

  const page = async (req: Request, res: Response, all: boolean, o: { values?: object; errors?: FieldErrors } = {}) => {
    const user = currentUser(req);
    res.status(o.errors && Object.keys(o.errors).length ? 422 : 200).render('tokens/list', {
      title: all ? 'All API tokens' : TITLE,
      all,
      tokens: await listTokens(prisma, user, all),
      tokenState,
      expiries: TOKEN_EXPIRY_DAYS,
      values: { name: '', scope: 'READ_ONLY', expiresInDays: '90', ...o.values },
      errors: o.errors ?? {},
    });
  };

  r.get('/account/tokens', (req, res) => page(req, res, false));
  r.get('/admin/tokens', requireAdmin, (req, res) => page(req, res, true));

  r.post('/account/tokens', async (req, res) => {
    const parsed = newTokenSchema.safeParse(req.body);
    if (!parsed.success) return page(req, res, false, { values: req.body, errors: fieldErrors(parsed.error) });
    const user = currentUser(req);
    const { token, record } = await createToken(prisma, user, toNewToken(parsed.data), actorOf(req));
    // The token exists in this answer only: never cached, never in the session's flash (which is stored).
    res
      .set('Cache-Control', 'no-store')
      .status(201)
      .render('tokens/created', { title: 'API token created', token, record });
  });

  const revoke = (back: string) => async (req: Request<{ id: string }>, res: Response) => {
    const t = await revokeToken(prisma, currentUser(req), req.params.id, actorOf(req));
    if (!t) throw new HttpError(404, 'There is nothing at this address, or you do not have access to it.');
    flash(req, 'success', `API token ${t.name} (${t.owner.email}) revoked: requests with it now answer 401.`);
    res.redirect(303, back);
  };
  r.post('/account/tokens/:id/revoke', revoke('/account/tokens'));
  r.post('/admin/tokens/:id/revoke', requireAdmin, revoke('/admin/tokens'));
  return r;
}
