import type { Message } from '../generated/prisma/client.ts';
import type { WireMessage } from '../realtime/events.ts';

/** A stored message as it goes on the wire (DESIGN.md): ISO times, no deletedAt. */
export function toWire(m: Message): WireMessage {
  return {
    id: m.id,
    fromUserId: m.fromUserId,
    toUserId: m.toUserId,
    messageType: m.messageType,
    content: m.content,
    metadata: (m.metadata ?? {}) as Record<string, unknown>,
    clientId: m.clientId,
    isRead: m.isRead,
    readAt: m.readAt ? m.readAt.toISOString() : null,
    createdAt: m.createdAt.toISOString(),
  };
}
