// Which chat windows are open, in dock order, with a least-recently-used clock for eviction.
export const MAX_WINDOWS = 3;

export interface ChatWindowState {
  peerId: string;
  minimized: boolean;
  /** Logical clock of the last use (open, focus, send, restore); the smallest is evicted. */
  usedAt: number;
}

/** Open (or bring back) a window; returns the new list and the peer evicted to make room, if any. */
export function openWindow(
  windows: ChatWindowState[],
  peerId: string,
  clock: number,
): { windows: ChatWindowState[]; evicted: string | null } {
  const existing = windows.find((w) => w.peerId === peerId);
  if (existing) {
    return { windows: windows.map((w) => (w === existing ? { ...w, minimized: false, usedAt: clock } : w)), evicted: null };
  }
  let kept = windows;
  let evicted: string | null = null;
  if (windows.length >= MAX_WINDOWS) {
    const lru = windows.reduce((a, b) => (b.usedAt < a.usedAt ? b : a));
    evicted = lru.peerId;
    kept = windows.filter((w) => w !== lru);
  }
  return { windows: [...kept, { peerId, minimized: false, usedAt: clock }], evicted };
}
