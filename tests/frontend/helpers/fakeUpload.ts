// A stand-in for XMLHttpRequest (uploads use it for their progress events), driven by the test:
// it records each request and lets the test report progress, answer or fail it.
import { vi } from 'vitest';
import type { WireAttachment } from '@/friend-chat/wire';

export class FakeXhr {
  method = '';
  url = '';
  readonly headers: Record<string, string> = {};
  body: FormData | null = null;
  aborted = false;
  status = 0;
  statusText = '';
  responseText = '';
  readonly upload: { onprogress: ((e: { lengthComputable: boolean; loaded: number; total: number }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;

  constructor(private readonly sent: FakeXhr[]) {}

  open(method: string, url: string): void {
    this.method = method;
    this.url = url;
  }

  setRequestHeader(name: string, value: string): void {
    this.headers[name] = value;
  }

  send(body: FormData): void {
    this.body = body;
    this.sent.push(this);
  }

  abort(): void {
    this.aborted = true;
    this.onabort?.();
  }

  // ---- test controls ----
  get file(): File {
    return this.body!.get('file') as File;
  }

  progress(loaded: number, total: number): void {
    this.upload.onprogress?.({ lengthComputable: true, loaded, total });
  }

  answer(status: number, body: unknown): void {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.onload?.();
  }

  /** 201 with the attachment the server would store for this file. */
  stored(extra: Partial<WireAttachment> = {}): WireAttachment {
    const attachment = storedAttachment(this.file, extra);
    this.answer(201, { attachment });
    return attachment;
  }

  fail(status: number, code: string, message = code, extra: Record<string, unknown> = {}): void {
    this.answer(status, { error: { code, message, ...extra } });
  }

  networkError(): void {
    this.onerror?.();
  }
}

let n = 0;
/** An attachment as the server answers it, with signed urls under /api. */
export function storedAttachment(file: { name: string; type: string; size: number }, extra: Partial<WireAttachment> = {}): WireAttachment {
  n += 1;
  const id = `30000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  const image = file.type.startsWith('image/');
  return {
    id,
    kind: image ? 'image' : file.type.startsWith('audio/') ? 'voice' : 'file',
    name: file.name,
    mime: file.type || 'application/octet-stream',
    size: file.size,
    url: `/api/attachments/${id}?exp=4102444800&sig=full${n}`,
    ...(image ? { width: 640, height: 480, thumbnailUrl: `/api/attachments/${id}/thumbnail?exp=4102444800&sig=thumb${n}` } : {}),
    ...extra,
  };
}

/** Replaces XMLHttpRequest; `sent` lists the requests in order. */
export function installFakeUpload(): { sent: FakeXhr[] } {
  const sent: FakeXhr[] = [];
  vi.stubGlobal(
    'XMLHttpRequest',
    class extends FakeXhr {
      constructor() {
        super(sent);
      }
    },
  );
  return { sent };
}
