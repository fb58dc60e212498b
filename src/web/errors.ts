// 404 and error pages. They render for any request, even one that failed before the session, the signed-in user or
// the CSRF token were known (a malformed body, a database blip), answer JSON to JSON clients, and never show a stack
// or a file path unless NODE_ENV=development asked for stacks (npm start does not set it).
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

interface ErrorPage {
  status: number;
  title: string;
  message: string;
  stack?: string;
}

/** What the body parsers (body-parser's error `type`) mean, in words for the person who sent the request. */
const BODY_ERRORS: Record<string, Omit<ErrorPage, 'stack'>> = {
  'entity.parse.failed': {
    status: 400,
    title: 'Bad request',
    message: 'What you sent could not be read: it is not valid JSON or form data.',
  },
  'entity.too.large': { status: 413, title: 'Too large', message: 'What you sent is too large.' },
  'parameters.too.many': { status: 413, title: 'Too large', message: 'What you sent has too many fields.' },
  'charset.unsupported': { status: 415, title: 'Unsupported encoding', message: 'Send the request in UTF-8.' },
  'encoding.unsupported': { status: 415, title: 'Unsupported encoding', message: 'Send the request uncompressed.' },
  'request.aborted': { status: 400, title: 'Bad request', message: 'The request ended before its body was read.' },
  'request.size.invalid': { status: 400, title: 'Bad request', message: 'The request body does not match its length.' },
};

const GENERIC_500 =
  'The server could not complete this request. Try again; if it keeps happening, tell your administrator the time it happened.';

/** The page an error becomes. Only messages written for users are shown: ours (HttpError) and http-errors' exposed ones. */
export function describeError(err: unknown): ErrorPage {
  const e = (err ?? {}) as { status?: unknown; statusCode?: unknown; code?: string; type?: string; expose?: boolean };
  if (e.code === 'EBADCSRFTOKEN')
    return {
      status: 403,
      title: 'Form expired',
      message: 'This form has expired or was sent from another page. Reload the page and try again.',
    };
  if (typeof e.type === 'string' && BODY_ERRORS[e.type]) return { ...BODY_ERRORS[e.type] };
  const raw = Number(e.status ?? e.statusCode);
  const status = Number.isInteger(raw) && raw >= 400 && raw <= 599 ? raw : 500;
  if (status >= 500) return { status, title: 'Something went wrong', message: GENERIC_500 };
  const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : 'Bad request';
  const own = err instanceof HttpError || e.expose === true;
  return { status, title, message: own && (err as Error).message ? (err as Error).message : title };
}

/** A client that asked for JSON, or sent JSON without asking for HTML. */
function wantsJson(req: Request): boolean {
  const best = req.accepts(['html', 'json']);
  if (best === 'json') return true;
  return best === 'html' && !/html/i.test(req.get('accept') ?? '') && req.is('application/json') === 'application/json';
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** The last resort when even the error page cannot render: plain HTML with the same words, nothing else. */
function plainPage(p: ErrorPage): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(p.title)} · Mailroom</title></head><body><h1>${escapeHtml(p.title)}</h1><p>${escapeHtml(p.message)}</p><p><a href="/">Go to the start page</a></p></body></html>`;
}

/**
 * Sends an error page. The layout's locals (user, path, CSRF token, flash) are set by middleware that may not have
 * run, so each gets a safe default; if rendering still fails, a plain page goes out instead of Express's own.
 */
export function sendError(req: Request, res: Response, p: ErrorPage, logger?: Logger): void {
  res.status(p.status);
  if (wantsJson(req)) {
    res.json({ error: p.title, message: p.message });
    return;
  }
  const locals = {
    title: p.title,
    status: p.status,
    message: p.message,
    stack: p.stack,
    user: res.locals.user ?? null,
    path: typeof res.locals.path === 'string' ? res.locals.path : '/',
    csrfToken: typeof res.locals.csrfToken === 'function' ? res.locals.csrfToken : () => '',
    takeFlash: typeof res.locals.takeFlash === 'function' ? res.locals.takeFlash : () => [],
  };
  res.render('errors/error', locals, (renderErr: Error | null, html?: string) => {
    if (renderErr) {
      logger?.error({ err: renderErr }, 'error page failed to render');
      // The layout can fail on the user's data too (a half-loaded session): the plain page needs nothing.
      res.type('html').send(plainPage(p));
      return;
    }
    res.send(html);
  });
}

export function notFound(req: Request, res: Response): void {
  sendError(req, res, {
    status: 404,
    title: 'Not found',
    message: 'There is nothing at this address, or you do not have access to it.',
  });
}

/**
 * Asterisk-form (`OPTIONS * HTTP/1.1`, `GET *`) and other targets that are neither a path nor an absolute URL
 * address no page: the session and sign-in middleware skip them and would fail later. Answer 400 at once.
 */
export function requirePathTarget(req: Request, _res: Response, next: NextFunction): void {
  if (req.url.startsWith('/') || /^https?:\/\/[^/]/i.test(req.url)) return next();
  next(new HttpError(400, 'The request must be for a path, such as /.'));
}

export function errorHandler(logger: Logger, showStacks: boolean): ErrorRequestHandler {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const page = describeError(err);
    if (page.status >= 500)
      logger.error({ err, method: req.method, url: req.originalUrl.split('?')[0] }, 'request failed');
    if (res.headersSent) {
      req.socket.destroy(); // a half-sent page cannot be replaced; end the connection so the client sees the failure
      return;
    }
    if (showStacks && page.status >= 500 && err instanceof Error) page.stack = err.stack;
    sendError(req, res, page, logger);
  };
}
