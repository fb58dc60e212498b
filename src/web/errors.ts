// 404 and error pages. Stack traces only with NODE_ENV=development; CSRF failures say to reload.
import type { Request, Response, NextFunction, ErrorRequestHandler } from 'express';
import type { Logger } from '../logger.ts';

export class HttpError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

export function notFound(_req: Request, res: Response): void {
  res.status(404).render('errors/error', {
    title: 'Not found',
    status: 404,
    message: 'There is nothing at this address, or you do not have access to it.',
  });
}

export function errorHandler(logger: Logger, dev: boolean): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const e = err as {
      status?: number;
      statusCode?: number;
      code?: string;
      type?: string;
      message?: string;
      stack?: string;
    };
    let status = e.status ?? e.statusCode ?? 500;
    let title = 'Something went wrong';
    let message =
      'The server could not complete this request. Try again; if it keeps happening, tell your administrator the time it happened.';
    if (e.code === 'EBADCSRFTOKEN') {
      status = 403;
      title = 'Form expired';
      message = 'This form has expired or was sent from another page. Reload the page and try again.';
    } else if (e.type === 'entity.too.large') {
      status = 413;
      title = 'Too large';
      message = 'What you sent is too large.';
    } else if (err instanceof HttpError || (status >= 400 && status < 500)) {
      title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Bad request';
      message = e.message ?? title;
    }
    if (status >= 500) logger.error({ err, method: req.method, url: req.originalUrl.split('?')[0] }, 'request failed');
    if (res.headersSent) return;
    res.status(status);
    if (req.accepts(['html', 'json']) === 'json') {
      res.json({ error: title, message });
      return;
    }
    res.render('errors/error', { title, status, message, stack: dev && status >= 500 ? e.stack : undefined });
  };
}
