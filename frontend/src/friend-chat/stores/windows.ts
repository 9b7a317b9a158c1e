import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { ChatUser } from '../types';
import { groupIdOf, groupKey, type ConversationKey } from '../utils/conversation';
import { load, save } from '../utils/storage';
import type { GroupInfo } from '../wire';
import { useFriendsStore } from './friends';
import { useGroupsStore } from './groups';
import { useUiStore } from './ui';
import { MAX_WINDOWS, openWindow, type ChatWindowState } from './windowList';

interface SavedWindows {
  // `peerId`: how windows were saved before groups (always a direct chat).
  windows: (ChatWindowState | (Omit<ChatWindowState, 'key'> & { peerId: string }))[];
  peers: Record<string, ChatUser>;
  groups?: Record<string, GroupInfo>;
}

/** The docked windows (order, minimized, last use) and who or what they show; kept per user. */
export const useWindowsStore = defineStore('friendChatWindows', () => {
  const friends = useFriendsStore();
  const groupsStore = useGroupsStore();
  const ui = useUiStore();
  const windows = ref<ChatWindowState[]>([]);
  const peers = ref<Record<string, ChatUser>>({});
  const groups = ref<Record<string, GroupInfo>>({});
  let clock = 0;

  const peer = (peerId: string): ChatUser | undefined => friends.byId(peerId) ?? peers.value[peerId];
  const group = (groupId: string): GroupInfo | undefined => groupsStore.byId(groupId) ?? groups.value[groupId];
  /** The most recently used expanded window: the only one shown on a narrow screen. */
  const activeKey = computed(() =>
    windows.value.filter((w) => !w.minimized).reduce<ChatWindowState | null>((a, w) => (!a || w.usedAt > a.usedAt ? w : a), null)?.key ?? null,
  );
  const isOpen = (key: ConversationKey) => windows.value.some((w) => w.key === key);
  /** Whether the user can see this conversation's messages right now (open, expanded, on screen). */
  const isShown = (key: ConversationKey) =>
    ui.narrow ? activeKey.value === key : windows.value.some((w) => w.key === key && !w.minimized);

  function place(key: ConversationKey): void {
    const { windows: next, evicted } = openWindow(windows.value, key, ++clock);
    windows.value = next;
    if (evicted) forget(evicted);
  }

  function open(user: ChatUser): void {
    peers.value = { ...peers.value, [user.id]: user };
    place(user.id);
  }

  function openGroup(info: GroupInfo): void {
    groups.value = { ...groups.value, [info.id]: info };
    place(groupKey(info.id));
  }

  function close(key: ConversationKey): void {
    windows.value = windows.value.filter((w) => w.key !== key);
    forget(key);
  }

  function forget(key: ConversationKey): void {
    if (isOpen(key)) return;
    const groupId = groupIdOf(key);
    if (groupId) {
      const { [groupId]: _gone, ...rest } = groups.value;
      groups.value = rest;
    } else {
      const { [key]: _gone, ...rest } = peers.value;
      peers.value = rest;
    }
  }

  function setMinimized(key: ConversationKey, minimized: boolean): void {
    windows.value = windows.value.map((w) => (w.key === key ? { ...w, minimized, usedAt: minimized ? w.usedAt : ++clock } : w));
  }

  /** Mark a window as just used (focus, click, send) for least-recently-used eviction. */
  function touch(key: ConversationKey): void {
    const w = windows.value.find((x) => x.key === key);
    if (w && w.usedAt !== clock) windows.value = windows.value.map((x) => (x === w ? { ...x, usedAt: ++clock } : x));
  }

  // Saved per user, so a reload or the next login brings the same windows back. A group's
  // latest name and avatar go with it.
  let owner: string | null = null;
  watch([windows, peers, groups, () => groupsStore.known], () => {
    if (!owner) return;
    const shown = Object.fromEntries(Object.keys(groups.value).map((id) => [id, group(id)!]));
    save(`${owner}:windows`, { windows: windows.value, peers: peers.value, groups: shown } satisfies SavedWindows);
  });

  function restore(userId: string): void {
    owner = userId;
    const saved = load<SavedWindows>(`${userId}:windows`, { windows: [], peers: {} });
    windows.value = saved.windows.slice(-MAX_WINDOWS).map((w) => ('key' in w ? w : { key: w.peerId, minimized: w.minimized, usedAt: w.usedAt }));
    peers.value = saved.peers;
    groups.value = saved.groups ?? {};
    clock = Math.max(0, ...windows.value.map((w) => w.usedAt));
  }

  function reset(): void {
    owner = null;
    windows.value = [];
    peers.value = {};
    groups.value = {};
    clock = 0;
  }

  return { windows, peers, groups, activeKey, peer, group, isOpen, isShown, open, openGroup, close, setMinimized, touch, restore, reset };
});
