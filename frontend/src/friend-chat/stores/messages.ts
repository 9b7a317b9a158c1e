import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { chatApi, groupsApi, type Page } from '../api/endpoints';
import { conversationOf, groupIdOf, type ConversationKey } from '../utils/conversation';
import type { ThreadWireMessage } from '../utils/messageKinds';
import { useDeliveryStore } from './delivery';
import { useSessionStore } from './session';
import { applyLatestPage, compareMessages, emptyThread, isRecalled, markRead, mergeMessages, type ChatMessage, type Thread } from './thread';

const toChatMessage = (m: ThreadWireMessage) => ({ ...m, key: m.id });

/** Pages `refresh` reads at most (50 messages each). */
const MAX_REFRESH_PAGES = 40;

/** Each conversation's loaded messages (by conversation key), and loading them: latest page, older pages, merges. */
export const useMessagesStore = defineStore('friendChatMessages', () => {
  const session = useSessionStore();
  const delivery = useDeliveryStore();
  // Immutable arrays in a shallow ref: cheap with thousands of messages.
  const threads = shallowRef<Record<string, Thread>>({});
  const loadingOlder = ref<Record<string, boolean>>({});
  const loadFailed = ref<Record<string, boolean>>({});
  const inFlight = new Map<string, Promise<void>>();
  // Messages pushed while a latest page is on its way: the page may have been read before they
  // were stored, so they are merged in after it (never lost to the race, never duplicated).
  const arrivedDuringLoad = new Map<ConversationKey, Map<string, ThreadWireMessage>>();
  /** Ids of messages seen recalled (live or by sync), so a reply quoting one says so. */
  const recalled = ref<Record<string, true>>({});
  function noteRecalled(ids: string[]): void {
    if (ids.length) recalled.value = { ...recalled.value, ...Object.fromEntries(ids.map((id) => [id, true as const])) };
  }
  // Bumped by reset: a page that arrives for a previous user is dropped.
  let generation = 0;

  /** The conversation a message belongs to: its group, or the other side seen from the current user. */
  const keyOf = (m: ThreadWireMessage): ConversationKey => conversationOf(m, session.userId);

  function history(key: ConversationKey, before?: string | null) {
    const groupId = groupIdOf(key);
    return groupId ? groupsApi.history(groupId, before) : chatApi.history(key, before);
  }

  /** Change one thread; `create` makes it when missing (a send before anything was loaded). */
  function updateThread(key: ConversationKey, fn: (t: Thread) => Thread, create = false): void {
    const current = threads.value[key];
    if (!current && !create) return;
    const next = fn(current ?? emptyThread());
    if (next !== current) threads.value = { ...threads.value, [key]: next };
  }

  /** Merge server messages into one conversation (live, sync, ack): never a duplicate, never a gap. */
  function ingestInto(key: ConversationKey, messages: ThreadWireMessage[]): void {
    const arrived = arrivedDuringLoad.get(key);
    if (arrived) for (const m of messages) arrived.set(m.id, m);
    updateThread(key, (t) => {
      const mode = !t.loaded ? 'replaceOnly' : t.olderCursor === null ? 'all' : 'contiguous';
      const merged = mergeMessages(t.messages, messages, mode);
      return merged === t.messages ? t : { ...t, messages: merged };
    });
  }

  /** Messages from a sync page or a push, by conversation; answers them grouped. */
  function ingest(messages: ThreadWireMessage[]): Map<ConversationKey, ThreadWireMessage[]> {
    delivery.note(messages);
    noteRecalled(messages.filter(isRecalled).map((m) => m.id));
    const byKey = new Map<ConversationKey, ThreadWireMessage[]>();
    for (const m of messages) {
      const key = keyOf(m);
      const list = byKey.get(key);
      if (list) list.push(m);
      else byKey.set(key, [m]);
    }
    for (const [key, list] of byKey) ingestInto(key, list);
    return byKey;
  }

  const has = (key: ConversationKey, messageId: string) => threads.value[key]?.messages.some((m) => m.id === messageId) ?? false;

  /** Refresh the latest page (first open, reopen, reconnect); concurrent calls share one request. */
  function loadLatest(key: ConversationKey): Promise<void> {
    const running = inFlight.get(key);
    if (running) return running;
    const gen = generation;
    const arrived = new Map<string, ThreadWireMessage>();
    arrivedDuringLoad.set(key, arrived);
    const job = history(key)
      .then(({ messages, nextCursor }) => {
        if (gen !== generation) return;
        delivery.note(messages);
        // Within the page's range the page is the truth (a message missing there was recalled);
        // what arrived newer than its newest message was stored after the page was read.
        const newest = messages.at(-1);
        const late = [...arrived.values()].filter((m) => !newest || compareMessages(toChatMessage(m), toChatMessage(newest)) > 0);
        updateThread(key, (t) => {
          const next = applyLatestPage(t, messages, nextCursor);
          const merged = mergeMessages(next.messages, late, 'contiguous');
          return merged === next.messages ? next : { ...next, messages: merged };
        }, true);
        loadFailed.value = { ...loadFailed.value, [key]: false };
      })
      .catch((err: unknown) => {
        loadFailed.value = { ...loadFailed.value, [key]: true };
        throw err;
      })
      .finally(() => {
        inFlight.delete(key);
        if (arrivedDuringLoad.get(key) === arrived) arrivedDuringLoad.delete(key);
      });
    inFlight.set(key, job);
    return job;
  }

  async function ensureLoaded(key: ConversationKey): Promise<void> {
    if (!threads.value[key]?.loaded) await loadLatest(key);
  }

  /** Fetch the page before the oldest loaded message; answers false when there is none. */
  async function loadOlder(key: ConversationKey): Promise<boolean> {
    const t = threads.value[key];
    if (!t?.loaded || t.olderCursor === null || loadingOlder.value[key]) return false;
    loadingOlder.value = { ...loadingOlder.value, [key]: true };
    try {
      const gen = generation;
      const page = await history(key, t.olderCursor);
      if (gen !== generation) return false;
      delivery.note(page.messages);
      updateThread(key, (cur) =>
        // Skip if a refresh replaced the list meanwhile: this page may no longer join it.
        cur.olderCursor !== t.olderCursor ? cur : { ...cur, messages: mergeMessages(cur.messages, page.messages, 'all'), olderCursor: page.nextCursor },
      );
      return true;
    } finally {
      loadingOlder.value = { ...loadingOlder.value, [key]: false };
    }
  }

  // Signed urls run out; every page of history signs them afresh. One walk per conversation, from
  // the newest page back until every message asked for was seen (or the history ends).
  const walks = new Map<ConversationKey, { wanted: Set<string>; seen: Set<string>; done: Promise<void> }>();

  /** Fresh copies (fresh urls) of loaded messages, down to `messageId`; concurrent asks share one walk. */
  function refresh(key: ConversationKey, messageId: string): Promise<void> {
    const running = walks.get(key);
    if (running) {
      running.wanted.add(messageId);
      return running.done;
    }
    const walk = { wanted: new Set([messageId]), seen: new Set<string>(), done: Promise.resolve() };
    const gen = generation;
    walk.done = (async () => {
      let cursor: string | null = null;
      for (let pages = 0; pages < MAX_REFRESH_PAGES; pages++) {
        const page: Page<ThreadWireMessage> = await history(key, cursor);
        if (gen !== generation) return;
        updateThread(key, (t) => ({ ...t, messages: mergeMessages(t.messages, page.messages, 'replaceOnly') }));
        for (const m of page.messages) walk.seen.add(m.id);
        cursor = page.nextCursor;
        if (cursor === null || [...walk.wanted].every((id) => walk.seen.has(id))) return;
      }
    })().finally(() => walks.delete(key));
    walks.set(key, walk);
    return walk.done;
  }

  /** Messages `from` sent in the conversation with `peerId` are read. */
  const markReadFrom = (peerId: string, from: string, readAt: string) =>
    updateThread(peerId, (t) => ({ ...t, messages: markRead(t.messages, from, readAt) }));

  function applyReadReceipt({ by, peerId, readAt }: { by: string; peerId: string; readAt: string }): void {
    // by === me: another tab of mine read peerId's messages; otherwise `by` read mine.
    if (by === session.userId) markReadFrom(peerId, peerId, readAt);
    else markReadFrom(by, session.userId, readAt);
  }

  /** Change one loaded message wherever it is (a push names the message, not its conversation). */
  function patchMessage(messageId: string, fn: (m: ChatMessage) => ChatMessage): void {
    for (const [key, t] of Object.entries(threads.value)) {
      if (!t.messages.some((m) => m.id === messageId)) continue;
      updateThread(key, (cur) => ({ ...cur, messages: cur.messages.map((m) => (m.id === messageId ? fn(m) : m)) }));
    }
  }

  const find = (messageId: string): ChatMessage | undefined => {
    for (const t of Object.values(threads.value)) {
      const m = t.messages.find((x) => x.id === messageId);
      if (m) return m;
    }
    return undefined;
  };

  function remove(messageId: string, key: ConversationKey): void {
    arrivedDuringLoad.get(key)?.delete(messageId);
    noteRecalled([messageId]);
    updateThread(key, (t) => ({ ...t, messages: t.messages.filter((m) => m.id !== messageId) }));
  }

  function reset(): void {
    generation++;
    threads.value = {};
    recalled.value = {};
    loadingOlder.value = {};
    loadFailed.value = {};
    inFlight.clear();
    arrivedDuringLoad.clear();
    walks.clear();
  }

  return {
    threads, loadingOlder, loadFailed, recalled,
    keyOf, updateThread, patchMessage, find, ingestInto, ingest, has, loadLatest, ensureLoaded, loadOlder, refresh, markReadFrom, applyReadReceipt, remove, reset,
  };
});
