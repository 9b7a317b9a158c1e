// Files the user chose that the server does not have yet, kept in IndexedDB (localStorage holds
// only text) so an upload cut off by a reload or a crash starts again with the same bytes.
// Without IndexedDB (private modes, tests) it keeps nothing and says so: callers treat a missing
// file as gone.
const DB = 'friend-chat';
const STORE = 'files';

let opening: Promise<IDBDatabase | null> | null = null;

function open(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  opening ??= new Promise((resolve) => {
    try {
      const req = indexedDB.open(DB, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => resolve(null);
    } catch {
      resolve(null);
    }
  });
  return opening;
}

async function run<T>(mode: IDBTransactionMode, op: (store: IDBObjectStore) => IDBRequest): Promise<T | undefined> {
  const db = await open();
  if (!db) return undefined;
  return new Promise((resolve) => {
    try {
      const req = op(db.transaction(STORE, mode).objectStore(STORE));
      req.onsuccess = () => resolve(req.result as T);
      req.onerror = () => resolve(undefined);
    } catch {
      resolve(undefined);
    }
  });
}

export const keepFile = (key: string, file: File): Promise<unknown> => run('readwrite', (s) => s.put(file, key));

export const keptFile = (key: string): Promise<File | undefined> => run<File>('readonly', (s) => s.get(key));

export const dropFile = (key: string): Promise<unknown> => run('readwrite', (s) => s.delete(key));
