// Renders a window of at most MAX_RENDERED consecutive messages, so a thread with thousands of
// loaded messages keeps a small DOM however far the reader scrolls. Scrolling near the top
// grows the window upwards (fetching older messages once every loaded one is shown) and trims
// it at the bottom; scrolling back down grows it downwards and trims the top. Every change keeps
// the message the reader is looking at where it was. New messages stick to the bottom only when
// the reader is already there (or sent them); otherwise they are counted as unseen below.
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue';
import type { ChatMessage } from '../stores/thread';

export const RENDER_STEP = 40;
export const MAX_RENDERED = RENDER_STEP * 5;
const NEAR_TOP_PX = 120;
const NEAR_BOTTOM_PX = 48;
/**
 * The attribute every rendered message row carries (its key). Day separators have none: one moves
 * to the top of the window whenever it grows, so it cannot mark the reader's place.
 */
export const ROW_KEY_ATTR = 'data-row-key';

export function useMessageWindow(
  scroller: Ref<HTMLElement | null>,
  content: Ref<HTMLElement | null>,
  messages: Ref<ChatMessage[]>,
  options: { loadOlder: () => Promise<boolean>; isOwn: (m: ChatMessage) => boolean },
) {
  /** How many messages are rendered, and how many newer ones are left out below them. */
  const count = ref(RENDER_STEP);
  const below = ref(0);
  const end = computed(() => Math.max(0, messages.value.length - below.value));
  const start = computed(() => Math.max(0, end.value - count.value));
  const rendered = computed(() => messages.value.slice(start.value, end.value));
  const hiddenAbove = computed(() => start.value > 0);
  const hiddenBelow = computed(() => end.value < messages.value.length);
  const atBottom = ref(true);
  const unseenBelow = ref(0);
  let moving = false;

  function stickToBottom(): void {
    const el = scroller.value;
    if (el) el.scrollTop = el.scrollHeight;
  }

  /** Shows the newest messages and scrolls to them. */
  async function scrollToBottom(): Promise<void> {
    atBottom.value = true;
    unseenBelow.value = 0;
    if (hiddenBelow.value || count.value > RENDER_STEP * 3) {
      below.value = 0;
      count.value = RENDER_STEP;
      await nextTick();
    }
    stickToBottom();
  }

  /** The first message at least partly in view, and its distance from the top of the viewport. */
  function anchor(): { key: string; top: number } | null {
    const el = scroller.value;
    const box = content.value;
    if (!el || !box) return null;
    const viewTop = el.getBoundingClientRect().top;
    for (const row of box.querySelectorAll<HTMLElement>(`[${ROW_KEY_ATTR}]`)) {
      const r = row.getBoundingClientRect();
      if (r.bottom > viewTop) return { key: row.getAttribute(ROW_KEY_ATTR)!, top: r.top - viewTop };
    }
    return null;
  }

  /** Applies a change to the window and scrolls so the row in view stays where it was. */
  async function keepInView(change: () => void): Promise<void> {
    const el = scroller.value;
    const before = anchor();
    change();
    await nextTick();
    if (!el || !before || !content.value) return;
    const row = content.value.querySelector<HTMLElement>(`[${ROW_KEY_ATTR}="${CSS.escape(before.key)}"]`);
    if (row) el.scrollTop += row.getBoundingClientRect().top - el.getBoundingClientRect().top - before.top;
  }

  async function growUp(): Promise<void> {
    // Fetching older messages does not change the rendered slice; growing it does.
    if (!hiddenAbove.value) await options.loadOlder();
    if (!hiddenAbove.value) return;
    await keepInView(() => {
      const grown = Math.min(end.value, count.value + RENDER_STEP);
      const trim = Math.max(0, grown - MAX_RENDERED);
      below.value += trim;
      count.value = grown - trim;
    });
  }

  async function growDown(): Promise<void> {
    await keepInView(() => {
      const step = Math.min(below.value, RENDER_STEP);
      below.value -= step;
      count.value = Math.min(count.value + step, MAX_RENDERED);
    });
  }

  /**
   * Renders the message with render key `key` (a search result) with some context on both sides,
   * and scrolls it to the middle of the view. Answers its row, or null when it is not loaded.
   */
  async function reveal(key: string): Promise<HTMLElement | null> {
    const i = messages.value.findIndex((m) => m.key === key);
    if (i < 0) return null;
    const stop = Math.min(messages.value.length, i + 1 + RENDER_STEP / 2);
    below.value = messages.value.length - stop;
    count.value = Math.min(MAX_RENDERED, stop - Math.max(0, i - RENDER_STEP));
    atBottom.value = false;
    await nextTick();
    const row = content.value?.querySelector<HTMLElement>(`[${ROW_KEY_ATTR}="${CSS.escape(key)}"]`) ?? null;
    const el = scroller.value;
    if (row && el) {
      // The list scrolls, never the page around it (as scrollIntoView would).
      const r = row.getBoundingClientRect();
      el.scrollTop += r.top - el.getBoundingClientRect().top - (el.clientHeight - r.height) / 2;
    }
    return row;
  }

  async function onScroll(): Promise<void> {
    const el = scroller.value;
    if (!el || moving) return;
    const nearBottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    atBottom.value = nearBottom && !hiddenBelow.value;
    moving = true;
    try {
      if (nearBottom && hiddenBelow.value) {
        await growDown();
      } else if (atBottom.value) {
        unseenBelow.value = 0;
        // Back at the bottom after reading far up: drop the extra DOM again.
        if (count.value > RENDER_STEP * 3) await scrollToBottom();
      } else if (el.scrollTop <= NEAR_TOP_PX) {
        await growUp();
      }
    } finally {
      moving = false;
    }
  }

  // New messages at the end. Followed down when the reader was at the bottom or sent them;
  // otherwise counted, and rendered only if the window already reaches the end (widened by as
  // many, so nothing above shifts).
  watch(
    () => messages.value[messages.value.length - 1]?.key,
    async (last, previous) => {
      const list = messages.value;
      const before = previous === undefined ? -1 : list.findIndex((m) => m.key === previous);
      const added = before === -1 ? 0 : list.length - 1 - before;
      const own = list.length > 0 && options.isOwn(list[list.length - 1]!);
      if (previous === undefined || own || (atBottom.value && below.value === 0)) {
        if (added > 0 && below.value === 0) count.value += added;
        await nextTick();
        await scrollToBottom();
        return;
      }
      if (added === 0) return;
      if (below.value > 0) below.value += added;
      else count.value += added;
      unseenBelow.value += added;
    },
  );

  // The viewport shrinks (typing indicator, a taller input) or the content grows (a failed
  // send's retry line): a reader at the bottom stays at the bottom.
  let resizes: ResizeObserver | undefined;
  onMounted(() => {
    stickToBottom();
    if (typeof ResizeObserver === 'undefined') return;
    resizes = new ResizeObserver(() => {
      if (atBottom.value) stickToBottom();
    });
    for (const el of [scroller.value, content.value]) if (el) resizes.observe(el);
  });
  onBeforeUnmount(() => resizes?.disconnect());

  return { rendered, onScroll, scrollToBottom, reveal, unseenBelow, hiddenAbove, hiddenBelow };
}
