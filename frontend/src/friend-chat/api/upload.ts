// POST /uploads with progress and cancel. fetch cannot report how much of a request body went
// out, so this one request uses XMLHttpRequest; its errors take the same ApiError shape.
import type { ErrorBody, WireAttachment } from '../wire';
import { ApiError, apiUrl, httpConfig } from './http';

export interface UploadHandle {
  /** The stored attachment; rejects with an ApiError (code CANCELLED after `abort`). */
  done: Promise<WireAttachment>;
  abort(): void;
}

/** Sends one file as the multipart field `file`; `onProgress` gets the fraction sent (0–1). */
export function uploadFile(file: Blob, name: string, onProgress: (fraction: number) => void): UploadHandle {
  const { getToken, onUnauthorized } = httpConfig();
  const xhr = new XMLHttpRequest();
  let aborted = false;

  const done = (async () => {
    const token = await getToken();
    if (aborted) throw new ApiError(0, 'CANCELLED', 'Upload cancelled');
    const body = new FormData();
    body.append('file', file, name);
    return new Promise<WireAttachment>((resolve, reject) => {
      xhr.open('POST', apiUrl('/uploads'));
      xhr.setRequestHeader('Accept', 'application/json');
      if (token) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
      };
      xhr.onload = () => {
        const data = parse(xhr.responseText);
        if (xhr.status === 201 || xhr.status === 200) {
          const attachment = (data as { attachment?: WireAttachment } | null)?.attachment;
          if (attachment) return resolve(attachment);
        }
        if (xhr.status === 401 && token) onUnauthorized();
        const error = (data as { error?: Partial<ErrorBody> } | null)?.error;
        reject(new ApiError(xhr.status, error?.code ?? 'INTERNAL', error?.message ?? xhr.statusText, error?.limit));
      };
      xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'Network error'));
      xhr.onabort = () => reject(new ApiError(0, 'CANCELLED', 'Upload cancelled'));
      xhr.send(body);
    });
  })();

  return {
    done,
    abort() {
      aborted = true;
      xhr.abort();
    },
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
