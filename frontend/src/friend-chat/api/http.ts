// fetch against a base URL, with the host's token read before every request and errors in the
// contract's shape. The chat's own client is configured by the plugin; `createApiClient` is
// public, for a host whose own endpoints answer in the same shape (friend-chat/server exports
// `errorBody` and `AppError` for that).
import type { ErrorBody } from '../wire';

/** An HTTP failure carrying the contract's `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    /** NETWORK: no answer. Uploads only: CANCELLED (aborted), FILE_GONE (the chosen file is no longer there). */
    readonly code: ErrorBody['code'] | 'NETWORK' | 'CANCELLED' | 'FILE_GONE',
    message: string,
    /** TOO_LARGE: the limit the server states. */
    readonly limit?: ErrorBody['limit'],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClientConfig {
  /** '/api' or 'https://chat.example.com/api'; every path is relative to it ('' for paths that are whole). */
  apiBase: string;
  getToken: () => string | null | Promise<string | null>;
  /** A request that carried a token was answered 401: the session is gone. */
  onUnauthorized: () => void;
}

type Query = Record<string, string | number | boolean | null | undefined>;

export interface ApiClient {
  request<T>(method: string, path: string, options?: { body?: unknown; query?: Query }): Promise<T>;
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
  del<T>(path: string): Promise<T>;
}

/** A JSON client; `config` may be a getter, read on every request. */
export function createApiClient(config: ApiClientConfig | (() => ApiClientConfig)): ApiClient {
  const current = typeof config === 'function' ? config : () => config;

  function url(apiBase: string, path: string, query?: Query): string {
    const base = apiBase.replace(/\/+$/, '') + path;
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
    }
    const qs = params.toString();
    return qs ? `${base}?${qs}` : base;
  }

  async function request<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
    const { apiBase, getToken, onUnauthorized } = current();
    const headers: Record<string, string> = { Accept: 'application/json' };
    const token = await getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';

    let res: Response;
    try {
      res = await fetch(url(apiBase, path, options.query), {
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
      // A 401 with a token means the session is gone (a login form's own 401 sends none).
      if (res.status === 401 && token) onUnauthorized();
      throw new ApiError(res.status, error?.code ?? 'INTERNAL', error?.message ?? res.statusText, error?.limit);
    }
    return data as T;
  }

  return {
    request,
    get: (path, query) => request('GET', path, { query }),
    post: (path, body) => request('POST', path, { body: body ?? {} }),
    del: (path) => request('DELETE', path),
  };
}

// The chat's own client. Set by the plugin; kept out of the stores so this module imports nothing from them.
let config: ApiClientConfig = { apiBase: '/api', getToken: () => null, onUnauthorized: () => {} };

export function configureHttp(next: ApiClientConfig): void {
  config = next;
}

export const { get, post, request: http } = createApiClient(() => config);

/** The chat client's settings as they are now (for requests fetch cannot make, e.g. an upload with progress). */
export const httpConfig = (): ApiClientConfig => config;

/** The API base as an absolute URL (a relative apiBase is relative to this page). */
function apiBaseUrl(): URL {
  return new URL(config.apiBase.replace(/\/+$/, '') + '/', globalThis.location?.href ?? 'http://localhost/');
}

/** An endpoint of the chat API as a whole URL. */
export const apiUrl = (path: string): string => new URL(path.replace(/^\/+/, ''), apiBaseUrl()).href;

/**
 * A url the server handed out (attachment urls are paths such as `/api/attachments/…`, on the
 * chat server's origin), as a whole URL; a blob: or absolute url stays as it is.
 */
export const mediaUrl = (url: string): string => new URL(url, apiBaseUrl()).href;
