// The src of a message's image, recording or file: the local copy while an own upload is on its
// way, else the server's signed url. Signed urls expire: when one fails to load, the message is
// fetched again (history hands out fresh urls) and the element retries with the new one; only a
// url that fails after that counts as broken.
import { computed, ref } from 'vue';
import { mediaUrl } from '../api/http';
import { useMessagesStore } from '../stores/messages';
import type { ChatMessage } from '../stores/thread';
import { useUploadsStore } from '../stores/uploads';
import type { WireAttachment } from '../wire';

export function useMediaSrc(message: () => ChatMessage, pick: (a: WireAttachment) => string | undefined) {
  const messages = useMessagesStore();
  const uploads = useUploadsStore();
  const url = computed(() => {
    const a = message().attachment;
    return a ? pick(a) : undefined;
  });
  const local = computed(() => {
    const m = message();
    return m.pending && m.clientId ? uploads.previews[m.clientId] : undefined;
  });
  const src = computed(() => local.value ?? (url.value ? mediaUrl(url.value) : undefined));
  /** The url that still failed after a refresh. */
  const failed = ref<string | null>(null);
  const broken = computed(() => !!src.value && failed.value === src.value);
  let refreshedFor: string | null = null;

  /** Fresh urls for this message (expired, or failed to load). */
  async function renew(): Promise<void> {
    const m = message();
    const before = src.value;
    if (!m.id || !before || before === refreshedFor) {
      failed.value = before ?? null;
      return;
    }
    refreshedFor = before;
    await messages.refresh(messages.keyOf(m), m.id).catch(() => {});
    if (src.value === before) failed.value = before;
  }

  return { src, broken, renew };
}
