// A fake backend for fetch: routes like 'GET /api/messages/:peerId' answer JSON; anything
// unrouted answers 404 so a missing stub shows up as an error, not a hang.
import { vi } from 'vitest';

export type Handler = (req: { params: Record<string, string>; query: URLSearchParams; body: unknown }) => unknown | Promise<unknown>;

export class HttpError {
  constructor(
    readonly status: number,
    readonly code: string,
  ) {}
}

export function installFakeHttp(routes: Record<string, Handler>) {
  const table = Object.entries(routes).map(([key, handler]) => {
    const [method, pattern] = key.split(' ') as [string, string];
    const names: string[] = [];
    const source = pattern.replace(/:(\w+)/g, (_, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const regex = new RegExp(`^${source}$`);
    return { method, regex, names, handler };
  });
  const calls: { method: string; url: string; path: string; body: unknown; authorization: string | null }[] = [];

  const fetchMock = vi.fn(async (input: string, init?: RequestInit) => {
    const url = new URL(input, 'http://localhost');
    const method = init?.method ?? 'GET';
    const body = init?.body ? JSON.parse(String(init.body)) : undefined;
    calls.push({ method, url: input, path: url.pathname, body, authorization: new Headers(init?.headers).get('Authorization') });
    for (const r of table) {
      const m = r.method === method ? r.regex.exec(url.pathname) : null;
      if (!m) continue;
      const params = Object.fromEntries(r.names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      try {
        const answer = await r.handler({ params, query: url.searchParams, body });
        return new Response(JSON.stringify(answer ?? {}), { status: 200, headers: { 'Content-Type': 'application/json' } });
      } catch (err) {
        if (!(err instanceof HttpError)) throw err;
        return new Response(JSON.stringify({ error: { code: err.code, message: err.code } }), { status: err.status });
      }
    }
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no route ${method} ${url.pathname}` } }), { status: 404 });
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls };
}
