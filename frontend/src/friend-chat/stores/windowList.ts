// Which chat windows are open, in dock order, with a least-recently-used clock for eviction.
// Friends and groups share the three places (a window is known by its conversation key).
import type { ConversationKey } from '../utils/conversation';

export const MAX_WINDOWS = 3;

export interface ChatWindowState {
  key: ConversationKey;
  minimized: boolean;
  /** Logical clock of the last use (open, focus, send, restore); the smallest is evicted. */
  usedAt: number;
}

/** Open (or bring back) a window; returns the new list and the conversation evicted to make room, if any. */
export function openWindow(
  windows: ChatWindowState[],
  key: ConversationKey,
  clock: number,
): { windows: ChatWindowState[]; evicted: ConversationKey | null } {
  const existing = windows.find((w) => w.key === key);
  if (existing) {
    return { windows: windows.map((w) => (w === existing ? { ...w, minimized: false, usedAt: clock } : w)), evicted: null };
  }
  let kept = windows;
  let evicted: ConversationKey | null = null;
  if (windows.length >= MAX_WINDOWS) {
    const lru = windows.reduce((a, b) => (b.usedAt < a.usedAt ? b : a));
    evicted = lru.key;
    kept = windows.filter((w) => w !== lru);
  }
  return { windows: [...kept, { key, minimized: false, usedAt: clock }], evicted };
}
