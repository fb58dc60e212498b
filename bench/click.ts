// A signed-in admin's browser for the bench, without a browser: a cookie jar, the CSRF token from a page's form, and
// the POST a button sends. Test & Enable is measured through it, from the click (the POST) like a user sees it.
export class BenchBrowser {
  private jar = new Map<string, string>();
  constructor(private base: string) {}

  private keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }

  cookie(): string {
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** GETs a page and returns the CSRF token of its first form. */
  async csrfOf(path: string): Promise<string> {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookie() }, redirect: 'manual' });
    this.keep(res);
    const body = await res.text();
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path}`);
    return token;
  }

  /** Sends a form as the page's button does; returns the status (a 303 when it was accepted). */
  async post(path: string, form: Record<string, string>): Promise<number> {
    return this.postForm(path, new URLSearchParams(form));
  }

  /** Sends a prepared form (e.g. a repeated field, as a list's ticked rows send it). */
  async postForm(path: string, form: URLSearchParams): Promise<number> {
    const res = await fetch(this.base + path, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: this.cookie() },
      body: form.toString(),
    });
    this.keep(res);
    await res.arrayBuffer();
    return res.status;
  }

  /** GETs a JSON document (the list's live statuses). */
  async getJson(path: string): Promise<unknown> {
    const res = await fetch(this.base + path, { headers: { cookie: this.cookie() }, redirect: 'manual' });
    this.keep(res);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  }

  async signIn(email: string, password: string): Promise<void> {
    const csrf = await this.csrfOf('/login');
    const status = await this.post('/login', { email, password, _csrf: csrf });
    if (status !== 303) throw new Error(`sign-in failed: ${status}`);
  }
}
