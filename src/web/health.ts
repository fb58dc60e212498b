// GET /healthz: 200 "ok" while the database answers, 503 otherwise. Every role serves it; a worker serves nothing else.
import express, { type Express, type RequestHandler } from 'express';
import type { Database } from '../db/client.ts';

export function healthz(db: Pick<Database, 'raw'>): RequestHandler {
  return async (_req, res) => {
    try {
      await db.raw.query('SELECT 1');
      res.type('text').send('ok');
    } catch {
      res.status(503).type('text').send('database unavailable');
    }
  };
}

/** The worker role's whole HTTP surface: /healthz, and 404 for anything else. */
export function createHealthApp(db: Pick<Database, 'raw'>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('env', 'production'); // Express's fallback error page never shows a stack here
  app.get('/healthz', healthz(db));
  app.use((_req, res) => {
    res
      .status(404)
      .type('text')
      .send('This Mailroom process runs jobs only (MAILROOM_ROLE=worker): it serves /healthz.');
  });
  return app;
}
