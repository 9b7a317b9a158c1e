import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { ChatUser } from '../types';
import { load, save } from '../utils/storage';
import { useFriendsStore } from './friends';
import { useUiStore } from './ui';
import { MAX_WINDOWS, openWindow, type ChatWindowState } from './windowList';

interface SavedWindows {
  windows: ChatWindowState[];
  peers: Record<string, ChatUser>;
}

/** The docked windows (order, minimized, last use) and the users they show; kept per user. */
export const useWindowsStore = defineStore('friendChatWindows', () => {
  const friends = useFriendsStore();
  const ui = useUiStore();
  const windows = ref<ChatWindowState[]>([]);
  const peers = ref<Record<string, ChatUser>>({});
  let clock = 0;

  const peer = (peerId: string): ChatUser | undefined => friends.byId(peerId) ?? peers.value[peerId];
  /** The most recently used expanded window: the only one shown on a narrow screen. */
  const activePeerId = computed(() =>
    windows.value.filter((w) => !w.minimized).reduce<ChatWindowState | null>((a, w) => (!a || w.usedAt > a.usedAt ? w : a), null)?.peerId ?? null,
  );
  const isOpen = (peerId: string) => windows.value.some((w) => w.peerId === peerId);
  /** Whether the user can see this conversation's messages right now (open, expanded, on screen). */
  const isShown = (peerId: string) =>
    ui.narrow ? activePeerId.value === peerId : windows.value.some((w) => w.peerId === peerId && !w.minimized);

  function open(user: ChatUser): void {
    peers.value = { ...peers.value, [user.id]: user };
    const { windows: next, evicted } = openWindow(windows.value, user.id, ++clock);
    windows.value = next;
    if (evicted) forgetPeer(evicted);
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
  }

  /** Mark a window as just used (focus, click, send) for least-recently-used eviction. */
  function touch(peerId: string): void {
    const w = windows.value.find((x) => x.peerId === peerId);
    if (w && w.usedAt !== clock) windows.value = windows.value.map((x) => (x === w ? { ...x, usedAt: ++clock } : x));
  }

  // Saved per user, so a reload or the next login brings the same windows back.
  let owner: string | null = null;
  watch([windows, peers], () => {
    if (owner) save(`${owner}:windows`, { windows: windows.value, peers: peers.value } satisfies SavedWindows);
  });

  function restore(userId: string): void {
    owner = userId;
    const saved = load<SavedWindows>(`${userId}:windows`, { windows: [], peers: {} });
    windows.value = saved.windows.slice(-MAX_WINDOWS);
    peers.value = saved.peers;
    clock = Math.max(0, ...windows.value.map((w) => w.usedAt));
  }

  function reset(): void {
    owner = null;
    windows.value = [];
    peers.value = {};
    clock = 0;
  }

  return { windows, peers, activePeerId, peer, isOpen, isShown, open, close, setMinimized, touch, restore, reset };
});
