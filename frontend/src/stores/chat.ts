import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { ChatWireMessage, ConversationEntry, PublicUser, WireMessage } from '@shared/events';
import { chatApi } from '@/api/endpoints';
import { request, signal, SocketRequestError } from '@/socket/client';
import { isChatMessage } from '@/utils/messageKinds';
import { load, save } from '@/utils/storage';
import { useAuthStore } from './auth';
import { useFriendsStore } from './friends';
import { useUiStore } from './ui';
import { useUnreadStore } from './unread';
import { applyLatestPage, emptyThread, markRead, mergeMessages, type ChatMessage, type Thread } from './chat/thread';
import { MAX_WINDOWS, openWindow, type ChatWindowState } from './chat/windows';

export const MAX_CONTENT = 2000;
const TYPING_TTL_MS = 6_000;

interface SavedWindows {
  windows: ChatWindowState[];
  peers: Record<string, PublicUser>;
}

export const useChatStore = defineStore('chat', () => {
  const auth = useAuthStore();
  const friends = useFriendsStore();
  const ui = useUiStore();
  const unread = useUnreadStore();
  const me = computed(() => auth.user?.id ?? '');
  const peerOf = (m: ChatWireMessage) => (m.fromUserId === me.value ? m.toUserId : m.fromUserId);

  // ---- Windows (dock order) and the users they show -------------------------------------
  const windows = ref<ChatWindowState[]>([]);
  const peers = ref<Record<string, PublicUser>>({});
  let clock = 0;

  const peer = (peerId: string): PublicUser | undefined => friends.byId(peerId) ?? peers.value[peerId];
  /** The most recently used expanded window: the only one shown on a narrow screen. */
  const activePeerId = computed(() =>
    windows.value.filter((w) => !w.minimized).reduce<ChatWindowState | null>((a, w) => (!a || w.usedAt > a.usedAt ? w : a), null)?.peerId ?? null,
  );
  const isOpen = (peerId: string) => windows.value.some((w) => w.peerId === peerId);
  /** Whether the user can see this conversation's messages right now (open, expanded, on screen). */
  const isShown = (peerId: string) =>
    ui.narrow ? activePeerId.value === peerId : windows.value.some((w) => w.peerId === peerId && !w.minimized);

  function open(user: PublicUser): void {
    peers.value = { ...peers.value, [user.id]: user };
    const { windows: next, evicted } = openWindow(windows.value, user.id, ++clock);
    windows.value = next;
    if (evicted) forgetPeer(evicted);
    void loadLatest(user.id).catch(() => {});
    markReadIfSeen(user.id);
  }

  function close(peerId: string): void {
    windows.value = windows.value.filter((w) => w.peerId !== peerId);
    forgetPeer(peerId);
  }

  function forgetPeer(peerId: string): void {
    if (isOpen(peerId)) return;
    const { [peerId]: _gone, ...rest } = peers.value;
    peers.value = rest;
  }

  function setMinimized(peerId: string, minimized: boolean): void {
    windows.value = windows.value.map((w) => (w.peerId === peerId ? { ...w, minimized, usedAt: minimized ? w.usedAt : ++clock } : w));
    if (!minimized) markReadIfSeen(peerId);
  }

  /** Mark a window as just used (focus, click, send) for least-recently-used eviction. */
  function touch(peerId: string): void {
    const w = windows.value.find((x) => x.peerId === peerId);
    if (w && w.usedAt !== clock) windows.value = windows.value.map((x) => (x === w ? { ...x, usedAt: ++clock } : x));
  }

  // ---- Messages by peer (immutable arrays in a shallow ref: cheap with thousands) -------
  const threads = shallowRef<Record<string, Thread>>({});
  const loadingOlder = ref<Record<string, boolean>>({});
  const loadFailed = ref<Record<string, boolean>>({});
  const inFlight = new Map<string, Promise<void>>();

  function update(peerId: string, fn: (t: Thread) => Thread, create = false): void {
    const current = threads.value[peerId];
    if (!current && !create) return;
    const next = fn(current ?? emptyThread());
    if (next !== current) threads.value = { ...threads.value, [peerId]: next };
  }

  /** Merge server messages into one conversation (live, sync, ack): never a duplicate, never a gap. */
  function ingestInto(peerId: string, messages: ChatWireMessage[]): void {
    update(peerId, (t) => {
      const mode = !t.loaded ? 'replaceOnly' : t.olderCursor === null ? 'all' : 'contiguous';
      const merged = mergeMessages(t.messages, messages, mode);
      return merged === t.messages ? t : { ...t, messages: merged };
    });
  }

  /** Chat messages from a sync page or a push, grouped by conversation. */
  function ingest(messages: WireMessage[]): void {
    const byPeer = new Map<string, ChatWireMessage[]>();
    for (const m of messages) {
      if (!isChatMessage(m)) continue;
      const id = peerOf(m);
      const list = byPeer.get(id);
      if (list) list.push(m);
      else byPeer.set(id, [m]);
    }
    for (const [peerId, list] of byPeer) {
      ingestInto(peerId, list);
      noteConversation(list[list.length - 1]!);
      markReadIfSeen(peerId);
    }
  }

  /** A live `chat:message`; answers whether this tab had not seen it yet. */
  function receive(message: ChatWireMessage): boolean {
    const peerId = peerOf(message);
    const seen = threads.value[peerId]?.messages.some((m) => m.id === message.id) ?? false;
    if (message.fromUserId === peerId) setTyping(peerId, false);
    ingest([message]);
    return !seen;
  }

  /** Refresh the latest page (first open, reopen, reconnect); concurrent calls share one request. */
  function loadLatest(peerId: string): Promise<void> {
    const running = inFlight.get(peerId);
    if (running) return running;
    const job = chatApi
      .history(peerId)
      .then(({ messages, nextCursor }) => {
        update(peerId, (t) => applyLatestPage(t, messages, nextCursor), true);
        loadFailed.value = { ...loadFailed.value, [peerId]: false };
        markReadIfSeen(peerId);
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
      const page = await chatApi.history(peerId, t.olderCursor);
      update(peerId, (cur) =>
        // Skip if a refresh replaced the list meanwhile: this page may no longer join it.
        cur.olderCursor !== t.olderCursor ? cur : { ...cur, messages: mergeMessages(cur.messages, page.messages, 'all'), olderCursor: page.nextCursor },
      );
      return true;
    } finally {
      loadingOlder.value = { ...loadingOlder.value, [peerId]: false };
    }
  }

  // ---- Sending: optimistic, acked, retried with the same clientId -------------------------
  function send(peerId: string, text: string): boolean {
    const content = text.trim();
    if (!content || content.length > MAX_CONTENT || !me.value) return false;
    const clientId = crypto.randomUUID();
    const local: ChatMessage = {
      id: '',
      key: clientId,
      fromUserId: me.value,
      toUserId: peerId,
      messageType: 'CHAT',
      content,
      metadata: {},
      clientId,
      isRead: false,
      readAt: null,
      createdAt: new Date().toISOString(),
      pending: 'sending',
    };
    update(peerId, (t) => ({ ...t, messages: [...t.messages, local] }), true);
    touch(peerId);
    void deliver(local);
    return true;
  }

  async function deliver(m: ChatMessage): Promise<void> {
    const clientId = m.clientId!;
    setPending(m.toUserId, clientId, 'sending');
    const confirm = (message: WireMessage) => {
      if (!isChatMessage(message)) return;
      ingestInto(m.toUserId, [message]);
      noteConversation(message);
      saveOutbox();
    };
    try {
      const { message } = await request('chat:send', { to: m.toUserId, content: m.content, clientId }, { onLate: (a) => confirm(a.message) });
      confirm(message);
    } catch (err) {
      setPending(m.toUserId, clientId, 'failed', err instanceof SocketRequestError ? err.code : 'INTERNAL');
    }
  }

  function retry(peerId: string, clientId: string): void {
    const m = threads.value[peerId]?.messages.find((x) => x.clientId === clientId && x.pending === 'failed');
    if (m) void deliver(m);
  }

  function setPending(peerId: string, clientId: string, state: 'sending' | 'failed', error?: string): void {
    update(peerId, (t) => ({
      ...t,
      // Only while still unconfirmed: a sync may have confirmed it before the ack timed out.
      messages: t.messages.map((x) => (x.clientId === clientId && x.pending ? { ...x, pending: state, error } : x)),
    }));
    saveOutbox();
  }

  // ---- Receipts, recalls, typing --------------------------------------------------------
  function applyReadReceipt({ by, peerId, readAt }: { by: string; peerId: string; readAt: string }): void {
    // by === me: another tab of mine read peerId's messages; otherwise `by` read mine.
    if (by === me.value) update(peerId, (t) => ({ ...t, messages: markRead(t.messages, peerId, readAt) }));
    else update(by, (t) => ({ ...t, messages: markRead(t.messages, me.value, readAt) }));
  }

  function removeMessage(messageId: string, peerId: string): void {
    update(peerId, (t) => ({ ...t, messages: t.messages.filter((m) => m.id !== messageId) }));
    if (conversations.value.some((c) => c.lastMessage.id === messageId)) void loadConversations().catch(() => {});
  }

  const typing = ref<Record<string, boolean>>({});
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>();
  function setTyping(from: string, on: boolean): void {
    clearTimeout(typingTimers.get(from));
    if (!!typing.value[from] !== on) typing.value = { ...typing.value, [from]: on };
    // A lost "stopped typing" must not leave the indicator on forever.
    if (on) typingTimers.set(from, setTimeout(() => setTyping(from, false), TYPING_TTL_MS));
  }
  const sendTyping = (to: string, on: boolean) => signal('chat:typing', { to, typing: on });

  // Unsent text per conversation: survives minimize, close, eviction and page navigation.
  const drafts = ref<Record<string, string>>({});
  const setDraft = (peerId: string, text: string) => (drafts.value = { ...drafts.value, [peerId]: text });

  // ---- Reading: an expanded window on a visible, focused page marks its conversation read ---
  const reading = new Set<string>();
  function markReadIfSeen(peerId: string): void {
    if (!ui.attentive || !isShown(peerId) || reading.has(peerId)) return;
    const t = threads.value[peerId];
    const unseen = unread.forPeer(peerId) > 0 || !!t?.messages.some((m) => m.fromUserId === peerId && !m.isRead);
    if (!unseen) return;
    reading.add(peerId);
    update(peerId, (x) => ({ ...x, messages: markRead(x.messages, peerId, new Date().toISOString()) }));
    unread.clearPeer(peerId);
    // On failure the server's next unread:update (or the reconnect refresh) restores the badge.
    request('chat:read', { peerId })
      .catch(() => {})
      .finally(() => reading.delete(peerId));
  }
  watch([() => ui.attentive, () => ui.narrow, () => unread.counts, windows], () => {
    for (const w of windows.value) markReadIfSeen(w.peerId);
  });

  // ---- Recent conversations (top-bar dropdown) ------------------------------------------
  const conversations = ref<ConversationEntry[]>([]);
  const conversationsLoaded = ref(false);
  async function loadConversations(): Promise<void> {
    conversations.value = (await chatApi.conversations()).conversations;
    conversationsLoaded.value = true;
  }
  function noteConversation(m: ChatWireMessage): void {
    if (!conversationsLoaded.value) return;
    const peerId = peerOf(m);
    const existing = conversations.value.find((c) => c.peer.id === peerId);
    if (existing && existing.lastMessage.createdAt > m.createdAt) return;
    const user = existing?.peer ?? peer(peerId);
    if (!user) {
      // Someone not known yet: the next open of the dropdown reloads the list.
      conversationsLoaded.value = false;
      return;
    }
    const entry: ConversationEntry = { peer: user, lastMessage: m, unread: existing?.unread ?? 0, updatedAt: m.createdAt };
    conversations.value = [entry, ...conversations.value.filter((c) => c !== existing)];
  }

  // ---- Persistence: windows per user, and unsent messages (so nothing typed is lost) -------
  let owner: string | null = null;
  watch([windows, peers], () => {
    if (owner) save(`${owner}:windows`, { windows: windows.value, peers: peers.value } satisfies SavedWindows);
  });

  function saveOutbox(): void {
    if (!owner) return;
    const pending = Object.values(threads.value).flatMap((t) => t.messages.filter((m) => m.pending));
    save(`${owner}:outbox`, pending.length ? pending : null);
  }

  /** Bring back this user's windows and unsent messages after a reload or a login. */
  function restore(userId: string): void {
    owner = userId;
    const saved = load<SavedWindows>(`${userId}:windows`, { windows: [], peers: {} });
    windows.value = saved.windows.slice(-MAX_WINDOWS);
    peers.value = saved.peers;
    clock = Math.max(0, ...windows.value.map((w) => w.usedAt));
    const outbox = load<ChatMessage[]>(`${userId}:outbox`, []);
    for (const m of outbox) update(m.toUserId, (t) => ({ ...t, messages: [...t.messages, m] }), true);
    // They were on their way when the page went away; send again (the server dedupes by clientId).
    for (const m of outbox) if (m.pending === 'sending') void deliver(m);
  }

  function reset(): void {
    owner = null;
    windows.value = [];
    peers.value = {};
    threads.value = {};
    conversations.value = [];
    conversationsLoaded.value = false;
    typing.value = {};
    drafts.value = {};
    reading.clear();
  }

  return {
    windows, peers, activePeerId, threads, loadingOlder, loadFailed, typing, drafts, conversations, conversationsLoaded,
    peer, isOpen, isShown, open, close, setMinimized, touch,
    ingest, receive, loadLatest, ensureLoaded, loadOlder, send, retry,
    applyReadReceipt, removeMessage, setTyping, sendTyping, setDraft, markReadIfSeen,
    loadConversations, restore, reset,
  };
});
