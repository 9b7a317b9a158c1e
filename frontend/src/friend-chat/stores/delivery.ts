import { defineStore, getActivePinia } from 'pinia';
import { request } from '../socket/client';
import { useSessionStore } from './session';
import { useLifecycleStore } from './lifecycle';
import { DELIVERED_BATCH_MAX, DELIVERED_FLUSH_MS } from '../deliveryBatch';

export { DELIVERED_BATCH_MAX, DELIVERED_FLUSH_MS };

/**
 * Tells the server which messages to me this client received (`chat:delivered`), live, by sync or
 * in history pages, so their sender sees "delivered". Acks are batched: a sync after a long
 * absence brings hundreds at once, and each would otherwise be one request.
 */
export const useDeliveryStore = defineStore('friendChatDelivery', () => {
  const session = useSessionStore();
  // This store's pinia (a host may have its own), for the lifecycle store once an ack answers:
  // that store needs this one, so it is not asked for while this one is being set up.
  const pinia = getActivePinia();
  const queued = new Set<string>();
  // Acked (or on the way) in this session: asked once however often a message comes by.
  const acked = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Bumped by reset: a failed ack of a previous user puts nothing back.
  let generation = 0;

  /**
   * Messages that just arrived; those to me that the server does not know as delivered yet are
   * acked. (Direct messages only: a group message is addressed to no one in particular.)
   */
  function note(messages: readonly { id: string; toUserId: string | null; deliveredAt?: string | null; deletedAt?: string | null; isRead: boolean }[]): void {
    const me = session.userId;
    if (!me) return;
    for (const m of messages) {
      if (m.toUserId !== me || !m.id || m.deliveredAt || m.deletedAt || m.isRead || acked.has(m.id)) continue;
      acked.add(m.id);
      queued.add(m.id);
      if (queued.size >= DELIVERED_BATCH_MAX) flush();
    }
    if (queued.size && timer === undefined) timer = setTimeout(flush, DELIVERED_FLUSH_MS);
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    if (!queued.size) return;
    const messageIds = [...queued];
    queued.clear();
    const gen = generation;
    request('chat:delivered', { messageIds }).then(
      // The receipt of what this ack stored comes in its answer, not as a push to this socket.
      (stored) => {
        const me = session.userId;
        if (gen !== generation || !me || !stored.deliveredAt || !stored.messageIds?.length) return;
        useLifecycleStore(pinia).applyDelivered({ by: me, messageIds: stored.messageIds, deliveredAt: stored.deliveredAt });
      },
      // Not acknowledged: the next time these messages come by (a sync, a history page) asks again.
      () => {
        if (gen === generation) for (const id of messageIds) acked.delete(id);
      },
    );
  }

  function reset(): void {
    generation++;
    clearTimeout(timer);
    timer = undefined;
    queued.clear();
    acked.clear();
  }

  return { note, flush, reset };
});
