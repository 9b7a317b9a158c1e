import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { chatApi } from '../api/endpoints';
import type { ChatWireMessage } from '../wire';
import { useSessionStore } from './session';
import { applyLatestPage, emptyThread, markRead, mergeMessages, type Thread } from './thread';

/** Each conversation's loaded messages, and loading them: latest page, older pages, merges. */
export const useMessagesStore = defineStore('friendChatMessages', () => {
  const session = useSessionStore();
  // Immutable arrays in a shallow ref: cheap with thousands of messages.
  const threads = shallowRef<Record<string, Thread>>({});
  const loadingOlder = ref<Record<string, boolean>>({});
  const loadFailed = ref<Record<string, boolean>>({});
  const inFlight = new Map<string, Promise<void>>();
  // Bumped by reset: a page that arrives for a previous user is dropped.
  let generation = 0;

  /** The other side of a conversation, seen from the current user. */
  const peerOf = (m: ChatWireMessage) => (m.fromUserId === session.userId ? m.toUserId : m.fromUserId);

  /** Change one thread; `create` makes it when missing (a send before anything was loaded). */
  function updateThread(peerId: string, fn: (t: Thread) => Thread, create = false): void {
    const current = threads.value[peerId];
    if (!current && !create) return;
    const next = fn(current ?? emptyThread());
    if (next !== current) threads.value = { ...threads.value, [peerId]: next };
  }

  /** Merge server messages into one conversation (live, sync, ack): never a duplicate, never a gap. */
  function ingestInto(peerId: string, messages: ChatWireMessage[]): void {
    updateThread(peerId, (t) => {
      const mode = !t.loaded ? 'replaceOnly' : t.olderCursor === null ? 'all' : 'contiguous';
      const merged = mergeMessages(t.messages, messages, mode);
      return merged === t.messages ? t : { ...t, messages: merged };
    });
  }

  /** Chat messages from a sync page or a push, by conversation; answers them grouped. */
  function ingest(messages: ChatWireMessage[]): Map<string, ChatWireMessage[]> {
    const byPeer = new Map<string, ChatWireMessage[]>();
    for (const m of messages) {
      const id = peerOf(m);
      const list = byPeer.get(id);
      if (list) list.push(m);
      else byPeer.set(id, [m]);
    }
    for (const [peerId, list] of byPeer) ingestInto(peerId, list);
    return byPeer;
  }

  const has = (peerId: string, messageId: string) => threads.value[peerId]?.messages.some((m) => m.id === messageId) ?? false;

  /** Refresh the latest page (first open, reopen, reconnect); concurrent calls share one request. */
  function loadLatest(peerId: string): Promise<void> {
    const running = inFlight.get(peerId);
    if (running) return running;
    const gen = generation;
    const job = chatApi
      .history(peerId)
      .then(({ messages, nextCursor }) => {
        if (gen !== generation) return;
        updateThread(peerId, (t) => applyLatestPage(t, messages, nextCursor), true);
        loadFailed.value = { ...loadFailed.value, [peerId]: false };
      })
      .catch((err: unknown) => {
        loadFailed.value = { ...loadFailed.value, [peerId]: true };
        throw err;
      })
      .finally(() => inFlight.delete(peerId));
    inFlight.set(peerId, job);
    return job;
  }

  async function ensureLoaded(peerId: string): Promise<void> {
    if (!threads.value[peerId]?.loaded) await loadLatest(peerId);
  }

  /** Fetch the page before the oldest loaded message; answers false when there is none. */
  async function loadOlder(peerId: string): Promise<boolean> {
    const t = threads.value[peerId];
    if (!t?.loaded || t.olderCursor === null || loadingOlder.value[peerId]) return false;
    loadingOlder.value = { ...loadingOlder.value, [peerId]: true };
    try {
      const gen = generation;
      const page = await chatApi.history(peerId, t.olderCursor);
      if (gen !== generation) return false;
      updateThread(peerId, (cur) =>
        // Skip if a refresh replaced the list meanwhile: this page may no longer join it.
        cur.olderCursor !== t.olderCursor ? cur : { ...cur, messages: mergeMessages(cur.messages, page.messages, 'all'), olderCursor: page.nextCursor },
      );
      return true;
    } finally {
      loadingOlder.value = { ...loadingOlder.value, [peerId]: false };
    }
  }

  /** Messages `from` sent in the conversation with `peerId` are read. */
  const markReadFrom = (peerId: string, from: string, readAt: string) =>
    updateThread(peerId, (t) => ({ ...t, messages: markRead(t.messages, from, readAt) }));

  function applyReadReceipt({ by, peerId, readAt }: { by: string; peerId: string; readAt: string }): void {
    // by === me: another tab of mine read peerId's messages; otherwise `by` read mine.
    if (by === session.userId) markReadFrom(peerId, peerId, readAt);
    else markReadFrom(by, session.userId, readAt);
  }

  function remove(messageId: string, peerId: string): void {
    updateThread(peerId, (t) => ({ ...t, messages: t.messages.filter((m) => m.id !== messageId) }));
  }

  function reset(): void {
    generation++;
    threads.value = {};
    loadingOlder.value = {};
    loadFailed.value = {};
    inFlight.clear();
  }

  return {
    threads, loadingOlder, loadFailed,
    peerOf, updateThread, ingestInto, ingest, has, loadLatest, ensureLoaded, loadOlder, markReadFrom, applyReadReceipt, remove, reset,
  };
});
