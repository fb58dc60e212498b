// Admin pages for app users: list, add, disable/enable, reset a password. Rules and audit live in ./service.ts.
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { requireAdmin } from '../auth/guards.ts';
import { DuplicateEmailError } from '../auth/users.ts';
import { actorOf } from '../security/audit.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';
import { listUsers, userList, userListPage } from './list.ts';
import { newUserValues, parseNewPassword, parseNewUser } from './form.ts';
import { addUser, getUser, resetPassword, setUserEnabled } from './service.ts';

const NEW = 'New user';
const RESET = 'Reset password';

export function userRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);

  const load = async (id: string) => {
    const user = await getUser(prisma, id);
    if (!user) throw new HttpError(404, 'No such user.');
    return user;
  };

  r.get('/', async (req, res) => {
    res.render('users/list', userListPage(await listUsers(prisma, userList.parse(req.query))));
  });

  r.get('/new', (_req, res) => res.render('users/new', { title: NEW, values: { role: 'USER' }, errors: {} }));

  r.post('/', async (req, res) => {
    const form = parseNewUser(req.body);
    if (!form.ok)
      return res.status(422).render('users/new', { title: NEW, values: newUserValues(req.body), errors: form.errors });
    try {
      const user = await addUser(prisma, form.data, actorOf(req));
      flash(req, 'success', `User ${user.email} added.`);
      res.redirect(303, '/admin/users');
    } catch (e) {
      if (!(e instanceof DuplicateEmailError)) throw e;
      res.status(422).render('users/new', {
        title: NEW,
        values: newUserValues(req.body),
        errors: { email: 'A user with this email already exists' },
      });
    }
  });

  for (const action of ['disable', 'enable'] as const) {
    r.post(`/:id/${action}`, async (req, res) => {
      const user = await load(req.params.id);
      const result = await setUserEnabled(prisma, user, action === 'enable', actorOf(req));
      if (result.ok) flash(req, 'success', `User ${user.email} ${action}d.`);
      else flash(req, 'error', 'You cannot disable your own account.');
      res.redirect(303, '/admin/users');
    });
  }

  r.get('/:id/password', async (req, res) => {
    res.render('users/password', { title: RESET, target: await load(req.params.id), errors: {} });
  });

  r.post('/:id/password', async (req, res) => {
    const target = await load(req.params.id);
    const form = parseNewPassword(req.body);
    if (!form.ok) return res.status(422).render('users/password', { title: RESET, target, errors: form.errors });
    await resetPassword(prisma, target, form.data, actorOf(req));
    flash(req, 'success', `Password for ${target.email} reset.`);
    res.redirect(303, '/admin/users');
  });

  return r;
}
