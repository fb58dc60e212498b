// Checks API answers against the OpenAPI document the app serves (ajv, JSON Schema 2020-12): each answer's status must
// be documented for its operation, and its body must match that status's schema. Records which operations answered
// with a success, so a suite can require that every documented operation was exercised.
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import assert from 'node:assert/strict';

type Json = Record<string, any>;
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => void;

export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export class OpenApiChecker {
  private ajv = new Ajv2020({ strict: false, allErrors: true });
  private routes: { method: string; template: string; re: RegExp }[] = [];
  /** "get /api/v1/mailboxes/{id}" → the statuses seen. */
  readonly seen = new Map<string, Set<number>>();

  constructor(readonly doc: Json) {
    addFormats(this.ajv);
    for (const [template, ops] of Object.entries<Json>(doc.paths))
      for (const method of Object.keys(ops)) {
        const re = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
        this.routes.push({ method, template, re });
      }
    // Exact templates first: /mailboxes/test-enable before /mailboxes/{id}.
    this.routes.sort((a, b) => a.template.split('{').length - b.template.split('{').length);
  }

  /** The schema with its $refs to components resolved (they all point into this document). */
  private resolve(s: unknown): unknown {
    if (Array.isArray(s)) return s.map((x) => this.resolve(x));
    if (!s || typeof s !== 'object') return s;
    const o = s as Json;
    if (typeof o.$ref === 'string' && o.$ref.startsWith('#/')) {
      const target = o.$ref
        .slice(2)
        .split('/')
        .reduce((at: Json, k: string) => at[k], this.doc);
      return this.resolve(target);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, this.resolve(v)]));
  }

  validate(schema: unknown, value: unknown, what: string): void {
    const check = this.ajv.compile(this.resolve(schema) as object);
    assert.ok(
      check(value),
      `${what} does not match the OpenAPI document: ${this.ajv.errorsText(check.errors)}\n${JSON.stringify(value).slice(0, 800)}`,
    );
  }

  operation(method: string, path: string): { template: string; op: Json } {
    const m = method.toLowerCase();
    const found = this.routes.find((r) => r.method === m && r.re.test(path));
    assert.ok(found, `${method} ${path} is not in the OpenAPI document`);
    return { template: found.template, op: this.doc.paths[found.template][m] };
  }

  /** Asserts the answer is documented for this request and matches its schema. */
  check(method: string, url: string, a: ApiAnswer): void {
    const path = new URL(url, 'http://x').pathname;
    const { template, op } = this.operation(method, path);
    const r = op.responses[String(a.status)];
    assert.ok(
      r,
      `${method} ${template} answered ${a.status}, which the document does not list: ${a.text.slice(0, 300)}`,
    );
    const key = `${method.toLowerCase()} ${template}`;
    (this.seen.get(key) ?? this.seen.set(key, new Set()).get(key)!).add(a.status);
    if (!r.content) {
      assert.equal(a.text, '', `${key} ${a.status} is documented without a body`);
      return;
    }
    const type = (a.headers.get('content-type') ?? '').split(';')[0];
    assert.ok(r.content[type], `${key} ${a.status} answered ${type}, documented: ${Object.keys(r.content).join(', ')}`);
    this.validate(r.content[type].schema, a.body, `${key} ${a.status}`);
  }

  /** Operations that never answered with a 2xx. */
  untested(): string[] {
    const out: string[] = [];
    for (const r of this.routes) {
      const statuses = this.seen.get(`${r.method} ${r.template}`);
      if (![...(statuses ?? [])].some((s) => s < 300)) out.push(`${r.method} ${r.template}`);
    }
    return out;
  }
}

/** A client of the API with one token, whose every answer is checked against the document. */
export function apiClient(base: string, checker: OpenApiChecker, token: string | null) {
  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const url = `${base}/api/v1${path}`;
    const res = await fetch(url, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    }).catch((e: Error & { cause?: { code?: string; message?: string } }) => {
      throw new Error(`${method} ${path}: ${e.message} (${e.cause?.code ?? ''} ${e.cause?.message ?? ''})`);
    });
    const text = await res.text();
    const a: ApiAnswer = { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
    checker.check(method, url, a);
    return a;
  };
  return {
    get: (path: string, headers?: Record<string, string>) => call('GET', path, undefined, headers),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => call('POST', path, body ?? {}, headers),
    patch: (path: string, body: unknown, headers?: Record<string, string>) => call('PATCH', path, body, headers),
    delete: (path: string, headers?: Record<string, string>) => call('DELETE', path, undefined, headers),
  };
}
