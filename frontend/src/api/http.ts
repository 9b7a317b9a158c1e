import type { ErrorBody } from '@shared/events';

/** An HTTP failure carrying the contract's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorBody['code'] | 'NETWORK',
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

interface HttpHooks {
  token: () => string | null;
  onUnauthorized: () => void;
}

// Set once by the session; kept out of the stores so this file imports nothing from them.
let hooks: HttpHooks = { token: () => null, onUnauthorized: () => {} };

export function configureHttp(next: HttpHooks): void {
  hooks = next;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

export async function http<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = hooks.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(withQuery(path, options.query), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', err instanceof Error ? err.message : 'Network error');
  }

  if (res.status === 204) return undefined as T;
  const data: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (data as { error?: Partial<ErrorBody> } | null)?.error;
    // A 401 on an authenticated call means the session is gone; login itself answers 401 too,
    // so only treat it as a logout when we sent a token.
    if (res.status === 401 && token) hooks.onUnauthorized();
    throw new ApiError(res.status, error?.code ?? 'INTERNAL', error?.message ?? res.statusText);
  }
  return data as T;
}

export const get = <T>(path: string, query?: Query) => http<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => http<T>('POST', path, { body: body ?? {} });
export const del = <T>(path: string) => http<T>('DELETE', path);
