// A small HTTP client for tests: real requests to a listening app, a cookie jar, no redirects followed,
// and the CSRF token of the last HTML page sent back automatically on POST.
export interface Res {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

export class TestClient {
  cookies = new Map<string, string>();
  csrf: string | undefined;
  constructor(
    public base: string,
    public defaultHeaders: Record<string, string> = {},
  ) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private remember(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '';
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(
    method: string,
    path: string,
    opts: { body?: string | FormData; headers?: Record<string, string> } = {},
  ): Promise<Res> {
    const res = await fetch(new URL(path, this.base), {
      method,
      redirect: 'manual',
      body: opts.body,
      headers: {
        ...this.defaultHeaders,
        ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}),
        ...opts.headers,
      },
    });
    this.remember(res);
    const text = await res.text();
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1];
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') };
  }

  get(path: string, headers?: Record<string, string>): Promise<Res> {
    return this.request('GET', path, { headers });
  }

  /** POST a form. The last seen CSRF token is added unless csrf:false (or a _csrf is given). */
  post(
    path: string,
    form: Record<string, string | string[]> = {},
    opts: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<Res> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) for (const x of Array.isArray(v) ? v : [v]) body.append(k, x);
    if (opts.csrf !== false && !('_csrf' in form) && this.csrf) body.set('_csrf', this.csrf);
    return this.request('POST', path, {
      body: body.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...opts.headers },
    });
  }

  /** POST a multipart form with one file (an upload); the CSRF token is added as post() adds it. */
  upload(
    path: string,
    file: { field: string; name: string; content: string | Buffer; type?: string },
    form: Record<string, string> = {},
  ) {
    const body = new FormData();
    if (this.csrf && !('_csrf' in form)) body.set('_csrf', this.csrf);
    for (const [k, v] of Object.entries(form)) body.set(k, v);
    body.set(file.field, new Blob([file.content], { type: file.type ?? 'text/csv' }), file.name);
    return this.request('POST', path, { body });
  }

  /** Signs in through the real login form. */
  async login(email: string, password: string): Promise<Res> {
    await this.get('/login');
    const res = await this.post('/login', { email, password });
    if (res.status !== 303) throw new Error(`login as ${email} failed: ${res.status}`);
    await this.get('/'); // pick up a CSRF token bound to the new session
    return res;
  }
}
