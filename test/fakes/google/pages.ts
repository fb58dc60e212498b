// HTML of the fake's Google-like pages: the authorization error page and the consent page.
import type { Account } from './store.ts';
import { escapeHtml as h } from './http.ts';
import { isBasicScope, scopeLabel } from './scopes.ts';

export const CONSENT_PATH = '/signin/oauth/consent';

const STYLE = `body{font-family:Roboto,Arial,sans-serif;margin:0;background:#f0f4f9;color:#1f1f1f}
main{max-width:36rem;margin:3rem auto;background:#fff;border-radius:1.75rem;padding:2.25rem}
h1{font-size:1.75rem;font-weight:400}fieldset{border:0;padding:0;margin:0 0 1.5rem}legend{font-weight:500;margin-bottom:.5rem}
.row{display:flex;gap:.75rem;align-items:flex-start;padding:.5rem 0}.actions{display:flex;gap:1rem;justify-content:flex-end}
button{font:inherit;padding:.6rem 1.5rem;border-radius:1.25rem;border:1px solid #747775;background:#fff;color:#0b57d0}
button[value=allow]{background:#0b57d0;color:#fff;border-color:#0b57d0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}.error{color:#b3261e}code{word-break:break-all}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)}</title><link rel="icon" href="data:,"><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

/** Google's "Access blocked" page: shown instead of redirecting when the request cannot be trusted. */
export function errorPage(o: {
  status: number;
  error: string;
  message: string;
  details?: Record<string, string>;
}): string {
  const heading =
    o.error === 'invalid_client'
      ? 'Access blocked: Authorization Error'
      : 'Access blocked: This app’s request is invalid';
  const details = Object.entries(o.details ?? {})
    .map(([k, v]) => `<li><code>${h(k)}=${h(v)}</code></li>`)
    .join('');
  return layout(
    `Error ${o.status}: ${o.error}`,
    `<h1>${h(heading)}</h1>
<p>${h(o.message)}</p>
<p><strong>Error ${o.status}: ${h(o.error)}</strong></p>
${details ? `<h2>Request details</h2><ul>${details}</ul>` : ''}`,
  );
}

export interface ConsentView {
  requestId: string;
  appName: string;
  accounts: Account[];
  selectedEmail?: string;
  requestedScopes: string[];
  error?: string;
}

/**
 * A plain POST form. Fields: request_id (hidden), account (radio, value = email), scope
 * (checkbox per optional scope, pre-checked), decision = "allow" (button "Allow") | "cancel" ("Cancel").
 */
export function consentPage(v: ConsentView): string {
  const selected = v.selectedEmail?.toLowerCase() ?? v.accounts[0]?.email.toLowerCase();
  const accounts = v.accounts
    .map(
      (a, i) => `<div class="row">
<input type="radio" name="account" id="account-${i}" value="${h(a.email)}"${a.email.toLowerCase() === selected ? ' checked' : ''} required>
<label for="account-${i}">${a.name ? `${h(a.name)} &lt;${h(a.email)}&gt;` : h(a.email)}</label></div>`,
    )
    .join('\n');
  const basic = v.requestedScopes
    .filter(isBasicScope)
    .map((s) => `<li>${h(scopeLabel(s))}</li>`)
    .join('');
  const optional = v.requestedScopes
    .filter((s) => !isBasicScope(s))
    .map(
      (s, i) => `<div class="row">
<input type="checkbox" name="scope" id="scope-${i}" value="${h(s)}" checked>
<label for="scope-${i}">${h(scopeLabel(s))} <small>(<code>${h(s)}</code>)</small></label></div>`,
    )
    .join('\n');
  return layout(
    'Sign in - Google Accounts',
    `<h1>${h(v.appName)} wants to access your Google Account</h1>
${v.error ? `<p class="error" role="alert">${h(v.error)}</p>` : ''}
<form method="post" action="${CONSENT_PATH}">
<input type="hidden" name="request_id" value="${h(v.requestId)}">
<fieldset><legend>Choose an account</legend>
${accounts || '<p>No accounts. Add one with addAccount().</p>'}
</fieldset>
<fieldset><legend>Select what ${h(v.appName)} can access</legend>
${basic ? `<ul>${basic}</ul>` : ''}
${optional}
</fieldset>
<div class="actions">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="cancel" formnovalidate>Cancel</button>
</div>
</form>`,
  );
}
