// fetch against the host-given apiBase, with the host's token read before every request.
import type { ErrorBody } from '../wire';

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

export interface HttpConfig {
  /** '/api' or 'https://chat.example.com/api'; every path below is relative to it. */
  apiBase: string;
  getToken: () => string | null | Promise<string | null>;
  onUnauthorized: () => void;
}

// Set by the plugin; kept out of the stores so this module imports nothing from them.
let config: HttpConfig = { apiBase: '/api', getToken: () => null, onUnauthorized: () => {} };

export function configureHttp(next: HttpConfig): void {
  config = next;
}

type Query = Record<string, string | number | boolean | null | undefined>;

function url(path: string, query?: Query): string {
  const base = config.apiBase.replace(/\/+$/, '') + path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${base}?${qs}` : base;
}

export async function http<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const token = await config.getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';

  let res: Response;
  try {
    res = await fetch(url(path, options.query), {
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
    // A 401 with a token means the host's session is gone; let the host decide what follows.
    if (res.status === 401 && token) config.onUnauthorized();
    throw new ApiError(res.status, error?.code ?? 'INTERNAL', error?.message ?? res.statusText);
  }
  return data as T;
}

export const get = <T>(path: string, query?: Query) => http<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown) => http<T>('POST', path, { body: body ?? {} });
