// Admin page listing the audit log, newest first, paged.
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { requireAdmin } from '../auth/guards.ts';
import { auditList, auditListPage, listAuditEvents } from './list.ts';

export function auditRoutes(deps: AppDeps): Router {
  const { prisma } = deps.db;
  const r = Router();
  r.use(requireAdmin);
  r.get('/', async (req, res) => {
    res.render('audit/list', await auditListPage(prisma, await listAuditEvents(prisma, auditList.parse(req.query))));
  });
  return r;
}
