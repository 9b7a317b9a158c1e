// Renders only the newest messages and grows the window as the user scrolls up, so a thread
// with thousands of loaded messages keeps a small DOM. Growing keeps the scroll position; new
// messages stick to the bottom only when the reader is already there.
import { computed, nextTick, onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue';
import type { ChatMessage } from '@/stores/chat/thread';

export const RENDER_STEP = 40;
const NEAR_TOP_PX = 120;
const NEAR_BOTTOM_PX = 48;

export function useMessageWindow(
  scroller: Ref<HTMLElement | null>,
  content: Ref<HTMLElement | null>,
  messages: Ref<ChatMessage[]>,
  options: { loadOlder: () => Promise<boolean>; isOwn: (m: ChatMessage) => boolean },
) {
  const count = ref(RENDER_STEP);
  const rendered = computed(() => messages.value.slice(-count.value));
  const hiddenAbove = computed(() => messages.value.length > count.value);
  const atBottom = ref(true);
  const unseenBelow = ref(0);
  let growing = false;

  function scrollToBottom(): void {
    const el = scroller.value;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.value = true;
    unseenBelow.value = 0;
  }

  /** Apply a change that adds content above the viewport without moving what the user sees. */
  async function keepPosition(change: () => void): Promise<void> {
    const el = scroller.value;
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    change();
    await nextTick();
    if (el) el.scrollTop = el.scrollHeight - fromBottom;
  }

  async function onScroll(): Promise<void> {
    const el = scroller.value;
    if (!el) return;
    atBottom.value = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX;
    if (atBottom.value) {
      unseenBelow.value = 0;
      // Back at the bottom after reading far up: drop the extra DOM again.
      if (count.value > RENDER_STEP * 3) {
        count.value = RENDER_STEP;
        await nextTick();
        scrollToBottom();
      }
      return;
    }
    if (el.scrollTop > NEAR_TOP_PX || growing) return;
    growing = true;
    try {
      // Fetching older messages does not change the rendered slice; growing it does.
      if (!hiddenAbove.value) await options.loadOlder();
      if (hiddenAbove.value) await keepPosition(() => (count.value = Math.min(messages.value.length, count.value + RENDER_STEP)));
    } finally {
      growing = false;
    }
  }

  // New messages at the end: widen the window by as many (so nothing above shifts), then follow
  // them down if the reader was at the bottom or sent them.
  watch(
    () => messages.value[messages.value.length - 1]?.key,
    async (last, previous) => {
      const list = messages.value;
      const before = previous === undefined ? -1 : list.findIndex((m) => m.key === previous);
      const added = before === -1 ? 0 : list.length - 1 - before;
      if (added > 0) count.value += added;
      const own = list.length > 0 && options.isOwn(list[list.length - 1]!);
      if (previous === undefined || atBottom.value || own) {
        await nextTick();
        scrollToBottom();
      } else if (added > 0) {
        unseenBelow.value += added;
      }
    },
  );

  // The viewport shrinks (typing indicator, a taller input) or the content grows (a failed
  // send's retry line): a reader at the bottom stays at the bottom.
  let resizes: ResizeObserver | undefined;
  onMounted(() => {
    scrollToBottom();
    if (typeof ResizeObserver === 'undefined') return;
    resizes = new ResizeObserver(() => {
      if (atBottom.value && scroller.value) scroller.value.scrollTop = scroller.value.scrollHeight;
    });
    for (const el of [scroller.value, content.value]) if (el) resizes.observe(el);
  });
  onBeforeUnmount(() => resizes?.disconnect());

  return { rendered, onScroll, scrollToBottom, unseenBelow, hiddenAbove };
}
