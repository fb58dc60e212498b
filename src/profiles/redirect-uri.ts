// The Authorized redirect URI and JavaScript origin an admin registers in Google Cloud, and the warnings that
// prevent redirect_uri_mismatch. The OAuth flow imports gmailRedirectUri so both sides use one URI.

export const GMAIL_REDIRECT_PATH = '/_grid/cmds/dlg_gmailoauth.aspx';

/** The exact redirect URI Google must list for this Mailroom: PUBLIC_URL + /_grid/cmds/dlg_gmailoauth.aspx. */
export function gmailRedirectUri(publicUrl: string): string {
  return publicUrl.replace(/\/+$/, '') + GMAIL_REDIRECT_PATH;
}

/** The Authorized JavaScript origin: scheme, host and port of PUBLIC_URL. */
export function javascriptOrigin(publicUrl: string): string {
  return new URL(publicUrl).origin;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

export function isLocalHost(hostname: string): boolean {
  return LOCAL_HOSTS.has(hostname.toLowerCase());
}

/** A host[:port] as a browser would address it on PUBLIC_URL's scheme, with the default port dropped. */
function normalHost(host: string, protocol: string): string | null {
  try {
    return new URL(`${protocol}//${host.trim()}`).host.toLowerCase();
  } catch {
    return null;
  }
}

export interface RedirectWarning {
  code: 'http-public-url' | 'host-mismatch';
  message: string;
}

/**
 * Warnings for the redirect URI panel. `requestHost` is the Host header; `forwardedHost` the first
 * X-Forwarded-Host value, which, when a proxy sends it, is the host the browser used.
 */
export function redirectWarnings(publicUrl: string, requestHost?: string, forwardedHost?: string): RedirectWarning[] {
  const pub = new URL(publicUrl);
  const out: RedirectWarning[] = [];
  if (pub.protocol === 'http:' && !isLocalHost(pub.hostname)) {
    out.push({
      code: 'http-public-url',
      message: `PUBLIC_URL uses http on ${pub.hostname}. Google accepts http redirect URIs only for localhost; serve Mailroom over https and set PUBLIC_URL to the https address.`,
    });
  }
  const seen = forwardedHost?.split(',')[0]?.trim() || requestHost;
  if (seen) {
    const host = normalHost(seen, pub.protocol);
    if (host !== pub.host.toLowerCase()) {
      out.push({
        code: 'host-mismatch',
        message: `You opened this page at ${seen}, but PUBLIC_URL is ${pub.host}. Google sends users back to the PUBLIC_URL address; if browsers reach Mailroom at another address (for example through a reverse proxy), Sign in to Gmail fails with redirect_uri_mismatch. Set PUBLIC_URL to the address users open.`,
      });
    }
  }
  return out;
}

export interface RedirectPanel {
  redirectUri: string;
  origin: string;
  warnings: RedirectWarning[];
}

/** What the Redirect URI panel on a Gmail OAuth profile shows. */
export function redirectPanel(publicUrl: string, requestHost?: string, forwardedHost?: string): RedirectPanel {
  return {
    redirectUri: gmailRedirectUri(publicUrl),
    origin: javascriptOrigin(publicUrl),
    warnings: redirectWarnings(publicUrl, requestHost, forwardedHost),
  };
}
