// Admin page listing the audit log, newest first, paged.
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { requireAdmin } from '../auth/guards.ts';
import { pageParam } from '../web/forms.ts';

const PAGE = 50;

export function auditRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);
  r.get('/', async (req, res) => {
    const page = pageParam(req.query.page);
    const action = typeof req.query.action === 'string' ? req.query.action.trim().slice(0, 100) : '';
    const where = action ? { action: { startsWith: action } } : {};
    const [events, total] = await Promise.all([
      prisma.auditEvent.findMany({ where, orderBy: [{ at: 'desc' }, { id: 'desc' }], skip: (page - 1) * PAGE, take: PAGE }),
      prisma.auditEvent.count({ where }),
    ]);
    res.render('audit/list', { title: 'Audit Log', events, page, pages: Math.max(1, Math.ceil(total / PAGE)), total, action });
  });
  return r;
}
