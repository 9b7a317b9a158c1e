// localStorage with JSON and a namespace; never throws (private mode, quota, corrupt data).
const PREFIX = 'friend-chat:';

export function load<T>(key: string, fallback: T): T {
  try {
    const raw = localStorage.getItem(PREFIX + key);
    return raw === null ? fallback : (JSON.parse(raw) as T);
  } catch {
    return fallback;
  }
}

export function save(key: string, value: unknown): void {
  try {
    if (value === undefined || value === null) localStorage.removeItem(PREFIX + key);
    else localStorage.setItem(PREFIX + key, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the app still works, it just forgets on reload.
  }
}

export const storageKey = (key: string) => PREFIX + key;
