import { defineStore } from 'pinia';
import { ref } from 'vue';
import { ApiError } from '../api/http';
import { uploadFile, type UploadHandle } from '../api/upload';
import { t } from '../i18n';
import type { ConversationKey } from '../utils/conversation';
import { dropFile, keepFile, keptFile } from '../utils/fileKeeper';
import { formatSize, guessKind } from '../utils/media';
import { load, save } from '../utils/storage';
import { createTurns } from '../utils/turns';
import type { AttachmentKind, WireAttachment } from '../wire';
import { useSessionStore } from './session';

/** A file chosen (picked, pasted, dropped) and shown before it is sent. */
export interface StagedFile {
  id: string;
  file: File;
  kind: AttachmentKind;
  /** An object URL of the image itself, for its preview. */
  previewUrl: string | null;
}

export const MAX_STAGED = 10;
const LIMIT_KEY = 'uploadMaxBytes';

/**
 * The files on their way: chosen but not sent (per conversation), and uploading or waiting for a
 * retry (per message clientId), with their progress and local previews. The byte limit is learned
 * from the server's first 413 and then checked before anything is sent.
 */
export const useUploadsStore = defineStore('friendChatUploads', () => {
  const session = useSessionStore();
  const staged = ref<Record<ConversationKey, StagedFile[]>>({});
  const stageError = ref<Record<ConversationKey, string>>({});
  const progress = ref<Record<string, number>>({});
  const previews = ref<Record<string, string>>({});
  const maxBytes = ref<number | null>(load<number | null>(LIMIT_KEY, null));
  const files = new Map<string, File>();
  const running = new Map<string, UploadHandle>();

  const objectUrl = (file: Blob) => (typeof URL.createObjectURL === 'function' ? URL.createObjectURL(file) : null);
  const revoke = (url: string | null | undefined) => url && typeof URL.revokeObjectURL === 'function' && URL.revokeObjectURL(url);

  /** Why this file cannot be sent, or null. */
  function refusal(file: File): string | null {
    if (file.size === 0) return t('media.errors.empty', { name: file.name });
    if (maxBytes.value !== null && file.size > maxBytes.value) {
      return t('media.errors.tooLarge', { name: file.name, size: formatSize(file.size), max: formatSize(maxBytes.value) });
    }
    return null;
  }

  /** Adds files to the conversation's preview; the ones that cannot be sent are named in `stageError`. */
  function stage(key: ConversationKey, chosen: File[]): void {
    const list = [...(staged.value[key] ?? [])];
    const errors: string[] = [];
    for (const file of chosen) {
      const refused = refusal(file);
      if (refused) errors.push(refused);
      else if (list.length >= MAX_STAGED) errors.push(t('media.errors.tooMany', { n: MAX_STAGED }));
      else {
        const kind = guessKind(file);
        list.push({ id: crypto.randomUUID(), file, kind, previewUrl: kind === 'image' ? objectUrl(file) : null });
      }
    }
    staged.value = { ...staged.value, [key]: list };
    setError(key, [...new Set(errors)].join(' '));
  }

  function setError(key: ConversationKey, text: string): void {
    const { [key]: _, ...rest } = stageError.value;
    stageError.value = text ? { ...rest, [key]: text } : rest;
  }

  function unstage(key: ConversationKey, id: string): void {
    const list = staged.value[key] ?? [];
    revoke(list.find((s) => s.id === id)?.previewUrl);
    staged.value = { ...staged.value, [key]: list.filter((s) => s.id !== id) };
  }

  /** The conversation's staged files, handed over to be sent (their previews go with them). */
  function take(key: ConversationKey): StagedFile[] {
    const list = staged.value[key] ?? [];
    staged.value = { ...staged.value, [key]: [] };
    setError(key, '');
    return list;
  }

  const keeperKey = (clientId: string) => `${session.userId}:${clientId}`;

  /** The file of a message about to be sent, kept until the server has it. */
  function hold(clientId: string, file: File, previewUrl: string | null): void {
    files.set(clientId, file);
    if (previewUrl) previews.value = { ...previews.value, [clientId]: previewUrl };
    void keepFile(keeperKey(clientId), file);
  }

  /** After a reload: takes the file back from the keeper; false when it is gone. */
  async function recover(clientId: string, kind: AttachmentKind): Promise<boolean> {
    const file = files.get(clientId) ?? (await keptFile(keeperKey(clientId)));
    if (!file) return false;
    files.set(clientId, file);
    const url = kind === 'image' && !previews.value[clientId] ? objectUrl(file) : null;
    if (url) previews.value = { ...previews.value, [clientId]: url };
    return true;
  }

  // One upload at a time, first come first served: messages with files go out in the order they
  // were sent, and a batch of dropped files does not run into the server's limit on uploads.
  const turns = createTurns();
  const cancelled = () => new ApiError(0, 'CANCELLED', 'Upload cancelled');

  /** Uploads a held file; rejects with ApiError (FILE_GONE when nothing is held, CANCELLED after `cancel`). */
  async function upload(clientId: string): Promise<WireAttachment> {
    const file = files.get(clientId);
    if (!file) throw new ApiError(0, 'FILE_GONE', 'The file is no longer available');
    const refused = refusal(file);
    if (refused) throw new ApiError(413, 'TOO_LARGE', refused);
    const setProgress = (f: number) => (progress.value = { ...progress.value, [clientId]: f });
    setProgress(0);
    try {
      await turns.take(clientId);
      try {
        const handle = uploadFile(file, file.name, setProgress);
        running.set(clientId, handle);
        return await handle.done;
      } finally {
        running.delete(clientId);
        turns.done();
      }
    } catch (err) {
      const limit = err instanceof ApiError && err.limit && 'maxBytes' in err.limit ? err.limit.maxBytes : null;
      if (limit !== null) save(LIMIT_KEY, (maxBytes.value = limit));
      throw err;
    } finally {
      const { [clientId]: _, ...rest } = progress.value;
      progress.value = rest;
    }
  }

  function cancel(clientId: string): void {
    running.get(clientId)?.abort();
    turns.skip(clientId, cancelled());
  }

  /** The message was sent or thrown away: its file and preview are no longer needed. */
  function release(clientId: string): void {
    cancel(clientId);
    files.delete(clientId);
    revoke(previews.value[clientId]);
    const { [clientId]: _, ...rest } = previews.value;
    previews.value = rest;
    void dropFile(keeperKey(clientId));
  }

  function reset(): void {
    for (const h of running.values()) h.abort();
    turns.clear(cancelled());
    for (const list of Object.values(staged.value)) for (const s of list) revoke(s.previewUrl);
    for (const url of Object.values(previews.value)) revoke(url);
    running.clear();
    files.clear();
    staged.value = {};
    stageError.value = {};
    progress.value = {};
    previews.value = {};
  }

  return { staged, stageError, progress, previews, maxBytes, stage, setError, unstage, take, hold, recover, upload, cancel, release, reset };
});
