// Admin pages for app users: list, add, disable/enable, reset a password. Every change is audited.
import { Router } from 'express';
import { z } from 'zod';
import type { AppDeps } from '../deps.ts';
import { requireAdmin, currentUser } from '../auth/guards.ts';
import { createUser, newUserSchema, passwordSchema, publicUserSelect, setPassword, DuplicateEmailError } from '../auth/users.ts';
import { audit, actorOf } from '../security/audit.ts';
import { fieldErrors, pageParam } from '../web/forms.ts';
import { flash } from '../web/flash.ts';
import { HttpError } from '../web/errors.ts';

const PAGE = 50;
const idParam = z.uuid();

export function userRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);

  const load = async (id: string) => {
    const parsed = idParam.safeParse(id);
    const user = parsed.success ? await prisma.user.findUnique({ where: { id: parsed.data }, select: publicUserSelect }) : null;
    if (!user) throw new HttpError(404, 'No such user.');
    return user;
  };

  r.get('/', async (req, res) => {
    const q = typeof req.query.q === 'string' ? req.query.q.trim().slice(0, 200) : '';
    const where = q ? { OR: [{ email: { contains: q, mode: 'insensitive' as const } }, { name: { contains: q, mode: 'insensitive' as const } }] } : {};
    const page = pageParam(req.query.page);
    const [users, total] = await Promise.all([
      prisma.user.findMany({ where, select: { ...publicUserSelect, _count: { select: { mailboxes: true } } }, orderBy: { email: 'asc' }, skip: (page - 1) * PAGE, take: PAGE }),
      prisma.user.count({ where }),
    ]);
    res.render('users/list', { title: 'Users', users, q, page, pages: Math.max(1, Math.ceil(total / PAGE)), total });
  });

  r.get('/new', (_req, res) => res.render('users/new', { title: 'New user', values: { role: 'USER' }, errors: {} }));

  r.post('/', async (req, res) => {
    const body = req.body as Record<string, string>;
    const parsed = newUserSchema.safeParse(body);
    const values = { email: body.email, name: body.name, role: body.role };
    if (!parsed.success) return res.status(422).render('users/new', { title: 'New user', values, errors: fieldErrors(parsed.error) });
    try {
      const user = await createUser(prisma, parsed.data);
      await audit(prisma, { action: 'user.create', targetType: 'User', targetId: user.id, details: { email: user.email, role: user.role }, ...actorOf(req) });
      flash(req, 'success', `User ${user.email} added.`);
      res.redirect(303, '/admin/users');
    } catch (e) {
      if (!(e instanceof DuplicateEmailError)) throw e;
      res.status(422).render('users/new', { title: 'New user', values, errors: { email: 'A user with this email already exists' } });
    }
  });

  for (const action of ['disable', 'enable'] as const) {
    r.post(`/:id/${action}`, async (req, res) => {
      const user = await load(req.params.id);
      if (user.id === currentUser(req).id) {
        flash(req, 'error', 'You cannot disable your own account.');
        return res.redirect(303, '/admin/users');
      }
      await prisma.user.update({ where: { id: user.id }, data: { disabledAt: action === 'disable' ? new Date() : null } });
      if (action === 'disable') await prisma.session.deleteMany({ where: { data: { contains: `"user":"${user.id}"` } } });
      await audit(prisma, { action: `user.${action}`, targetType: 'User', targetId: user.id, details: { email: user.email }, ...actorOf(req) });
      flash(req, 'success', `User ${user.email} ${action}d.`);
      res.redirect(303, '/admin/users');
    });
  }

  r.get('/:id/password', async (req, res) => {
    res.render('users/password', { title: 'Reset password', target: await load(req.params.id), errors: {} });
  });

  r.post('/:id/password', async (req, res) => {
    const target = await load(req.params.id);
    const body = req.body as Record<string, string>;
    const parsed = passwordSchema.safeParse(body.password);
    const errors: Record<string, string> = parsed.success ? {} : { password: parsed.error.issues[0].message };
    if (parsed.success && body.password !== body.confirmPassword) errors.confirmPassword = 'The passwords do not match';
    if (Object.keys(errors).length) return res.status(422).render('users/password', { title: 'Reset password', target, errors });
    await setPassword(prisma, target.id, body.password);
    await audit(prisma, { action: 'user.password-reset', targetType: 'User', targetId: target.id, details: { email: target.email }, ...actorOf(req) });
    flash(req, 'success', `Password for ${target.email} reset.`);
    res.redirect(303, '/admin/users');
  });

  return r;
}
