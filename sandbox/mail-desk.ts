// The sandbox's mail desk: a small page next to Mailroom with a "Send a test email to this mailbox" button per
// sandbox mailbox. A press drops a message into the local Dovecot, as an MTA would; Mailroom's IDLE session sees it.
// Also usable with curl: curl -d to=sales@gmail.test http://localhost:3001/send
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveMail } from './live-mail.ts';
import { sandboxMessage } from './live-mail.ts';

export interface DeskMailbox {
  name: string;
  email: string;
}

export interface MailDesk {
  url: string;
  close(): Promise<void>;
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(o: { mailroomUrl: string; mailboxes: DeskMailbox[]; live: LiveMail; notice?: string }): string {
  const rows = o.mailboxes
    .map(
      (m) => `<tr><td>${esc(m.name)}</td><td><code>${esc(m.email)}</code></td><td>
  <form method="post" action="/send"><input type="hidden" name="to" value="${esc(m.email)}">
  <button type="submit"${o.live.dovecot ? '' : ' disabled'}>Send a test email to this mailbox</button></form></td></tr>`,
    )
    .join('\n');
  const status = o.live.dovecot
    ? `<p>Mail for these addresses lives in a local Dovecot (IMAP 127.0.0.1:${o.live.dovecot.imap.port}). A mailbox receives
  into Mailroom once it is connected and enabled: <b>Sign in to Gmail</b>, then <b>Test &amp; Enable Mailbox</b>. Then press a
  button here and watch <a href="${esc(o.mailroomUrl)}/emails">Emails</a> in Mailroom.</p>`
    : `<p class="warn">No live mail in this sandbox: ${esc(o.live.reason)}. Test &amp; Enable still works against the
  scripted servers, but nothing delivers new mail.</p>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sandbox mail server</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}
td{padding:.4rem .8rem;border-bottom:1px solid #ddd}.ok{background:#e7f6e7;padding:.5rem 1rem}.warn{background:#fff3cd;padding:.5rem 1rem}</style>
</head><body><h1>Sandbox mail server</h1>
<p><a href="${esc(o.mailroomUrl)}">← Mailroom</a></p>
${o.notice ? `<p class="ok" role="status">${esc(o.notice)}</p>` : ''}
${status}
<table><thead><tr><th>Mailbox</th><th>Address</th><th></th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) break;
  }
  return new URLSearchParams(body);
}

export async function startMailDesk(o: {
  port: number;
  mailroomUrl: string;
  mailboxes: DeskMailbox[];
  live: LiveMail;
}): Promise<MailDesk> {
  const known = new Map(o.mailboxes.map((m) => [m.email, m]));
  const send = (res: ServerResponse, status: number, html: string) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://desk');
    if (req.method === 'GET' && url.pathname === '/')
      return send(res, 200, page({ ...o, notice: url.searchParams.get('sent') ?? undefined }));
    if (req.method === 'POST' && url.pathname === '/send') {
      // Only this page (or a tool without an Origin, like curl) may drop mail: no other site through the browser.
      const origin = req.headers.origin;
      if (origin && origin !== `http://${req.headers.host}`) return send(res, 403, 'Forbidden: another origin');
      void form(req)
        .then(async (f) => {
          const to = (f.get('to') ?? '').trim().toLowerCase();
          if (!known.has(to))
            return send(res, 400, page({ ...o, notice: `Choose one of the sandbox mailboxes (not "${to}").` }));
          if (!o.live.dovecot) return send(res, 503, page(o));
          await o.live.dovecot.deliver(to, sandboxMessage(to, f.get('subject') ?? undefined));
          const notice = `Delivered a test email to ${to} at ${new Date().toISOString().slice(11, 19)} UTC.`;
          res.writeHead(303, { location: `/?sent=${encodeURIComponent(notice)}` });
          res.end();
        })
        .catch((e: Error) => send(res, 500, page({ ...o, notice: `Could not deliver: ${e.message}` })));
      return;
    }
    send(res, 404, 'Not found');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
